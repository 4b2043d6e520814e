"""Each channel account's business calendar, read from the database, and Morocco's fixed-date holidays."""

from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import func, or_, select

from inbox.business_time import DEFAULT_HOURS, Calendar, parse_hours
from inbox.db import session
from inbox.models import ChannelAccount, Holiday

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
