"""WhatsApp Cloud API webhooks: the verification handshake, the signature, and every payload shape."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.base import InboundAttachment, InboundEvent, hmac_sha256, signature_matches
from connectors.whatsapp.client import reason_for

log = logging.getLogger(__name__)
CHANNEL = "whatsapp"
MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
KNOWN_STATUSES = ("sent", "delivered", "read", "failed")


def challenge(args: Mapping[str, str], verify_tokens: list[str]) -> tuple[int, str, str]:
    """Meta's GET handshake: echo hub.challenge when hub.verify_token is one of ours."""
    token = args.get("hub.verify_token", "")
    ok = args.get("hub.mode") == "subscribe" and any(signature_matches(t, token) for t in verify_tokens if t)
    if ok and args.get("hub.challenge"):
        return 200, args["hub.challenge"], "text/plain"
    return 403, "verification failed", "text/plain"


def verify(headers: Mapping[str, str], body: bytes, app_secrets: list[str]) -> bool:
    """X-Hub-Signature-256 over the raw body, by any of the given app secrets, in constant time."""
    given = headers.get("X-Hub-Signature-256")
    results = [signature_matches("sha256=" + hmac_sha256(s, body).hex(), given) for s in app_secrets if s]
    return any(results)


def parse(payload: Mapping[str, Any]) -> list[InboundEvent]:
    """Every message, status and error of a delivery, in order; unknown parts become `unrouted`."""
    if payload.get("object") != "whatsapp_business_account" or not isinstance(payload.get("entry"), list):
        return [_unrouted(None, "not a WhatsApp Business Account delivery", payload)]
    events: list[InboundEvent] = []
    for entry in payload["entry"]:
        for change in (entry or {}).get("changes") or []:
            events.extend(_parse_change(change))
    return events


def _parse_change(change: Mapping[str, Any]) -> list[InboundEvent]:
    value = change.get("value") or {}
    account_ref = (value.get("metadata") or {}).get("phone_number_id")
    if change.get("field") != "messages" or not account_ref:
        return [_unrouted(account_ref, f"field {change.get('field')!r} is not handled", change)]
    names = {c.get("wa_id"): (c.get("profile") or {}).get("name") for c in value.get("contacts") or []}
    events = [_parse_message(account_ref, m, names) for m in value.get("messages") or []]
    events += [_parse_status(account_ref, s) for s in value.get("statuses") or []]
    for error in value.get("errors") or []:
        events.append(_unrouted(account_ref, f"platform error {error.get('code')}: {_error_text(error)}", error))
    return events


def _unrouted(account_ref: str | None, reason: str, raw: Any) -> InboundEvent:
    return InboundEvent(kind="unrouted", channel=CHANNEL, account_ref=account_ref, text=reason, raw=raw)


def _timestamp(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _error_text(error: Mapping[str, Any]) -> str:
    details = (error.get("error_data") or {}).get("details")
    return details or error.get("message") or error.get("title") or "unknown error"


def _parse_message(account_ref: str, message: Mapping[str, Any], names: Mapping) -> InboundEvent:
    sender = message.get("from")
    base = {
        "kind": "message",
        "channel": CHANNEL,
        "account_ref": account_ref,
        "external_id": message.get("id"),
        "sender_ref": sender,
        "sender_name": names.get(sender),
        "sender_phone": f"+{sender}" if sender else None,
        "sent_at": _timestamp(message.get("timestamp")),
        "raw": message,
    }
    try:
        fields = _message_fields(message)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        log.warning("unreadable WhatsApp message %s: %s", message.get("id"), exc)
        fields = {"type": "unsupported", "error_message": f"unreadable {message.get('type')!r} message"}
    context = message.get("context") or {}
    data = dict(fields.pop("data", {}))
    if context.get("forwarded") or context.get("frequently_forwarded"):
        data["forwarded"] = "frequently" if context.get("frequently_forwarded") else True
    if message.get("referral"):
        data["referral"] = message["referral"]
    fields.setdefault("reply_to", context.get("id"))
    return InboundEvent(**base, **fields, data=data)


def _message_fields(message: Mapping[str, Any]) -> dict[str, Any]:
    kind = message.get("type")
    if kind == "text":
        return {"type": "text", "text": message["text"]["body"]}
    if kind in MEDIA_TYPES:
        return _media_fields(kind, message[kind])
    parser = _PARSERS.get(kind)
    if parser:
        return parser(message[kind])
    errors = message.get("errors") or [{}]
    return {
        "type": "unsupported",
        "error_code": str(errors[0].get("code")) if errors[0].get("code") else None,
        "error_message": _error_text(errors[0]) if errors[0] else f"type {kind!r} is not supported",
        "data": {"platform_type": kind},
    }


def _media_fields(kind: str, media: Mapping[str, Any]) -> dict[str, Any]:
    attachment = InboundAttachment(
        media_ref=media["id"],
        mime_type=media.get("mime_type"),
        filename=media.get("filename"),
        platform_sha256=media.get("sha256"),
    )
    data = {"voice": True} if media.get("voice") else {}
    if media.get("animated"):
        data["animated"] = True
    return {"type": kind, "text": media.get("caption"), "attachments": (attachment,), "data": data}


def _location(location: Mapping[str, Any]) -> dict[str, Any]:
    data = {k: location.get(k) for k in ("latitude", "longitude", "name", "address", "url") if k in location}
    text = " — ".join(p for p in (location.get("name"), location.get("address")) if p) or None
    return {"type": "location", "text": text, "data": data}


def _contacts(contacts: list[Mapping[str, Any]]) -> dict[str, Any]:
    names = [(c.get("name") or {}).get("formatted_name") or "" for c in contacts]
    return {"type": "contacts", "text": ", ".join(n for n in names if n) or None, "data": {"contacts": contacts}}


def _interactive(interactive: Mapping[str, Any]) -> dict[str, Any]:
    kind = interactive.get("type")
    reply = interactive.get(kind) or {}
    data = {"interactive_type": kind, "reply_id": reply.get("id")}
    if reply.get("description"):
        data["description"] = reply["description"]
    if kind == "nfm_reply":  # a WhatsApp Flow's answer
        data["response_json"] = reply.get("response_json")
        return {"type": "interactive", "text": reply.get("body") or reply.get("name"), "data": data}
    return {"type": "interactive", "text": reply.get("title"), "data": data}


def _button(button: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "button", "text": button.get("text"), "data": {"payload": button.get("payload")}}


def _reaction(reaction: Mapping[str, Any]) -> dict[str, Any]:
    emoji = reaction.get("emoji") or ""
    return {
        "type": "reaction",
        "text": emoji,
        "reply_to": reaction.get("message_id"),
        "data": {"removed": emoji == ""},
    }


def _order(order: Mapping[str, Any]) -> dict[str, Any]:
    items = order.get("product_items") or []
    text = order.get("text") or f"Order of {len(items)} item(s)"
    return {"type": "order", "text": text, "data": {"order": order}}


def _system(system: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "system", "text": system.get("body"), "data": {"system": system}}


_PARSERS = {
    "location": _location,
    "contacts": _contacts,
    "interactive": _interactive,
    "button": _button,
    "reaction": _reaction,
    "order": _order,
    "system": _system,
}


def _parse_status(account_ref: str, status: Mapping[str, Any]) -> InboundEvent:
    errors = status.get("errors") or []
    name = status.get("status")
    return InboundEvent(
        kind="status" if name in KNOWN_STATUSES else "unrouted",
        channel=CHANNEL,
        account_ref=account_ref,
        external_id=status.get("id"),
        status=name,
        sender_ref=status.get("recipient_id"),
        sent_at=_timestamp(status.get("timestamp")),
        error_code=str(errors[0].get("code")) if errors else None,
        error_message=reason_for(str(errors[0].get("code")), _error_text(errors[0])) if errors else None,
        text=None if name in KNOWN_STATUSES else f"status {name!r} is not handled",
        raw=status,
    )
