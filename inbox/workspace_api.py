"""The agent's workspace under /api/v1: private notes with @mentions, notifications, list counts, preferences."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy import func, select, update

from inbox.access import CONVERSATION_ROLES, can_see, require_visible, visible_conversations
from inbox.auth import api_user, require_roles
from inbox.db import session, utcnow
from inbox.errors import ApiError, get_or_404, json_body
from inbox.i18n import UI_LANGUAGES
from inbox.models import Conversation, Note, Notification, User
from inbox.serializers import iso, user_json

bp = Blueprint("workspace", __name__, url_prefix="/api/v1")
WRITERS = ("agent", "supervisor", "admin")
NOTE_MAX_LENGTH = 5000
MENTION_MAX = 20
# The list's views: whose conversations an agent looks at.
VIEWS = ("mine", "unassigned", "team", "all")
PREFERENCES = {"desktop_notifications": (True, False), "sound": (True, False), "language": UI_LANGUAGES}
DEFAULT_PREFERENCES = {"desktop_notifications": True, "sound": True, "language": None}


def view_filter(user: User, view: str | None):
    """A WHERE clause for one of the list's views (mine, unassigned, team, all), or None for all."""
    if view in (None, "", "all"):
        return None
    if view == "mine":
        return Conversation.assignee_id == user.id
    if view == "unassigned":
        return Conversation.assignee_id.is_(None)
    if view == "team":
        team_ids = [team.id for team in user.teams]
        return Conversation.team_id.in_(team_ids) if team_ids else Conversation.team_id.is_(None)
    raise ApiError(400, "bad_parameter", "view is one of %(views)s.", views=", ".join(VIEWS))


# ---------------------------------------------------------------- notes and mentions


def note_json(note: Note) -> dict:
    mentioned = session().scalars(select(User).where(User.id.in_(note.mentions or []))).all()
    return {
        "id": note.id,
        "conversation_id": note.conversation_id,
        "text": note.text,
        "author": user_json(note.author),
        "mentions": [user_json(user) for user in mentioned],
        "created_at": iso(note.created_at),
    }


def _conversation(conversation_id: int) -> Conversation:
    return require_visible(api_user(), get_or_404(Conversation, conversation_id, "conversation"))


def _mentioned_users(raw, conversation: Conversation) -> list[User]:
    """The users a note mentions, each of whom must be able to read the conversation."""
    if raw in (None, []):
        return []
    if not isinstance(raw, list) or len(raw) > MENTION_MAX or not all(type(i) is int for i in raw):
        raise ApiError(400, "bad_request", "mentions is a list of at most %(limit)s user ids.", limit=MENTION_MAX)
    found = {u.id: u for u in session().scalars(select(User).where(User.id.in_(raw), User.active.is_(True)))}
    missing = [str(i) for i in raw if i not in found]
    if missing:
        raise ApiError(422, "unknown_user", "No active user with id %(ids)s.", ids=", ".join(missing))
    blind = [u.name for u in found.values() if not can_see(u, conversation)]
    if blind:
        raise ApiError(
            422, "cannot_see", "%(blind)s cannot see this conversation; transfer it first.", blind=", ".join(blind)
        )
    return list(dict.fromkeys(found[i] for i in raw))


@bp.get("/conversations/<int:conversation_id>/notes")
@require_roles(*CONVERSATION_ROLES)
def list_notes(conversation_id: int):
    """A conversation's private notes, oldest first."""
    conversation = _conversation(conversation_id)
    notes = session().scalars(
        select(Note).where(Note.conversation_id == conversation.id).order_by(Note.created_at, Note.id)
    )
    return jsonify({"items": [note_json(n) for n in notes]})


@bp.post("/conversations/<int:conversation_id>/notes")
@require_roles(*WRITERS)
def add_note(conversation_id: int):
    """Write a private note for colleagues (never sent to the customer); mentioned users are notified live."""
    from inbox.realtime import note_event, notification_event

    user = api_user()
    conversation = _conversation(conversation_id)
    body = json_body()
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(422, "empty_note", "Write the note's text.")
    if len(text) > NOTE_MAX_LENGTH:
        raise ApiError(422, "text_too_long", "A note takes at most %(limit)s characters.", limit=NOTE_MAX_LENGTH)
    mentioned = [u for u in _mentioned_users(body.get("mentions"), conversation) if u.id != user.id]
    note = Note(conversation_id=conversation.id, author_id=user.id, text=text.strip(), created_at=utcnow())
    note.mentions = [u.id for u in mentioned] or None
    db = session()
    db.add(note)
    db.flush()
    notifications = [
        Notification(
            user_id=u.id,
            kind="mention",
            conversation_id=conversation.id,
            data={"note_id": note.id, "by": user.name, "text": note.text[:200]},
            created_at=utcnow(),
        )
        for u in mentioned
    ]
    db.add_all(notifications)
    db.commit()
    payload = note_json(note)
    note_event(conversation, payload)
    for notification in notifications:
        notification_event(notification.user_id, notification_json(notification))
    return jsonify(payload), 201


# ---------------------------------------------------------------- notifications


def notification_json(notification: Notification) -> dict:
    return {
        "id": notification.id,
        "kind": notification.kind,
        "conversation_id": notification.conversation_id,
        "case_id": notification.case_id,
        "data": notification.data or {},
        "read_at": iso(notification.read_at),
        "created_at": iso(notification.created_at),
    }


@bp.get("/notifications")
@require_roles(*CONVERSATION_ROLES)
def list_notifications():
    """The caller's notifications, newest first; `unread=1` for the unread ones only."""
    user = api_user()
    query = select(Notification).where(Notification.user_id == user.id)
    if request.args.get("unread") in ("1", "true"):
        query = query.where(Notification.read_at.is_(None))
    rows = session().scalars(query.order_by(Notification.id.desc()).limit(100))
    unread = session().scalar(
        select(func.count(Notification.id)).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )
    return jsonify({"items": [notification_json(n) for n in rows], "unread": unread})


@bp.post("/notifications/<int:notification_id>/read")
@require_roles(*CONVERSATION_ROLES)
def read_notification(notification_id: int):
    """Mark one of the caller's notifications read."""
    notification = session().get(Notification, notification_id)
    if notification is None or notification.user_id != api_user().id:
        raise ApiError(404, "not_found", "No notification %(id)s.", id=notification_id)
    notification.read_at = notification.read_at or utcnow()
    session().commit()
    return jsonify(notification_json(notification))


@bp.post("/notifications/read-all")
@require_roles(*CONVERSATION_ROLES)
def read_all_notifications():
    """Mark every notification of the caller read."""
    statement = (
        update(Notification)
        .where(Notification.user_id == api_user().id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    marked = session().execute(statement).rowcount
    session().commit()
    return jsonify({"marked": marked})


# ---------------------------------------------------------------- the list's counts and colleagues


@bp.get("/conversations/counts")
@require_roles(*CONVERSATION_ROLES)
def conversation_counts():
    """Per view (mine, unassigned, team, all): unresolved conversations and those with unread messages."""
    user = api_user()
    counts = {}
    for view in VIEWS:
        query = select(
            func.count(Conversation.id), func.count(Conversation.id).filter(Conversation.unread_count > 0)
        ).where(visible_conversations(user), Conversation.status != "resolved")
        clause = view_filter(user, view)
        if clause is not None:
            query = query.where(clause)
        total, unread = session().execute(query).one()
        counts[view] = {"open": total, "unread": unread}
    return jsonify(counts)


@bp.get("/conversations/<int:conversation_id>/mentionable")
@require_roles(*WRITERS)
def mentionable(conversation_id: int):
    """Colleagues a note in this conversation can mention: active users who can see it, matching `q`."""
    conversation = _conversation(conversation_id)
    words = request.args.get("q", "").strip()
    query = select(User).where(User.active.is_(True), User.role.in_(CONVERSATION_ROLES), User.id != api_user().id)
    if words:
        query = query.where(User.name.icontains(words, autoescape=True))
    users = [u for u in session().scalars(query.order_by(User.name).limit(50)) if can_see(u, conversation)]
    return jsonify({"items": [user_json(u) for u in users[:20]]})


# ---------------------------------------------------------------- preferences


def preferences_of(user: User) -> dict:
    """The user's preferences, with defaults for what they never set."""
    return {**DEFAULT_PREFERENCES, **(user.preferences or {})}


@bp.get("/me/preferences")
@require_roles(*CONVERSATION_ROLES, "marketing")
def get_preferences():
    """The caller's preferences."""
    return jsonify(preferences_of(api_user()))


@bp.put("/me/preferences")
@require_roles(*CONVERSATION_ROLES, "marketing")
def put_preferences():
    """Change some of the caller's preferences (desktop notifications, sound, the UI's language)."""
    body = json_body()
    unknown = sorted(set(body) - set(PREFERENCES))
    if unknown:
        raise ApiError(400, "bad_request", "Unknown preferences: %(unknown)s.", unknown=", ".join(unknown))
    for name, value in body.items():
        allowed = PREFERENCES[name]
        if type(value) not in {type(choice) for choice in allowed} or value not in allowed:
            choices = " or ".join(str(choice).lower() for choice in allowed)
            raise ApiError(400, "bad_request", "%(name)s must be %(choices)s.", name=name, choices=choices)
    user = session().get(User, api_user().id)
    user.preferences = {**(user.preferences or {}), **body}
    session().commit()
    return jsonify(preferences_of(user))
