"""The connector interface and the one message model every platform is turned into."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

# How a reply goes out (OutboundMessage.mode); a connector lists the ones it can do in REPLY_MODES.
DIRECT = "direct"  # a private message to the conversation's contact
PUBLIC_REPLY = "public_reply"  # a public answer under the comment or tweet named by reply_to
PRIVATE_REPLY = "private_reply"  # a private message answering the public comment named by reply_to


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

    # Further kinds (Facebook, X): "watermark" (status = delivered|read for every outbound message of sender_ref's
    # conversations sent up to sent_at; data["external_ids"] may list some by id), "edit" (external_id's new text,
    # at sent_at), "removal" (external_id was deleted by its author). Ignored platform noise yields no event.
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
    # Who wrote an outbound message the service did not send itself ("Page inbox", "X app").
    author_label: str | None = None
    # A public thread (a post, an author's mentions) the message belongs to; None for private messages.
    thread_ref: str | None = None
    # What is known of that thread: {"id", "url", "text"}, each optional.
    thread: Mapping[str, Any] = field(default_factory=dict)
    # The sender's public handle without "@", where the platform has one.
    sender_handle: str | None = None
    # OutboundMessage.ref as the platform echoes it back on our own sends, when it does.
    client_ref: str | None = None


@dataclass(frozen=True)
class AccountSettings:
    """What a connector needs of a channel account to call its platform."""

    external_id: str
    secrets: Mapping[str, str]
    api_base_url: str
    timeout: float = 20.0
    # More "host" or "host:port" entries trusted like the API host for downloads (sandbox, test fakes).
    allowed_hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutboundFile:
    """A file to send; `platform_id` when the platform already has it (`upload`): sent by reference, not again."""

    path: str
    mime_type: str
    filename: str
    platform_id: str | None = None


@dataclass(frozen=True)
class OutboundMessage:
    """A reply to send: text, or one file with an optional caption, optionally quoting a message."""

    to: str
    text: str | None = None
    file: OutboundFile | None = None
    reply_to: str | None = None
    mode: str = DIRECT
    # The contact's last inbound message, for platforms whose reply window depends on it.
    last_inbound_at: datetime | None = None
    # Our own reference (a message id), passed where the platform echoes it back (InboundEvent.client_ref).
    ref: str | None = None
    # A platform-approved template instead of a text: {"name", "language", "parameters": [text, ...]}.
    template: Mapping[str, Any] | None = None
    # Choices to tap instead of a text (connectors with CHOICES only): {"body", "button", "options": [{"id",
    # "title", "description"?}, ...]}; `button` labels the list that opens when there are too many for buttons.
    choices: Mapping[str, Any] | None = None
    # Not a reply: a campaign's message, sent first (platforms with a reply window choose how it may go).
    proactive: bool = False
    # The purpose the sender declares for a proactive message outside the window (a Messenger message tag).
    tag: str | None = None


@dataclass(frozen=True)
class PlatformTemplate:
    """A message template the platform approved, as an agent picks it: its body and how many values it takes."""

    name: str
    language: str
    category: str
    body: str
    parameters: int  # the body's {{1}}..{{n}}, filled in order
    examples: tuple[str, ...] = ()  # the sample values the template was approved with
    # Why the inbox cannot send it (a header image, a button taking a value...), or None when it can.
    unusable_reason: str | None = None


@dataclass(frozen=True)
class SendResult:
    external_id: str
    # Ids of further platform messages one send produced (Messenger: the text sent after a file).
    other_external_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class FetchedMedia:
    """A file body being downloaded, with what the platform says of it."""

    chunks: Any  # iterator of bytes
    mime_type: str | None
    declared_size: int | None
    close: Any = None  # releases the connection, read to the end or not


def N_(text: str) -> str:
    """Mark an English sentence for `make translations`; it is translated where shown, in its reader's language."""
    return text


NO_TEMPLATES = N_("This channel has no message templates.")
NO_HIDING = N_("This channel cannot hide messages.")


class SendError(Exception):
    """A platform refused or could not take a call; `retryable` tells the job what to do."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        rate_limited: bool = False,
    ):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after
        # The platform's rate limit for the account: every sender on it should slow down, not only this one.
        self.rate_limited = rate_limited


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
    # Which account secret the GET handshake checks or signs with (X signs with the app secret).
    CHALLENGE_SECRET: str = "verify_token"
    REPLY_MODES: tuple[str, ...] = (DIRECT,)
    # Whether the platform has approved templates, the only messages allowed once its reply window closes.
    SENDS_TEMPLATES: bool = False
    # Whether the platform shows tappable choices (OutboundMessage.choices): self-service needs them.
    CHOICES: bool = False
    # Whether a campaign may carry a file: uploaded once (`upload`), then sent by its id to every recipient.
    CAMPAIGN_FILES: bool = False
    # Campaigns: sends per second allowed by default on an account (None: the CAMPAIGN_MAX_RATE setting), the
    # sends allowed in any 24 hours (None: no such cap), the purposes a campaign may declare to reach people
    # outside the reply window, and whether campaign sends depend on the person's last message (the window).
    CAMPAIGN_RATE: float | None = None
    CAMPAIGN_DAILY_CAP: int | None = None
    CAMPAIGN_TAGS: tuple[str, ...] = ()
    CAMPAIGN_WINDOW: bool = False
    # Whether the platform addresses people by phone number (a campaign's CSV phone is then the address);
    # otherwise a person is reached through an identity the account has seen, named IDENTITY in reasons.
    PHONE_ADDRESSES: bool = False
    IDENTITY: str = ""

    # Each platform package's modules: webhook.py (challenge, verify, parse) and client.py (send,
    # fetch_media); the methods below hand over to them.
    webhook: Any = None
    client: Any = None

    def failures(self) -> dict[str, tuple[str, ...]]:
        """The English sentences a failed call may start with, by code (its client's FAILURES and the base's)."""
        own = getattr(self.client, "FAILURES", {})
        return {**own, "unsupported": (*own.get("unsupported", ()), NO_TEMPLATES, NO_HIDING)}

    def challenge(self, args: Mapping[str, str], secrets: list[str]) -> tuple[int, str, str]:
        """Answer the platform's GET handshake with the accounts' CHALLENGE_SECRET: (status, body, mimetype)."""
        return self.webhook.challenge(args, secrets)

    def verify(self, headers: Mapping[str, str], body: bytes, app_secrets: list[str]) -> bool:
        """Whether the raw body carries a valid signature by one of the app secrets."""
        return self.webhook.verify(headers, body, app_secrets)

    def parse(self, payload: Mapping[str, Any]) -> list[InboundEvent]:
        """Turn a verified JSON delivery into events; never raises on unknown shapes."""
        return self.webhook.parse(payload)

    def send(self, account: AccountSettings, message: OutboundMessage) -> SendResult:
        """Send one message; raises SendError."""
        return self.client.send(account, message)

    def upload(self, account: AccountSettings, file: OutboundFile) -> str:
        """Give the platform a file once, for many sends (`OutboundFile.platform_id`); raises SendError."""
        return self.client.upload(account, file)

    def fetch_media(self, account: AccountSettings, media_ref: str) -> FetchedMedia:
        """Start downloading a file the platform announced; raises SendError."""
        return self.client.fetch_media(account, media_ref)

    def list_templates(self, account: AccountSettings) -> list[PlatformTemplate]:
        """The account's approved templates; raises SendError."""
        raise SendError("unsupported", NO_TEMPLATES, retryable=False)

    def reply_refusal(self, last_inbound_at: datetime | None, now: datetime, mode: str = DIRECT) -> str | None:
        """Why a reply in this mode cannot be sent now (a sentence for the agent), or None when it can."""
        return None

    def campaign_refusal(self, last_inbound_at: datetime | None, now: datetime, tag: str | None) -> str | None:
        """Why a campaign message cannot reach this person now (kept as the recipient's reason), or None."""
        return None

    def hide(self, account: AccountSettings, external_id: str, hidden: bool = True) -> None:
        """Hide (or show again) a public comment or reply; raises SendError."""
        raise SendError("unsupported", NO_HIDING, retryable=False)

    def fetch_thread(self, account: AccountSettings, thread_ref: str) -> dict[str, Any]:
        """What the platform says of a public thread: {"id", "url", "text"}; raises SendError."""
        return {"id": thread_ref}


def timestamp(value: Any, *, millis: bool = False) -> datetime | None:
    """An epoch in seconds (or milliseconds), as a number or a string, as an aware UTC datetime; None if unreadable."""
    try:
        number = int(value)
        return datetime.fromtimestamp(number / 1000 if millis else number, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    return (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(parts.scheme)


def _is_trusted(url: str, account: AccountSettings) -> bool:
    """Whether a URL points at the account's API origin or at one of its allowed_hosts ("host" or "host:port")."""
    host, port = _origin(url)
    if (host, port) == _origin(account.api_base_url):
        return True
    for entry in account.allowed_hosts:
        allowed = urlsplit("//" + entry)
        if host == (allowed.hostname or "").lower() and allowed.port in (None, port):
            return True
    return False


def check_fetch_url(url: str, account: AccountSettings) -> None:
    """Refuse to fetch a URL that came in a payload unless it is https to public addresses only, or an API host of
    the account (its api_base_url or allowed_hosts); raises SendError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SendError("unsafe_url", f"not a web address: {url[:80]}", retryable=False)
    if _is_trusted(url, account):
        return
    if parts.scheme != "https":
        raise SendError("unsafe_url", "files are fetched over https only", retryable=False)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise SendError("dns", f"{parts.hostname} could not be resolved", retryable=True) from exc
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        mapped = getattr(address, "ipv4_mapped", None)
        if not address.is_global or address.is_multicast or (mapped is not None and not mapped.is_global):
            raise SendError("unsafe_url", f"{parts.hostname} is not a public address", retryable=False)


def download(account: AccountSettings, url: str, *, auth=None, max_redirects: int = 3) -> FetchedMedia:
    """Stream a file from a URL given by a platform, checking the URL and every redirect; raises SendError.
    `auth` (a requests auth) is only sent to the URL's own host."""
    first_host = urlsplit(url).hostname
    for _ in range(max_redirects + 1):
        check_fetch_url(url, account)
        try:
            response = requests.get(
                url,
                auth=auth if urlsplit(url).hostname == first_host else None,
                timeout=account.timeout,
                stream=True,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise SendError("connection", f"download failed: {type(exc).__name__}", retryable=True) from exc
        if response.is_redirect and response.headers.get("Location"):
            response.close()
            url = urljoin(url, response.headers["Location"])
            continue
        if response.status_code != 200:
            response.close()
            status = response.status_code
            retryable = status == 429 or status >= 500
            raise SendError(f"http_{status}", f"the file could not be downloaded (HTTP {status})", retryable=retryable)
        size = response.headers.get("Content-Length")
        served = (response.headers.get("Content-Type") or "").strip()
        return FetchedMedia(
            chunks=_chunks(response),
            mime_type=None if served.split(";")[0].strip().lower() in ("", "application/octet-stream") else served,
            declared_size=int(size) if str(size or "").isdigit() else None,
            close=response.close,
        )
    raise SendError("too_many_redirects", "the file's address redirected too many times", retryable=False)


def _chunks(response: requests.Response):
    """The body in pieces; a connection lost midway is a retryable SendError."""
    try:
        yield from response.iter_content(64 * 1024)
    except requests.RequestException as exc:
        raise SendError("connection", f"download failed: {type(exc).__name__}", retryable=True) from exc
