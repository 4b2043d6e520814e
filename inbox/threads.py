"""Public threads: what the platform says of the post or tweet a public conversation hangs under."""

from __future__ import annotations

from connectors import get_connector
from connectors.base import SendError
from inbox import jobs
from inbox.channels import account_settings
from inbox.db import session
from inbox.models import Conversation


def fetch_thread(conversation_id: int) -> None:
    """RQ job: fetch the text and link of a public conversation's post, to show above its comments."""
    from inbox.realtime import conversation_event

    db = session()
    conversation = db.get(Conversation, conversation_id)
    if conversation is None or conversation.thread_ref is None or (conversation.thread or {}).get("text"):
        return
    account = conversation.account
    connector, settings, thread_ref = (
        get_connector(account.platform),
        account_settings(account),
        conversation.thread_ref,
    )
    db.commit()  # no transaction held over the platform call
    try:
        found = connector.fetch_thread(settings, thread_ref)
    except SendError as error:
        if error.retryable and jobs.retries_left() > 0:
            raise
        return  # the link stays; the text is a convenience
    conversation = db.get(Conversation, conversation_id, with_for_update=True)
    conversation.thread = {**(conversation.thread or {}), **{k: v for k, v in found.items() if v}}
    db.commit()
    conversation_event("conversation.updated", conversation)
    db.commit()
