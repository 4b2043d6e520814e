"""Business calendars under /api/v1: each channel account's hours and delays, and the holidays (documented in
openapi/calendars.json). Admins change them; supervisors read them. A change moves the due times still ahead."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy import select

from inbox import calendars, sla, supervision
from inbox.auth import require_roles
from inbox.db import session, utcnow
from inbox.errors import ApiError, Refusal, get_or_404, json_body
from inbox.models import ChannelAccount, Holiday

bp = Blueprint("calendars", __name__, url_prefix="/api/v1")
READERS = ("supervisor", "admin")


@bp.get("/channel-accounts")
@require_roles(*READERS)
def list_accounts():
    """Every channel account with its opening hours and delays as they apply."""
    accounts = session().scalars(select(ChannelAccount).order_by(ChannelAccount.id))
    items = [calendars.account_calendar_json(account) for account in accounts]
    session().commit()
    return jsonify({"items": items})


@bp.patch("/channel-accounts/<int:account_id>/calendar")
@require_roles("admin")
def change_account_calendar(account_id: int):
    """Change an account's opening hours and delays (null: back to the default)."""
    account = get_or_404(ChannelAccount, account_id, "channel account")
    body = json_body()
    try:
        calendars.change_calendar(account, body)
    except Refusal as refusal:
        session().rollback()
        raise refusal.api_error(422, "bad_calendar") from refusal
    result = calendars.account_calendar_json(account)
    result["rescheduled"] = sla.reschedule_and_announce({account.id})
    return jsonify(result)


def _year() -> int:
    raw = request.args.get("year")
    if raw is None:
        return utcnow().astimezone(supervision.zone()).year
    if not raw.isdigit() or not 2000 <= int(raw) <= 2100:
        raise ApiError(400, "bad_parameter", "year is a year from 2000 to 2100, e.g. 2027.")
    return int(raw)


@bp.get("/holidays")
@require_roles(*READERS)
def list_holidays():
    """The holidays falling in a year (`year`, this one by default), with their date that year."""
    year = _year()
    items = [calendars.holiday_json(holiday, day) for holiday, day in calendars.holidays_of_year(year)]
    session().commit()
    return jsonify({"year": year, "items": items})


@bp.post("/holidays")
@require_roles("admin")
def add_holiday():
    """Add a holiday: `name`, `date` (YYYY-MM-DD), `recurring` (every year; false by default), `account_id`
    (null: every account)."""
    body = json_body()
    unknown = sorted(set(body) - {"name", "date", "recurring", "account_id"})
    if unknown:
        raise ApiError(400, "bad_request", "Unknown fields: %(names)s.", names=", ".join(unknown))
    try:
        holiday = calendars.add_holiday(
            body.get("name"), body.get("date"), body.get("recurring", False), body.get("account_id")
        )
    except calendars.DuplicateHoliday as refusal:
        session().rollback()
        raise refusal.api_error(409, "holiday_exists") from refusal
    except Refusal as refusal:
        session().rollback()
        raise refusal.api_error(422, "bad_holiday") from refusal
    day = calendars.checked_day(body["date"])
    result = calendars.holiday_json(holiday, day)
    result["rescheduled"] = sla.reschedule_and_announce(sla.holiday_scope(holiday))
    return jsonify(result), 201


@bp.delete("/holidays/<int:holiday_id>")
@require_roles("admin")
def remove_holiday(holiday_id: int):
    """Remove a holiday (the centre opens that day after all)."""
    holiday = get_or_404(Holiday, holiday_id, "holiday")
    scope = sla.holiday_scope(holiday)
    session().delete(holiday)
    session().flush()
    return jsonify({"id": holiday_id, "rescheduled": sla.reschedule_and_announce(scope)})
