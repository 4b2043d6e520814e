"""Outbound messages: the RQ job that hands a queued message to its connector."""

from __future__ import annotations

import logging

from connectors import get_connector
from connectors.base import OutboundFile, OutboundMessage, SendError
from inbox import jobs
from inbox.channels import account_settings
from inbox.db import session, utcnow
from inbox.ingest import apply_known_receipts
from inbox.media import absolute_path
from inbox.models import Conversation, Message

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
    return OutboundMessage(
        to=conversation.identity.external_id, text=message.text, file=file, reply_to=message.reply_to_external_id
    )


def send_message(message_id: int) -> None:
    """RQ job: send one queued message; retried on transient errors, marked failed on final ones."""
    from inbox.realtime import message_event

    db = session()
    message = db.get(Message, message_id)
    if message is None or message.status != "queued":
        return  # already handled: jobs are safe to run twice
    conversation = db.get(Conversation, message.conversation_id)
    account = conversation.account
    try:
        result = get_connector(account.platform).send(account_settings(account), _outbound(message, conversation))
    except SendError as error:
        if error.retryable and jobs.retries_left() > 0:
            log.info("message %s: %s, will retry", message_id, error.code)
            db.rollback()
            raise
        message.status, message.error_code, message.error_message = "failed", error.code, error.message
        db.commit()
        message_event("message.updated", message, conversation)
        return
    message.external_id, message.status, message.sent_at = result.external_id, "sent", utcnow()
    db.flush()
    apply_known_receipts(message)
    db.commit()
    db.refresh(message)
    message_event("message.updated", message, conversation)
