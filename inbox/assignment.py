"""Who holds which conversation: the queues, round-robin auto-assignment, take, transfer, takeover, release.

Services only: the caller (a view or a job) commits, then publishes the changes (`realtime.assignment_events`).
Every change runs under one lock (BEGIN IMMEDIATE on SQLite, a transaction-scoped advisory lock on
PostgreSQL) and writes with a conditional UPDATE on the assignee it read, so two takers end with one owner
and auto-assignment never counts a capacity another transaction is filling.

Lock order on PostgreSQL, so that nothing waits in a circle: the conversation rows a change is about are
locked first, then the assignment lock; under it, other conversations are only picked with SKIP LOCKED.
Ingest (which holds conversation rows of its delivery) only tries the lock and, when busy, leaves the new
conversation queued for the next fill (at the latest the sweep, every minute)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, or_, select, text, update

from inbox import timeline
from inbox.db import session, utcnow
from inbox.errors import ApiError
from inbox.models import Conversation, Team, User, team_accounts

HELD_STATUSES = ("open", "pending")  # what counts against a capacity and can be assigned
ASSIGNEE_ROLES = ("agent", "supervisor", "admin")
SWEEP_SECONDS = 60
_LOCK_KEY = 4_417_001  # pg_advisory_xact_lock key of assignment changes
KEEP = object()  # "leave this as it is" for move()


@dataclass
class Change:
    """One conversation that changed hands, for the realtime events after the commit."""

    conversation_id: int
    kind: str
    previous_assignee_id: int | None
    assignee_id: int | None
    previous_team_id: int | None
    team_id: int | None


def lock(wait: bool = True) -> bool:
    """Serialise assignment changes; SQLite's write transactions already are (BEGIN IMMEDIATE, db.py).
    With wait=False, only try; returns whether the lock is held."""
    db = session()
    if db.get_bind().dialect.name != "postgresql":
        return True
    if wait:
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        return True
    return bool(db.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _LOCK_KEY}))


def lock_rows(conversation_ids) -> None:
    """Lock the rows of the conversations a change is about, before the assignment lock (see above)."""
    ids = list(conversation_ids)
    if ids:
        session().execute(select(Conversation.id).where(Conversation.id.in_(ids)).with_for_update()).all()


def begin(user: User | None = None) -> None:
    """Take, in order, the locks a view's change needs: the rows of what `user` holds, then the lock."""
    if user is not None:
        lock_rows(_held_ids([user.id]))
    lock()


def _held_ids(user_ids) -> list[int]:
    query = select(Conversation.id).where(
        Conversation.assignee_id.in_(list(user_ids)), Conversation.status.in_(HELD_STATUSES)
    )
    return list(session().scalars(query.order_by(Conversation.id)))


def team_of_account(account_id: int) -> int | None:
    """The team whose queue an account's conversations go to: the lowest id of its teams, or None."""
    return session().scalar(select(func.min(team_accounts.c.team_id)).where(team_accounts.c.account_id == account_id))


def loads(user_ids) -> dict[int, int]:
    """Open and pending conversations held by each user."""
    ids = list(user_ids)
    counts = dict.fromkeys(ids, 0)
    if ids:
        query = (
            select(Conversation.assignee_id, func.count(Conversation.id))
            .where(Conversation.assignee_id.in_(ids), Conversation.status.in_(HELD_STATUSES))
            .group_by(Conversation.assignee_id)
        )
        counts.update(dict(session().execute(query).all()))
    return counts


def serves(user: User, conversation: Conversation) -> bool:
    """Whether the user may be given this conversation from its queue."""
    if user.role != "agent":
        return user.role in ASSIGNEE_ROLES
    return conversation.team_id is None or conversation.team_id in {t.id for t in user.teams}


def _served_clause(user: User):
    from inbox.access import visible_conversations

    if user.role != "agent":
        return visible_conversations(user)
    teams = [t.id for t in user.teams]
    return or_(Conversation.team_id.is_(None), Conversation.team_id.in_(teams))


def _claim(conversation: Conversation, expected: int | None, values: dict) -> bool:
    """Write `values` if the conversation is still held by `expected` and not resolved; False if it was not."""
    condition = Conversation.assignee_id.is_(None) if expected is None else Conversation.assignee_id == expected
    statement = (
        update(Conversation)
        .where(Conversation.id == conversation.id, condition, Conversation.status.in_(HELD_STATUSES))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    claimed = session().execute(statement).rowcount == 1
    session().expire(conversation)
    return claimed


def enqueue_new(conversation: Conversation) -> list[Change]:
    """Put a new conversation in its account's team queue (or the general one) and fill places at once."""
    conversation.team_id = team_of_account(conversation.account_id)
    conversation.queued_at = utcnow()
    session().flush()
    timeline.record("queued", conversation_id=conversation.id, team=conversation.team_id)
    return fill_places(wait=False)


def fill_places(avoid: dict[int, int] | None = None, wait: bool = True) -> list[Change]:
    """Hand queued conversations, longest waiting first, to online agents with room, least recently assigned
    first; call it whenever a place frees or a conversation enters a queue. `avoid` maps a conversation to
    the agent who just gave it back (not handed straight back to them). wait=False: only if the lock is free."""
    if not lock(wait):
        return []
    db = session()
    avoid = avoid or {}
    agents = list(
        db.scalars(
            select(User)
            .where(User.role == "agent", User.active.is_(True), User.availability == "online")
            .order_by(User.last_assigned_at.is_not(None), User.last_assigned_at, User.id)
        )
    )
    held = loads(a.id for a in agents)
    room = {a.id: a.capacity - held[a.id] for a in agents if a.capacity - held[a.id] > 0}
    changes, skipped = [], set()
    while room:
        waiting = [a for a in agents if a.id in room]
        teams = {t.id for a in waiting for t in a.teams}
        query = select(Conversation).where(
            Conversation.assignee_id.is_(None),
            Conversation.queued_at.is_not(None),
            Conversation.status.in_(HELD_STATUSES),
            or_(Conversation.team_id.is_(None), Conversation.team_id.in_(teams)),
            Conversation.id.not_in(list(skipped)),
        )
        query = query.order_by(Conversation.queued_at, Conversation.id).limit(1).with_for_update(skip_locked=True)
        conversation = db.scalars(query).first()
        if conversation is None:
            break
        agent = next((a for a in waiting if serves(a, conversation) and avoid.get(conversation.id) != a.id), None)
        team_id = conversation.team_id
        if agent is None or not _claim(conversation, None, {"assignee_id": agent.id, "queued_at": None}):
            skipped.add(conversation.id)
            continue
        agent.last_assigned_at = utcnow()
        agents.remove(agent)
        agents.append(agent)  # round-robin: the one just served goes last
        room[agent.id] -= 1
        if not room[agent.id]:
            del room[agent.id]
        timeline.record("assigned", conversation_id=conversation.id, to=agent.id, team=team_id, auto=True)
        changes.append(Change(conversation.id, "assigned", None, agent.id, team_id, team_id))
    db.flush()
    return changes


def move(
    conversation: Conversation, actor: User | None, *, assignee=KEEP, team=KEEP, note=None, kind=None, reason=None
) -> list[Change]:
    """Take, assign, transfer (to an agent or a team), take over or give back a conversation; then fill the
    places it frees. A conversation given back keeps its first place in the queue: its creation time."""
    lock_rows([conversation.id])
    lock()
    previous, previous_team = conversation.assignee_id, conversation.team_id
    team_id = previous_team if team is KEEP else (team.id if team else None)
    if assignee is KEEP:
        assignee_id = None if team is not KEEP else previous
    else:
        assignee_id = assignee.id if assignee else None
    if conversation.status not in HELD_STATUSES:
        raise ApiError(409, "conversation_resolved", "A resolved conversation is not assigned.")
    if assignee_id == previous and team_id == previous_team:
        return []
    if kind is None:
        if assignee_id is None:
            kind = "transferred" if team_id != previous_team else "returned_to_queue"
        elif previous is None:
            kind = "assigned"
        elif actor is not None and actor.id == assignee_id and actor.role in ("supervisor", "admin"):
            kind = "taken_over"
        else:
            kind = "transferred"
    queued_at = None if assignee_id else (conversation.queued_at or conversation.created_at)
    values = {"assignee_id": assignee_id, "team_id": team_id, "queued_at": queued_at}
    if not _claim(conversation, previous, values):
        raise ApiError(409, "conflict", "Someone else changed who holds this conversation; look again.")
    if assignee_id:
        session().get(User, assignee_id).last_assigned_at = utcnow()
    data = {"from": previous, "to": assignee_id, "team": team_id}
    if team_id != previous_team:
        data["from_team"] = previous_team
    if note:
        data["note"] = note
    if reason:
        data["reason"] = reason
    timeline.record(kind, actor=actor, conversation_id=conversation.id, **data)
    change = Change(conversation.id, kind, previous, assignee_id, previous_team, team_id)
    return [change, *fill_places({conversation.id: previous} if previous else None)]


def take_on_reply(conversation: Conversation, user: User) -> list[Change]:
    """An agent answering an unassigned conversation takes it; when another took it first, it stays theirs."""
    try:
        return move(conversation, user, assignee=user)
    except ApiError:
        return []


def take_next(user: User) -> tuple[Conversation, list[Change]]:
    """The longest-waiting conversation the user may serve, taken by them; 404 when the queue is empty."""
    lock()
    query = select(Conversation).where(
        Conversation.assignee_id.is_(None),
        Conversation.queued_at.is_not(None),
        Conversation.status.in_(HELD_STATUSES),
        _served_clause(user),
    )
    query = query.order_by(Conversation.queued_at, Conversation.id).limit(5).with_for_update(skip_locked=True)
    for conversation in list(session().scalars(query)):
        try:
            return conversation, move(conversation, user, assignee=user)
        except ApiError as error:
            if error.status != 409:
                raise
    raise ApiError(404, "queue_empty", "No conversation is waiting in the queues you serve.")


def release_all(user: User, reason: str) -> list[Change]:
    """Give every open or pending conversation the user holds back to the queue (offline, away, deactivated)."""
    held = session().scalars(
        select(Conversation)
        .where(Conversation.assignee_id == user.id, Conversation.status.in_(HELD_STATUSES))
        .order_by(Conversation.id)
    )
    changes = []
    for conversation in list(held):
        changes += move(conversation, None, assignee=None, kind="returned_to_queue", reason=reason)
    return changes


def set_availability(user: User, status: str) -> list[Change]:
    """Set the user online, away or offline: offline gives their conversations back, online fills their places."""
    begin(user)
    changed = user.availability != status
    user.availability = status
    if changed or user.availability_changed_at is None:
        user.availability_changed_at = utcnow()
    session().flush()
    changes = release_all(user, "offline") if status == "offline" else []
    return changes + fill_places()


def release_away(now=None) -> list[Change]:
    """Give back the conversations of agents away for longer than AWAY_GRACE_MINUTES (safe to run twice)."""
    cutoff = (now or utcnow()) - timedelta(minutes=current_app.config["AWAY_GRACE_MINUTES"])
    away = list(
        session().scalars(
            select(User).where(User.availability == "away", User.availability_changed_at <= cutoff).order_by(User.id)
        )
    )
    lock_rows(_held_ids(u.id for u in away))
    lock()
    changes = []
    for user in away:
        changes += release_all(user, "away")
    return (changes + fill_places()) if changes else changes


def sweep() -> None:
    """RQ job: release the conversations of agents away too long, then schedule the next sweep."""
    from inbox import realtime

    try:
        changes = release_away()
        changes += fill_places()  # also what an ingest that found the lock busy left queued
        events = realtime.assignment_events(changes)
        session().commit()
        realtime.publish(events)
    finally:
        schedule_sweep()


def schedule_sweep(delay: int = SWEEP_SECONDS) -> None:
    """Schedule the next sweep; its id is its time slot, so chains started twice (two workers, a restart
    while one was scheduled) fall into one."""
    from inbox import broker

    slot = int(utcnow().timestamp() // delay) + 1
    broker.queue().enqueue_in(timedelta(seconds=delay), sweep, job_id=f"assignment-sweep-{slot}")


def team_or_422(team_id) -> Team:
    """The team with this id, or 422."""
    team = session().get(Team, team_id) if isinstance(team_id, int) and not isinstance(team_id, bool) else None
    if team is None:
        raise ApiError(422, "bad_team", "There is no team %(team_id)s.", team_id=repr(team_id))
    return team
