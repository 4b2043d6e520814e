"""The connector interface and the one message model every platform is turned into."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class InboundAttachment:
    """A file announced by a webhook, to be fetched after the delivery is stored."""

    media_ref: str
    mime_type: str | None = None
    filename: str | None = None
    platform_sha256: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class InboundEvent:
    """One thing a platform told us: a message, a delivery status, or a part we cannot route."""

    kind: str  # "message" | "status" | "unrouted"
    channel: str
    account_ref: str | None
    external_id: str | None = None
    sender_ref: str | None = None
    sender_name: str | None = None
    sender_phone: str | None = None
    direction: str = "in"
    type: str = "text"
    text: str | None = None
    attachments: tuple[InboundAttachment, ...] = ()
    sent_at: datetime | None = None
    reply_to: str | None = None
    status: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AccountSettings:
    """What a connector needs of a channel account to call its platform."""

    external_id: str
    secrets: Mapping[str, str]
    api_base_url: str
    timeout: float = 20.0


@dataclass(frozen=True)
class OutboundFile:
    path: str
    mime_type: str
    filename: str


@dataclass(frozen=True)
class OutboundMessage:
    """A reply to send: text, or one file with an optional caption, optionally quoting a message."""

    to: str
    text: str | None = None
    file: OutboundFile | None = None
    reply_to: str | None = None


@dataclass(frozen=True)
class SendResult:
    external_id: str


@dataclass(frozen=True)
class FetchedMedia:
    """A file body being downloaded, with what the platform says of it."""

    chunks: Any  # iterator of bytes
    mime_type: str | None
    declared_size: int | None


class SendError(Exception):
    """A platform refused or could not take a call; `retryable` tells the job what to do."""

    def __init__(self, code: str, message: str, *, retryable: bool, retry_after: float | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after


def hmac_sha256(key: str, body: bytes) -> bytes:
    """HMAC-SHA256 of a body with a text key."""
    return hmac.new(key.encode(), body, hashlib.sha256).digest()


def signature_matches(expected: str, given: str | None) -> bool:
    """Compare a computed signature with a header value in constant time."""
    if not given:
        return False
    return hmac.compare_digest(expected.encode(), given.strip().encode())


class Connector:
    """What every platform provides; the registry in connectors/__init__ is the only switch on it."""

    name: str = ""
    MAX_TEXT_LENGTH: int = 4096
    SIGNATURE_HEADER: str = ""

    def challenge(self, args: Mapping[str, str], verify_tokens: list[str]) -> tuple[int, str, str]:
        """Answer the platform's GET handshake: (status, body, mimetype)."""
        raise NotImplementedError

    def verify(self, headers: Mapping[str, str], body: bytes, app_secrets: list[str]) -> bool:
        """Whether the raw body carries a valid signature by one of the app secrets."""
        raise NotImplementedError

    def parse(self, payload: Mapping[str, Any]) -> list[InboundEvent]:
        """Turn a verified JSON delivery into events; never raises on unknown shapes."""
        raise NotImplementedError

    def send(self, account: AccountSettings, message: OutboundMessage) -> SendResult:
        """Send one message; raises SendError."""
        raise NotImplementedError

    def fetch_media(self, account: AccountSettings, media_ref: str) -> FetchedMedia:
        """Start downloading a file the platform announced; raises SendError."""
        raise NotImplementedError
