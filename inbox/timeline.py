"""The timeline of conversations and cases: every assignment, transfer, qualification, escalation, approval."""

from __future__ import annotations

from sqlalchemy import select

from inbox.db import session, utcnow
from inbox.models import TimelineEvent, User
from inbox.serializers import iso, user_json


def record(kind: str, *, actor: User | None = None, conversation_id=None, case_id=None, **data) -> TimelineEvent:
    """Add an event to a conversation's and/or a case's timeline (the caller commits)."""
    event = TimelineEvent(
        kind=kind,
        actor_id=actor.id if actor else None,
        conversation_id=conversation_id,
        case_id=case_id,
        data=data or None,
        created_at=utcnow(),
    )
    session().add(event)
    return event


def events_of(*, conversation_id=None, case_id=None) -> list[TimelineEvent]:
    """A conversation's or a case's events, oldest first."""
    query = select(TimelineEvent)
    if conversation_id is not None:
        query = query.where(TimelineEvent.conversation_id == conversation_id)
    if case_id is not None:
        query = query.where(TimelineEvent.case_id == case_id)
    return list(session().scalars(query.order_by(TimelineEvent.created_at, TimelineEvent.id)))


def timeline_json(event: TimelineEvent) -> dict:
    return {
        "id": event.id,
        "kind": event.kind,
        "conversation_id": event.conversation_id,
        "case_id": event.case_id,
        "actor": user_json(event.actor),
        "data": event.data or {},
        "created_at": iso(event.created_at),
    }
