"""What a channel account allows its campaigns: a rate cap, a cap on the sends of any 24 hours, and the tags a
campaign may declare; each an account setting, or its platform's default (the connector's constants)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from connectors import get_connector
from inbox.models import ChannelAccount


@dataclass(frozen=True)
class Limits:
    """An account's campaign limits: `rate` sends per second at most, `daily_cap` in any 24 hours (None: none)."""

    rate: float
    daily_cap: int | None
    tags: tuple[str, ...]
    window: bool
    templates: bool
    files: bool


def for_account(account: ChannelAccount) -> Limits:
    """The account's own limits where set, else its platform's defaults."""
    connector = get_connector(account.platform)
    rate = account.campaign_rate or connector.CAMPAIGN_RATE or float(current_app.config["CAMPAIGN_MAX_RATE"])
    return Limits(
        rate=float(rate),
        daily_cap=account.campaign_daily_cap or connector.CAMPAIGN_DAILY_CAP,
        tags=connector.CAMPAIGN_TAGS,
        window=connector.CAMPAIGN_WINDOW,
        templates=connector.SENDS_TEMPLATES,
        files=connector.CAMPAIGN_FILES,
    )
