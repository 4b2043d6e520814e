"""Admin pages in the browser: the customer directory's CSV import, and the business calendars."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select

from connectors.base import N_
from inbox import calendars, directory, sla, supervision
from inbox.business_time import WEEKDAYS
from inbox.db import session, utcnow
from inbox.errors import Refusal
from inbox.models import ChannelAccount, Holiday

bp = Blueprint("admin_web", __name__, url_prefix="/admin")


def _admin_only() -> None:
    if current_user.role != "admin":
        abort(403)


@bp.route("/directory", methods=["GET", "POST"])
@login_required
def directory_page():
    """Upload a CSV of directory entries (admins) and see the import's report."""
    _admin_only()
    report, error, status = None, None, 200
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            error, status = "Choose a CSV file to import.", 400
        else:
            try:
                report = directory.import_customers(upload.stream, current_user.id)
            except directory.UnreadableFile as failure:
                session().rollback()
                error, status = failure.message, 422  # in the page's language
    from inbox.directory_api import count

    return render_template("admin/directory.html", report=report, error=error, total=count()), status


# ---------------------------------------------------------------- calendars


def _year() -> int:
    raw = request.values.get("year", "")
    if raw.isdigit() and 2000 <= int(raw) <= 2100:
        return int(raw)
    return utcnow().astimezone(supervision.zone()).year


def _calendar_page(error: str | None = None, status: int = 200):
    year = _year()
    accounts = list(session().scalars(select(ChannelAccount).order_by(ChannelAccount.id)))
    page = render_template(
        "admin/calendar.html",
        year=year,
        holidays=calendars.holidays_of_year(year),
        accounts=[(account, calendars.account_calendar_json(account)) for account in accounts],
        weekdays=WEEKDAYS,
        error=error,
    )
    session().commit()
    return page, status


@bp.get("/calendar")
@login_required
def calendar_page():
    """Each account's opening hours and delays, and a year's holidays, for admins to change."""
    _admin_only()
    return _calendar_page()


def _saved(scope: set[int] | None):
    """Move the running due times of the changed accounts (None: all), commit, announce, and come back."""
    moved = sla.reschedule_and_announce(scope)
    flash(gettext("Saved. Due times moved: %(count)s.", count=moved))
    return redirect(url_for("admin_web.calendar_page", year=_year()))


@bp.post("/calendar/holidays")
@login_required
def add_holiday_form():
    """Add a holiday from the page's form."""
    _admin_only()
    form = request.form
    account = form.get("account_id", "")
    try:
        holiday = calendars.add_holiday(
            form.get("name", ""), form.get("date", ""), form.get("recurring") == "1", int(account) if account else None
        )
    except (Refusal, ValueError) as refusal:
        session().rollback()
        return _calendar_page(_shown(refusal), 422)
    return _saved(sla.holiday_scope(holiday))


@bp.post("/calendar/holidays/<int:holiday_id>/delete")
@login_required
def remove_holiday_form(holiday_id: int):
    """Remove a holiday from the page's list."""
    _admin_only()
    holiday = session().get(Holiday, holiday_id)
    if holiday is None:
        return _calendar_page(gettext("That holiday was already removed."), 404)
    scope = sla.holiday_scope(holiday)
    session().delete(holiday)
    session().flush()
    return _saved(scope)


@bp.post("/calendar/accounts/<int:account_id>")
@login_required
def change_account_form(account_id: int):
    """Save an account's hours and delays from its form (or restore the defaults)."""
    _admin_only()
    account = session().get(ChannelAccount, account_id)
    if account is None:
        abort(404)
    try:
        calendars.change_calendar(account, _calendar_changes(request.form))
    except Refusal as refusal:
        session().rollback()
        return _calendar_page(_shown(refusal), 422)
    return _saved({account.id})


def _calendar_changes(form) -> dict:
    if form.get("restore") == "1":
        return dict.fromkeys(calendars.SETTINGS)
    hours = {day: _intervals(day, form.get(f"hours_{day}", "")) for day in WEEKDAYS}
    return {
        "business_hours": hours,
        "first_response_minutes": _minutes(form.get("first_response_minutes", "")),
        "next_response_minutes": _minutes(form.get("next_response_minutes", "")),
    }


def _intervals(day: str, text: str) -> list[list[str]]:
    """ "10:00-13:00, 14:00-20:00" as [["10:00", "13:00"], ["14:00", "20:00"]]; empty: closed that day."""
    intervals = []
    for part in text.replace("–", "-").split(","):
        if not part.strip():
            continue
        bounds = [bound.strip() for bound in part.split("-")]
        if len(bounds) != 2 or not all(bounds):
            raise Refusal(N_("%(day)s: write the hours as 10:00-13:00, 14:00-20:00 (empty: closed)."), day=day)
        intervals.append(bounds)
    return intervals


def _minutes(text: str):
    """A form's minutes: empty is the default (None); anything else must be a whole number."""
    text = text.strip()
    if not text:
        return None
    return int(text) if text.isdigit() else text  # a non-number is refused by change_calendar with its reason


def _shown(refusal: Exception) -> str:
    return refusal.message if isinstance(refusal, Refusal) else gettext("That account does not exist.")
