"""The webhook routes: verify, store durably, answer; everything slow happens after the commit."""

from __future__ import annotations

import json
import logging
import time

from flask import Blueprint, Response, abort, current_app, jsonify, request
from werkzeug.datastructures import EnvironHeaders
from werkzeug.wsgi import get_input_stream

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


def _read_body(stream, content_length: int | None, limit: int) -> bytes | None:
    if content_length is not None and content_length > limit:
        return None
    body = stream.read(limit + 1)
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
    return deliver(_connector(platform), platform, request.headers, request.stream, request.content_length)


def deliver(connector, platform: str, headers, stream, content_length: int | None):
    """The intake of one POSTed delivery, shared by the Flask route and the WSGI fast path (in an app context)."""
    body = _read_body(stream, content_length, current_app.config["WEBHOOK_MAX_BYTES"])
    if body is None:
        return error_response(413, "payload_too_large", "Webhook bodies are limited to 5 MiB.")
    if not connector.verify(headers, body, _app_secrets(platform)) and not connector.verify(
        headers, body, _app_secrets(platform, refresh=True)
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


class FastIntake:
    """WSGI layer in front of the app: `POST /webhooks/<platform>` in deferred mode goes straight to `deliver`.

    A kept delivery needs the raw body, the signature and one durable insert; Flask's request context,
    session, CSRF, login, limiter and Socket.IO layers cost more than that (bench/README.md). Everything
    else (the verification GET, unknown platforms, inline mode, other paths) goes to Flask unchanged.
    The answers are the same Response objects, with the same security headers, as the Flask route's."""

    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        platform = self._platform(environ)
        connector = get_connector(platform) if platform else None
        if connector is None or self.app.config["INTAKE_MODE"] != "deferred":
            return self.wsgi_app(environ, start_response)
        from inbox import add_security_headers

        with self.app.app_context():
            try:
                response = deliver(
                    connector,
                    platform,
                    EnvironHeaders(environ),
                    get_input_stream(environ),
                    _content_length(environ),
                )
            except Exception:  # never a 200 for a delivery that is not stored: the platform sends it again
                log.exception("unhandled error on POST %s", environ.get("PATH_INFO"))
                response = error_response(500, "internal_error", "The server failed; the error is logged.")
            add_security_headers(response)
        return response(environ, start_response)

    @staticmethod
    def _platform(environ) -> str | None:
        if environ.get("REQUEST_METHOD") != "POST":
            return None
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/webhooks/"):
            return None
        platform = path[len("/webhooks/") :]
        return platform if platform and "/" not in platform else None


def _content_length(environ) -> int | None:
    try:
        value = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    return value if value >= 0 else None


def install_fast_path(app) -> None:
    """Put FastIntake in front of the app's WSGI stack (after every other middleware is installed)."""
    app.wsgi_app = FastIntake(app, app.wsgi_app)
