"""Meter readings customers sent through self-service, under /api/v1/meter-readings: listed with filters and
exported as CSV, for the agents and supervisors who may read the conversations they came from."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select

from inbox.access import CONVERSATION_ROLES, visible_conversations
from inbox.auth import api_user, require_roles
from inbox.db import session
from inbox.errors import ApiError
from inbox.models import METER_KINDS, Attachment, Conversation, MeterReading
from inbox.serializers import iso

bp = Blueprint("readings", __name__, url_prefix="/api/v1")
MAX_LIMIT = 500
CSV_FIELDS = (
    "receipt_number",
    "created_at",
    "contract",
    "meter",
    "index",
    "confirmed_unusual",
    "contact_id",
    "contact_name",
    "conversation_id",
    "photo_attachment_id",
    "photo_url",
)


def reading_json(reading: MeterReading, photo: Attachment | None = None) -> dict:
    """A reading as the API shows it."""
    return {
        "id": reading.id,
        "receipt_number": reading.receipt_number,
        "created_at": iso(reading.created_at),
        "contract": reading.contract,
        "meter": reading.meter,
        "index": reading.index_value,
        "confirmed_unusual": reading.confirmed_unusual,
        "contact": {"id": reading.contact_id, "name": reading.contact.name if reading.contact else None},
        "conversation_id": reading.conversation_id,
        "photo_attachment_id": reading.photo_attachment_id,
        "photo_url": f"/media/{photo.id}" if photo is not None and photo.state == "ready" else None,
    }


def _time(name: str) -> datetime | None:
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


def _whole(name: str, default: int | None, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        raise ApiError(
            400, "bad_parameter", "%(name)s must be a whole number from 1 to %(high)s.", name=name, high=high
        )
    return int(raw)


def _query():
    """The readings the user may see (those of conversations they can read), filtered by the query string."""
    visible = select(Conversation.id).where(visible_conversations(api_user()))
    query = select(MeterReading).where(MeterReading.conversation_id.in_(visible))
    meter = request.args.get("meter")
    if meter:
        if meter not in METER_KINDS:
            raise ApiError(400, "bad_parameter", "meter is one of %(kinds)s.", kinds=", ".join(METER_KINDS))
        query = query.where(MeterReading.meter == meter)
    if contract := request.args.get("contract", "").strip():
        query = query.where(MeterReading.contract == contract)
    if receipt := request.args.get("receipt", "").strip():
        query = query.where(MeterReading.receipt_number == receipt)
    if (conversation := _whole("conversation", None, 2**31)) is not None:
        query = query.where(MeterReading.conversation_id == conversation)
    if (contact := _whole("contact", None, 2**31)) is not None:
        query = query.where(MeterReading.contact_id == contact)
    if since := _time("since"):
        query = query.where(MeterReading.created_at >= since)
    if until := _time("until"):
        query = query.where(MeterReading.created_at < until)
    return query.order_by(MeterReading.created_at.desc(), MeterReading.id.desc())


@bp.get("/meter-readings")
@require_roles(*CONVERSATION_ROLES)
def list_readings():
    """Readings, newest first; filters meter, contract, receipt, conversation, contact, since, until, limit;
    `format=csv` exports every match."""
    query = _query()
    csv_export = request.args.get("format") == "csv"
    if not csv_export:
        query = query.limit(_whole("limit", 100, MAX_LIMIT))
    readings = session().scalars(query).all()
    photo_ids = [r.photo_attachment_id for r in readings if r.photo_attachment_id]
    photos = {a.id: a for a in session().scalars(select(Attachment).where(Attachment.id.in_(photo_ids)))}
    items = [reading_json(r, photos.get(r.photo_attachment_id)) for r in readings]
    if not csv_export:
        return jsonify({"items": items})
    return _csv(items)


def _csv(items: list[dict]):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIELDS)
    for item in items:
        row = {**item, "contact_id": item["contact"]["id"], "contact_name": item["contact"]["name"]}
        writer.writerow(_safe([row[name] for name in CSV_FIELDS]))
    response = current_app.response_class("\ufeff" + buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="meter-readings.csv"'
    return response


def _safe(row: list) -> list:
    """Cells a spreadsheet would run as formulas (=, +, -, @ first) are kept as text."""
    return [f"'{value}" if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") else value for value in row]
