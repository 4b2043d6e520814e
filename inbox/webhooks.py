"""The webhook routes: verify, store durably, answer; everything slow happens after the commit."""

from __future__ import annotations

import json
import logging
import time

from flask import Blueprint, Response, abort, current_app, jsonify, request

from connectors import get_connector
from inbox import intake
from inbox.channels import accounts_of
from inbox.db import session
from inbox.errors import error_response

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
SECRETS_TTL = 5.0


def _connector(platform: str):
    connector = get_connector(platform)
    if connector is None:
        abort(404)
    return connector


@bp.get("/<platform>")
def handshake(platform: str):
    """The platform's verification GET."""
    connector = _connector(platform)
    tokens = [a.secrets.get(connector.CHALLENGE_SECRET) for a in accounts_of(platform)]
    status, body, mimetype = connector.challenge(request.args, tokens)
    session().commit()
    return Response(body, status=status, mimetype=mimetype)


def _read_body(limit: int) -> bytes | None:
    if request.content_length is not None and request.content_length > limit:
        return None
    body = request.stream.read(limit + 1)
    return None if len(body) > limit else body


def _app_secrets(platform: str, refresh: bool = False) -> list[str]:
    """The platform's app secrets, read from the database at most every SECRETS_TTL seconds.

    Deliveries are checked without touching the database (on SQLite a read would take the write lock,
    BEGIN IMMEDIATE, before the signature is even known to be good). A signature that fails is checked
    again against fresh secrets, so a new account works at once; a removed secret lingers SECRETS_TTL."""
    cache = current_app.extensions.setdefault("webhook_app_secrets", {})
    now = time.monotonic()
    cached = cache.get(platform)
    if refresh or cached is None or now - cached[0] > SECRETS_TTL:
        secrets = [s for s in (a.secrets.get("app_secret") for a in accounts_of(platform)) if s]
        session().commit()  # end the read at once
        cached = cache[platform] = (now, secrets)
    return cached[1]


@bp.post("/<platform>")
def receive(platform: str):
    """A delivery: 401 unsigned, 400 not JSON, 413 too large, 200 once durably stored."""
    connector = _connector(platform)
    body = _read_body(current_app.config["WEBHOOK_MAX_BYTES"])
    if body is None:
        return error_response(413, "payload_too_large", "Webhook bodies are limited to 5 MiB.")
    if not connector.verify(request.headers, body, _app_secrets(platform)) and not connector.verify(
        request.headers, body, _app_secrets(platform, refresh=True)
    ):
        return error_response(401, "bad_signature", "Missing or wrong signature.")
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        session().rollback()
        return error_response(400, "not_json", "The body is not a JSON object.")
    if current_app.config["INTAKE_MODE"] == "deferred":
        intake.keep(platform, body)  # committed when it returns; the writer queues the drain job
        return jsonify({"status": "stored"})
    outcome = intake.ingest_payload(platform, payload)
    events = intake.prepare_events(outcome)
    session().commit()
    intake.after_commit(outcome, events)
    if outcome is None:
        return jsonify({"status": "kept"})
    return jsonify({"status": "ok", "messages": len(outcome.new_messages), "unrouted": outcome.unrouted})
