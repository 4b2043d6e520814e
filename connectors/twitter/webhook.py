"""X Account Activity webhooks: the CRC, the signature, DMs and mentions."""

from __future__ import annotations

import base64
import json
import logging
import mimetypes
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from connectors.base import InboundAttachment, InboundEvent, hmac_sha256, signature_matches, timestamp

log = logging.getLogger(__name__)
CHANNEL = "twitter"
X_APP = "X app"
SIGNATURE_HEADER = "x-twitter-webhooks-signature"
# Events the inbox does not show; they are dropped without error (fixtures README E, "X/Twitter").
IGNORED_EVENTS = {
    "favorite_events",
    "follow_events",
    "unfollow_events",
    "block_events",
    "unblock_events",
    "mute_events",
    "unmute_events",
    "direct_message_indicate_typing_events",
    "direct_message_mark_read_events",
    "tweet_delete_events",
    "user_event",
}
CONTEXT_KEYS = {"for_user_id", "users", "apps", "user_has_blocked", "source"}
MEDIA_TYPES = {"photo": "image", "video": "video", "animated_gif": "video"}


def _token(secret: str, message: bytes) -> str:
    return "sha256=" + base64.b64encode(hmac_sha256(secret, message)).decode()


def challenge(args: Mapping[str, str], app_secrets: list[str]) -> tuple[int, str, str]:
    """X's CRC: {"response_token": "sha256=" + base64(HMAC-SHA256(consumer secret, crc_token))} (README B)."""
    token = args.get("crc_token")
    secret = next((s for s in app_secrets if s), None)
    if not token or not secret:
        return 403, json.dumps({"error": "no crc_token or no consumer secret"}), "application/json"
    return 200, json.dumps({"response_token": _token(secret, token.encode())}), "application/json"


def verify(headers: Mapping[str, str], body: bytes, app_secrets: list[str]) -> bool:
    """x-twitter-webhooks-signature over the raw body, by any of the consumer secrets, in constant time."""
    given = headers.get(SIGNATURE_HEADER)
    return any([signature_matches(_token(s, body), given) for s in app_secrets if s])


def parse(payload: Mapping[str, Any]) -> list[InboundEvent]:
    """Every DM and mention of a delivery; the account's own tweets and other activity are dropped."""
    account = str(payload.get("for_user_id") or "") or None
    if account is None:
        return [_unrouted(None, "not an X Account Activity delivery (no for_user_id)", payload)]
    users = payload.get("users") if isinstance(payload.get("users"), Mapping) else {}
    events: list[InboundEvent] = []
    for key, items in payload.items():
        if key in CONTEXT_KEYS:
            continue
        if key in IGNORED_EVENTS:
            log.debug("ignored X %s for %s", key, account)
            continue
        parser = {"direct_message_events": _parse_dm, "tweet_create_events": _parse_tweet}.get(key)
        if parser is None or not isinstance(items, list):
            events.append(_unrouted(account, f"X event {key!r} is not handled", {key: items}))
            continue
        for item in items:
            try:
                events += parser(account, item, users)
            except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
                log.warning("unreadable X %s: %r", key, exc)
                events.append(_unrouted(account, f"unreadable {key}: {type(exc).__name__}", item))
    return events


def _unrouted(account_ref: str | None, reason: str, raw: Any) -> InboundEvent:
    raw = raw if isinstance(raw, Mapping) else {"value": raw}
    return InboundEvent(kind="unrouted", channel=CHANNEL, account_ref=account_ref, text=reason, raw=raw)


def _parse_dm(account: str, event: Mapping[str, Any], users: Mapping[str, Any]) -> list[InboundEvent]:
    if event.get("type") != "message_create":
        return [_unrouted(account, f"DM event {event.get('type')!r} is not handled", event)]
    create = event["message_create"]
    sender, recipient = str(create["sender_id"]), str(create["target"]["recipient_id"])
    outbound = sender == account  # our own DMs come back too (README B, "Echoes")
    other = recipient if outbound else sender
    content = create.get("message_data") or {}
    media = (content.get("attachment") or {}).get("media") or {}
    text, attachments = _text_and_media(content.get("text"), [media])
    data: dict[str, Any] = {}
    if create.get("source_app_id"):
        data["source_app_id"] = str(create["source_app_id"])
    if (content.get("quick_reply_response") or {}).get("metadata"):
        data["payload"] = content["quick_reply_response"]["metadata"]
    if attachments and media.get("type") == "animated_gif":
        data["animated"] = True
    person = users.get(other) or {}
    return [
        InboundEvent(
            kind="message",
            channel=CHANNEL,
            account_ref=account,
            external_id=str(event["id"]),
            sender_ref=other,
            sender_name=person.get("name"),
            sender_handle=person.get("screen_name"),
            direction="out" if outbound else "in",
            author_label=X_APP if outbound else None,
            type=MEDIA_TYPES.get(media.get("type"), "image") if attachments else "text",
            text=text,
            attachments=attachments,
            sent_at=timestamp(event.get("created_timestamp"), millis=True),  # a string of ms (README E)
            data=data,
            raw=event,
        )
    ]


def _parse_tweet(account: str, tweet: Mapping[str, Any], users: Mapping[str, Any]) -> list[InboundEvent]:
    author = tweet.get("user") or {}
    author_id = str(author.get("id_str") or "")
    if author_id == account or tweet.get("retweeted_status"):
        # Our own tweets (our public replies included) and retweets, which repeat a tweet already delivered.
        log.debug("ignored X tweet %s by %s", tweet.get("id_str"), author_id)
        return []
    if not tweet.get("id_str") or not author_id:  # never the numeric id: it exceeds 2^53 (README E)
        return [_unrouted(account, "tweet without id_str", tweet)]
    extended = tweet.get("extended_tweet") or {}
    text = extended.get("full_text") or tweet.get("full_text") or tweet.get("text")
    entities = extended.get("extended_entities") or tweet.get("extended_entities") or {}
    text, attachments = _text_and_media(text, entities.get("media") or [])
    handle = author.get("screen_name")
    thread_ref = f"mentions:{author_id}"  # one public conversation per author
    data = {"url": f"https://x.com/{handle}/status/{tweet['id_str']}"} if handle else {}
    if tweet.get("quoted_status_id_str"):
        data["quoted_id"] = tweet["quoted_status_id_str"]
    return [
        InboundEvent(
            kind="message",
            channel=CHANNEL,
            account_ref=account,
            external_id=tweet["id_str"],
            sender_ref=author_id,
            sender_name=author.get("name"),
            sender_handle=handle,
            type="mention",
            text=text,
            attachments=attachments,
            sent_at=timestamp(tweet.get("timestamp_ms"), millis=True) or _created_at(tweet.get("created_at")),
            reply_to=tweet.get("in_reply_to_status_id_str"),
            thread_ref=thread_ref,
            thread={"id": thread_ref, "url": f"https://x.com/{handle}"} if handle else {"id": thread_ref},
            data=data,
            raw=tweet,
        )
    ]


def _created_at(value: Any) -> datetime | None:
    try:
        return datetime.strptime(str(value), "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        return None


def _text_and_media(text: str | None, media: list[Any]) -> tuple[str | None, tuple[InboundAttachment, ...]]:
    """The text without the t.co links of its media, and the media as attachments."""
    attachments = []
    for item in media:
        if not isinstance(item, Mapping):
            continue
        url, mime = _media_url(item)
        if url:
            attachments.append(InboundAttachment(media_ref=url, mime_type=mime))
        if text and item.get("url"):
            text = text.replace(item["url"], "")
    text = text.strip() if text else text
    return text or None, tuple(attachments)


def _media_url(media: Mapping[str, Any]) -> tuple[str | None, str | None]:
    if media.get("type") in ("video", "animated_gif"):
        # GIFs and videos are mp4 variants; the best one has the highest bitrate (README E, zammad recording).
        variants = [v for v in (media.get("video_info") or {}).get("variants") or [] if v.get("url")]
        mp4 = [v for v in variants if v.get("content_type") == "video/mp4"]
        best = max(mp4, key=lambda v: v.get("bitrate") or 0, default=None)
        return (best["url"], "video/mp4") if best else (None, None)
    url = media.get("media_url_https") or media.get("media_url")
    return url, mimetypes.guess_type(urlsplit(url).path)[0] if url else None
