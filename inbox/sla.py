"""The service commitments' clock: the first take, the next response, the one-day answer; their states and
the warnings sent once when a due time comes near or passes.

- First take: starts at the customer's first unanswered message (the platform's time); stops at the first
  reply written by an agent that the platform accepted (automatic answers and menus do not count).
- Next response: when the customer writes again after an agent's answer, the same rule for the next answer.
- One-day answer: no wait longer than ANSWER_WITHIN_MINUTES business minutes (one business day).
- A claim: its answer (the case answered or closed) is due by the end of the next business day after the
  customer filed it (J+1, CCTP "délai de traitement fixé à 24h (j+1)"); it replaces the one-day answer of
  the conversations on that case.
All due times are in business time (inbox/business_time.py) and live in the database, so a restart loses none.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, exists, func, not_, select, update

from inbox.calendars import calendar_for, first_response_minutes, next_response_minutes
from inbox.db import insert_ignoring_conflicts, session, utcnow
from inbox.errors import ApiError
from inbox.models import Case, Conversation, Message, SlaWarning

log = logging.getLogger(__name__)
STATES = ("met", "running", "at_risk", "breached")  # from best to worst
TIMERS = ("first_response", "next_response", "answer")


def customer_wrote(conversation: Conversation, sent_at: datetime) -> None:
    """Start the clocks at a customer's message, unless they already run for an earlier unanswered one."""
    if conversation.awaiting_since is not None:
        return
    calendar = calendar_for(conversation.account)
    config = current_app.config
    conversation.awaiting_since = sent_at
    conversation.answered_at = None
    conversation.answer_due_at = calendar.add_minutes(sent_at, config["ANSWER_WITHIN_MINUTES"])
    if conversation.first_response_at is None:
        if conversation.first_response_due_at is None:
            minutes = first_response_minutes(conversation.account)
            conversation.first_response_due_at = calendar.add_minutes(sent_at, minutes)
    else:
        conversation.next_response_due_at = calendar.add_minutes(sent_at, next_response_minutes(conversation.account))


def claim_filed(case: Case, conversation: Conversation) -> None:
    """Give a claim its J+1 due time, once: the end of the next business day after the customer's first
    message in the conversation it was opened from (the case's creation when there is none)."""
    if case.request_type != "claim" or case.answer_due_at is not None:
        return
    case.answer_due_at = _claim_due(case, conversation, calendar_for(conversation.account))


def _claim_due(case: Case, conversation: Conversation, calendar) -> datetime:
    first = session().scalar(
        select(func.min(func.coalesce(Message.sent_at, Message.created_at))).where(
            Message.conversation_id == conversation.id, Message.direction == "in"
        )
    )
    filed = first or case.created_at or utcnow()
    return calendar.end_of_business_day(filed, days_after=1)


def reschedule(account_ids: set[int] | None = None, now: datetime | None = None) -> list[Conversation]:
    """After an admin changed hours, delays or holidays: recompute the due times still ahead of the waits that
    run on those accounts (None: every account). A due time already passed stays as it was: a breach is not
    undone by a later change. Returns the conversations whose due times moved (the caller commits, then
    announces them)."""
    now = now or utcnow()
    query = select(Conversation).where(Conversation.status != "resolved")
    if account_ids is not None:
        query = query.where(Conversation.account_id.in_(account_ids))
    query = query.where((Conversation.awaiting_since.is_not(None)) | (Conversation.case_id.is_not(None)))
    calendars = {}
    moved = []
    for conversation in session().scalars(query):
        account = conversation.account
        calendar = calendars.get(account.id) or calendars.setdefault(account.id, calendar_for(account))
        if _moved(conversation, calendar, now):
            moved.append(conversation)
    return moved


def reschedule_and_announce(account_ids: set[int] | None) -> int:
    """`reschedule`, then commit and announce the moved conversations; returns how many moved."""
    from inbox import realtime

    moved = reschedule(account_ids)
    session().flush()
    realtime.due_times_moved(moved)  # commits
    return len(moved)


def holiday_scope(holiday) -> set[int] | None:
    """The accounts a holiday closes: its own, or None for every account."""
    return None if holiday.account_id is None else {holiday.account_id}


def _moved(conversation: Conversation, calendar, now: datetime) -> bool:
    """Give a conversation's running timers the due times the calendar gives them now; True if one moved."""
    start = conversation.awaiting_since
    delays = {
        "first_response_due_at": first_response_minutes(conversation.account),
        "next_response_due_at": next_response_minutes(conversation.account),
        "answer_due_at": current_app.config["ANSWER_WITHIN_MINUTES"],
    }
    running = {
        "first_response_due_at": start is not None and conversation.first_response_at is None,
        "next_response_due_at": start is not None and conversation.answered_at is None,
        "answer_due_at": start is not None and conversation.answered_at is None,
    }
    changed = False
    for column, minutes in delays.items():
        due = getattr(conversation, column)
        if running[column] and due is not None and due > now:
            new_due = calendar.add_minutes(start, minutes)
            if new_due != due:
                setattr(conversation, column, new_due)
                changed = True
    claim = _claim(conversation)
    if claim and claim.conversation_id == conversation.id and claim.answered_at is None and claim.closed_at is None:
        if claim.answer_due_at > now:
            new_due = _claim_due(claim, conversation, calendar)
            if new_due != claim.answer_due_at:
                claim.answer_due_at = new_due
                changed = True
    return changed


def _claim(conversation: Conversation) -> Case | None:
    case = conversation.case
    return case if case is not None and case.request_type == "claim" and case.answer_due_at else None


def agent_answered(conversation_id: int, written_at: datetime) -> bool:
    """An agent's reply the platform accepted stops the clocks of the wait it answers; True if it did.

    Conditional UPDATEs, so that two replies sent together stop each clock once, and a reply written
    before the customer's latest message does not answer it."""
    db = session()
    first = db.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.first_response_at.is_(None))
        .values(first_response_at=written_at)
        .execution_options(synchronize_session=False)
    ).rowcount
    waited = db.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.awaiting_since <= written_at)
        .values(answered_at=written_at, awaiting_since=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(first or waited)


def _timer_state(due: datetime | None, done: datetime | None, now: datetime, margin: timedelta) -> str | None:
    if due is None:
        return None
    if done is not None:
        return "met" if done <= due else "breached"
    if now >= due:
        return "breached"
    return "at_risk" if now >= due - margin else "running"


def _due_and_done(conversation: Conversation) -> dict[str, tuple[datetime | None, datetime | None]]:
    """Each timer's due time and when what it waits for was done (None: not yet)."""
    resolved = conversation.resolved_at if conversation.status == "resolved" else None
    waiting_done = conversation.answered_at or resolved
    claim = _claim(conversation)
    return {
        "first_response": (conversation.first_response_due_at, conversation.first_response_at or resolved),
        "next_response": (conversation.next_response_due_at, waiting_done),
        "answer": (claim.answer_due_at, claim.answered_at or claim.closed_at)
        if claim
        else (conversation.answer_due_at, waiting_done),
    }


def timers(conversation: Conversation, now: datetime | None = None) -> dict[str, str | None]:
    """Each timer's state now: running, at_risk, met, breached, or None when it does not apply."""
    now = now or utcnow()
    margin = timedelta(minutes=current_app.config["SLA_AT_RISK_MINUTES"])
    return {name: _timer_state(due, done, now, margin) for name, (due, done) in _due_and_done(conversation).items()}


def sla_json(conversation: Conversation, now: datetime | None = None) -> dict:
    """The conversation's due times and its worst current state, as the API shows them; `due_at` is the
    soonest due time still waited for (what a countdown shows), `timers` each timer's state."""
    states = timers(conversation, now)
    found = [s for s in states.values() if s]
    rows = _due_and_done(conversation)
    waited = [due for due, done in rows.values() if due is not None and done is None]
    return {
        "first_response_due_at": _iso(conversation.first_response_due_at),
        "next_response_due_at": _iso(conversation.next_response_due_at),
        "answer_due_at": _iso(rows["answer"][0]),
        "state": max(found, key=STATES.index) if found else None,
        "due_at": _iso(min(waited)) if waited else None,
        "timers": states,
    }


def _iso(value):
    return value.isoformat() if value else None


# ---------------------------------------------------------------- warnings

_DUE_COLUMNS = {
    "first_response": (Conversation.first_response_due_at, Conversation.first_response_at),
    "next_response": (Conversation.next_response_due_at, Conversation.answered_at),
    "answer": (Conversation.answer_due_at, Conversation.answered_at),
}


_IS_CLAIM = and_(Case.id == Conversation.case_id, Case.request_type == "claim", Case.answer_due_at.is_not(None))


def due_warnings(now: datetime | None = None) -> list[tuple[int, str, str, datetime]]:
    """(conversation id, timer, level, due) for every running timer at risk or breached now, sent or not."""
    now = now or utcnow()
    soon = now + timedelta(minutes=current_app.config["SLA_AT_RISK_MINUTES"])
    found = []
    for timer, (due, done) in _DUE_COLUMNS.items():
        query = select(Conversation.id, due).where(
            Conversation.status != "resolved", done.is_(None), due.is_not(None), due <= soon
        )
        if timer == "answer":
            query = query.where(not_(exists().where(_IS_CLAIM)))
        for conversation_id, due_at in session().execute(query):
            found.append((conversation_id, timer, "breached" if due_at <= now else "at_risk", due_at))
    claims = (
        select(Conversation.id, Case.answer_due_at)
        .join(Case, Conversation.case_id == Case.id)
        .where(_IS_CLAIM, Conversation.status != "resolved", Case.answered_at.is_(None), Case.closed_at.is_(None))
        .where(Case.answer_due_at <= soon)
    )
    for conversation_id, due_at in session().execute(claims):
        found.append((conversation_id, "answer", "breached" if due_at <= now else "at_risk", due_at))
    return found


def record_warnings(now: datetime | None = None) -> list[SlaWarning]:
    """Record each due warning not yet recorded; returns the new ones (the caller commits, then announces).

    The unique key (conversation, timer, level, due time) makes a warning exactly-once across workers and
    restarts: a sweep that runs twice, or after downtime, inserts nothing already there."""
    db = session()
    statement = insert_ignoring_conflicts(
        SlaWarning, ("conversation_id", "timer", "level", "due_at"), returning=SlaWarning.id
    )
    created = []
    stamp = now or utcnow()
    for conversation_id, timer, level, due_at in due_warnings(now):
        values = {"conversation_id": conversation_id, "timer": timer, "level": level, "due_at": due_at}
        new_id = db.scalar(statement, {**values, "created_at": stamp})
        if new_id is not None:
            created.append(new_id)
    return list(db.scalars(select(SlaWarning).where(SlaWarning.id.in_(created)))) if created else []


SWEEP_SECONDS = 30  # a breach is warned within half a minute of its due time


def sweep() -> None:
    """RQ job: record and announce the warnings due now (at risk: the assignee and supervisors; breached:
    supervisors), each exactly once, then schedule the next sweep."""
    from inbox import realtime
    from inbox.access import warning_rooms
    from inbox.timeline import record

    try:
        warnings = record_warnings()
        announcements = []
        for warning in warnings:
            conversation = session().get(Conversation, warning.conversation_id)
            record(
                f"sla_{warning.level}",
                conversation_id=conversation.id,
                timer=warning.timer,
                due_at=warning.due_at.isoformat(),
            )
            payload = {
                "conversation_id": conversation.id,
                "timer": warning.timer,
                "level": warning.level,
                "due_at": warning.due_at.isoformat(),
            }
            announcements.append((payload, warning_rooms(conversation, warning.level == "at_risk")))
        events = realtime.assignment_events(move_breached(warnings))
        session().commit()
        for payload, rooms in announcements:
            realtime.emit_to("sla.warning", payload, rooms)
        realtime.publish(events)
        if announcements:
            realtime.board_changed("sla.warning")
        detect_anomalies()
    finally:
        schedule_sweep()


def move_breached(warnings: list[SlaWarning]) -> list:
    """With SLA_BREACH_MOVE=requeue, a conversation whose take or answer is newly breached goes back to the
    front of its queue (its place is when it was created) and on to the next agent with room, never straight
    back to the one who held it; an unassigned one takes that place too. Off: supervisors decide."""
    from inbox import assignment

    if current_app.config["SLA_BREACH_MOVE"] != "requeue":
        return []
    changes = []
    for conversation_id in sorted({w.conversation_id for w in warnings if w.level == "breached"}):
        conversation = session().get(Conversation, conversation_id)
        if conversation.status not in assignment.HELD_STATUSES:
            continue
        if conversation.assignee_id is None:
            conversation.queued_at = min(conversation.queued_at or conversation.created_at, conversation.created_at)
            changes += assignment.fill_places()
            continue
        try:
            changes += assignment.move(conversation, None, assignee=None, kind="returned_to_queue", reason="breached")
        except ApiError:  # someone changed its holder meanwhile: they have it in hand
            continue
    return changes


def detect_anomalies() -> None:
    """Record the anomalies the data shows (inbox/supervision.py); a failure there never stops the warnings."""
    from inbox import supervision

    try:
        supervision.detect()
        session().commit()
    except Exception:
        session().rollback()
        log.exception("anomaly detection failed; the next sweep tries again")


def schedule_sweep(delay: int = SWEEP_SECONDS) -> None:
    """Schedule the next sweep; its id is its time slot, so chains started twice fall into one."""
    from inbox import broker

    slot = int(utcnow().timestamp() // delay) + 1
    broker.queue().enqueue_in(timedelta(seconds=delay), sweep, job_id=f"sla-sweep-{slot}")
