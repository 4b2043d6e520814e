"""Objects as the REST API and the realtime events show them."""

from __future__ import annotations

import re
from datetime import datetime

from connectors import REGISTRY, get_connector
from connectors.base import DIRECT, N_
from inbox.db import utcnow
from inbox.i18n import in_api_language
from inbox.models import Attachment, Contact, Conversation, Message, User
from inbox.sla import sla_json

QUEUE_UNAVAILABLE = N_("The send queue is unavailable; send the message again.")
ANY_CODE = "*"  # in a FAILURES table: sentences that come with any code (they carry it as a parameter)


def _known_failures() -> dict[str, tuple[str, ...]]:
    table: dict[str, set[str]] = {"queue_unavailable": {QUEUE_UNAVAILABLE}}
    for connector in REGISTRY.values():
        for code, sentences in connector.failures().items():
            table.setdefault(code, set()).update(sentences)
    return {code: tuple(sorted(sentences, key=len, reverse=True)) for code, sentences in table.items()}


# code -> the English sentences a stored failure reason may start with (the longest first).
KNOWN_FAILURES = _known_failures()


def shown_failure(code: str | None, stored: str | None, extra: tuple[str, ...] = ()) -> str | None:
    """A stored failure reason in the reader's language when it starts with one of its code's known sentences
    (or of `extra`); the platform's own words after that sentence, and any reason not known, are shown as
    stored. A sentence with `%(name)s` params matches with any values, which go into the translation."""
    if not stored:
        return stored
    for sentence in (*KNOWN_FAILURES.get(code or "", ()), *KNOWN_FAILURES.get(ANY_CODE, ()), *extra):
        found = _pattern(sentence).match(stored)
        if found:
            return in_api_language(sentence, **found.groupdict()) + stored[found.end() :]
    return stored


_PATTERNS: dict[str, re.Pattern] = {}
_PARAM = re.compile(r"%\((\w+)\)s")
_VALUE, _LAST_VALUE = ".+?", r"[^\s:;,]+"  # a param ending the sentence stops at the platform's own words


def _pattern(sentence: str) -> re.Pattern:
    """The sentence as a regular expression in which each `%(name)s` matches any value."""
    if sentence not in _PATTERNS:
        parts = _PARAM.split(sentence)  # literal, name, literal, name, ..., literal
        regex = []
        for index, part in enumerate(parts):
            if index % 2 == 0:
                regex.append(re.escape(part))
            else:
                last = index == len(parts) - 2 and parts[-1] == ""
                regex.append(f"(?P<{part}>{_LAST_VALUE if last else _VALUE})")
        _PATTERNS[sentence] = re.compile("".join(regex))
    return _PATTERNS[sentence]


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with offset, or None."""
    return value.isoformat() if value else None


def user_json(user: User | None) -> dict | None:
    if user is None:
        return None
    return {"id": user.id, "name": user.name, "email": user.email, "role": user.role}


def contact_json(contact: Contact) -> dict:
    return {
        "id": contact.id,
        "name": contact.name,
        "cil": contact.cil,
        "contract": contact.contract,
        "cin": contact.cin,
        "phone": contact.phone,
        "email": contact.email,
        "address": contact.address,
        "language": contact.language,
        "customer_id": contact.customer_id,
        "customer": customer_summary(contact.customer) if contact.customer_id else None,
    }


def customer_summary(customer) -> dict | None:
    """The directory entry a contact is linked to, in short."""
    if customer is None:
        return None
    return {
        "id": customer.id,
        "cil": customer.cil,
        "name": customer.name,
        "zone": customer.zone,
        "segment": customer.segment,
        "contracts": [c.number for c in customer.contracts],
    }


def conversation_json(conversation: Conversation) -> dict:
    account = conversation.account
    return {
        "id": conversation.id,
        "channel": account.platform,
        "account": {"id": account.id, "name": account.name, "sandbox": account.sandbox},
        "status": conversation.status,
        "contact": contact_json(conversation.contact),
        "handle": conversation.identity.handle or conversation.identity.external_id,
        "thread": conversation.thread or ({"id": conversation.thread_ref} if conversation.thread_ref else None),
        "reply_modes": reply_modes(conversation),
        "assignee": user_json(conversation.assignee),
        "team": {"id": conversation.team.id, "name": conversation.team.name} if conversation.team else None,
        "queued_at": iso(conversation.queued_at),
        "request_type": conversation.request_type,
        "case_number": conversation.case_number,
        "family": _item_ref(conversation.family),
        "nature": _item_ref(conversation.nature),
        "service": _item_ref(conversation.service),
        "case": (
            {"id": conversation.case.id, "number": conversation.case.number, "state": conversation.case.state}
            if conversation.case
            else None
        ),
        "unread_count": conversation.unread_count,
        "language": conversation.language,
        "created_at": iso(conversation.created_at),
        "last_message_at": iso(conversation.last_message_at),
        "last_inbound_at": iso(conversation.last_inbound_at),
        "first_response_due_at": iso(conversation.first_response_due_at),
        "first_response_at": iso(conversation.first_response_at),
        "sla": sla_json(conversation),
    }


def _item_ref(item) -> dict | None:
    return {"id": item.id, "name": item.name} if item else None


def reply_modes(conversation: Conversation) -> list[dict]:
    """How an agent can answer now: private chats take direct messages, public threads public or private
    replies; each with the platform's refusal, shown before the agent types."""
    connector = get_connector(conversation.account.platform)
    public = conversation.thread_ref is not None
    modes = [m for m in connector.REPLY_MODES if (m != DIRECT) == public] or [DIRECT]
    now = utcnow()
    result = []
    for mode in modes:
        reason = connector.reply_refusal(conversation.last_inbound_at, now, mode)
        templates = connector.SENDS_TEMPLATES and mode == DIRECT  # the composer offers them once refused
        shown = in_api_language(reason) if reason else None
        result.append({"mode": mode, "allowed": reason is None, "reason": shown, "templates": templates})
    return result


def attachment_json(attachment: Attachment) -> dict:
    return {
        "id": attachment.id,
        "mime_type": attachment.mime_type,
        "filename": attachment.filename,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "state": attachment.state,
        "error": attachment.error,
        "url": f"/media/{attachment.id}" if attachment.state == "ready" else None,
    }


def message_json(message: Message, contact: Contact | None = None) -> dict:
    if message.direction == "out" and message.author:
        author = {"type": "user", **user_json(message.author)}
    elif message.direction == "out":
        author = {"type": "external", "name": message.author_label} if message.author_label else {"type": "system"}
    else:
        author = {"type": "contact", "id": contact.id if contact else None, "name": contact.name if contact else None}
    automatic = (message.data or {}).get("automatic") if message.direction == "out" else None
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "direction": message.direction,
        "type": message.type,
        "text": message.text,
        "language": message.language,
        "data": message.data or {},
        "attachments": [attachment_json(a) for a in message.attachments],
        "status": message.status,
        "error": (
            {"code": message.error_code, "message": shown_failure(message.error_code, message.error_message)}
            if message.error_code
            else None
        ),
        "external_id": message.external_id,
        "reply_to_external_id": message.reply_to_external_id,
        "mode": message.mode,
        "edited_at": iso(message.edited_at),
        "history": (message.data or {}).get("history", []),
        "removed_at": iso(message.removed_at),
        "hidden": bool(message.hidden),
        "private_replied": message.private_replied_at is not None,
        "sent_at": iso(message.sent_at),
        "created_at": iso(message.created_at),
        "author": author,
        # Sent by the service itself (a menu, the out-of-hours answer, an opt-out's confirmation): its kind.
        "automatic": automatic if message.author_id is None else None,
    }
