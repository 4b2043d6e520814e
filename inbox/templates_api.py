"""The platforms' approved templates under /api/v1: for a conversation's composer and for a channel account."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from inbox import platform_templates
from inbox.access import require_visible
from inbox.auth import api_user, require_roles
from inbox.db import utcnow
from inbox.errors import get_or_404
from inbox.i18n import in_api_language
from inbox.models import ChannelAccount, Conversation
from inbox.serializers import iso

bp = Blueprint("platform_templates", __name__, url_prefix="/api/v1")
WRITERS = ("agent", "supervisor", "admin")
ACCOUNT_READERS = ("supervisor", "marketing", "admin")


def _refresh() -> bool:
    return request.args.get("refresh") in ("1", "true")


@bp.get("/conversations/<int:conversation_id>/templates")
@require_roles(*WRITERS)
def conversation_templates(conversation_id: int):
    """The approved templates an agent can send in a conversation, those in its language first, and
    whether its reply window is open (a free text is then possible too)."""
    from connectors import get_connector

    conversation = require_visible(api_user(), get_or_404(Conversation, conversation_id, "conversation"))
    connector = get_connector(conversation.account.platform)
    refusal = connector.reply_refusal(conversation.last_inbound_at, utcnow())
    items = platform_templates.listing(conversation, _refresh())
    reason = in_api_language(refusal) if refusal else None
    return jsonify({
        "items": items,
        "language": conversation.language,
        "window": {"open": refusal is None, "reason": reason, "last_inbound_at": iso(conversation.last_inbound_at)},
    })


@bp.get("/channel-accounts/<int:account_id>/templates")
@require_roles(*ACCOUNT_READERS)
def account_templates(account_id: int):
    """A channel account's approved templates (for campaigns and for checking what agents will see)."""
    account = get_or_404(ChannelAccount, account_id, "channel account")
    templates = platform_templates.templates_for(account, _refresh())
    return jsonify({"items": [platform_templates.template_json(t) for t in templates]})
