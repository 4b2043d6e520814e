"""Channel accounts: seeded from the settings at start, and handed to connectors as plain settings."""

from __future__ import annotations

import secrets as random_secrets

from flask import current_app
from sqlalchemy import select

from connectors import get_connector
from connectors.base import AccountSettings
from inbox.db import session
from inbox.models import ChannelAccount

SANDBOX_WHATSAPP_ID = "100000000000001"
API_URL_SETTING = {"whatsapp": "GRAPH_API_URL", "facebook": "GRAPH_API_URL", "twitter": "TWITTER_API_URL"}


def account_settings(account: ChannelAccount) -> AccountSettings:
    """What the account's connector needs to call its platform."""
    config = current_app.config
    return AccountSettings(
        external_id=account.external_id,
        secrets=dict(account.secrets or {}),
        api_base_url=(account.api_base_url or config[API_URL_SETTING[account.platform]]).rstrip("/"),
        timeout=config["HTTP_TIMEOUT"],
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


def seed_accounts() -> None:
    """Create or update the accounts the settings describe, and the sandbox's when it is on."""
    config = current_app.config
    if config.get("WHATSAPP_PHONE_NUMBER_ID"):
        _upsert(
            "whatsapp",
            config["WHATSAPP_PHONE_NUMBER_ID"],
            name="WhatsApp",
            sandbox=False,
            secrets={
                "token": config.get("WHATSAPP_TOKEN"),
                "app_secret": config.get("WHATSAPP_APP_SECRET"),
                "verify_token": config.get("WHATSAPP_VERIFY_TOKEN"),
            },
        )
    if config.get("SANDBOX"):
        existing = (
            session().scalars(select(ChannelAccount).where(ChannelAccount.external_id == SANDBOX_WHATSAPP_ID)).first()
        )
        kept = dict(existing.secrets) if existing else {}
        _upsert(
            "whatsapp",
            SANDBOX_WHATSAPP_ID,
            name="WhatsApp (sandbox)",
            sandbox=True,
            api_base_url=f"{config['PUBLIC_URL']}/sandbox/graph/v21.0",
            secrets={
                "token": kept.get("token") or random_secrets.token_urlsafe(24),
                "app_secret": kept.get("app_secret") or random_secrets.token_hex(16),
                "verify_token": kept.get("verify_token") or random_secrets.token_urlsafe(12),
            },
        )


def accounts_of(platform: str) -> list[ChannelAccount]:
    """Every account of a platform that has a connector."""
    if get_connector(platform) is None:
        return []
    return list(session().scalars(select(ChannelAccount).where(ChannelAccount.platform == platform)))
