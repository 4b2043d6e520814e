"""The inbox service: the app factory."""

from __future__ import annotations

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface

from inbox.config import ROOT, Config

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)


def create_app(config: Config | None = None) -> Flask:
    """Build the Flask app with every extension and blueprint attached."""
    from campaigns import api as campaigns_api
    from inbox import (
        admin_web,
        api,
        assignment_api,
        auth,
        broker,
        calendars_api,
        cases_api,
        contacts_api,
        db,
        directory_api,
        errors,
        i18n,
        readings_api,
        realtime,
        replies_api,
        supervision_api,
        templates_api,
        web,
        webhooks,
        workspace_api,
    )
    from inbox.extensions import csrf, limiter

    config = config or Config()
    config.check()
    config.REDIS_URL = broker.resolve_url(config)
    if config.SOCKETIO_MESSAGE_QUEUE is None:
        config.SOCKETIO_MESSAGE_QUEUE = True
    config.RATELIMIT_STORAGE_URI = config.REDIS_URL.replace("unix://", "redis+unix://", 1)

    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    app.config.from_object(config)
    app.session_interface = NoSessionOnWebhooks()
    db.init_app(app)
    broker.init_app(app)
    errors.init_app(app)
    i18n.init_app(app)
    auth.login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    realtime.init_app(app)

    app.register_blueprint(web.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(contacts_api.bp)
    app.register_blueprint(workspace_api.bp)
    app.register_blueprint(replies_api.bp)
    app.register_blueprint(campaigns_api.bp)
    app.register_blueprint(cases_api.bp)
    app.register_blueprint(assignment_api.bp)
    app.register_blueprint(directory_api.bp)
    app.register_blueprint(supervision_api.bp)
    app.register_blueprint(templates_api.bp)
    app.register_blueprint(readings_api.bp)
    app.register_blueprint(calendars_api.bp)
    app.register_blueprint(admin_web.bp)
    app.register_blueprint(webhooks.bp)
    csrf.exempt(webhooks.bp)
    # Deliveries are signed, and a 429 would only make the platform send them again.
    limiter.exempt(webhooks.bp)
    if app.config["SANDBOX"]:
        from inbox import sandbox

        app.register_blueprint(sandbox.bp)
        for fake_api in (sandbox.graph_bp, sandbox.x_bp):
            csrf.exempt(fake_api)
            app.register_blueprint(fake_api)

    _protect_forms(app, csrf)
    _security_headers(app)
    webhooks.install_fast_path(app)  # outermost WSGI layer: deliveries skip Flask's request machinery
    from inbox.cli import register

    register(app)
    return app


# The JSON API's blueprints: a call without a session is answered 401 by the view, not refused by CSRF.
API_BLUEPRINTS = (
    "api",
    "contacts",
    "workspace",
    "replies",
    "campaigns",
    "cases",
    "assignment",
    "directory",
    "supervision",
    "platform_templates",
    "readings",
    "calendars",
)


class NoSessionOnWebhooks(SecureCookieSessionInterface):
    """Platforms carry no cookie: webhook deliveries skip the session's cookie signing and checking."""

    def open_session(self, app, request):
        if request.path.startswith("/webhooks/"):
            return self.null_session_class()
        return super().open_session(app, request)


def _protect_forms(app: Flask, csrf) -> None:
    from flask_login import current_user

    from inbox.auth import bearer_token

    @app.before_request
    def _csrf():
        # Browser calls (session cookie) need the CSRF token; bearer-token API clients carry no cookie.
        if request.method in ("GET", "HEAD", "OPTIONS") or request.endpoint is None or bearer_token():
            return
        if request.blueprint in ("webhooks", "sandbox_graph", "sandbox_x") or request.endpoint == "api.token":
            return
        if request.blueprint in API_BLUEPRINTS and not current_user.is_authenticated:
            return  # no session to ride on, nothing to forge: the view answers 401 (CONTRACT.md)
        csrf.protect()


def add_security_headers(response):
    """The headers every answer carries (Flask's after_request and the webhook fast path both use this)."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def _security_headers(app: Flask) -> None:
    app.after_request(add_security_headers)
