"""Socket.IO: authorised connections, rooms from the user's rights, and one function per domain event."""

from __future__ import annotations

import logging

from flask import request
from flask_login import current_user
from flask_socketio import SocketIO, join_room
from socketio import RedisManager
from sqlalchemy import select

from inbox.db import session
from inbox.models import Conversation, Message
from inbox.serializers import conversation_json, message_json

log = logging.getLogger(__name__)
socketio = SocketIO()
CONVERSATION_READERS = ("agent", "supervisor", "admin")
ALL_CONVERSATIONS_ROOM = "conversations:all"


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


def rooms_for(user) -> list[str]:
    """The rooms a user's rights put them in; clients never choose."""
    rooms = [f"user:{user.id}"]
    if user.role in CONVERSATION_READERS:
        rooms.append(ALL_CONVERSATIONS_ROOM)
    return rooms


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


def conversation_rooms(conversation: Conversation) -> list[str]:
    """Who hears about a conversation: everyone who may read conversations (teams come with issue 4)."""
    return [ALL_CONVERSATIONS_ROOM]


def _emit(event: str, payload: dict, rooms: list[str]) -> None:
    try:
        socketio.emit(event, payload, to=rooms)
    except Exception:  # a realtime hiccup must not undo a stored delivery; clients resync on reconnect
        log.exception("could not emit %s", event)


def conversation_event(event: str, conversation: Conversation) -> None:
    """Announce conversation.created or conversation.updated."""
    _emit(
        event,
        {"conversation_id": conversation.id, "conversation": conversation_json(conversation)},
        conversation_rooms(conversation),
    )


def message_event(event: str, message: Message, conversation: Conversation) -> None:
    """Announce message.created or message.updated."""
    payload = {"conversation_id": conversation.id, "message": message_json(message, conversation.contact)}
    _emit(event, payload, conversation_rooms(conversation))


def announce(outcome) -> None:
    """Emit the events of an ingest outcome, after its commit."""
    db = session()
    conversations = {}

    def conversation(conversation_id):
        if conversation_id not in conversations:
            conversations[conversation_id] = db.get(Conversation, conversation_id)
        return conversations[conversation_id]

    for conversation_id in outcome.new_conversations:
        conversation_event("conversation.created", conversation(conversation_id))
    for event, ids in (("message.created", outcome.new_messages), ("message.updated", outcome.changed_messages)):
        for message in db.scalars(select(Message).where(Message.id.in_(ids))):
            message_event(event, message, conversation(message.conversation_id))
    for conversation_id in dict.fromkeys(outcome.changed_conversations):
        conversation_event("conversation.updated", conversation(conversation_id))
    db.commit()
