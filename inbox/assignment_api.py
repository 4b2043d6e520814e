"""The API of users, teams, availability and assignment under /api/v1 (documented in openapi/assignment.json)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import lazy_gettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from inbox import assignment, realtime
from inbox.access import CONVERSATION_ROLES, require_visible
from inbox.auth import api_user, create_user, require_roles
from inbox.db import session
from inbox.errors import ApiError, get_or_404
from inbox.models import AVAILABILITIES, ROLES, ChannelAccount, Conversation, Team, User
from inbox.serializers import conversation_json, iso
from inbox.timeline import events_of, timeline_json

bp = Blueprint("assignment", __name__, url_prefix="/api/v1")
STAFF = ("agent", "supervisor", "admin")
MIN_PASSWORD = 10
MAX_CAPACITY = 50


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "The body must be a JSON object.")
    return body


def _ids(body: dict, name: str) -> list[int]:
    value = body.get(name)
    if not isinstance(value, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in value):
        raise ApiError(422, "bad_" + name, "%(name)s must be a list of ids.", name=name)
    return sorted(set(value))


def _rows(model, ids: list[int], name: str) -> list:
    rows = list(session().scalars(select(model).where(model.id.in_(ids)).order_by(model.id))) if ids else []
    missing = set(ids) - {r.id for r in rows}
    if missing:
        raise ApiError(
            422,
            "bad_" + name,
            "Unknown %(name)s: %(missing)s.",
            name=name,
            missing=", ".join(map(str, sorted(missing))),
        )
    return rows


def _text(body: dict, name: str, limit: int, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > limit:
        raise ApiError(
            422, "bad_" + name, "%(name)s must be a text of 1 to %(limit)s characters.", name=name, limit=limit
        )
    return value.strip()


def _capacity(body: dict) -> int:
    value = body["capacity"]
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_CAPACITY:
        raise ApiError(422, "bad_capacity", "capacity must be a whole number from 0 to %(limit)s.", limit=MAX_CAPACITY)
    return value


def user_detail_json(user: User, load: int) -> dict:
    """A user with what assignment needs: availability, capacity, load (conversations held), teams."""
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "active": user.active,
        "availability": user.availability,
        "availability_changed_at": iso(user.availability_changed_at),
        "capacity": user.capacity,
        "load": load,
        "teams": [{"id": t.id, "name": t.name} for t in sorted(user.teams, key=lambda t: t.id)],
    }


def _user_json(user: User) -> dict:
    return user_detail_json(user, assignment.loads([user.id])[user.id])


def team_json(team: Team) -> dict:
    return {
        "id": team.id,
        "name": team.name,
        "members": [{"id": u.id, "name": u.name, "role": u.role} for u in sorted(team.members, key=lambda u: u.id)],
        "accounts": [
            {"id": a.id, "name": a.name, "channel": a.platform} for a in sorted(team.accounts, key=lambda a: a.id)
        ],
    }


def _commit_and_publish(changes, board: str | None = None) -> None:
    events = realtime.assignment_events(changes)
    session().commit()
    realtime.publish(events, board=board)


# ---------------------------------------------------------------- users


@bp.get("/users")
@require_roles(*STAFF)
def list_users():
    """The users, with availability, capacity, load and teams (agents read it to transfer to a colleague)."""
    users = list(session().scalars(select(User).order_by(User.id)))
    held = assignment.loads(u.id for u in users)
    return jsonify({"items": [user_detail_json(u, held[u.id]) for u in users]})


@bp.post("/users")
@require_roles("admin")
def create_user_route():
    """Add a user (admin)."""
    body = _body()
    email = _text(body, "email", 254)
    if "@" not in email or " " in email:
        raise ApiError(422, "bad_email", "email must be an e-mail address.")
    name = _text(body, "name", 200)
    if body.get("role") not in ROLES:
        raise ApiError(422, "bad_role", "role is one of %(roles)s.", roles=", ".join(ROLES))
    password = body.get("password")
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise ApiError(422, "bad_password", "password must have at least %(minimum)s characters.", minimum=MIN_PASSWORD)
    capacity = _capacity(body) if "capacity" in body else None
    teams = _rows(Team, _ids(body, "teams"), "teams") if "teams" in body else []
    db = session()
    if db.scalar(select(User.id).where(func.lower(User.email) == email.lower())):
        raise ApiError(409, "email_taken", "A user with this e-mail exists.")
    user = create_user(email, name, body["role"], password)
    if capacity is not None:
        user.capacity = capacity
    user.teams = teams
    try:
        db.flush()
    except IntegrityError as exc:
        db.rollback()
        raise ApiError(409, "email_taken", "A user with this e-mail exists.") from exc
    result = user_detail_json(user, 0)
    db.commit()
    return jsonify(result), 201


@bp.patch("/users/<int:user_id>")
@require_roles("supervisor", "admin")
def update_user(user_id: int):
    """Change a user: supervisors set agents' capacity and teams; admins also name, role and active."""
    actor = api_user()
    body = _body()
    user = get_or_404(User, user_id, "user")
    admin_fields = {"name", "role", "active"} & set(body)
    unknown = set(body) - {"name", "role", "active", "capacity", "teams"}
    if unknown:
        raise ApiError(
            422, "bad_field", "These cannot be changed here: %(unknown)s.", unknown=", ".join(sorted(unknown))
        )
    if actor.role == "supervisor" and (admin_fields or user.role != "agent"):
        raise ApiError(403, "forbidden", "A supervisor sets only the capacity and teams of agents.")
    name = _text(body, "name", 200) if "name" in body else None
    if "role" in body and body["role"] not in ROLES:
        raise ApiError(422, "bad_role", "role is one of %(roles)s.", roles=", ".join(ROLES))
    if "active" in body and not isinstance(body["active"], bool):
        raise ApiError(422, "bad_active", "active must be true or false.")
    capacity = _capacity(body) if "capacity" in body else None
    teams = _rows(Team, _ids(body, "teams"), "teams") if "teams" in body else None
    assignment.begin(user)  # before the user's row is written (lock order: inbox/assignment.py)
    if name is not None:
        user.name = name
    if "role" in body:
        user.role = body["role"]
    if capacity is not None:
        user.capacity = capacity
    if teams is not None:
        user.teams = teams
    changes = []
    if body.get("active") is False and user.active:
        user.active = False
        changes += assignment.set_availability(user, "offline")
    elif body.get("active") is True:
        user.active = True
    session().flush()
    changes += assignment.fill_places()  # more room or new teams may let queued conversations through
    result = _user_json(user)
    _commit_and_publish(changes, board="user")
    return jsonify(result)


@bp.put("/me/availability")
@require_roles(*STAFF)
def set_availability():
    """Set the caller online, away or offline."""
    body = _body()
    status = body.get("status")
    if status not in AVAILABILITIES:
        raise ApiError(422, "bad_status", "status is one of %(statuses)s.", statuses=", ".join(AVAILABILITIES))
    user = session().get(User, api_user().id)
    changes = assignment.set_availability(user, status)
    result = _user_json(user)
    _commit_and_publish(changes, board="availability")
    return jsonify(result)


# ---------------------------------------------------------------- teams


@bp.get("/teams")
@require_roles(*STAFF)
def list_teams():
    """The teams with their members and channel accounts."""
    return jsonify({"items": [team_json(t) for t in session().scalars(select(Team).order_by(Team.id))]})


def _apply_team(team: Team, body: dict) -> None:
    if "name" in body:
        name = _text(body, "name", 100)
        taken = session().scalar(select(Team.id).where(func.lower(Team.name) == name.lower(), Team.id != team.id))
        if taken:
            raise ApiError(409, "name_taken", "A team with this name exists.")
        team.name = name
    members = _rows(User, _ids(body, "members"), "members") if "members" in body else None
    accounts = _rows(ChannelAccount, _ids(body, "accounts"), "accounts") if "accounts" in body else None
    if members is not None:
        team.members = members
    if accounts is not None:
        team.accounts = accounts


@bp.post("/teams")
@require_roles("admin")
def create_team():
    """Add a team (admin): name, members (user ids), accounts (channel account ids)."""
    body = _body()
    if "name" not in body:
        raise ApiError(422, "bad_name", "name must be a text of 1 to 100 characters.")
    team = Team()
    _apply_team(team, body)
    session().add(team)
    session().flush()
    changes = assignment.fill_places()
    result = team_json(team)
    _commit_and_publish(changes)
    return jsonify(result), 201


@bp.patch("/teams/<int:team_id>")
@require_roles("admin")
def update_team(team_id: int):
    """Change a team (admin); conversations already queued stay in their queue."""
    team = get_or_404(Team, team_id, "team")
    _apply_team(team, _body())
    session().flush()
    changes = assignment.fill_places()
    result = team_json(team)
    _commit_and_publish(changes)
    return jsonify(result)


# ---------------------------------------------------------------- assignment


def _conversation(conversation_id: int) -> Conversation:
    return require_visible(api_user(), get_or_404(Conversation, conversation_id, "conversation"))


@bp.post("/conversations/<int:conversation_id>/assign")
@require_roles(*STAFF)
def assign(conversation_id: int):
    """Take, assign, transfer to an agent or a team, take over, or give back to the queue (assignee null)."""
    actor = api_user()
    body = _body()
    conversation = _conversation(conversation_id)
    if "assignee" not in body and "team" not in body:
        raise ApiError(422, "nothing_to_do", "Give an assignee (a user id or null) and/or a team (an id or null).")
    note = _text(body, "note", 2000, required=False)
    assignee, team = assignment.KEEP, assignment.KEEP
    if "team" in body:
        team = None if body["team"] is None else assignment.team_or_422(body["team"])
    if "assignee" in body and body["assignee"] is not None:
        raw = body["assignee"]
        assignee = session().get(User, raw) if isinstance(raw, int) and not isinstance(raw, bool) else None
        if assignee is None or not assignee.active or assignee.role not in assignment.ASSIGNEE_ROLES:
            raise ApiError(422, "bad_assignee", "assignee must be an active agent, supervisor or admin.")
    elif "assignee" in body:
        assignee = None
    if actor.role == "agent" and conversation.assignee_id != actor.id:
        taking = isinstance(assignee, User) and assignee.id == actor.id and team is assignment.KEEP
        if not taking:
            raise ApiError(403, "forbidden", "An agent takes unassigned conversations and transfers their own.")
        if conversation.assignee_id is not None:
            holder = conversation.assignee.name if conversation.assignee else lazy_gettext("someone else")
            raise ApiError(409, "already_taken", "%(holder)s handles this conversation now.", holder=holder)
    changes = assignment.move(conversation, actor, assignee=assignee, team=team, note=note)
    _commit_and_publish(changes)
    return jsonify(conversation_json(session().get(Conversation, conversation_id)))


@bp.post("/conversations/next")
@require_roles("agent", "supervisor")
def take_next():
    """The caller takes the longest-waiting conversation of the queues they serve."""
    conversation, changes = assignment.take_next(api_user())
    _commit_and_publish(changes)
    return jsonify(conversation_json(session().get(Conversation, conversation.id)))


@bp.get("/conversations/<int:conversation_id>/timeline")
@require_roles(*CONVERSATION_ROLES)
def conversation_timeline(conversation_id: int):
    """A conversation's timeline, oldest first."""
    conversation = _conversation(conversation_id)
    return jsonify({"items": [timeline_json(e) for e in events_of(conversation_id=conversation.id)]})
