"""Business-time arithmetic: the contract's examples, and properties over weekends, holidays, split days and
Morocco's Ramadan offset change (Africa/Casablanca leaves UTC+1 for UTC+0 from 15 February to 22 March 2026)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inbox.business_time import Calendar, ClosedCalendar, parse_hours

CASABLANCA = ZoneInfo("Africa/Casablanca")
DEFAULT = Calendar()
SPLIT = Calendar(hours=parse_hours({d: [["08:30", "12:00"], ["14:00", "18:00"]] for d in ("mon", "tue", "wed", "thu")}))
HOLIDAYS = Calendar(holidays=frozenset({date(2026, 7, 30), date(2026, 8, 14), date(2026, 8, 20), date(2026, 8, 21)}))
CALENDARS = [DEFAULT, SPLIT, HOLIDAYS]


def local(*args) -> datetime:
    return datetime(*args, tzinfo=CASABLANCA)


# ---------------------------------------------------------------- the contract's examples


def test_a_message_at_19_55_on_saturday_is_due_at_10_10_on_monday():
    due = DEFAULT.add_minutes(local(2026, 12, 5, 19, 55), 15)  # 5 December 2026 is a Saturday
    assert due.astimezone(CASABLANCA) == local(2026, 12, 7, 10, 10)


def test_a_message_at_08_00_is_due_at_10_15():
    assert DEFAULT.add_minutes(local(2026, 12, 2, 8, 0), 15).astimezone(CASABLANCA) == local(2026, 12, 2, 10, 15)


def test_sunday_and_the_night_count_nothing():
    assert DEFAULT.minutes_between(local(2026, 12, 5, 20, 0), local(2026, 12, 7, 10, 0)) == 0
    assert DEFAULT.minutes_between(local(2026, 12, 2, 20, 0), local(2026, 12, 3, 9, 59)) == 0
    assert DEFAULT.minutes_between(local(2026, 12, 2, 19, 0), local(2026, 12, 3, 11, 0)) == 120


def test_holidays_are_closed():
    # Throne Day (Thursday 30 July 2026): a message at 19:50 on the 29th is due on the 31st
    due = HOLIDAYS.add_minutes(local(2026, 7, 29, 19, 50), 15)
    assert due.astimezone(CASABLANCA) == local(2026, 7, 31, 10, 5)
    assert HOLIDAYS.minutes_between(local(2026, 7, 30, 0, 0), local(2026, 7, 31, 0, 0)) == 0
    assert not HOLIDAYS.is_open(local(2026, 7, 30, 12, 0))


def test_split_days_skip_the_lunch_break():
    due = SPLIT.add_minutes(local(2026, 12, 2, 11, 50), 15)
    assert due.astimezone(CASABLANCA) == local(2026, 12, 2, 14, 5)
    assert SPLIT.minutes_between(local(2026, 12, 2, 8, 0), local(2026, 12, 2, 19, 0)) == 210 + 240
    # Thursday 18:00 to Monday 08:30: Friday to Sunday are closed in this calendar
    assert SPLIT.add_minutes(local(2026, 12, 3, 17, 55), 10).astimezone(CASABLANCA) == local(2026, 12, 7, 8, 35)


def test_opening_follows_the_ramadan_offset_change():
    before, during, after = local(2026, 2, 13, 10, 0), local(2026, 2, 16, 10, 0), local(2026, 3, 23, 10, 0)
    assert before.astimezone(UTC).hour == 9  # UTC+1
    assert during.astimezone(UTC).hour == 10  # UTC+0
    assert after.astimezone(UTC).hour == 9
    assert DEFAULT.next_open(local(2026, 2, 16, 7, 0)) == datetime(2026, 2, 16, 10, 0, tzinfo=UTC)
    # Friday 13 and Saturday 14 February count 600 minutes each; the change happens on the closed Sunday
    assert DEFAULT.minutes_between(before, during) == 1200
    assert DEFAULT.minutes_between(local(2026, 3, 21, 10, 0), local(2026, 3, 23, 10, 0)) == 600


def test_the_end_of_the_next_business_day():
    assert DEFAULT.end_of_business_day(local(2026, 12, 4, 15, 0), 1) == local(2026, 12, 5, 20, 0)  # Fri -> Sat
    assert DEFAULT.end_of_business_day(local(2026, 12, 5, 21, 0), 1) == local(2026, 12, 8, 20, 0)  # Sat night
    assert HOLIDAYS.end_of_business_day(local(2026, 7, 29, 12, 0), 1) == local(2026, 7, 31, 20, 0)


def test_a_calendar_never_open_is_an_error_not_a_hang():
    with pytest.raises(ClosedCalendar):
        Calendar(hours={}).add_minutes(local(2026, 12, 2, 10, 0), 15)


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"monday": [["10:00", "20:00"]]}, "Unknown weekdays"),
        ({"mon": [["20:00", "10:00"]]}, "end after it starts"),
        ({"mon": [["10:00", "14:00"], ["13:00", "18:00"]]}, "overlap"),
        ({"mon": [["10h", "20h"]]}, "HH:MM"),
        ({"mon": [["10:00"]]}, "[start, end]"),
        ([], "object of weekdays"),
    ],
)
def test_bad_opening_hours_are_explained(raw, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_hours(raw)


def test_naive_instants_are_refused():
    with pytest.raises(ValueError):
        DEFAULT.add_minutes(datetime(2026, 12, 2, 10, 0), 15)


# ---------------------------------------------------------------- properties

instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)).map(
    lambda value: value.replace(microsecond=0)
)
calendars = st.sampled_from(CALENDARS)
minutes = st.integers(min_value=0, max_value=6000)


@settings(max_examples=150, deadline=None)
@given(calendars, instants, minutes, minutes)
def test_adding_is_monotonic_in_the_minutes(calendar, start, a, b):
    low, high = sorted((a, b))
    assert calendar.add_minutes(start, low) <= calendar.add_minutes(start, high)


@settings(max_examples=150, deadline=None)
@given(calendars, instants, instants, minutes)
def test_adding_is_monotonic_in_the_start(calendar, a, b, n):
    early, late = sorted((a, b))
    assert calendar.add_minutes(early, n) <= calendar.add_minutes(late, n)


@settings(max_examples=150, deadline=None)
@given(calendars, instants, minutes)
def test_the_minutes_added_are_the_minutes_between(calendar, start, n):
    due = calendar.add_minutes(start, n)
    assert calendar.minutes_between(start, due) == pytest.approx(n, abs=1e-6)
    if n:
        assert calendar.is_open(due - timedelta(seconds=1))  # the last minute counted was open time


@settings(max_examples=150, deadline=None)
@given(calendars, instants, instants, instants)
def test_minutes_between_are_additive(calendar, a, b, c):
    a, b, c = sorted((a, b, c))
    whole = calendar.minutes_between(a, c)
    assert whole == pytest.approx(calendar.minutes_between(a, b) + calendar.minutes_between(b, c), abs=1e-6)
    assert calendar.minutes_between(c, a) == pytest.approx(-whole, abs=1e-6)


@settings(max_examples=150, deadline=None)
@given(calendars, instants, st.integers(min_value=1, max_value=3 * 24 * 60))
def test_closed_time_is_never_counted(calendar, start, span):
    end = start + timedelta(minutes=span)
    counted = calendar.minutes_between(start, end)
    assert 0 <= counted <= span
    # counted minute by minute on the local clock: the two agree
    by_hand = sum(1 for m in range(span) if calendar.is_open(start + timedelta(minutes=m, seconds=30)))
    assert abs(counted - by_hand) <= 1
