"""Messenger and Page feed webhooks: the Meta handshake, the signature, and every payload shape."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from posixpath import basename
from typing import Any
from urllib.parse import unquote, urlsplit

from connectors.base import InboundAttachment, InboundEvent, timestamp
from connectors.whatsapp import webhook as meta

log = logging.getLogger(__name__)
CHANNEL = "facebook"
PAGE_INBOX = "Page inbox"
MEDIA_TYPES = {"image": "image", "video": "video", "audio": "audio", "file": "document"}
# Shares that carry a url and a title rather than a file (fixtures README A.5 and F.4).
LINK_TYPES = ("fallback", "share", "post", "ig_post", "reel", "ig_reel")
POST_ITEMS = ("status", "post", "photo", "video")
IGNORED_ITEMS = ("reaction", "like")  # fixtures README E, "Facebook Page feed"
IGNORED_VERBS = ("hide", "unhide")  # moderation, done by the Page itself

# Meta's GET handshake and X-Hub-Signature-256 are the same for every Meta product (fixtures README A.1, A.2).
challenge = meta.challenge
verify = meta.verify


def parse(payload: Mapping[str, Any]) -> list[InboundEvent]:
    """Every Messenger event and feed change of a delivery, in order; unknown parts become `unrouted`."""
    if payload.get("object") != "page" or not isinstance(payload.get("entry"), list):
        return [_unrouted(None, "not a Facebook Page delivery", payload)]
    events: list[InboundEvent] = []
    for entry in payload["entry"]:
        if not isinstance(entry, Mapping):
            events.append(_unrouted(None, "an entry is not an object", entry))
            continue
        page_id = str(entry["id"]) if entry.get("id") else None
        for event in entry.get("messaging") or []:
            events += _guarded(_parse_messaging, page_id, event)
        for event in entry.get("standby") or []:  # handover protocol: another app owns the thread
            events.append(_unrouted(page_id, "standby event: another app controls this thread", event))
        for change in entry.get("changes") or []:
            events += _guarded(_parse_change, page_id, change)
    return events


def _guarded(parser: Callable, page_id: str | None, part: Any) -> list[InboundEvent]:
    try:
        return parser(page_id, part)
    except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
        log.warning("unreadable Facebook event: %r", exc)
        return [_unrouted(page_id, f"unreadable event: {type(exc).__name__}", part)]


def _unrouted(account_ref: str | None, reason: str, raw: Any) -> InboundEvent:
    raw = raw if isinstance(raw, Mapping) else {"value": raw}
    return InboundEvent(kind="unrouted", channel=CHANNEL, account_ref=account_ref, text=reason, raw=raw)


def _id(party: Any) -> str | None:
    if not isinstance(party, Mapping):
        return None
    value = party.get("id") or party.get("user_ref")
    return str(value) if value else None


# --- Messenger (entry[].messaging[]) -----------------------------------------------------------------------------


def _parse_messaging(page_id: str | None, event: Mapping[str, Any]) -> list[InboundEvent]:
    sender, recipient = _id(event.get("sender")), _id(event.get("recipient"))
    base = {"channel": CHANNEL, "account_ref": page_id, "raw": event}
    sent_at = timestamp(event.get("timestamp"), millis=True)  # Messenger times are integer ms (README E)
    if "message" in event:
        message = event["message"]
        fields = _message_fields(message)
        data = dict(fields.pop("data", {}))
        if message.get("referral"):
            data["referral"] = message["referral"]
        if message.get("is_echo"):  # echoes swap sender and recipient: the customer is the recipient (README E)
            if message.get("app_id"):
                data["app_id"] = str(message["app_id"])
            who = {"sender_ref": recipient, "direction": "out", "author_label": PAGE_INBOX}
            who["client_ref"] = message.get("metadata")  # what we put in message.metadata when we sent it
        else:
            who = {"sender_ref": sender}
        return [
            InboundEvent(
                kind="message",
                external_id=message.get("mid"),
                sent_at=sent_at,
                reply_to=(message.get("reply_to") or {}).get("mid"),
                data=data,
                **who,
                **fields,
                **base,
            )
        ]
    if "postback" in event:
        postback = event["postback"]
        data = {"interactive_type": "postback", "payload": postback.get("payload")}
        if postback.get("referral"):
            data["referral"] = postback["referral"]
        external_id = postback.get("mid") or f"postback:{sender}:{event.get('timestamp')}"
        return [
            InboundEvent(
                kind="message",
                external_id=external_id,
                sender_ref=sender,
                type="interactive",
                text=postback.get("title"),
                sent_at=sent_at,
                data=data,
                **base,
            )
        ]
    for name, status in (("delivery", "delivered"), ("read", "read")):
        if name in event:
            watermark = event[name]
            data = {"external_ids": list(watermark.get("mids") or [])} if name == "delivery" else {}
            sent = timestamp(watermark.get("watermark"), millis=True)
            return [InboundEvent(kind="watermark", status=status, sender_ref=sender, sent_at=sent, data=data, **base)]
    if "reaction" in event:
        reaction = event["reaction"]
        return [
            InboundEvent(
                kind="message",
                # a reaction has no id of its own: one per message, reacting person and time
                external_id=f"reaction:{reaction.get('mid')}:{sender}:{event.get('timestamp')}",
                sender_ref=sender,
                type="reaction",
                text=reaction.get("emoji") or "",
                reply_to=reaction.get("mid"),
                sent_at=sent_at,
                data={"removed": reaction.get("action") == "unreact"},
                **base,
            )
        ]
    if "message_edit" in event:
        edit = event["message_edit"]
        fields = {"external_id": edit.get("mid"), "sender_ref": sender, "text": edit.get("text"), "sent_at": sent_at}
        return [InboundEvent(kind="edit", **fields, **base)]
    names = sorted(set(event) - {"sender", "recipient", "timestamp"})
    return [_unrouted(page_id, f"Messenger event {', '.join(names) or 'without content'} is not handled", event)]


def _message_fields(message: Mapping[str, Any]) -> dict[str, Any]:
    """type, text, attachments and data of a message; a message can carry text and attachments (README E)."""
    text = message.get("text")
    attachments = [a for a in message.get("attachments") or [] if isinstance(a, Mapping)]
    sticker = _sticker(attachments)
    if sticker:
        return sticker
    media = [a for a in attachments if a.get("type") in MEDIA_TYPES and _payload(a).get("url")]
    if media:
        found = tuple(_attachment(a) for a in media)
        return {"type": MEDIA_TYPES[media[0]["type"]], "text": text, "attachments": found}
    for attachment in attachments:
        if attachment.get("type") == "location":
            return _location(attachment)
        if attachment.get("type") in LINK_TYPES:
            return _link(attachment, text)
    if attachments:
        kind = attachments[0].get("type")
        return {"type": "unsupported", "text": text, "data": {"platform_type": kind}}
    if message.get("quick_reply"):
        return {
            "type": "interactive",
            "text": text,
            "data": {"interactive_type": "quick_reply", "payload": message["quick_reply"].get("payload")},
        }
    if text is None:
        return {"type": "unsupported", "data": {"platform_type": "empty"}}
    return {"type": "text", "text": text}


def _payload(attachment: Mapping[str, Any]) -> Mapping[str, Any]:
    payload = attachment.get("payload")
    return payload if isinstance(payload, Mapping) else {}


def _attachment(attachment: Mapping[str, Any]) -> InboundAttachment:
    url = _payload(attachment)["url"]
    filename = None
    if attachment.get("type") == "file":
        filename = unquote(basename(urlsplit(url).path)) or None
    return InboundAttachment(media_ref=url, filename=filename)


def _sticker(attachments: list[Mapping[str, Any]]) -> dict[str, Any] | None:
    # During Meta's transition a sticker comes both as an image with payload.sticker_id and as a "sticker"
    # attachment: keep one (fixtures README A.5).
    stickers = [a for a in attachments if a.get("type") == "sticker" and _payload(a).get("url")]
    stickers += [a for a in attachments if a.get("type") == "image" and _payload(a).get("sticker_id")]
    if not stickers:
        return None
    chosen = stickers[0]
    sticker_id = next((_payload(a).get("sticker_id") for a in stickers if _payload(a).get("sticker_id")), None)
    return {
        "type": "sticker",
        "attachments": (_attachment(chosen),),
        "data": {"sticker_id": str(sticker_id)} if sticker_id else {},
    }


def _location(attachment: Mapping[str, Any]) -> dict[str, Any]:
    # Older shape with payload.coordinates.{lat,long}; no longer in Meta's docs (fixtures README F.4).
    coordinates = _payload(attachment).get("coordinates") or {}
    data = {"latitude": coordinates.get("lat"), "longitude": coordinates.get("long")}
    if attachment.get("title"):
        data["name"] = attachment["title"]
    if attachment.get("url"):
        data["url"] = attachment["url"]
    return {"type": "location", "text": attachment.get("title"), "data": data}


def _link(attachment: Mapping[str, Any], text: str | None) -> dict[str, Any]:
    # v6+ puts url/title in payload; the pre-v6 fallback had them on the attachment itself (fixtures README F.4).
    payload = _payload(attachment)
    url = payload.get("url") or attachment.get("url")
    title = payload.get("title") or attachment.get("title")
    data = {"url": url, "title": title, "platform_type": attachment.get("type")}
    return {"type": "link", "text": text or title or url, "data": data}


# --- Page feed (entry[].changes[], field "feed") -----------------------------------------------------------------


def _parse_change(page_id: str | None, change: Mapping[str, Any]) -> list[InboundEvent]:
    if change.get("field") != "feed":
        return [_unrouted(page_id, f"field {change.get('field')!r} is not handled", change)]
    value = change.get("value") or {}
    item, verb = value.get("item"), value.get("verb")
    author = value.get("from") or {}
    # Very old payloads had sender_id/sender_name instead of from (fixtures README E).
    author_id = str(author.get("id") or value.get("sender_id") or "") or None
    if item in IGNORED_ITEMS or verb in IGNORED_VERBS or (author_id and author_id == page_id):
        log.debug("ignored feed change %s/%s from %s", item, verb, author_id)
        return []
    if verb == "add" and not author_id:  # without from, there is no one to answer
        return [_unrouted(page_id, f"feed {item!r} without its author (from)", change)]
    if item == "comment":
        external_id, thread_id = value.get("comment_id"), value.get("post_id")
    elif item in POST_ITEMS:
        external_id = thread_id = value.get("post_id")
    else:
        return [_unrouted(page_id, f"feed item {item!r} ({verb}) is not handled", change)]
    post = value.get("post") or {}
    url = post.get("permalink_url") or value.get("permalink_url")
    if not url and thread_id:
        url = f"https://www.facebook.com/{thread_id}"  # a post id (<page>_<post>) is also its address
    thread = {"id": thread_id, "url": url}
    if item != "comment":
        thread["text"] = value.get("message")
    base = {
        "channel": CHANNEL,
        "account_ref": page_id,
        "external_id": str(external_id) if external_id else None,
        "sender_ref": author_id,
        "sender_name": author.get("name") or value.get("sender_name"),
        "sent_at": timestamp(value.get("created_time")),  # feed times are integer seconds (README E)
        "thread_ref": thread_id,
        "thread": {k: v for k, v in thread.items() if v},
        "raw": value,
    }
    if verb == "add":
        return [_feed_message(item, value, base)]
    if verb in ("edited", "edit"):
        return [InboundEvent(kind="edit", text=value.get("message"), **base)]
    if verb == "remove":
        return [InboundEvent(kind="removal", **base)]
    return [_unrouted(page_id, f"feed verb {verb!r} on {item!r} is not handled", change)]


def _feed_message(item: str, value: Mapping[str, Any], base: dict[str, Any]) -> InboundEvent:
    # Comments with media carry photo or video URLs; photo/video posts carry theirs in link (fixtures README E).
    urls = [value.get("photo"), value.get("video")]
    if item in ("photo", "video"):
        urls.append(value.get("link"))
    attachments = tuple(InboundAttachment(media_ref=url) for url in urls if isinstance(url, str) and url)
    reply_to = None
    if item == "comment" and value.get("parent_id") and value.get("parent_id") != value.get("post_id"):
        reply_to = value["parent_id"]  # a reply to a comment; a top-level comment's parent is the post
    return InboundEvent(
        kind="message",
        type="comment" if item == "comment" else "post",
        text=value.get("message"),
        attachments=attachments,
        reply_to=reply_to,
        **base,
    )
