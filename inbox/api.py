"""The REST API under /api/v1 (CONTRACT.md; the whole of it in openapi/)."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import and_, exists, or_, select

from connectors import get_connector
from connectors.base import DIRECT, PRIVATE_REPLY, SendError
from inbox import media, platform_templates
from inbox.access import CONVERSATION_ROLES, require_visible, visible_conversations
from inbox.auth import api_user, authenticate, issue_token, require_roles
from inbox.db import session, utcnow
from inbox.errors import ApiError, get_or_404, json_body
from inbox.extensions import limiter
from inbox.models import REQUEST_TYPES, ROLES, Attachment, Contact, Conversation, Message, UnroutedDelivery
from inbox.serializers import (
    QUEUE_UNAVAILABLE,
    conversation_json,
    iso,
    message_json,
    reply_modes,
    shown_failure,
    user_json,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
READERS = CONVERSATION_ROLES  # reviewers read conversations; only WRITERS act in them
WRITERS = ("agent", "supervisor", "admin")


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(
            400,
            "bad_parameter",
            "%(name)s must be a whole number from %(low)s to %(high)s.",
            name=name,
            low=low,
            high=high,
        )
    return int(raw)


def _time_arg(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise ApiError(400, "bad_parameter", "%(name)s must be an ISO 8601 time with an offset.", name=name) from exc
    if value.tzinfo is None:
        raise ApiError(
            400, "bad_parameter", "%(name)s must carry an offset, e.g. 2026-11-27T10:00:00+01:00.", name=name
        )
    return value


@bp.post("/auth/token")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
def token():
    """Exchange an e-mail and password for an API token."""
    body = json_body()
    user = authenticate(str(body.get("email", "")), str(body.get("password", "")))
    if user is None:
        raise ApiError(401, "bad_credentials", "Wrong e-mail or password.")
    value = issue_token(user)
    session().commit()
    return jsonify({"token": value, "user": user_json(user)})


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI document of this API."""
    from inbox.openapi import document

    return jsonify(document())


@bp.get("/me")
@require_roles(*ROLES)
def me():
    """The calling user."""
    return jsonify(user_json(api_user()))


def _encode_cursor(conversation: Conversation) -> str:
    raw = json.dumps([iso(conversation.last_message_at), conversation.id])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        stamp, conversation_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(stamp), int(conversation_id)
    except (ValueError, TypeError) as exc:
        raise ApiError(400, "bad_parameter", "cursor is not one this API gave.") from exc


def _conversation_filters() -> list:
    from inbox.workspace_api import view_filter

    args = request.args
    filters = []
    if (view := view_filter(api_user(), args.get("view"))) is not None:
        filters.append(view)
    if args.get("channel"):
        from inbox.models import ChannelAccount

        filters.append(Conversation.account.has(ChannelAccount.platform == args["channel"]))
    if args.get("status"):
        filters.append(Conversation.status == args["status"])
    if args.get("assignee"):
        assignee = args["assignee"]
        if assignee == "none":
            filters.append(Conversation.assignee_id.is_(None))
        elif assignee.isdigit():
            filters.append(Conversation.assignee_id == int(assignee))
        else:
            raise ApiError(400, "bad_parameter", "assignee is a user id or 'none'.")
    if args.get("request_type"):
        if args["request_type"] not in REQUEST_TYPES:
            raise ApiError(
                400,
                "bad_parameter",
                "request_type is one of %(request_types)s.",
                request_types=", ".join(REQUEST_TYPES),
            )
        filters.append(Conversation.request_type == args["request_type"])
    for name in ("cil", "contract"):
        if args.get(name):
            filters.append(Conversation.contact.has(getattr(Contact, name) == args[name]))
    if since := _time_arg("since"):
        filters.append(Conversation.last_message_at >= since)
    if until := _time_arg("until"):
        filters.append(Conversation.created_at <= until)
    if args.get("q", "").strip():
        # A plain substring, case-insensitive: % and _ typed by an agent are characters, not wildcards.
        words = args["q"].strip()
        filters.append(
            or_(
                Conversation.contact.has(
                    or_(Contact.name.icontains(words, autoescape=True), Contact.phone.icontains(words, autoescape=True))
                ),
                exists().where(
                    and_(Message.conversation_id == Conversation.id, Message.text.icontains(words, autoescape=True))
                ),
            )
        )
    return filters


@bp.get("/conversations")
@require_roles(*READERS)
def list_conversations():
    """Conversations, newest activity first, with the contract's filters and a cursor."""
    limit = _int_arg("limit", 50, 1, 200)
    query = select(Conversation).where(visible_conversations(api_user()), *_conversation_filters())
    if request.args.get("cursor"):
        stamp, last_id = _decode_cursor(request.args["cursor"])
        query = query.where(
            or_(
                Conversation.last_message_at < stamp,
                and_(Conversation.last_message_at == stamp, Conversation.id < last_id),
            )
        )
    query = query.order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(limit + 1)
    rows = list(session().scalars(query))
    items = rows[:limit]
    next_cursor = _encode_cursor(items[-1]) if len(rows) > limit else None
    return jsonify({"items": [conversation_json(c) for c in items], "next_cursor": next_cursor})


def _conversation(conversation_id: int) -> Conversation:
    """The conversation, if the caller may see it; 404 otherwise."""
    return require_visible(api_user(), get_or_404(Conversation, conversation_id, "conversation"))


@bp.get("/conversations/<int:conversation_id>")
@require_roles(*READERS)
def get_conversation(conversation_id: int):
    """One conversation."""
    return jsonify(conversation_json(_conversation(conversation_id)))


@bp.get("/conversations/<int:conversation_id>/messages")
@require_roles(*READERS)
def list_messages(conversation_id: int):
    """A conversation's messages, oldest first."""
    conversation = _conversation(conversation_id)
    messages = session().scalars(
        select(Message).where(Message.conversation_id == conversation.id).order_by(Message.created_at, Message.id)
    )
    return jsonify({"items": [message_json(m, conversation.contact) for m in messages]})


@bp.post("/conversations/<int:conversation_id>/read")
@require_roles(*WRITERS)
def mark_read(conversation_id: int):
    """Mark a conversation's messages as read by the agents."""
    from inbox.realtime import conversation_event

    conversation = _conversation(conversation_id)
    conversation.unread_count = 0
    session().commit()
    conversation_event("conversation.updated", conversation)
    return jsonify(conversation_json(conversation))


def reply_target(conversation: Conversation, reply_to, mode: str) -> Message | None:
    """The message a reply answers: the one named, or for public and private replies the latest comment."""
    db = session()
    if reply_to not in (None, ""):
        quoted = db.get(Message, int(reply_to), with_for_update=True) if str(reply_to).isdigit() else None
        if quoted is None or quoted.conversation_id != conversation.id or not quoted.external_id:
            raise ApiError(422, "bad_reply_to", "reply_to must be a delivered message of this conversation.")
        return quoted
    if mode == DIRECT:
        return None
    latest = db.scalars(
        select(Message)
        .where(
            Message.conversation_id == conversation.id,
            Message.direction == "in",
            Message.external_id.is_not(None),
            Message.removed_at.is_(None),
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
        .with_for_update()
    ).first()
    if latest is None:
        raise ApiError(422, "bad_reply_to", "There is no comment to answer in this conversation.")
    return latest


def check_reply_mode(conversation: Conversation, mode: str, target: Message | None) -> None:
    """Refuse, before anything is stored, a reply the platform would refuse."""
    modes = {m["mode"]: m for m in reply_modes(conversation)}
    if mode not in modes:
        allowed = ", ".join(modes)
        raise ApiError(
            422, "mode_not_supported", "This conversation takes these replies: %(allowed)s.", allowed=allowed
        )
    connector = get_connector(conversation.account.platform)
    since = target.sent_at if mode == PRIVATE_REPLY and target is not None else conversation.last_inbound_at
    reason = connector.reply_refusal(since, utcnow(), mode)
    if reason:
        raise ApiError(422, "outside_window", reason)
    if mode == PRIVATE_REPLY and target.private_replied_at is not None:
        raise ApiError(422, "already_private_replied", "This comment already had its one private reply.")


def _uploaded_attachment(message: Message) -> str:
    """Store the request's file on the message; returns the message type it makes."""
    try:
        upload = media.receive(request.files["file"])
    except media.FileRejected as rejected:
        raise rejected.api_error(rejected.status, rejected.code) from rejected
    message.attachments.append(
        Attachment(
            mime_type=upload.mime_type,
            filename=upload.filename,
            size=upload.size,
            sha256=upload.sha256,
            path=upload.path,
            state="ready",
        )
    )
    return upload.kind


@bp.post("/conversations/<int:conversation_id>/messages")
@require_roles(*WRITERS)
def send(conversation_id: int):
    """Store an agent's reply as queued and hand it to a send job: text, a file (multipart), a reply to one,
    or an approved platform template with its values."""
    from inbox.assignment import take_on_reply
    from inbox.realtime import assignment_events, publish

    user = api_user()
    conversation = _conversation(conversation_id)
    body = request.form if request.files or request.form else json_body()
    text = (body.get("text") or "").strip() or None
    connector = get_connector(conversation.account.platform)
    template = body.get("template") if not request.files and not request.form else None
    if template is not None:
        # An approved template goes out even after the reply window closed: that is what it is for.
        if text is not None or body.get("mode") not in (None, DIRECT) or body.get("reply_to") not in (None, ""):
            raise ApiError(422, "bad_message", "A template is sent alone: no text, mode or reply_to with it.")
        spec, text = platform_templates.resolve(conversation.account, template)
        mode, target = DIRECT, None
    else:
        mode = body.get("mode") or reply_modes(conversation)[0]["mode"]
        target = reply_target(conversation, body.get("reply_to"), mode)
        check_reply_mode(conversation, mode, target)
    message = Message(
        conversation_id=conversation.id,
        account_id=conversation.account_id,
        direction="out",
        type="text",
        text=text,
        status="queued",
        author_id=user.id,
        mode=mode,
        reply_to_external_id=target.external_id if target else None,
    )
    if template is not None:
        message.type, message.data = "template", {"template": spec}
    if "file" in request.files:
        message.type = _uploaded_attachment(message)
    if text is None and not message.attachments:
        raise ApiError(422, "empty_message", "Write a text or attach a file.")
    limit = connector.MAX_TEXT_LENGTH if not message.attachments else getattr(connector, "MAX_CAPTION_LENGTH", 1024)
    if template is None and text and len(text) > limit:
        raise ApiError(422, "text_too_long", "This channel takes at most %(limit)s characters here.", limit=limit)
    taken = take_on_reply(conversation, user) if conversation.assignee_id is None and user.role == "agent" else []
    now = utcnow()
    if mode == PRIVATE_REPLY:
        target.private_replied_at = now  # the platform allows one: claimed with the message, in one commit
    conversation.last_message_at = now
    session().add(message)
    taken_events = assignment_events(taken)
    session().commit()
    publish(taken_events)
    # A private reply uses up its comment's one private reply: the comment changes too.
    return queue_and_announce(message, conversation, also_changed=[target] if mode == PRIVATE_REPLY else [])


def queue_and_announce(message: Message, conversation: Conversation, also_changed=()):
    """Hand a committed, queued message to its send job and announce it; the 202 answer with the message.
    A queue that cannot be reached marks the message failed (503) rather than leaving it queued forever."""
    from inbox.realtime import conversation_event, message_event
    from inbox.sending import queue_send

    try:
        queue_send(message.id)
    except Exception as exc:
        message.status, message.error_code = "failed", "queue_unavailable"
        message.error_message = QUEUE_UNAVAILABLE
        session().commit()
        message_event("message.created", message, conversation)
        raise ApiError(503, "queue_unavailable", message.error_message) from exc
    message_event("message.created", message, conversation)
    for changed in also_changed:
        message_event("message.updated", changed, conversation)
    conversation_event("conversation.updated", conversation)
    response = jsonify(message_json(message, conversation.contact))
    response.status_code = 202
    return response


@bp.post("/messages/<int:message_id>/hide")
@require_roles(*WRITERS)
def hide_message(message_id: int):
    """Hide (or show again) a customer's public comment on the platform."""
    from inbox.channels import account_settings
    from inbox.realtime import message_event

    body = json_body()
    hidden = body.get("hidden", True)
    if not isinstance(hidden, bool):
        raise ApiError(400, "bad_request", "hidden must be true or false.")
    message = get_or_404(Message, message_id, "message")
    conversation = _conversation(message.conversation_id)
    if message.direction != "in" or conversation.thread_ref is None or not message.external_id:
        raise ApiError(422, "not_hideable", "Only a customer's public comment can be hidden.")
    account = conversation.account
    settings = account_settings(account)
    session().commit()  # no transaction held over the platform call
    try:
        get_connector(account.platform).hide(settings, message.external_id, hidden)
    except SendError as error:
        status = 422 if error.code == "unsupported" else 502
        raise ApiError(status, "platform_refused", shown_failure(error.code, error.message)) from error
    message.hidden = hidden
    session().commit()
    message_event("message.updated", message, conversation)
    return jsonify(message_json(message, conversation.contact))


@bp.post("/attachments/<int:attachment_id>/retry")
@require_roles(*WRITERS)
def retry_attachment(attachment_id: int):
    """Ask again for an inbound file whose download failed."""
    attachment = get_or_404(Attachment, attachment_id, "attachment")
    message = session().get(Message, attachment.message_id)
    _conversation(message.conversation_id)
    if message.direction != "in" or attachment.state == "ready":
        raise ApiError(409, "not_retryable", "Only a failed inbound file can be fetched again.")
    attachment.state, attachment.error = "pending", None
    session().commit()
    media.schedule_fetches([attachment.id])
    return jsonify({"id": attachment.id, "state": attachment.state}), 202


@bp.get("/unrouted-deliveries")
@require_roles("admin")
def unrouted_deliveries():
    """Signed deliveries that could not be turned into messages, newest first."""
    limit = _int_arg("limit", 50, 1, 500)
    rows = session().scalars(select(UnroutedDelivery).order_by(UnroutedDelivery.id.desc()).limit(limit))
    return jsonify(
        {
            "items": [
                {
                    "id": r.id,
                    "platform": r.platform,
                    "reason": r.reason,
                    "account_ref": r.account_ref,
                    "payload": r.payload,
                    "received_at": iso(r.received_at),
                }
                for r in rows
            ]
        }
    )
