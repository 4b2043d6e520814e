"""The webhook routes: verify, store durably, answer; everything slow happens after the commit."""

from __future__ import annotations

import json
import logging

from flask import Blueprint, Response, abort, current_app, jsonify, request

from connectors import get_connector
from inbox import media
from inbox.channels import accounts_of
from inbox.db import session
from inbox.errors import error_response
from inbox.ingest import ingest, keep_unparsed
from inbox.realtime import announce

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


def _connector(platform: str):
    connector = get_connector(platform)
    if connector is None:
        abort(404)
    return connector


@bp.get("/<platform>")
def handshake(platform: str):
    """The platform's verification GET."""
    connector = _connector(platform)
    tokens = [a.secrets.get("verify_token") for a in accounts_of(platform)]
    status, body, mimetype = connector.challenge(request.args, tokens)
    session().commit()
    return Response(body, status=status, mimetype=mimetype)


def _read_body(limit: int) -> bytes | None:
    if request.content_length is not None and request.content_length > limit:
        return None
    body = request.stream.read(limit + 1)
    return None if len(body) > limit else body


@bp.post("/<platform>")
def receive(platform: str):
    """A delivery: 401 unsigned, 400 not JSON, 413 too large, 200 once durably stored."""
    connector = _connector(platform)
    body = _read_body(current_app.config["WEBHOOK_MAX_BYTES"])
    if body is None:
        return error_response(413, "payload_too_large", "Webhook bodies are limited to 5 MiB.")
    app_secrets = [a.secrets.get("app_secret") for a in accounts_of(platform)]
    if not connector.verify(request.headers, body, app_secrets):
        session().rollback()
        return error_response(401, "bad_signature", "Missing or wrong signature.")
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        session().rollback()
        return error_response(400, "not_json", "The body is not a JSON object.")
    try:
        events = connector.parse(payload)
    except Exception:  # a shape no parser foresaw is kept whole, never dropped
        log.exception("could not parse a %s delivery", platform)
        keep_unparsed(platform, "the delivery could not be parsed", payload)
        session().commit()
        return jsonify({"status": "kept"})
    outcome = ingest(platform, events)
    session().commit()
    _after_commit(outcome)
    return jsonify({"status": "ok", "messages": len(outcome.new_messages), "unrouted": outcome.unrouted})


def _after_commit(outcome) -> None:
    try:
        media.schedule_fetches(outcome.attachments_to_fetch)
    except Exception:  # stored as pending; an agent can ask again, a sweep retries
        log.exception("could not queue media downloads %s", outcome.attachments_to_fetch)
    announce(outcome)
