"""X calls through tweepy (DMs, public replies, uploads, hiding), routed to TWITTER_API_URL; DM media downloads."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import requests
import tweepy
from requests.adapters import HTTPAdapter
from requests.utils import to_native_string
from requests_oauthlib import OAuth1

from connectors.base import (
    DIRECT,
    N_,
    PUBLIC_REPLY,
    AccountSettings,
    FetchedMedia,
    OutboundFile,
    OutboundMessage,
    SendError,
    SendResult,
    download,
)

# tweepy hard-codes these hosts (tweepy/client.py BaseClient.request, tweepy/api.py API.__init__).
API_HOST = "https://api.twitter.com"
UPLOAD_HOST = "https://upload.twitter.com"
OFFICIAL_API_HOSTS = ("api.twitter.com", "api.x.com")
DM_FORBIDDEN = N_(
    "X does not allow this Direct Message: the customer may have closed their DMs or blocked the account."
)
REPLY_FORBIDDEN = N_("X does not allow this reply: the tweet may be protected, deleted, or the account restricted.")
RATE_LIMITED = N_("X's rate limit for this account was reached; the message goes out again after the reset.")
CANNOT_DM = 349  # X's error code for a person the account may not DM (closed DMs, blocked)
UNAUTHORIZED = N_("X rejected the account's credentials: an administrator must renew the access token.")
NO_TWEET = N_("A public reply needs the tweet it answers.")
NOTHING_TO_SEND = N_("There is nothing to send.")
MEDIA_FAILED = N_("X could not process the file.")
TIMEOUT = N_("X did not answer in time")
UNREACHABLE = N_("X could not be reached")
ANSWERED_HTTP = N_("X answered HTTP %(status)s")
REFUSED_HTTP = N_("X refused the request (HTTP %(status)s)")
# The sentences a failed send may start with, by code: the inbox translates them where an agent reads them.
FAILURES = {
    "*": (ANSWERED_HTTP, REFUSED_HTTP),  # any code: it is in the sentence
    "403": (DM_FORBIDDEN, REPLY_FORBIDDEN),
    "349": (DM_FORBIDDEN,),
    "429": (RATE_LIMITED,),
    "401": (UNAUTHORIZED,),
    "no_tweet": (NO_TWEET,),
    "empty": (NOTHING_TO_SEND,),
    "media_failed": (MEDIA_FAILED,),
    "timeout": (TIMEOUT,),
    "connection": (UNREACHABLE,),
}


class RouteToBase(HTTPAdapter):
    """A transport adapter that sends requests for tweepy's hard-coded hosts to the configured base URL, signs
    them again for that URL (OAuth 1.0a signs the host), and gives every request a timeout."""

    def __init__(self, base_url: str, timeout: float, auth: OAuth1 | None = None):
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.default_timeout = timeout
        self.auth = auth

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        target = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        if target != request.url:
            request.url = target
            header = to_native_string(request.headers.get("Authorization") or "")  # requests_oauthlib sets bytes
            if self.auth is not None and header.startswith("OAuth "):
                del request.headers["Authorization"]
                self.auth(request)
        kwargs["timeout"] = kwargs.get("timeout") or self.default_timeout
        return super().send(request, **kwargs)


def _credentials(account: AccountSettings) -> tuple[str | None, ...]:
    """Consumer key and secret (stored as app_secret: it also signs webhooks), access token and its secret."""
    secrets = account.secrets
    return (
        secrets.get("consumer_key"),
        secrets.get("app_secret") or secrets.get("consumer_secret"),
        secrets.get("access_token"),
        secrets.get("access_token_secret"),
    )


def route(session: requests.Session, account: AccountSettings) -> requests.Session:
    """Mount the routing adapter on a tweepy session; uploads keep their own host on the real X API."""
    auth = OAuth1(*_credentials(account))
    base = account.api_base_url
    official = urlsplit(base).hostname in OFFICIAL_API_HOSTS
    session.mount(API_HOST + "/", RouteToBase(base, account.timeout, auth))
    session.mount(UPLOAD_HOST + "/", RouteToBase(UPLOAD_HOST if official else base, account.timeout, auth))
    return session


def client_for(account: AccountSettings) -> tweepy.Client:
    """A tweepy v2 client in OAuth 1.0a user context, routed to the account's API base."""
    key, secret, token, token_secret = _credentials(account)
    client = tweepy.Client(
        consumer_key=key, consumer_secret=secret, access_token=token, access_token_secret=token_secret, return_type=dict
    )
    route(client.session, account)
    return client


def api_for(account: AccountSettings) -> tweepy.API:
    """A tweepy v1.1 API (media uploads), routed like the client; tweepy's own retries are left to the job."""
    api = tweepy.API(tweepy.OAuth1UserHandler(*_credentials(account)), timeout=account.timeout, retry_count=0)
    route(api.session, account)
    return api


def send(account: AccountSettings, message: OutboundMessage) -> SendResult:
    """A DM (create_direct_message) or a public reply (create_tweet in_reply_to_tweet_id); raises SendError."""
    if message.mode not in (DIRECT, PUBLIC_REPLY):
        raise SendError("unsupported", f"X cannot send a {message.mode!r} reply.", retryable=False)
    if message.mode == PUBLIC_REPLY and not message.reply_to:
        raise SendError("no_tweet", NO_TWEET, retryable=False)
    if not message.text and message.file is None:
        raise SendError("empty", NOTHING_TO_SEND, retryable=False)
    client = client_for(account)
    with _errors(message.mode):
        media_id = _upload(account, message.file, message.mode) if message.file else None
        if message.mode == PUBLIC_REPLY:
            answer = client.create_tweet(
                text=message.text or None,
                in_reply_to_tweet_id=message.reply_to,
                media_ids=[media_id] if media_id else None,
            )
            return SendResult(external_id=str(answer["data"]["id"]))
        answer = client.create_direct_message(participant_id=message.to, text=message.text or None, media_id=media_id)
        return SendResult(external_id=str(answer["data"]["dm_event_id"]))


def _upload(account: AccountSettings, file: OutboundFile, mode: str) -> str:
    """Upload a file first (v1.1 media/upload, the one tweepy 4.17 offers); DM media need a dm_* category."""
    kind = "gif" if file.mime_type == "image/gif" else "video" if file.mime_type.startswith("video/") else "image"
    category = ("dm_" if mode == DIRECT else "tweet_") + kind
    api = api_for(account)
    with open(file.path, "rb") as handle:
        if kind == "image":
            media = api.simple_upload(file.filename, file=handle, media_category=category)
        else:
            media = api.chunked_upload(file.filename, file=handle, file_type=file.mime_type, media_category=category)
    if (getattr(media, "processing_info", None) or {}).get("state") == "failed":
        raise SendError("media_failed", MEDIA_FAILED, retryable=False)
    return str(getattr(media, "media_id_string", None) or media.media_id)


def hide_reply(account: AccountSettings, tweet_id: str, hidden: bool = True) -> None:
    """Hide (or show again) a reply to one of the account's tweets: PUT /2/tweets/:id/hidden."""
    client = client_for(account)
    with _errors(PUBLIC_REPLY):
        if hidden:
            client.hide_reply(tweet_id)
        else:
            client.unhide_reply(tweet_id)


def fetch_media(account: AccountSettings, url: str) -> FetchedMedia:
    """Stream a DM or tweet file, signed with the account's OAuth 1.0a user context (README E), public hosts only."""
    return download(account, url, auth=OAuth1(*_credentials(account)))


def _detail(exc: tweepy.HTTPException) -> str:
    messages = "; ".join(str(m) for m in exc.api_messages)
    return f" ({messages[:200]})" if messages else ""


@contextmanager
def _errors(mode: str) -> Iterator[None]:
    """Turn tweepy's and requests' exceptions into SendErrors with a sentence and a retry decision."""
    try:
        yield
    except tweepy.TooManyRequests as exc:
        wait = max(0.0, exc.reset_time - time.time()) if exc.reset_time else None  # x-rate-limit-reset is epoch s
        raise SendError("429", RATE_LIMITED, retryable=True, retry_after=wait, rate_limited=True) from exc
    except tweepy.Forbidden as exc:
        reason = (DM_FORBIDDEN if mode == DIRECT else REPLY_FORBIDDEN) + _detail(exc)
        code = str(CANNOT_DM) if CANNOT_DM in exc.api_codes else "403"  # 349: "You cannot send messages to this user"
        raise SendError(code, reason, retryable=False) from exc
    except tweepy.Unauthorized as exc:
        raise SendError("401", UNAUTHORIZED, retryable=False) from exc
    except tweepy.TwitterServerError as exc:
        status = exc.response.status_code
        raise SendError(str(status), ANSWERED_HTTP % {"status": status}, retryable=True) from exc
    except tweepy.HTTPException as exc:
        status = exc.response.status_code
        code = str(CANNOT_DM) if CANNOT_DM in exc.api_codes else str(status)
        raise SendError(code, REFUSED_HTTP % {"status": status} + _detail(exc), retryable=False) from exc
    except requests.Timeout as exc:
        raise SendError("timeout", TIMEOUT, retryable=True) from exc
    except requests.RequestException as exc:
        raise SendError("connection", UNREACHABLE, retryable=True) from exc
    except tweepy.TweepyException as exc:  # tweepy.API wraps transport errors in a bare TweepyException
        transport = isinstance(exc.__context__, requests.RequestException)
        raise SendError("connection" if transport else "x_error", str(exc)[:200], retryable=transport) from exc
    except (KeyError, TypeError) as exc:
        raise SendError("bad_answer", "X's answer carried no id", retryable=False) from exc
