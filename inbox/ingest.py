"""Turn connector events into contacts, conversations, messages and receipts, inside the caller's transaction."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from campaigns import optout
from connectors.base import InboundEvent
from inbox import language, selfservice, sla
from inbox.cases import attach_follow_up
from inbox.db import insert_ignoring_conflicts, session, utcnow
from inbox.models import (
    Attachment,
    CampaignRecipient,
    ChannelAccount,
    Contact,
    ContactIdentity,
    Conversation,
    DeliveryReceipt,
    Message,
    UnroutedDelivery,
)

# A status may replace only the ones listed for it: statuses never go backwards, `failed` is terminal,
# and a late `failed` never undoes a delivery the customer already has.
ADVANCES_FROM = {
    "sent": ("queued",),
    "delivered": ("queued", "sent"),
    "read": ("queued", "sent", "delivered"),
    "failed": ("queued", "sent"),
}
STATUS_ORDER = ("sent", "delivered", "read", "failed")


@dataclass
class Outcome:
    """What an ingest changed, for the caller to announce and follow up after its commit."""

    new_conversations: list[int] = field(default_factory=list)
    changed_conversations: list[int] = field(default_factory=list)
    new_messages: list[int] = field(default_factory=list)
    messages_to_send: list[int] = field(default_factory=list)  # automatic answers (an opt-out's confirmation)
    changed_messages: list[int] = field(default_factory=list)
    attachments_to_fetch: list[int] = field(default_factory=list)
    threads_to_fetch: list[int] = field(default_factory=list)  # public conversations whose post text is unknown
    assignments: list = field(default_factory=list)  # inbox.assignment.Change of queued conversations handed out
    unrouted: int = 0


def ingest(platform: str, events: list[InboundEvent]) -> Outcome:
    """Store every event of one delivery; duplicates and late statuses are absorbed, nothing is dropped."""
    db = session()
    refs = {e.account_ref for e in events if e.account_ref}
    accounts = {
        a.external_id: a
        for a in db.scalars(
            select(ChannelAccount).where(ChannelAccount.platform == platform, ChannelAccount.external_id.in_(refs))
        )
    }
    outcome = Outcome()
    # Locks are taken in one order by every transaction (identities by sender, then platform ids), so that
    # two deliveries touching the same senders or messages wait for each other instead of deadlocking.
    for event in sorted(events, key=_lock_order):
        account = accounts.get(event.account_ref)
        if event.kind not in HANDLERS or account is None:
            if event.kind == "unrouted":
                reason = event.text
            elif account is None:
                reason = f"no channel account {event.account_ref!r}"
            else:
                reason = f"events of kind {event.kind!r} are not handled"
            _keep_unrouted(platform, event, reason)
            outcome.unrouted += 1
        elif event.kind == "message" and event.direction == "out":
            _ingest_echo(account, event, outcome)
        else:
            HANDLERS[event.kind](account, event, outcome)
    return outcome


def _lock_order(event: InboundEvent) -> tuple:
    if event.kind in ("message", "watermark"):
        return (0, event.account_ref or "", event.sender_ref or "")
    if event.kind == "status":
        return (1, event.account_ref or "", event.external_id or "")
    return (2, "", "")


def lock_platform_id(account_id: int, external_id: str) -> None:
    """Serialise, on PostgreSQL, the transactions that store a platform message id and its statuses.

    The send job stores the id while a status webhook for it may be in flight: without this lock each can
    commit without seeing the other's uncommitted row, and the status is never applied. SQLite already runs
    write transactions one at a time (BEGIN IMMEDIATE, db.py)."""
    db = session()
    if db.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"{account_id}:{external_id}".encode()).digest()
    db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int.from_bytes(digest[:8], "big", signed=True)})


def keep_unparsed(platform: str, reason: str, payload) -> None:
    """Keep a whole signed delivery that could not be read, for an administrator to look at."""
    session().add(UnroutedDelivery(platform=platform, reason=reason, payload=payload))


def _keep_unrouted(platform: str, event: InboundEvent, reason: str | None) -> None:
    session().add(
        UnroutedDelivery(
            platform=platform, reason=reason or "not routable", account_ref=event.account_ref, payload=dict(event.raw)
        )
    )


def _identity_for(account: ChannelAccount, event: InboundEvent) -> ContactIdentity:
    """The sender's identity on this account, created with its contact on first contact; locked for the rest
    of the transaction so that concurrent deliveries from one sender are taken one after the other."""
    db = session()
    query = (
        select(ContactIdentity)
        .where(ContactIdentity.account_id == account.id, ContactIdentity.external_id == event.sender_ref)
        .with_for_update()
    )
    identity = db.scalars(query).first()
    if identity is None:
        try:
            with db.begin_nested():
                contact = Contact(name=event.sender_name, phone=event.sender_phone)
                identity = ContactIdentity(
                    contact=contact,
                    account_id=account.id,
                    external_id=event.sender_ref,
                    display_name=event.sender_name,
                )
                db.add(identity)
                db.flush()
        except IntegrityError:  # another delivery created it first
            identity = db.scalars(query).one()
    elif event.direction == "in" and event.sender_name and identity.display_name != event.sender_name:
        identity.display_name = event.sender_name
        if not identity.contact.name:
            identity.contact.name = event.sender_name
    if event.sender_handle and identity.handle != event.sender_handle:
        identity.handle = event.sender_handle
    return identity


def _known_identity(account: ChannelAccount, sender_ref: str | None) -> ContactIdentity | None:
    return (
        session()
        .scalars(
            select(ContactIdentity)
            .where(ContactIdentity.account_id == account.id, ContactIdentity.external_id == sender_ref)
            .with_for_update()
        )
        .first()
    )


def _latest_conversation(identity: ContactIdentity, thread_ref: str | None, open_only: bool = True):
    query = select(Conversation).where(Conversation.identity_id == identity.id)
    query = query.where(
        Conversation.thread_ref == thread_ref if thread_ref is not None else Conversation.thread_ref.is_(None)
    )
    if open_only:
        query = query.where(Conversation.status != "resolved")
    return session().scalars(query.order_by(Conversation.id.desc()).limit(1)).first()


def _open_conversation(
    account: ChannelAccount, identity: ContactIdentity, event: InboundEvent, outcome: Outcome
) -> Conversation:
    """The identity's unresolved conversation in the event's thread (a private chat, a post, an author's
    mentions), or a new one: a resolved conversation is never reopened."""
    conversation = _latest_conversation(identity, event.thread_ref)
    if conversation is None:
        conversation = Conversation(
            account_id=account.id,
            contact_id=identity.contact_id,
            identity_id=identity.id,
            status="open",
            thread_ref=event.thread_ref,
            thread=dict(event.thread) or None,
        )
        session().add(conversation)
        session().flush()
        attach_follow_up(conversation)  # a customer with a case not closed lands on it (a "rappel")
        outcome.new_conversations.append(conversation.id)
        from inbox.assignment import enqueue_new

        # In its queue at once, in this transaction; handed to an agent with room if one is online.
        outcome.assignments.extend(enqueue_new(conversation))
        if event.thread_ref and not event.thread.get("text"):
            outcome.threads_to_fetch.append(conversation.id)
    elif event.thread and not conversation.thread:
        conversation.thread = dict(event.thread)
    return conversation


def _ingest_message(account: ChannelAccount, event: InboundEvent, outcome: Outcome) -> None:
    db = session()
    identity = _identity_for(account, event)
    exists = db.scalar(
        select(Message.id).where(Message.account_id == account.id, Message.external_id == event.external_id)
    )
    if exists:
        return
    conversation = _open_conversation(account, identity, event, outcome)
    now = utcnow()
    received_at = event.sent_at or now
    detected = language.detect(event.text) if event.text and event.type in ("text", "comment") else None
    message_id = _insert_message(account, conversation, event, now, detected)
    if message_id is None:
        return
    _touch_conversation(conversation, received_at, now)
    _keep_language(conversation, detected, event.text)
    outcome.new_messages.append(message_id)
    _link_campaign(account, identity, conversation, received_at)
    answered = event.type == "text" and conversation.thread_ref is None and _opt_out_or_in(
        account, identity, conversation, event, outcome
    )
    if conversation.id not in outcome.new_conversations:
        outcome.changed_conversations.append(conversation.id)
    _add_attachments(message_id, event, outcome)
    if not answered:  # a stop word has its confirmation: no menu on top of it
        is_new = conversation.id in outcome.new_conversations
        selfservice.on_customer_message(conversation, db.get(Message, message_id), received_at, is_new, outcome)


CAMPAIGN_REPLY_DAYS = 7  # a message this soon after a campaign reached the customer answers it


def _link_campaign(account, identity, conversation: Conversation, received_at) -> None:
    """A customer writing after a campaign reached them answers it: the conversation shows which."""
    if conversation.campaign_id is not None:
        return
    conversation.campaign_id = session().scalar(
        select(CampaignRecipient.campaign_id)
        .where(
            CampaignRecipient.account_id == account.id,
            CampaignRecipient.address == identity.external_id,
            CampaignRecipient.state == "sent",
            CampaignRecipient.sent_at >= received_at - timedelta(days=CAMPAIGN_REPLY_DAYS),
            CampaignRecipient.sent_at <= received_at + timedelta(minutes=1),  # the platform clock may lag ours
        )
        .order_by(CampaignRecipient.sent_at.desc())
        .limit(1)
    )


def _opt_out_or_in(account, identity, conversation: Conversation, event: InboundEvent, outcome: Outcome) -> bool:
    """A message that is only a stop (or start) word changes the sender's campaigns and is confirmed; True if so."""
    action = optout.action_for(event.text)
    if action is None or not optout.apply(
        account.platform, identity.external_id, identity.contact_id, action, event.text
    ):
        return False
    texts = optout.CONFIRMATIONS[action]
    reply = Message(
        conversation_id=conversation.id,
        account_id=account.id,
        direction="out",
        type="text",
        text=texts.get(conversation.language or conversation.contact.language or "fr", texts["fr"]),
        status="queued",
        mode="direct",
        data={"automatic": f"opt_{action}"},
    )
    session().add(reply)
    session().flush()
    outcome.new_messages.append(reply.id)
    outcome.messages_to_send.append(reply.id)
    return True


def _insert_message(
    account: ChannelAccount, conversation: Conversation, event: InboundEvent, now, detected=None
) -> int | None:
    """Insert the event's message unless its platform id is already stored; its id, or None."""
    values = {
        "conversation_id": conversation.id,
        "account_id": account.id,
        "direction": event.direction,
        "type": event.type,
        "text": event.text,
        "language": detected.language if detected else None,
        "status": "received" if event.direction == "in" else "sent",
        "author_label": event.author_label,
        "hidden": False,
        "external_id": event.external_id,
        "reply_to_external_id": event.reply_to,
        "data": dict(event.data) or None,
        "raw": dict(event.raw),
        "error_code": event.error_code,
        "error_message": event.error_message,
        "sent_at": event.sent_at,
        "created_at": now,
        "updated_at": now,
    }
    statement = insert_ignoring_conflicts(Message, ("account_id", "external_id"), returning=Message.id)
    return session().scalar(statement, values)


def _add_attachments(message_id: int, event: InboundEvent, outcome: Outcome) -> None:
    db = session()
    for attachment in event.attachments:
        row = Attachment(
            message_id=message_id,
            media_ref=attachment.media_ref,
            mime_type=attachment.mime_type,
            filename=attachment.filename,
            platform_sha256=attachment.platform_sha256,
            size=attachment.size,
        )
        db.add(row)
        db.flush()
        outcome.attachments_to_fetch.append(row.id)


def _ingest_echo(account: ChannelAccount, event: InboundEvent, outcome: Outcome) -> None:
    """An outbound message the platform reports: ours (matched by platform id or our reference) is stored
    once; one typed outside the service (the Page's inbox, the X app) is stored as outbound by its label."""
    db = session()
    lock_platform_id(account.id, event.external_id)
    if db.scalar(select(Message.id).where(Message.account_id == account.id, Message.external_id == event.external_id)):
        return
    if event.client_ref and event.client_ref.isdigit():
        ours = db.get(Message, int(event.client_ref), with_for_update=True)
        if ours is not None and ours.account_id == account.id and ours.direction == "out":
            if ours.external_id is None:  # the echo beat the send job: the job finds the id stored
                ours.external_id = event.external_id
                ours.status = "sent" if ours.status == "queued" else ours.status
                outcome.changed_messages.append(ours.id)
            return
    identity = _identity_for(account, event)
    conversation = _latest_conversation(identity, event.thread_ref) or _latest_conversation(
        identity, event.thread_ref, open_only=False
    )
    if conversation is None:
        conversation = _open_conversation(account, identity, event, outcome)
    now = utcnow()
    message_id = _insert_message(account, conversation, event, now)
    if message_id is None:
        return
    conversation.last_message_at = max(conversation.last_message_at or now, now)
    outcome.new_messages.append(message_id)
    if conversation.id not in outcome.new_conversations:
        outcome.changed_conversations.append(conversation.id)
    _add_attachments(message_id, event, outcome)


def _ingest_watermark(account: ChannelAccount, event: InboundEvent, outcome: Outcome) -> None:
    """Every outbound message to the sender sent up to the watermark moves forward to its status."""
    for external_id in event.data.get("external_ids") or ():
        moved = advance_status(account.id, external_id, event.status)
        if moved:
            outcome.changed_messages.append(moved)
    identity = _known_identity(account, event.sender_ref)
    if identity is None or event.sent_at is None:
        return
    conversations = select(Conversation.id).where(Conversation.identity_id == identity.id)
    statement = (
        update(Message)
        .where(
            Message.conversation_id.in_(conversations),
            Message.direction == "out",
            Message.sent_at <= event.sent_at,
            Message.status.in_(ADVANCES_FROM[event.status]),
        )
        .values(status=event.status, updated_at=utcnow())
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    )
    outcome.changed_messages.extend(session().scalars(statement).all())


def _stored_message(account: ChannelAccount, event: InboundEvent, outcome: Outcome) -> Message | None:
    message = (
        session()
        .scalars(
            select(Message)
            .where(Message.account_id == account.id, Message.external_id == event.external_id)
            .with_for_update()
        )
        .first()
    )
    if message is None:  # an edit or removal of something never delivered to us is kept for admins
        _keep_unrouted(account.platform, event, f"{event.kind} of unknown message {event.external_id!r}")
        outcome.unrouted += 1
    return message


def _ingest_edit(account: ChannelAccount, event: InboundEvent, outcome: Outcome) -> None:
    """A new text for a stored message; earlier versions stay in its history."""
    message = _stored_message(account, event, outcome)
    if message is None or message.text == event.text:
        return
    data = dict(message.data or {})
    previous = {"text": message.text, "at": _iso(message.edited_at or message.sent_at)}
    data["history"] = [*data.get("history", []), previous]
    message.data, message.text, message.edited_at = data, event.text, event.sent_at or utcnow()
    outcome.changed_messages.append(message.id)


def _ingest_removal(account: ChannelAccount, event: InboundEvent, outcome: Outcome) -> None:
    """The author deleted a message: it stays, marked removed."""
    message = _stored_message(account, event, outcome)
    if message is None or message.removed_at is not None:
        return
    message.removed_at = event.sent_at or utcnow()
    outcome.changed_messages.append(message.id)


def _keep_language(conversation: Conversation, detected, text: str | None) -> None:
    """The conversation speaks the language of the customer's latest message that says it clearly; once
    known, a bare "ok" or "merci" (under three words) changes nothing. A contact with no language takes it."""
    if detected is None or detected.language is None or detected.confidence < language.CLEAR:
        return
    if conversation.language and len((text or "").split()) < language.MIN_WORDS_TO_CHANGE:
        return
    conversation.language = detected.language
    if not conversation.contact.language:
        conversation.contact.language = detected.language


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _touch_conversation(conversation: Conversation, received_at, now) -> None:
    conversation.last_message_at = max(conversation.last_message_at or now, now)
    conversation.last_inbound_at = received_at
    conversation.unread_count = (conversation.unread_count or 0) + 1
    sla.customer_wrote(conversation, received_at)


def _ingest_status(account: ChannelAccount, event: InboundEvent, outcome: Outcome) -> None:
    db = session()
    lock_platform_id(account.id, event.external_id)
    receipt = {
        "account_id": account.id,
        "external_id": event.external_id,
        "status": event.status,
        "error_code": event.error_code,
        "error_message": event.error_message,
        "occurred_at": event.sent_at,
        "raw": dict(event.raw),
        "created_at": utcnow(),
    }
    db.execute(insert_ignoring_conflicts(DeliveryReceipt, ("account_id", "external_id", "status")), receipt)
    message_id = advance_status(account.id, event.external_id, event.status, event.error_code, event.error_message)
    if message_id:
        outcome.changed_messages.append(message_id)


HANDLERS = {
    "message": _ingest_message,
    "status": _ingest_status,
    "watermark": _ingest_watermark,
    "edit": _ingest_edit,
    "removal": _ingest_removal,
}


def advance_status(account_id: int, external_id: str, status: str, error_code=None, error_message=None) -> int | None:
    """Move a message forward to `status` if that is forward; returns its id when it moved."""
    values = {"status": status, "updated_at": utcnow()}
    if status == "failed":
        values.update(error_code=error_code, error_message=error_message)
    statement = (
        update(Message)
        .where(
            Message.account_id == account_id,
            Message.external_id == external_id,
            Message.status.in_(ADVANCES_FROM[status]),
        )
        .values(**values)
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    )
    return session().scalar(statement)


def apply_known_receipts(message: Message) -> bool:
    """Apply statuses that arrived before the send job stored the platform id; True if any moved it."""
    receipts = (
        session()
        .scalars(
            select(DeliveryReceipt).where(
                DeliveryReceipt.account_id == message.account_id, DeliveryReceipt.external_id == message.external_id
            )
        )
        .all()
    )
    moved = False
    for receipt in sorted(receipts, key=lambda r: STATUS_ORDER.index(r.status)):
        moved |= bool(
            advance_status(
                message.account_id, message.external_id, receipt.status, receipt.error_code, receipt.error_message
            )
        )
    return moved
