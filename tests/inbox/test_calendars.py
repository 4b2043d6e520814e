"""Calendars from the database: an account's own hours, shared and per-account holidays, the seeded fixed
dates, and the first-response due time that intake computes with them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from tests.conftest import fixture_bytes

CASABLANCA = ZoneInfo("Africa/Casablanca")


def test_fixed_holidays_are_seeded_once(app, db):
    from inbox.calendars import FIXED_HOLIDAYS, seed_holidays
    from inbox.db import session
    from inbox.models import Holiday

    with app.app_context():
        assert seed_holidays() == len(FIXED_HOLIDAYS)
        session().commit()
        assert seed_holidays() == 0
        session().commit()
    assert db.query(Holiday).count() == len(FIXED_HOLIDAYS)


def test_an_accounts_calendar_has_its_hours_and_its_holidays(app, db, whatsapp_account, facebook_account):
    from inbox.calendars import calendar_for, seed_holidays
    from inbox.db import session
    from inbox.models import ChannelAccount, Holiday

    db.add(Holiday(name="Aïd al-Fitr", day=date(2026, 3, 20), recurring=False))
    db.add(Holiday(name="Inventaire", day=date(2026, 12, 9), recurring=False, account_id=facebook_account.id))
    db.get(ChannelAccount, whatsapp_account.id).business_hours = {"mon": [["09:00", "17:00"]]}
    db.commit()
    with app.app_context():
        seed_holidays()
        whatsapp = calendar_for(session().get(ChannelAccount, whatsapp_account.id))
        facebook = calendar_for(session().get(ChannelAccount, facebook_account.id))
    assert {date(2026, 3, 20), date(2026, 7, 30), date(2027, 7, 30)} <= whatsapp.holidays
    assert date(2026, 12, 9) in facebook.holidays and date(2026, 12, 9) not in whatsapp.holidays
    monday_nine = datetime(2026, 12, 7, 9, 30, tzinfo=CASABLANCA)
    assert whatsapp.is_open(monday_nine) and not facebook.is_open(monday_nine)
    assert not whatsapp.is_open(datetime(2026, 12, 8, 10, 30, tzinfo=CASABLANCA))  # only Mondays


def test_intake_sets_the_first_response_due_time_in_business_minutes(client, users, post_webhook, whatsapp_account):
    body = json.loads(fixture_bytes("whatsapp/text.json"))
    # a Saturday at 19:55 in Casablanca: due on Monday at 10:10
    sent = datetime(2026, 12, 5, 19, 55, tzinfo=CASABLANCA)
    body["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = str(int(sent.timestamp()))
    assert post_webhook(json.dumps(body).encode()).status_code == 200
    conversation = client.get("/api/v1/conversations", headers=users.headers("agent")).get_json()["items"][0]
    due = datetime.fromisoformat(conversation["first_response_due_at"])
    assert due == datetime(2026, 12, 7, 10, 10, tzinfo=CASABLANCA).astimezone(UTC)
