"""Canned replies (the utility's prototype messages) under /api/v1: per language and topic, checked in the
sandbox when saved, validated by a supervisor, and previewed for one conversation before an agent sends."""

from __future__ import annotations

import re

from flask import Blueprint, jsonify, request
from sqlalchemy import or_, select

from inbox.access import CONVERSATION_ROLES, require_visible
from inbox.auth import api_user, require_roles
from inbox.db import session, utcnow
from inbox.errors import ApiError, get_or_404, json_body
from inbox.language import LANGUAGES
from inbox.models import CannedReply, Conversation, User
from inbox.rendering import REPLY_VARIABLES, MissingValue, TemplateRefused, check, render
from inbox.serializers import iso

bp = Blueprint("replies", __name__, url_prefix="/api/v1")
READERS = (*CONVERSATION_ROLES, "marketing")
EDITORS = ("supervisor", "admin", "marketing")
VALIDATORS = ("supervisor", "admin")
SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def reply_json(reply: CannedReply) -> dict:
    return {
        "id": reply.id,
        "topic": reply.topic,
        "shortcut": reply.shortcut,
        "language": reply.language,
        "body": reply.body,
        "variables": sorted(check(reply.body, REPLY_VARIABLES)),
        "validated": reply.validated,
        "active": reply.active,
        "updated_at": iso(reply.updated_at),
    }


def _text(body: dict, name: str, limit: int, required: bool) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ApiError(422, "bad_" + name, "%(name)s is required.", name=name)
    if len(value.strip()) > limit:
        raise ApiError(422, "bad_" + name, "%(name)s takes at most %(limit)s characters.", name=name, limit=limit)
    return value.strip()


def _apply(reply: CannedReply, body: dict, creating: bool) -> None:
    """Validate every field given, then set them: nothing is half-written."""
    values = {
        "topic": _text(body, "topic", 100, creating),
        "shortcut": _text(body, "shortcut", 40, creating),
        "language": _text(body, "language", 8, creating),
        "body": body.get("body") if (creating or "body" in body) else None,
    }
    if values["shortcut"] is not None and not SHORTCUT.match(values["shortcut"]):
        raise ApiError(422, "bad_shortcut", "shortcut is lower-case letters, digits, - and _ (e.g. facture-elevee).")
    if values["language"] is not None and values["language"] not in LANGUAGES:
        raise ApiError(422, "bad_language", "language is one of %(languages)s.", languages=", ".join(LANGUAGES))
    if values["body"] is not None:
        try:
            check(values["body"], REPLY_VARIABLES)
        except TemplateRefused as refused:
            raise refused.api_error(422, "template_refused") from refused
    if "active" in body and not isinstance(body["active"], bool):
        raise ApiError(400, "bad_request", "active must be true or false.")
    changed = {k: v for k, v in values.items() if v is not None}
    if "body" in changed and reply.body is not None and changed["body"] != reply.body:
        reply.validated, reply.validated_by_id = False, None  # a changed text needs validating again
    for name, value in changed.items():
        setattr(reply, name, value)
    if "active" in body:
        reply.active = body["active"]


def _clash(reply: CannedReply) -> None:
    taken = session().scalar(
        select(CannedReply.id).where(
            CannedReply.shortcut == reply.shortcut, CannedReply.language == reply.language, CannedReply.id != reply.id
        )
    )
    if taken:
        raise ApiError(
            409,
            "shortcut_taken",
            "/%(shortcut)s already exists in %(language)s.",
            shortcut=reply.shortcut,
            language=reply.language,
        )


@bp.get("/canned-replies")
@require_roles(*READERS)
def list_replies():
    """Canned replies, by language first when `language` is given; `q` searches shortcut, topic and text."""
    query = select(CannedReply).where(CannedReply.active.is_(True))
    if request.args.get("all") == "1" and api_user().role in EDITORS:
        query = select(CannedReply)
    if words := request.args.get("q", "").strip():
        query = query.where(
            or_(
                CannedReply.shortcut.icontains(words, autoescape=True),
                CannedReply.topic.icontains(words, autoescape=True),
                CannedReply.body.icontains(words, autoescape=True),
            )
        )
    preferred = request.args.get("language")
    replies = list(session().scalars(query.order_by(CannedReply.topic, CannedReply.shortcut).limit(200)))
    replies.sort(key=lambda r: r.language != preferred)  # the conversation's language first, order kept
    return jsonify({"items": [reply_json(r) for r in replies]})


@bp.post("/canned-replies")
@require_roles(*EDITORS)
def create_reply():
    """Add a canned reply; its text is checked in the sandbox (422 with the reason when refused)."""
    reply = CannedReply(created_by_id=api_user().id, validated=False, active=True)
    _apply(reply, json_body(), creating=True)
    _clash(reply)
    session().add(reply)
    session().commit()
    return jsonify(reply_json(reply)), 201


@bp.patch("/canned-replies/<int:reply_id>")
@require_roles(*EDITORS)
def update_reply(reply_id: int):
    """Change a canned reply; a changed text is no longer validated."""
    reply = get_or_404(CannedReply, reply_id, "canned reply")
    _apply(reply, json_body(), creating=False)
    _clash(reply)
    reply.updated_at = utcnow()
    session().commit()
    return jsonify(reply_json(reply))


@bp.post("/canned-replies/<int:reply_id>/validate")
@require_roles(*VALIDATORS)
def validate_reply(reply_id: int):
    """Mark a canned reply validated by the utility (a supervisor or an admin)."""
    reply = get_or_404(CannedReply, reply_id, "canned reply")
    reply.validated, reply.validated_by_id = True, api_user().id
    session().commit()
    return jsonify(reply_json(reply))


def conversation_context(conversation: Conversation, agent: User) -> dict:
    """The values a canned reply may show for this conversation: plain values, never a model."""
    contact = conversation.contact
    case = conversation.case
    return {
        "contact": {
            "name": contact.name,
            "first_name": (contact.name or "").split(" ")[0] or None,
            "cil": contact.cil,
            "contract": contact.contract,
            "phone": contact.phone,
            "email": contact.email,
            "address": contact.address,
        },
        "case": {"number": case.number, "state": case.state} if case else {},
        "agent": {"name": agent.name, "first_name": (agent.name or "").split(" ")[0] or None},
    }


@bp.post("/conversations/<int:conversation_id>/canned-replies/<int:reply_id>/preview")
@require_roles("agent", "supervisor", "admin")
def preview_reply(conversation_id: int, reply_id: int):
    """The canned reply rendered for this conversation, to read (and edit) before sending; 422 names what is
    missing (a CIL not yet known, no case number), never a text with a gap."""
    user = api_user()
    conversation = require_visible(user, get_or_404(Conversation, conversation_id, "conversation"))
    reply = get_or_404(CannedReply, reply_id, "canned reply")
    if not reply.active:
        raise ApiError(404, "not_found", "No canned reply %(id)s.", id=reply_id)
    try:
        text = render(reply.body, conversation_context(conversation, user), REPLY_VARIABLES)
    except MissingValue as missing:
        raise missing.api_error(422, "missing_value") from missing
    return jsonify({"text": text, "reply": reply_json(reply)})
