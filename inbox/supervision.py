"""The supervisor's board (the floor as it is now, today's figures per hour slot) and the anomaly log.

Definitions, in TIMEZONE:
- A contact is a conversation; it is received when its customer's first message was sent (the platform's
  time, as the first-take clock starts), in the hour slot of that instant.
- It is taken when an agent first answered it (`first_response_at`, automatic messages do not count), in
  time when that was by its first-take due time. The take rate is taken / received, the in-time rate
  taken in time / received.
- Anomalies (CCTP article 9): a first take later than its target, an answer later than one business day, a
  claim answered after J+1, an hour slot whose in-time rate is under 95% (for WhatsApp and Facebook the
  contract counts a contact taken within 15 minutes). Each is recorded once under its key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from inbox.access import sees_everything, team_ids, visible_conversations
from inbox.assignment import HELD_STATUSES, loads
from inbox.db import insert_ignoring_conflicts, session, utcnow
from inbox.models import Anomaly, Case, ChannelAccount, Contact, Conversation, Message, SlaWarning, Team, User
from inbox.serializers import iso
from inbox.sla import STATES, due_warnings

TAKE_RATE_TARGET = 0.95
AT_RISK_LIMIT = 100  # the board lists the worst ones; a page of thousands helps no supervisor
OPENING_HOUR = 10  # the contract's opening: the board's hour slots start there unless a contact came earlier
# How far back the periodic detection looks: past a worker's downtime, not the whole history on every run.
DETECTION_DAYS = 3


def zone() -> ZoneInfo:
    """The service's local time zone."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The instants a local day starts and ends."""
    tz = zone()
    start = datetime.combine(day, time(0, 0), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=tz)


# ---------------------------------------------------------------- the floor now


def agents_now(now: datetime) -> list[dict]:
    """Active agents: availability, time in it, load against capacity."""
    agents = list(
        session().scalars(select(User).where(User.role == "agent", User.active.is_(True)).order_by(User.name, User.id))
    )
    held = loads(a.id for a in agents)
    return [
        {
            "id": agent.id,
            "name": agent.name,
            "availability": agent.availability,
            "since": iso(agent.availability_changed_at),
            "seconds_in_state": (
                int((now - agent.availability_changed_at).total_seconds()) if agent.availability_changed_at else None
            ),
            "load": held[agent.id],
            "capacity": agent.capacity,
            "teams": [{"id": t.id, "name": t.name} for t in sorted(agent.teams, key=lambda t: t.id)],
        }
        for agent in agents
    ]


def queues_now(user: User, now: datetime) -> list[dict]:
    """The queue of each team (and the general one): length and longest wait."""
    query = (
        select(Conversation.team_id, func.count(Conversation.id), func.min(Conversation.queued_at))
        .where(
            Conversation.status.in_(HELD_STATUSES),
            Conversation.assignee_id.is_(None),
            Conversation.queued_at.is_not(None),
            visible_conversations(user),
        )
        .group_by(Conversation.team_id)
    )
    found = {team_id: (count, oldest) for team_id, count, oldest in session().execute(query)}
    teams = [(None, "General queue")] + [(t.id, t.name) for t in session().scalars(select(Team).order_by(Team.name))]
    mine = set(team_ids(user))
    rows = []
    for team_id, name in teams:
        count, oldest = found.get(team_id, (0, None))
        if team_id is not None and not sees_everything(user) and team_id not in mine:
            continue
        rows.append(
            {
                "team": {"id": team_id, "name": name},
                "length": count,
                "oldest_queued_at": iso(oldest),
                "longest_wait_seconds": int((now - oldest).total_seconds()) if oldest else 0,
            }
        )
    return rows


def at_risk_now(user: User, now: datetime) -> list[dict]:
    """The conversations with a timer at risk or breached now, worst and soonest first."""

    def urgency(found: tuple[str, str, datetime]) -> tuple[int, float]:
        return STATES.index(found[0]), -found[2].timestamp()  # breached before at risk, then the soonest due

    worst: dict[int, tuple[str, str, datetime]] = {}
    for conversation_id, timer, level, due_at in due_warnings(now):
        candidate = (level, timer, due_at)
        if conversation_id not in worst or urgency(candidate) > urgency(worst[conversation_id]):
            worst[conversation_id] = candidate
    if not worst:
        return []
    query = (
        select(Conversation, Contact.name, ChannelAccount.platform)
        .join(Contact, Contact.id == Conversation.contact_id)
        .join(ChannelAccount, ChannelAccount.id == Conversation.account_id)
        .where(Conversation.id.in_(worst), visible_conversations(user))
        .options(joinedload(Conversation.assignee), joinedload(Conversation.team))
    )
    rows = []
    for conversation, contact_name, channel in session().execute(query):
        level, timer, due_at = worst[conversation.id]
        rows.append(
            {
                "conversation_id": conversation.id,
                "contact": contact_name,
                "channel": channel,
                "status": conversation.status,
                "assignee": {"id": conversation.assignee.id, "name": conversation.assignee.name}
                if conversation.assignee
                else None,
                "team": {"id": conversation.team.id, "name": conversation.team.name} if conversation.team else None,
                "state": level,
                "timer": timer,
                "due_at": iso(due_at),
            }
        )
    rows.sort(key=lambda r: (-STATES.index(r["state"]), r["due_at"]))
    return rows


# ---------------------------------------------------------------- hour slots


@dataclass
class Received:
    """One contact received: when, when taken, its first-take due time, its channel."""

    conversation_id: int
    received_at: datetime
    taken_at: datetime | None
    due_at: datetime | None
    channel: str


def contacts_received(start: datetime, end: datetime, user: User | None = None) -> list[Received]:
    """The contacts received in [start, end): conversations whose customer's first message was sent then."""
    received = func.min(func.coalesce(Message.sent_at, Message.created_at))
    first_in = (
        select(Message.conversation_id.label("conversation_id"), received.label("received_at"))
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.direction == "in", Conversation.created_at >= start - timedelta(days=1))
        .group_by(Message.conversation_id)
        .subquery()
    )
    query = (
        select(
            Conversation.id,
            first_in.c.received_at,
            Conversation.first_response_at,
            Conversation.first_response_due_at,
            ChannelAccount.platform,
        )
        .join(first_in, first_in.c.conversation_id == Conversation.id)
        .join(ChannelAccount, ChannelAccount.id == Conversation.account_id)
        .where(first_in.c.received_at >= start, first_in.c.received_at < end)
    )
    if user is not None:
        query = query.where(visible_conversations(user))
    return [Received(*row) for row in session().execute(query)]


def slot_figures(contacts: list[Received]) -> dict:
    """Received, taken, taken in time and the two rates of a group of contacts."""
    received = len(contacts)
    taken = sum(1 for c in contacts if c.taken_at is not None)
    in_time = sum(1 for c in contacts if c.taken_at is not None and c.due_at is not None and c.taken_at <= c.due_at)
    return {
        "received": received,
        "taken": taken,
        "taken_in_time": in_time,
        "take_rate": round(taken / received, 4) if received else None,
        "in_time_rate": round(in_time / received, 4) if received else None,
    }


def hours_of(day: date, now: datetime, user: User | None = None) -> list[dict]:
    """A local day's figures per hour slot, from its first contact (or 10:00) to now (or the day's end)."""
    start, end = local_day_bounds(day)
    end = min(end, now)
    if end <= start:
        return []
    contacts = contacts_received(start, end, user)
    tz = zone()
    by_hour: dict[int, list[Received]] = {}
    for contact in contacts:
        by_hour.setdefault(contact.received_at.astimezone(tz).hour, []).append(contact)
    last = (end - timedelta(microseconds=1)).astimezone(tz).hour
    first = min([*by_hour, OPENING_HOUR])
    slots = []
    for hour in range(first, last + 1):
        slot_start = datetime.combine(day, time(hour), tzinfo=tz)
        slots.append(
            {
                "slot": f"{hour:02d}:00",
                "start": iso(slot_start),
                **slot_figures(by_hour.get(hour, [])),
            }
        )
    return slots


def board(user: User, now: datetime | None = None) -> dict:
    """The whole board as the supervisor sees it now."""
    now = now or utcnow()
    today = now.astimezone(zone()).date()
    hours = hours_of(today, now, user)
    totals = slot_figures(contacts_received(local_day_bounds(today)[0], now, user))
    risky = at_risk_now(user, now)
    return {
        "generated_at": iso(now),
        "day": today.isoformat(),
        "timezone": current_app.config["TIMEZONE"],
        "agents": agents_now(now),
        "queues": queues_now(user, now),
        "at_risk": risky[:AT_RISK_LIMIT],
        "at_risk_total": len(risky),
        "hours": hours,
        "today": totals,
    }


# ---------------------------------------------------------------- anomalies


def _month(instant: datetime) -> str:
    return instant.astimezone(zone()).strftime("%Y-%m")


def _late(kind: str, conversation_id: int, due: datetime, done: datetime | None) -> dict:
    return {
        "key": f"{kind}:{conversation_id}:{due.isoformat()}",
        "kind": kind,
        "month": _month(due),
        "occurred_at": due,
        "conversation_id": conversation_id,
        "data": {"due_at": iso(due), "done_at": iso(done)},
    }


def _from_warnings(since: datetime) -> list[dict]:
    """Every breach the commitment sweep recorded: first takes and answers that passed their due time."""
    query = (
        select(SlaWarning.conversation_id, SlaWarning.timer, SlaWarning.due_at, Case.request_type, Case.answer_due_at)
        .join(Conversation, Conversation.id == SlaWarning.conversation_id)
        .outerjoin(Case, Case.id == Conversation.case_id)
        .where(SlaWarning.level == "breached", SlaWarning.due_at >= since, SlaWarning.timer != "next_response")
    )
    found = []
    for conversation_id, timer, due, request_type, claim_due in session().execute(query):
        if timer == "first_response":
            kind = "late_first_take"
        else:
            kind = "late_claim" if request_type == "claim" and claim_due == due else "late_answer"
        found.append(_late(kind, conversation_id, due, None))
    return found


def _from_conversations(since: datetime, now: datetime) -> list[dict]:
    """Late first takes and claims the data shows, even those no sweep saw (answered late during downtime)."""
    found = []
    late_take = select(Conversation.id, Conversation.first_response_due_at, Conversation.first_response_at).where(
        Conversation.first_response_due_at >= since,
        Conversation.first_response_due_at < now,
        Conversation.first_response_at > Conversation.first_response_due_at,
    )
    for conversation_id, due, done in session().execute(late_take):
        found.append(_late("late_first_take", conversation_id, due, done))
    done = func.coalesce(Case.answered_at, Case.closed_at)
    late_claims = (
        select(Conversation.id, Case.answer_due_at, done)
        .join(Case, Case.conversation_id == Conversation.id)
        .where(
            Case.request_type == "claim",
            Case.answer_due_at >= since,
            Case.answer_due_at < now,
            or_(done.is_(None), done > Case.answer_due_at),
        )
    )
    for conversation_id, due, done_at in session().execute(late_claims):
        found.append(_late("late_claim", conversation_id, due, done_at))
    return found


def _from_slots(since: datetime, now: datetime) -> list[dict]:
    """Hour slots over, every contact in them past its first-take due, with an in-time rate under 95%."""
    tz = zone()
    found = []
    contacts = contacts_received(since, now)
    by_slot: dict[datetime, list[Received]] = {}
    for contact in contacts:
        local = contact.received_at.astimezone(tz)
        by_slot.setdefault(local.replace(minute=0, second=0, microsecond=0), []).append(contact)
    for slot_start, group in sorted(by_slot.items()):
        settled = all(c.taken_at is not None or (c.due_at is not None and c.due_at <= now) for c in group)
        if slot_start + timedelta(hours=1) > now or not settled:
            continue
        figures = slot_figures(group)
        if figures["in_time_rate"] is not None and figures["in_time_rate"] < TAKE_RATE_TARGET:
            found.append(
                {
                    "key": f"low_take_rate:{slot_start.strftime('%Y-%m-%dT%H:00')}",
                    "kind": "low_take_rate",
                    "month": slot_start.strftime("%Y-%m"),
                    "occurred_at": slot_start,
                    "conversation_id": None,
                    "data": {"slot": slot_start.strftime("%Y-%m-%d %H:00"), "target": TAKE_RATE_TARGET, **figures},
                }
            )
    return found


def detect(now: datetime | None = None, days: int = DETECTION_DAYS) -> list[int]:
    """Record the anomalies of the last `days` days not yet recorded; their ids (the caller commits)."""
    now = now or utcnow()
    since = now - timedelta(days=days)
    candidates = {
        a["key"]: a for a in [*_from_warnings(since), *_from_conversations(since, now), *_from_slots(since, now)]
    }
    if not candidates:
        return []
    db = session()
    known = set(db.scalars(select(Anomaly.key).where(Anomaly.key.in_(candidates))))
    statement = insert_ignoring_conflicts(Anomaly, ("key",), returning=Anomaly.id)
    created = []
    for key, values in candidates.items():
        if key in known:
            continue
        new_id = db.scalar(statement, {**values, "created_at": now})
        if new_id is not None:
            created.append(new_id)
    return created


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The instants a local month YYYY-MM starts and ends; ValueError when it is not a month."""
    first = datetime.strptime(month, "%Y-%m").date()
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return local_day_bounds(first)[0], local_day_bounds(following)[0]


def anomalies_of(month: str, user: User, kind: str | None = None) -> list[Anomaly]:
    """The month's anomalies, oldest first; those about a conversation only when the user may see it."""
    query = (
        select(Anomaly)
        .outerjoin(Conversation, Conversation.id == Anomaly.conversation_id)
        .where(Anomaly.month == month, or_(Anomaly.conversation_id.is_(None), visible_conversations(user)))
        .order_by(Anomaly.occurred_at, Anomaly.id)
    )
    if kind:
        query = query.where(Anomaly.kind == kind)
    return list(session().scalars(query))


def anomaly_json(anomaly: Anomaly) -> dict:
    """An anomaly as the API shows it."""
    return {
        "id": anomaly.id,
        "kind": anomaly.kind,
        "month": anomaly.month,
        "occurred_at": iso(anomaly.occurred_at),
        "conversation_id": anomaly.conversation_id,
        "data": anomaly.data or {},
        "note": anomaly.note,
        "noted_by": {"id": anomaly.noted_by.id, "name": anomaly.noted_by.name} if anomaly.noted_by else None,
        "noted_at": iso(anomaly.noted_at),
        "created_at": iso(anomaly.created_at),
    }
