"""Each channel account's business calendar, read from the database, Morocco's fixed-date holidays, and the
admins' changes to hours, delays and holidays (which move the due times still ahead: inbox/sla.py)."""

from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import func, or_, select

from connectors.base import N_
from inbox.business_time import DEFAULT_HOURS, Calendar, hours_json, parse_hours
from inbox.db import session
from inbox.errors import Refusal
from inbox.models import ChannelAccount, Holiday

SETTINGS = ("business_hours", "first_response_minutes", "next_response_minutes")
LONGEST_DELAY = 1440  # business minutes: more than two business days to take a contact is not a commitment
NAME_LIMIT = 200

# Morocco's public holidays on fixed dates. The religious ones (Eid al-Fitr, Eid al-Adha, 1 Muharram,
# Mawlid) follow the lunar calendar and the moon sighting: admins add each year's dates.
FIXED_HOLIDAYS = (
    ((1, 1), "Nouvel an"),
    ((1, 11), "Manifeste de l'indépendance"),
    ((1, 14), "Nouvel an amazigh"),
    ((5, 1), "Fête du travail"),
    ((7, 30), "Fête du trône"),
    ((8, 14), "Allégeance Oued Eddahab"),
    ((8, 20), "Révolution du roi et du peuple"),
    ((8, 21), "Fête de la jeunesse"),
    ((11, 6), "Marche verte"),
    ((11, 18), "Fête de l'indépendance"),
)
RECURRING_YEAR = 2000  # a leap year: 29 February can recur


def seed_holidays() -> int:
    """Add the fixed-date holidays when no recurring holiday exists yet (the caller commits)."""
    db = session()
    if db.scalar(select(func.count(Holiday.id)).where(Holiday.recurring.is_(True))):
        return 0
    for (month, day), name in FIXED_HOLIDAYS:
        db.add(Holiday(name=name, day=date(RECURRING_YEAR, month, day), recurring=True))
    return len(FIXED_HOLIDAYS)


def holidays_for(account_id: int | None, years: range) -> frozenset[date]:
    """The closed days of an account (its own and everyone's) in the given years."""
    rows = session().scalars(select(Holiday).where(or_(Holiday.account_id.is_(None), Holiday.account_id == account_id)))
    days = set()
    for holiday in rows:
        if not holiday.recurring:
            days.add(holiday.day)
            continue
        for year in years:
            try:
                days.add(holiday.day.replace(year=year))
            except ValueError:  # 29 February in a common year
                continue
    return frozenset(days)


def calendar_for(account: ChannelAccount) -> Calendar:
    """The business calendar of a channel account: its hours (or the contract's), holidays, TIMEZONE."""
    from inbox.db import utcnow

    year = utcnow().year
    return Calendar(
        timezone=current_app.config["TIMEZONE"],
        hours=parse_hours(account.business_hours or DEFAULT_HOURS),
        holidays=holidays_for(account.id, range(year - 1, year + 3)),
    )


def first_response_minutes(account: ChannelAccount) -> int:
    """Business minutes allowed to take a contact on this account."""
    return account.first_response_minutes or current_app.config["FIRST_RESPONSE_MINUTES"]


def next_response_minutes(account: ChannelAccount) -> int:
    """Business minutes allowed to answer a customer who writes again after an agent's answer."""
    return account.next_response_minutes or current_app.config["NEXT_RESPONSE_MINUTES"]


def account_calendar_json(account: ChannelAccount) -> dict:
    """An account's calendar settings as they apply (its own or the defaults, named in `defaults`)."""
    return {
        "id": account.id,
        "platform": account.platform,
        "name": account.name,
        "business_hours": hours_json(parse_hours(account.business_hours or DEFAULT_HOURS)),
        "first_response_minutes": first_response_minutes(account),
        "next_response_minutes": next_response_minutes(account),
        "defaults": [name for name in SETTINGS if getattr(account, name) is None],
    }


def change_calendar(account: ChannelAccount, changes: dict) -> None:
    """Apply an admin's changes to an account's hours and delays (null: back to the default); every value is
    checked before any is applied, so a refused change leaves the account as it was. The caller reschedules."""
    unknown = sorted(set(changes) - set(SETTINGS))
    if unknown:
        raise Refusal(
            N_("Unknown settings: %(names)s (use %(known)s)."), names=", ".join(unknown), known=", ".join(SETTINGS)
        )
    values = {}
    if "business_hours" in changes:
        values["business_hours"] = _checked_hours(changes["business_hours"])
    for name in SETTINGS[1:]:
        if name in changes:
            values[name] = _checked_delay(name, changes[name])
    for name, value in values.items():
        setattr(account, name, value)


def _checked_hours(raw) -> dict | None:
    if raw is None:
        return None
    hours = parse_hours(raw)
    if not any(hours.values()):
        raise Refusal(N_("The account must be open at some time of the week."))
    return hours_json(hours)  # stored in one form: every weekday, HH:MM


def _checked_delay(name: str, value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= LONGEST_DELAY:
        raise Refusal(
            N_("%(name)s is a whole number of business minutes from 1 to %(limit)s, or null."),
            name=name,
            limit=LONGEST_DELAY,
        )
    return value


def holidays_of_year(year: int) -> list[tuple[Holiday, date]]:
    """Every holiday falling in `year` with its date that year (a recurring 29 February only in leap years)."""
    found = []
    for holiday in session().scalars(select(Holiday)):
        day = holiday.day
        if holiday.recurring:
            try:
                day = day.replace(year=year)
            except ValueError:
                continue
        elif day.year != year:
            continue
        found.append((holiday, day))
    return sorted(found, key=lambda pair: (pair[1], pair[0].account_id or 0, pair[0].id))


def holiday_json(holiday: Holiday, day: date) -> dict:
    """A holiday as the API shows it: `date` is its date in the year listed."""
    return {
        "id": holiday.id,
        "name": holiday.name,
        "date": day.isoformat(),
        "recurring": holiday.recurring,
        "account_id": holiday.account_id,
    }


def add_holiday(name, day, recurring=False, account_id=None) -> Holiday:
    """Add a closed day: every year on this month and day (`recurring`), or this date only (an Eid); for one
    account or, with no account, for all. Refused when it is malformed or already there."""
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > NAME_LIMIT:
        raise Refusal(N_("name is a text of 1 to %(limit)s characters."), limit=NAME_LIMIT)
    if not isinstance(recurring, bool):
        raise Refusal(N_("recurring is true or false."))
    day = checked_day(day)
    if account_id is not None and not _is_account(account_id):
        raise Refusal(N_("account_id is the id of a channel account, or null for every account."))
    if recurring:
        day = day.replace(year=RECURRING_YEAR)
    same = select(Holiday.id).where(Holiday.day == day, Holiday.recurring.is_(recurring))
    same = same.where(Holiday.account_id.is_(None) if account_id is None else Holiday.account_id == account_id)
    if session().scalar(same) is not None:
        raise DuplicateHoliday(N_("That day is already a holiday."))
    holiday = Holiday(name=name.strip(), day=day, recurring=recurring, account_id=account_id)
    session().add(holiday)
    session().flush()
    return holiday


def _is_account(account_id) -> bool:
    if isinstance(account_id, bool) or not isinstance(account_id, int):
        return False
    return session().get(ChannelAccount, account_id) is not None


class DuplicateHoliday(Refusal):
    """The day is already a holiday of the same scope."""


def checked_day(value) -> date:
    """A date given as YYYY-MM-DD (or a date), or a Refusal."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise Refusal(N_("date is YYYY-MM-DD, e.g. 2027-03-20.")) from exc
