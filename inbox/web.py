"""Browser pages: login, the inbox, the supervisor's board, the campaigns page, files, and the health check."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select, text

from inbox import broker
from inbox import media as files
from inbox.access import can_see
from inbox.auth import authenticate
from inbox.db import session
from inbox.extensions import limiter
from inbox.models import Attachment, Conversation, Message

bp = Blueprint("web", __name__)


@bp.get("/healthz")
def healthz():
    """200 when the database and Redis answer, 503 otherwise."""
    checks = {}
    try:
        session().execute(text("SELECT 1"))
        session().commit()
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        broker.connection().ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return jsonify({"status": "ok" if healthy else "unavailable", **checks}), 200 if healthy else 503


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    """The login form."""
    if request.method == "POST":
        user = authenticate(request.form.get("email", ""), request.form.get("password", ""))
        if user is not None:
            login_user(user)
            session().commit()
            return redirect(url_for(_landing(user)))
        flash(gettext("Wrong e-mail or password."))
        return render_template("web/login.html"), 401
    return render_template("web/login.html")


@bp.post("/logout")
def logout():
    """End the session."""
    logout_user()
    return redirect(url_for("web.login"))


def _landing(user) -> str:
    """Where a user lands after logging in: marketing never sees conversations, so their campaigns page."""
    return "web.campaigns" if user.role == "marketing" else "web.inbox"


@bp.get("/")
@login_required
def inbox():
    """The agent's inbox (marketing users are sent to their campaigns page)."""
    if current_user.role == "marketing":
        return redirect(url_for("web.campaigns"))
    return render_template("web/inbox.html", user=current_user)


@bp.get("/campaigns")
@login_required
def campaigns():
    """The marketing team's campaigns page (marketing and admins)."""
    from campaigns import limits
    from campaigns.api import CAMPAIGN_PLATFORMS, ROLES
    from inbox.models import ChannelAccount

    if current_user.role not in ROLES:
        return ("Forbidden", 403)
    accounts = sorted(  # in CAMPAIGN_PLATFORMS' order: WhatsApp, where most campaigns go, is the default choice
        session().scalars(select(ChannelAccount).where(ChannelAccount.platform.in_(CAMPAIGN_PLATFORMS))),
        key=lambda account: (CAMPAIGN_PLATFORMS.index(account.platform), account.id),
    )
    offered = [_campaign_account(a, limits.for_account(a)) for a in accounts]
    page = render_template(
        "web/campaigns.html",
        user=current_user,
        accounts=offered,
        max_rate=max((float(a["max_rate"]) for a in offered), default=current_app.config["CAMPAIGN_MAX_RATE"]),
        channel_names={"whatsapp": "WhatsApp", "facebook": "Messenger", "twitter": "X"},
        timezone=current_app.config["TIMEZONE"],
    )
    session().commit()
    return page


def _campaign_account(account, allowed) -> dict:
    """An account as the campaigns form offers it: its rate cap and the message tags it takes."""
    return {
        "id": account.id,
        "name": account.name,
        "platform": account.platform,
        "max_rate": f"{allowed.rate:g}",
        "tags": " ".join(allowed.tags),
        "templates": allowed.templates,
        "files": allowed.files,
    }


@bp.get("/supervisor")
@login_required
def supervisor():
    """The supervisor's board (supervisors and admins)."""
    from inbox.access import BOARD_ROLES

    if current_user.role not in BOARD_ROLES:
        return ("Forbidden", 403)
    return render_template(
        "supervisor/board.html", user=current_user, at_risk_minutes=current_app.config["SLA_AT_RISK_MINUTES"]
    )


@bp.get("/media/<int:attachment_id>")
@login_required
def media(attachment_id: int):
    """A stored file, to logged-in users only; played inline only for plain image, audio and video types."""
    attachment = session().get(Attachment, attachment_id)
    if attachment is None or attachment.state != "ready" or not _may_see_file(attachment):
        return ("Not found", 404)
    mime = files.base_type(attachment.mime_type)
    inline = mime in files.INLINE_TYPES
    response = send_file(
        files.absolute_path(attachment),
        mimetype=mime if inline else "application/octet-stream",
        as_attachment=not inline,
        download_name=attachment.filename or f"file-{attachment.id}",
        conditional=True,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def _may_see_file(attachment: Attachment) -> bool:
    message = session().get(Message, attachment.message_id)
    return can_see(current_user, session().get(Conversation, message.conversation_id))


VENDOR_FILES = {"socket.io-client/dist/socket.io.min.js", "socket.io-client/dist/socket.io.min.js.map"}


@bp.get("/vendor/<path:filename>")
def vendor(filename: str):
    """Front-end packages installed from npm at install time (never a CDN, never copied into the repo)."""
    if filename not in VENDOR_FILES:
        return ("Not found", 404)
    from inbox.config import ROOT

    return send_file(ROOT / "node_modules" / filename, max_age=3600)
