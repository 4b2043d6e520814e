"""Channel accounts: seeded from the settings at start, and handed to connectors as plain settings."""

from __future__ import annotations

import secrets as random_secrets
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from connectors import get_connector
from connectors.base import AccountSettings
from inbox.db import session
from inbox.models import ChannelAccount

SANDBOX_WHATSAPP_ID = "100000000000001"
SANDBOX_WHATSAPP_BUSINESS_ID = "100000000000009"  # the fake business account holding the templates
SANDBOX_FACEBOOK_ID = "200000000000002"
SANDBOX_TWITTER_ID = "300000000000003"
API_URL_SETTING = {"whatsapp": "GRAPH_API_URL", "facebook": "GRAPH_API_URL", "twitter": "TWITTER_API_URL"}


def account_settings(account: ChannelAccount) -> AccountSettings:
    """What the account's connector needs to call its platform."""
    config = current_app.config
    # The sandbox's fake platforms serve files from the service's own address.
    allowed = (urlsplit(config["PUBLIC_URL"]).netloc,) if account.sandbox else ()
    return AccountSettings(
        external_id=account.external_id,
        secrets=dict(account.secrets or {}),
        api_base_url=(account.api_base_url or config[API_URL_SETTING[account.platform]]).rstrip("/"),
        timeout=config["HTTP_TIMEOUT"],
        allowed_hosts=allowed,
    )


def _upsert(platform: str, external_id: str, **fields) -> ChannelAccount:
    db = session()
    account = db.scalars(
        select(ChannelAccount).where(ChannelAccount.platform == platform, ChannelAccount.external_id == external_id)
    ).first()
    if account is None:
        account = ChannelAccount(platform=platform, external_id=external_id, **fields)
        db.add(account)
    else:
        for key, value in fields.items():
            setattr(account, key, value)
    return account


# platform -> (setting naming the account, display name, secret -> setting)
REAL_ACCOUNTS = {
    "whatsapp": (
        "WHATSAPP_PHONE_NUMBER_ID",
        "WhatsApp",
        {
            "token": "WHATSAPP_TOKEN",
            "app_secret": "WHATSAPP_APP_SECRET",
            "verify_token": "WHATSAPP_VERIFY_TOKEN",
            "business_account_id": "WHATSAPP_BUSINESS_ACCOUNT_ID",
        },
    ),
    "facebook": (
        "FACEBOOK_PAGE_ID",
        "Facebook Page",
        {"token": "FACEBOOK_PAGE_TOKEN", "app_secret": "FACEBOOK_APP_SECRET", "verify_token": "FACEBOOK_VERIFY_TOKEN"},
    ),
    "twitter": (
        "TWITTER_USER_ID",
        "X",
        {
            "consumer_key": "TWITTER_CONSUMER_KEY",
            "app_secret": "TWITTER_CONSUMER_SECRET",
            "access_token": "TWITTER_ACCESS_TOKEN",
            "access_token_secret": "TWITTER_ACCESS_TOKEN_SECRET",
        },
    ),
}
# platform -> (account id, display name, path of its fake API under the service, secrets to generate)
SANDBOX_ACCOUNTS = {
    "whatsapp": (
        SANDBOX_WHATSAPP_ID,
        "WhatsApp (sandbox)",
        "/sandbox/graph/v21.0",
        ("token", "app_secret", "verify_token"),
    ),
    "facebook": (
        SANDBOX_FACEBOOK_ID,
        "Facebook (sandbox)",
        "/sandbox/graph/v21.0",
        ("token", "app_secret", "verify_token"),
    ),
    "twitter": (
        SANDBOX_TWITTER_ID,
        "X (sandbox)",
        "/sandbox/x",
        ("consumer_key", "app_secret", "access_token", "access_token_secret"),
    ),
}


def seed_accounts() -> None:
    """Create or update the accounts the settings describe, and the sandbox's when it is on."""
    config = current_app.config
    for platform, (id_setting, name, secret_settings) in REAL_ACCOUNTS.items():
        if config.get(id_setting):
            secrets = {key: config.get(setting) for key, setting in secret_settings.items()}
            _upsert(platform, config[id_setting], name=name, sandbox=False, secrets=secrets)
    if not config.get("SANDBOX"):
        return
    for platform, (external_id, name, path, secret_names) in SANDBOX_ACCOUNTS.items():
        existing = (
            session()
            .scalars(
                select(ChannelAccount).where(
                    ChannelAccount.platform == platform, ChannelAccount.external_id == external_id
                )
            )
            .first()
        )
        kept = dict(existing.secrets) if existing else {}
        secrets = {key: kept.get(key) or random_secrets.token_hex(16) for key in secret_names}
        if platform == "whatsapp":  # the fake Graph API lists its templates under this business account
            secrets["business_account_id"] = SANDBOX_WHATSAPP_BUSINESS_ID
        _upsert(
            platform,
            external_id,
            name=name,
            sandbox=True,
            api_base_url=f"{config['PUBLIC_URL']}{path}",
            secrets=secrets,
        )


def accounts_of(platform: str) -> list[ChannelAccount]:
    """Every account of a platform that has a connector."""
    if get_connector(platform) is None:
        return []
    return list(session().scalars(select(ChannelAccount).where(ChannelAccount.platform == platform)))
