"""Outbound messages: the RQ job that hands a queued message to its connector."""

from __future__ import annotations

import logging

from sqlalchemy import delete, select, update

from connectors import get_connector
from connectors.base import DIRECT, PRIVATE_REPLY, OutboundFile, OutboundMessage, SendError
from inbox import jobs, sla
from inbox.channels import account_settings
from inbox.db import session, utcnow
from inbox.ingest import apply_known_receipts, lock_platform_id
from inbox.media import absolute_path
from inbox.models import Attachment, Conversation, Message

log = logging.getLogger(__name__)


def queue_send(message_id: int) -> None:
    """Queue the send job of a stored, queued message."""
    jobs.enqueue(send_message, message_id)


def _outbound(message: Message, conversation: Conversation) -> OutboundMessage:
    file = None
    if message.attachments:
        attachment = message.attachments[0]
        file = OutboundFile(
            path=str(absolute_path(attachment)),
            mime_type=attachment.mime_type or "application/octet-stream",
            filename=attachment.filename or "file",
        )
    template = (message.data or {}).get("template") if message.type == "template" else None
    return OutboundMessage(
        to=conversation.identity.external_id,
        text=None if template else message.text,
        template=template,
        file=file,
        reply_to=message.reply_to_external_id,
        mode=message.mode or DIRECT,
        last_inbound_at=conversation.last_inbound_at,
        ref=str(message.id),
        choices=(message.data or {}).get("choices") if message.type == "interactive" else None,
    )


def send_message(message_id: int) -> None:
    """RQ job: send one queued message; retried on transient errors, marked failed on final ones."""
    from inbox.realtime import conversation_event, message_event

    db = session()
    message = db.get(Message, message_id)
    if message is None or message.status != "queued":
        return  # already handled: jobs are safe to run twice
    conversation = db.get(Conversation, message.conversation_id)
    account = conversation.account
    connector, settings = get_connector(account.platform), account_settings(account)
    outbound = _outbound(message, conversation)
    # End the read transaction before the platform call: on SQLite an open transaction holds the database's
    # write lock (db.py), and webhooks must not wait for WhatsApp's answer.
    db.commit()
    try:
        result = connector.send(settings, outbound)
    except SendError as error:
        if error.retryable and jobs.retries_left() > 0:
            log.info("message %s: %s, will retry", message_id, error.code)
            jobs.wait_before_retry(error.retry_after)
            raise
        message.status, message.error_code, message.error_message = "failed", error.code, error.message
        if message.mode == PRIVATE_REPLY:
            _release_private_reply(message)
        db.commit()
        message_event("message.updated", message, conversation)
        db.commit()  # end the read the event's serialisation opened
        return
    # Automatic messages (author_id None) answer nobody: only a reply an agent wrote stops the clocks.
    answered = message.author_id is not None and sla.agent_answered(conversation.id, message.created_at)
    lock_platform_id(message.account_id, result.external_id)
    _absorb_echo(message, result.external_id)
    message.external_id, message.sent_at = result.external_id, utcnow()
    message.status = "sent" if message.status == "queued" else message.status
    if result.other_external_ids:
        message.data = {**(message.data or {}), "other_external_ids": list(result.other_external_ids)}
    db.flush()
    apply_known_receipts(message)
    db.refresh(message)
    if answered:
        db.refresh(conversation)
    db.commit()
    message_event("message.updated", message, conversation)
    if answered:
        conversation_event("conversation.updated", conversation)
    db.commit()  # end the read the events' serialisation opened


def _release_private_reply(message: Message) -> None:
    """A private reply that never left does not use up the comment's one private reply."""
    session().execute(
        update(Message)
        .where(Message.account_id == message.account_id, Message.external_id == message.reply_to_external_id)
        .values(private_replied_at=None)
        .execution_options(synchronize_session=False)
    )


def _absorb_echo(message: Message, external_id: str) -> None:
    """The platform's echo of this very send may have been stored first (X echoes carry no reference of
    ours): that copy gives way to the message the agent wrote."""
    db = session()
    echoes = db.scalars(
        select(Message.id).where(
            Message.account_id == message.account_id,
            Message.external_id == external_id,
            Message.id != message.id,
            Message.author_id.is_(None),
            Message.direction == "out",
        )
    ).all()
    if echoes:
        db.execute(delete(Attachment).where(Attachment.message_id.in_(echoes)))
        db.execute(delete(Message).where(Message.id.in_(echoes)).execution_options(synchronize_session=False))
