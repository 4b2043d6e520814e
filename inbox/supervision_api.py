"""The supervisor's board and the anomaly log under /api/v1 (documented in openapi/supervision.json)."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, current_app, jsonify, request

from inbox import supervision
from inbox.auth import api_user, require_roles
from inbox.db import session, utcnow
from inbox.errors import ApiError, get_or_404
from inbox.models import ANOMALY_KINDS, Anomaly, Conversation

bp = Blueprint("supervision", __name__, url_prefix="/api/v1")
ROLES = ("supervisor", "admin")
NOTE_LIMIT = 2000
EXPORT_COLUMNS = ["id", "kind", "occurred_at", "conversation_id", "details", "note", "noted_by", "noted_at"]


@bp.get("/board")
@require_roles(*ROLES)
def get_board():
    """The floor now: agents, queues, conversations at risk or breached, today's figures per hour slot."""
    result = supervision.board(api_user())
    session().commit()  # end the read: the board is polled
    return jsonify(result)


def _month() -> str:
    month = request.args.get("month") or utcnow().astimezone(supervision.zone()).strftime("%Y-%m")
    try:
        supervision.month_bounds(month)
    except ValueError as exc:
        raise ApiError(400, "bad_parameter", "month is YYYY-MM, e.g. 2026-12.") from exc
    return month


def _kind() -> str | None:
    kind = request.args.get("kind") or None
    if kind is not None and kind not in ANOMALY_KINDS:
        raise ApiError(400, "bad_parameter", "kind is one of %(kinds)s.", kinds=", ".join(ANOMALY_KINDS))
    return kind


@bp.get("/anomalies")
@require_roles(*ROLES)
def list_anomalies():
    """A month's anomaly log (`month=YYYY-MM`, this month by default), oldest first."""
    month = _month()
    items = [supervision.anomaly_json(a) for a in supervision.anomalies_of(month, api_user(), _kind())]
    return jsonify({"month": month, "items": items})


@bp.patch("/anomalies/<int:anomaly_id>")
@require_roles(*ROLES)
def annotate_anomaly(anomaly_id: int):
    """Write (or clear, with null) the supervisor's note on an anomaly."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or set(body) != {"note"}:
        raise ApiError(400, "bad_request", 'The body is {"note": "<text>"} (or null to clear it).')
    note = body["note"]
    if note is not None and (not isinstance(note, str) or len(note.strip()) > NOTE_LIMIT):
        raise ApiError(422, "bad_note", "note is a text of at most %(limit)s characters, or null.", limit=NOTE_LIMIT)
    user = api_user()
    anomaly = _visible(get_or_404(Anomaly, anomaly_id, "anomaly"), user)
    anomaly.note = (note.strip() or None) if note is not None else None
    anomaly.noted_by_id, anomaly.noted_at = (user.id, utcnow()) if anomaly.note else (None, None)
    session().flush()
    session().refresh(anomaly)
    result = supervision.anomaly_json(anomaly)
    session().commit()
    return jsonify(result)


def _visible(anomaly: Anomaly, user) -> Anomaly:
    from inbox.access import can_see

    if anomaly.conversation_id is not None:
        conversation = session().get(Conversation, anomaly.conversation_id)
        if conversation is not None and not can_see(user, conversation):
            raise ApiError(404, "not_found", "No anomaly %(id)s.", id=anomaly.id)
    return anomaly


def _details(anomaly: Anomaly) -> str:
    data = anomaly.data or {}
    return "; ".join(f"{key}={value}" for key, value in data.items() if value is not None)


def _rows(month: str, user) -> list[list]:
    tz = supervision.zone()
    return [
        [
            a.id,
            a.kind,
            a.occurred_at.astimezone(tz).isoformat(),
            a.conversation_id,
            _details(a),
            a.note or "",
            a.noted_by.name if a.noted_by else "",
            a.noted_at.astimezone(tz).isoformat() if a.noted_at else "",
        ]
        for a in supervision.anomalies_of(month, user)
    ]


@bp.get("/anomalies/export")
@require_roles(*ROLES)
def export_anomalies():
    """A month's anomaly log as CSV (`format=csv`, the default) or XLSX, times in TIMEZONE."""
    month = _month()
    kind = request.args.get("format", "csv")
    if kind not in ("csv", "xlsx"):
        raise ApiError(400, "bad_parameter", "format is csv or xlsx.")
    rows = [_safe(row) for row in _rows(month, api_user())]
    if kind == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(EXPORT_COLUMNS)
        writer.writerows(rows)
        body, mimetype = "\ufeff" + buffer.getvalue(), "text/csv"  # the BOM: Excel reads UTF-8 then
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(f"anomalies {month}")
        sheet.append(EXPORT_COLUMNS)
        for row in rows:
            sheet.append(row)
        stream = io.BytesIO()
        book.save(stream)
        body, mimetype = stream.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="anomalies-{month}.{kind}"'
    return response


def _safe(row: list) -> list:
    """Cells a spreadsheet would run as formulas (=, +, -, @ first) are kept as text."""
    return [f"'{value}" if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") else value for value in row]
