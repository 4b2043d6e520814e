"""Socket.IO: authorised connections, rooms from the user's rights, and one function per domain event."""

from __future__ import annotations

import logging

from flask import request
from flask_login import current_user
from flask_socketio import SocketIO, join_room
from socketio import RedisManager
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from inbox.access import BOARD_ROOM, GENERAL_ROOM, conversation_rooms, rooms_for
from inbox.db import session
from inbox.i18n import shared_payload
from inbox.models import Conversation, Message
from inbox.serializers import conversation_json, message_json

log = logging.getLogger(__name__)
socketio = SocketIO()
# What changes the supervisor's board: a new or changed conversation, an assignment, a commitment warning.
BOARD_EVENTS = frozenset({"conversation.created", "conversation.updated", "conversation.assigned", "sla.warning"})


def init_app(app) -> None:
    """Bind Socket.IO; with a message queue, emits from workers and other web processes reach browsers."""
    options = {}
    if app.config["SOCKETIO_MESSAGE_QUEUE"]:
        # Built here rather than from `message_queue=`: Flask-SocketIO picks Kombu for unix:// URLs,
        # while python-socketio's RedisManager speaks them (the embedded Redis listens on a socket file).
        options["client_manager"] = RedisManager(app.config["REDIS_URL"], channel="flask-socketio")
    socketio.init_app(
        app,
        async_mode="threading",
        **options,
        cors_allowed_origins=[app.config["PUBLIC_URL"]],
        logger=False,
        engineio_logger=False,
    )


@socketio.on("connect")
def on_connect(auth=None):
    """Accept a browser session or an API token; refuse anything else."""
    from inbox.auth import user_for_token

    user = current_user if current_user.is_authenticated else None
    if user is None and isinstance(auth, dict) and auth.get("token"):
        user = user_for_token(auth["token"])
    if user is None or not user.is_active:
        raise ConnectionRefusedError("authentication required")
    for room in rooms_for(user):
        join_room(room)
    session().commit()  # end the read transaction: a socket must not hold it open
    log.debug("socket %s joined as user %s", request.sid, user.id)


def _emit(event: str, payload: dict, rooms: list[str]) -> None:
    try:
        socketio.emit(event, payload, to=rooms)
    except Exception:  # a realtime hiccup must not undo a stored delivery; clients resync on reconnect
        log.exception("could not emit %s", event)


_CONVERSATION_PAYLOAD_LOADS = (
    joinedload(Conversation.account),
    joinedload(Conversation.contact),
    joinedload(Conversation.identity),
    joinedload(Conversation.assignee),
)


def _conversation_payload(conversation: Conversation) -> dict:
    with shared_payload():  # every reader gets the same payload: in English, not in the language of who acted
        return {"conversation_id": conversation.id, "conversation": conversation_json(conversation)}


def _message_payload(message: Message, conversation: Conversation) -> dict:
    with shared_payload():
        return {"conversation_id": conversation.id, "message": message_json(message, conversation.contact)}


def conversation_event(event: str, conversation: Conversation) -> None:
    """Announce conversation.created or conversation.updated."""
    _emit(event, _conversation_payload(conversation), conversation_rooms(conversation))
    board_changed(event)


def board_changed(reason: str) -> None:
    """Tell supervisors' boards to refetch (board.changed, no content but a reason; pages debounce it)."""
    _emit("board.changed", {"reason": reason}, [BOARD_ROOM])


def message_event(event: str, message: Message, conversation: Conversation) -> None:
    """Announce message.created or message.updated."""
    _emit(event, _message_payload(message, conversation), conversation_rooms(conversation))


def note_event(conversation: Conversation, note: dict) -> None:
    """Announce note.created to everyone who sees the conversation (notes never reach the customer)."""
    _emit("note.created", {"conversation_id": conversation.id, "note": note}, conversation_rooms(conversation))


def notification_event(user_id: int, notification: dict) -> None:
    """Announce notification.created to its user alone (an @mention, a claim handed back...)."""
    _emit("notification.created", {"notification": notification}, [f"user:{user_id}"])


def emit_to(event: str, payload: dict, rooms: list[str]) -> None:
    """Announce an event computed elsewhere (sla.warning) to the rooms given."""
    _emit(event, payload, rooms)


def campaign_event(event: str, payload: dict) -> None:
    """Announce campaign.progress to marketing and admins (the campaigns room)."""
    from inbox.access import CAMPAIGNS_ROOM

    _emit(event, payload, [CAMPAIGNS_ROOM])


def case_event(case) -> None:
    """Announce case.updated to the rooms of the case's conversations and to its treating team."""
    from inbox.cases import case_ref, conversations_of

    rooms = {room for conversation in conversations_of(case) for room in conversation_rooms(conversation)}
    if case.escalated_team_id:
        rooms.add(f"team:{case.escalated_team_id}")
    payload = {"case_id": case.id, "case": case_ref(case)}
    session().commit()  # end the read before the emit
    _emit("case.updated", payload, sorted(rooms))


def prepare(outcome) -> list[tuple[str, dict, list[str]]]:
    """The events of an ingest outcome as (event, payload, rooms), read in the current transaction.

    A webhook prepares them before its commit, from rows its transaction already holds, and emits after it:
    no second transaction (on SQLite a second hold of the write lock) and no Redis round trip inside one."""
    db = session()
    messages = {}
    for event, ids in (("message.created", outcome.new_messages), ("message.updated", outcome.changed_messages)):
        if ids:
            query = select(Message).where(Message.id.in_(ids)).options(joinedload(Message.attachments))
            messages[event] = db.scalars(query).unique().all()
    # One query for the conversations and what their payloads show, rather than a lazy load per relationship
    # (ingest's own objects are usually gone: the session holds them by weak reference).
    wanted = {*outcome.new_conversations, *outcome.changed_conversations}
    wanted |= {m.conversation_id for found in messages.values() for m in found}
    conversations = {}
    if wanted:
        query = select(Conversation).where(Conversation.id.in_(wanted)).options(*_CONVERSATION_PAYLOAD_LOADS)
        conversations = {c.id: c for c in db.scalars(query).unique()}

    events = []
    for conversation_id in outcome.new_conversations:
        found = conversations[conversation_id]
        events.append(("conversation.created", _conversation_payload(found), conversation_rooms(found)))
    for event in ("message.created", "message.updated"):
        for message in messages.get(event, ()):
            found = conversations[message.conversation_id]
            events.append((event, _message_payload(message, found), conversation_rooms(found)))
    for conversation_id in dict.fromkeys(outcome.changed_conversations):
        found = conversations[conversation_id]
        events.append(("conversation.updated", _conversation_payload(found), conversation_rooms(found)))
    return events + assignment_events(outcome.assignments)


def assignment_events(changes) -> list[tuple[str, dict, list[str]]]:
    """The events of assignment changes (inbox.assignment.Change), read before the commit: conversation.updated
    to the conversation's rooms before and after and to the previous assignee, conversation.assigned to the
    new assignee's own room."""
    if not changes:
        return []
    ids = {change.conversation_id for change in changes}
    query = select(Conversation).where(Conversation.id.in_(ids)).options(*_CONVERSATION_PAYLOAD_LOADS)
    conversations = {c.id: c for c in session().scalars(query).unique()}
    events = []
    for change in changes:
        found = conversations[change.conversation_id]
        payload = _conversation_payload(found)
        rooms = conversation_rooms(found)
        rooms.append(GENERAL_ROOM if change.previous_team_id is None else f"team:{change.previous_team_id}")
        if change.previous_assignee_id:
            rooms.append(f"user:{change.previous_assignee_id}")
        events.append(("conversation.updated", {**payload, "kind": change.kind}, list(dict.fromkeys(rooms))))
        if change.assignee_id:
            events.append(("conversation.assigned", {**payload, "kind": change.kind}, [f"user:{change.assignee_id}"]))
    return events


def due_times_moved(conversations: list[Conversation]) -> None:
    """Announce conversations whose due times an admin's calendar change moved (after the commit), then one
    board.changed."""
    events = [("conversation.updated", _conversation_payload(c), conversation_rooms(c)) for c in conversations]
    session().commit()  # the payloads are read: end the read before emitting
    publish(events, board="calendar")


def publish(events: list[tuple[str, dict, list[str]]], board: str | None = None) -> None:
    """Emit prepared events (after the commit that stored what they describe), then one board.changed when
    any of them changes the board (or `board` names another reason: an availability, a capacity)."""
    for event, payload, rooms in events:
        _emit(event, payload, rooms)
    reason = next((event for event, _, _ in events if event in BOARD_EVENTS), board)
    if reason:
        board_changed(reason)


def announce(outcome) -> None:
    """Emit the events of an ingest outcome, after its commit; the reads end before the first emit."""
    events = prepare(outcome)
    session().commit()
    publish(events)
