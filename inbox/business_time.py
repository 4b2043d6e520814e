"""Business time: opening hours per weekday (several intervals a day), public holidays, one time zone.

Two questions, and every due time in the service asks one of them: "this instant plus N business minutes"
(`Calendar.add_minutes`) and "business minutes between two instants" (`Calendar.minutes_between`). Local
times are turned into instants through the tz database (zoneinfo), never a fixed offset: Africa/Casablanca
leaves UTC+1 for UTC+0 during Ramadan, and an opening at 10:00 local is a different UTC instant either side.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from connectors.base import N_
from inbox.errors import Refusal

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The contract's hours for the online channels: 10:00-20:00, Monday to Saturday.
DEFAULT_HOURS = {day: (("10:00", "20:00"),) for day in WEEKDAYS[:6]}
# Horizon of the search for open time: a calendar open less than once a year is a configuration error.
HORIZON_DAYS = 400


class ClosedCalendar(ValueError):
    """The calendar has no opening time within the horizon."""


def parse_hours(raw: dict) -> dict[int, tuple[tuple[time, time], ...]]:
    """{"mon": [["10:00", "20:00"], ...], ...} as weekday -> sorted, non-overlapping (start, end) local times.

    Raises a Refusal (a ValueError) with a sentence an admin understands, in their language when shown."""
    if not isinstance(raw, dict):
        raise Refusal(N_("Opening hours are an object of weekdays (mon ... sun) to lists of [start, end]."))
    unknown = sorted(set(raw) - set(WEEKDAYS))
    if unknown:
        raise Refusal(
            N_("Unknown weekdays: %(days)s (use mon, tue, wed, thu, fri, sat, sun)."), days=", ".join(unknown)
        )
    hours = {}
    for name, intervals in raw.items():
        if intervals is not None and not isinstance(intervals, list | tuple):
            raise Refusal(N_('The hours of %(day)s are a list of [start, end], e.g. [["10:00", "20:00"]].'), day=name)
        parsed = sorted(_interval(name, pair) for pair in intervals or ())
        for (_, end), (start, _) in zip(parsed, parsed[1:], strict=False):
            if start < end:
                raise Refusal(N_("The opening hours of %(day)s overlap."), day=name)
        hours[WEEKDAYS.index(name)] = tuple(parsed)
    return hours


def hours_json(hours: dict[int, tuple[tuple[time, time], ...]]) -> dict[str, list[list[str]]]:
    """Parsed hours back in their stored form, every weekday present ([] when closed); midnight is "24:00"."""
    return {
        name: [[start.strftime("%H:%M"), _end_text(end)] for start, end in hours.get(i, ())]
        for i, name in enumerate(WEEKDAYS)
    }


def _end_text(end: time) -> str:
    return "24:00" if end == time.max else end.strftime("%H:%M")


def _interval(day: str, pair) -> tuple[time, time]:
    if not isinstance(pair, list | tuple) or len(pair) != 2:
        raise Refusal(N_('Each interval of %(day)s is [start, end], e.g. ["10:00", "20:00"].'), day=day)
    try:
        start, end = (_clock(value) for value in pair)
    except ValueError as exc:
        raise Refusal(N_("%(day)s: times are HH:MM, e.g. 10:00."), day=day) from exc
    if end == time(0, 0):
        end = time.max  # an end at 00:00 (or 24:00): open until midnight
    if not start < end:
        raise Refusal(
            N_("%(day)s: an interval must end after it starts (%(start)s-%(end)s)."),
            day=day,
            start=pair[0],
            end=pair[1],
        )
    return start, end


def _clock(value) -> time:
    text = str(value).strip()
    return time.max if text == "24:00" else time.fromisoformat(text)


@dataclass(frozen=True)
class Calendar:
    """Opening hours and holidays in one time zone; every instant given and returned is timezone-aware."""

    timezone: str = "Africa/Casablanca"
    hours: dict[int, tuple[tuple[time, time], ...]] = field(default_factory=lambda: parse_hours(DEFAULT_HOURS))
    holidays: frozenset[date] = frozenset()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def open_intervals(self, start: datetime, until: datetime | None = None) -> Iterator[tuple[datetime, datetime]]:
        """The open intervals, as UTC instants, overlapping [start, until) (or from start on), in order."""
        _aware(start)
        zone = self.zone
        day = start.astimezone(zone).date() - timedelta(days=1)  # an interval of the day before may still run
        last = day + timedelta(days=HORIZON_DAYS)
        if until is not None:
            last = min(last, until.astimezone(zone).date() + timedelta(days=1))
        while day <= last:
            if day not in self.holidays:
                for open_at, close_at in self.hours.get(day.weekday(), ()):
                    begin = _instant(day, open_at, zone)
                    end = (
                        _instant(day, close_at, zone)
                        if close_at != time.max
                        else _instant(day + timedelta(days=1), time(0, 0), zone)
                    )
                    if end <= start or end <= begin:
                        continue
                    if until is not None and begin >= until:
                        return
                    yield max(begin, start), end if until is None else min(end, until)
            day += timedelta(days=1)

    def is_open(self, instant: datetime) -> bool:
        """Whether the service is open at this instant."""
        for begin, _ in self.open_intervals(instant, instant + timedelta(microseconds=1)):
            return begin <= instant
        return False

    def add_minutes(self, start: datetime, minutes: float) -> datetime:
        """The instant `minutes` business minutes after `start` (as UTC); closed time does not count."""
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        remaining = timedelta(minutes=minutes)
        if not remaining:
            return start.astimezone(UTC)
        for begin, end in self.open_intervals(start):
            if end - begin >= remaining:
                return begin + remaining
            remaining -= end - begin
        raise ClosedCalendar(f"no opening time within {HORIZON_DAYS} days of {start.isoformat()}")

    def minutes_between(self, earlier: datetime, later: datetime) -> float:
        """Business minutes from `earlier` to `later` (negative when `later` comes first)."""
        if later < earlier:
            return -self.minutes_between(later, earlier)
        total = sum((end - begin for begin, end in self.open_intervals(earlier, later)), timedelta())
        return total / timedelta(minutes=1)

    def next_open(self, instant: datetime) -> datetime:
        """The instant itself when open, else when the service opens next."""
        for begin, _ in self.open_intervals(instant):
            return begin
        raise ClosedCalendar(f"no opening time within {HORIZON_DAYS} days of {instant.isoformat()}")

    def end_of_business_day(self, instant: datetime, days_after: int = 0) -> datetime:
        """When the business day holding `instant` (or the next one, when closed) ends, `days_after` business
        days later: J+1 is `days_after=1`."""
        day = self.next_open(instant).astimezone(self.zone).date()
        counted = 0
        while True:
            intervals = [] if day in self.holidays else self.hours.get(day.weekday(), ())
            if intervals:
                if counted == days_after:
                    closing = intervals[-1][1]
                    if closing == time.max:
                        return _instant(day + timedelta(days=1), time(0, 0), self.zone)
                    return _instant(day, closing, self.zone)
                counted += 1
            day += timedelta(days=1)


def _aware(value: datetime) -> None:
    if value.tzinfo is None:
        raise ValueError("business time needs timezone-aware instants")


def _instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """A local wall time as a UTC instant. A time repeated when the clock goes back is its first occurrence;
    a time skipped when it goes forward is read with the offset before the change (PEP 495), so it lands
    after the change, as a wall clock moved forward would show it."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
