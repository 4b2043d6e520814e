"""Admins change the business calendars (hours, delays, holidays) through the API and their page; a change moves
the due times still ahead of the conversations waiting, never one already passed; bad input changes nothing."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.inbox.test_api import conforms, openapi_document, response_schema
from tests.inbox.test_directory import login
from tests.inbox.test_sla import customer_writes

CASABLANCA = ZoneInfo("Africa/Casablanca")
DEFAULT_WEEK = {day: [["10:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")} | {"sun": []}


def weekday_ahead(weekday: int, days: int = 8) -> date:
    """The first date on `weekday` (0 Monday) at least `days` from today: due times ahead of the real clock."""
    start = datetime.now(CASABLANCA).date() + timedelta(days=days)
    return start + timedelta(days=(weekday - start.weekday()) % 7)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CASABLANCA)


@pytest.fixture
def waiting(app, db, whatsapp_account):
    """Two conversations on the WhatsApp account: one whose customer writes on a Friday at 19:55 ahead (first
    take due on Saturday at 10:10), one whose first take was due yesterday and is breached."""
    from inbox.models import Contact, ContactIdentity, Conversation

    made = {}
    for name, address in (("ahead", "212600000011"), ("passed", "212600000012")):
        contact = Contact(name=name)
        identity = ContactIdentity(contact=contact, account_id=whatsapp_account.id, external_id=address)
        conversation = Conversation(account_id=whatsapp_account.id, contact=contact, identity=identity, status="open")
        db.add(conversation)
        db.commit()
        made[name] = conversation.id
    friday = weekday_ahead(4)
    customer_writes(app, made["ahead"], local(friday, 19, 55))
    customer_writes(app, made["passed"], datetime.now(UTC) - timedelta(days=8))
    made["saturday"] = friday + timedelta(days=1)
    made["account_id"] = whatsapp_account.id
    return made


def first_due(client, users, conversation_id) -> datetime:
    found = client.get(f"/api/v1/conversations/{conversation_id}", headers=users.headers("supervisor")).get_json()
    return datetime.fromisoformat(found["first_response_due_at"])


def test_accounts_show_their_hours_and_delays_and_no_secret(client, users, whatsapp_account):
    response = client.get("/api/v1/channel-accounts", headers=users.headers("supervisor"))
    assert response.status_code == 200
    [account] = response.get_json()["items"]
    assert account == {
        "id": whatsapp_account.id,
        "platform": "whatsapp",
        "name": "WhatsApp test",
        "business_hours": DEFAULT_WEEK,
        "first_response_minutes": 15,
        "next_response_minutes": 15,
        "defaults": ["business_hours", "first_response_minutes", "next_response_minutes"],
    }
    assert "test-token" not in response.get_data(as_text=True)
    document = openapi_document()
    conforms(document, response_schema(document, "get", "/api/v1/channel-accounts", 200), response.get_json())


def test_an_admin_changes_hours_and_delays(client, users, whatsapp_account):
    admin = users.headers("admin")
    url = f"/api/v1/channel-accounts/{whatsapp_account.id}/calendar"
    hours = {"mon": [["14:00", "20:00"], ["08:30", "12:30"]], "fri": [["08:30", "11:30"]], "sat": [["10:00", "00:00"]]}
    response = client.patch(url, json={"business_hours": hours, "first_response_minutes": 30}, headers=admin)
    assert response.status_code == 200
    changed = response.get_json()
    assert changed["business_hours"]["mon"] == [["08:30", "12:30"], ["14:00", "20:00"]]  # sorted
    assert changed["business_hours"]["sat"] == [["10:00", "24:00"]]  # open until midnight
    assert changed["business_hours"]["tue"] == []  # a weekday left out is closed
    assert (changed["first_response_minutes"], changed["next_response_minutes"]) == (30, 15)
    assert changed["defaults"] == ["next_response_minutes"] and changed["rescheduled"] == 0
    listed = client.get("/api/v1/channel-accounts", headers=users.headers("supervisor")).get_json()["items"][0]
    assert listed["business_hours"] == changed["business_hours"]
    back = client.patch(url, json={"business_hours": None, "first_response_minutes": None}, headers=admin).get_json()
    assert back["business_hours"] == DEFAULT_WEEK and back["first_response_minutes"] == 15


@pytest.mark.parametrize(
    "body, says",
    [
        ({"business_hours": {"mon": [["12:00", "10:00"]]}, "first_response_minutes": 20}, "mon: an interval must end"),
        ({"business_hours": {"mon": [["10:00", "13:00"], ["12:00", "14:00"]]}}, "overlap"),
        ({"business_hours": {"lundi": [["10:00", "13:00"]]}}, "Unknown weekdays: lundi"),
        ({"business_hours": {"mon": [["10h", "13h"]]}}, "times are HH:MM"),
        ({"business_hours": {"mon": "10:00-20:00"}}, "list of [start, end]"),
        ({"business_hours": {"sun": []}}, "open at some time of the week"),
        ({"first_response_minutes": 0}, "from 1 to 1440"),
        ({"first_response_minutes": "15"}, "from 1 to 1440"),
        ({"next_response_minutes": True}, "from 1 to 1440"),
        ({"first_response_minutes": 20, "timezone": "UTC"}, "Unknown settings: timezone"),
    ],
)
def test_a_bad_calendar_is_refused_and_changes_nothing(client, users, whatsapp_account, body, says):
    url = f"/api/v1/channel-accounts/{whatsapp_account.id}/calendar"
    response = client.patch(url, json=body, headers=users.headers("admin"))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "bad_calendar"
    assert says in response.get_json()["error"]["message"]
    listed = client.get("/api/v1/channel-accounts", headers=users.headers("admin")).get_json()["items"][0]
    assert listed["business_hours"] == DEFAULT_WEEK and listed["first_response_minutes"] == 15


def test_calendar_refusals_speak_the_admins_language(client, users, whatsapp_account):
    url = f"/api/v1/channel-accounts/{whatsapp_account.id}/calendar?lang=fr"
    response = client.patch(url, json={"first_response_minutes": 0}, headers=users.headers("admin"))
    assert response.get_json()["error"]["code"] == "bad_calendar"
    assert "minutes ouvrées" in response.get_json()["error"]["message"]
    assert client.patch(url, json=[1], headers=users.headers("admin")).status_code == 400
    assert (
        client.patch("/api/v1/channel-accounts/999/calendar", json={}, headers=users.headers("admin")).status_code
        == 404
    )


def test_a_holiday_moves_the_due_times_ahead_and_not_those_passed(client, users, waiting):
    saturday = waiting["saturday"]
    monday = saturday + timedelta(days=2)
    passed_before = first_due(client, users, waiting["passed"])
    assert first_due(client, users, waiting["ahead"]) == local(saturday, 10, 10)
    added = client.post(
        "/api/v1/holidays", json={"name": "Aïd al-Fitr", "date": saturday.isoformat()}, headers=users.headers("admin")
    )
    assert added.status_code == 201
    holiday = added.get_json()
    assert holiday["rescheduled"] == 1 and holiday["date"] == saturday.isoformat() and holiday["recurring"] is False
    assert first_due(client, users, waiting["ahead"]) == local(monday, 10, 10)
    found = client.get(f"/api/v1/conversations/{waiting['ahead']}", headers=users.headers("supervisor")).get_json()
    assert datetime.fromisoformat(found["sla"]["answer_due_at"]) == local(monday, 19, 55)  # 600 business minutes
    assert first_due(client, users, waiting["passed"]) == passed_before  # a breach is not undone
    removed = client.delete(f"/api/v1/holidays/{holiday['id']}", headers=users.headers("admin"))
    assert removed.status_code == 200 and removed.get_json() == {"id": holiday["id"], "rescheduled": 1}
    assert first_due(client, users, waiting["ahead"]) == local(saturday, 10, 10)
    assert client.delete(f"/api/v1/holidays/{holiday['id']}", headers=users.headers("admin")).status_code == 404


def test_an_accounts_own_holiday_and_hours_move_its_conversations_only(client, users, waiting, facebook_account):
    saturday = waiting["saturday"]
    other = client.post(
        "/api/v1/holidays",
        json={"name": "Inventaire", "date": saturday.isoformat(), "account_id": facebook_account.id},
        headers=users.headers("admin"),
    )
    assert other.status_code == 201 and other.get_json()["rescheduled"] == 0
    url = f"/api/v1/channel-accounts/{waiting['account_id']}/calendar"
    hours = dict(DEFAULT_WEEK, sat=[["09:00", "13:00"]])
    changed = client.patch(
        url, json={"business_hours": hours, "first_response_minutes": 45}, headers=users.headers("admin")
    )
    assert changed.get_json()["rescheduled"] == 1
    assert first_due(client, users, waiting["ahead"]) == local(saturday, 9, 40)  # 5 minutes on Friday, 40 on Saturday


def test_a_due_time_change_is_announced_to_supervisors(app, client, users, waiting):
    from inbox.realtime import socketio

    listener = socketio.test_client(app, auth={"token": users.tokens["supervisor"]})
    try:
        listener.get_received()
        response = client.post(
            "/api/v1/holidays",
            json={"name": "Aïd", "date": waiting["saturday"].isoformat()},
            headers=users.headers("admin"),
        )
        assert response.status_code == 201
        heard = listener.get_received()
    finally:
        listener.disconnect()
    updated = [e["args"][0] for e in heard if e["name"] == "conversation.updated"]
    assert [u["conversation_id"] for u in updated] == [waiting["ahead"]]
    monday = waiting["saturday"] + timedelta(days=2)
    assert datetime.fromisoformat(updated[0]["conversation"]["first_response_due_at"]) == local(monday, 10, 10)
    assert len([e for e in heard if e["name"] == "board.changed"]) == 1  # one refetch of the board, not one each


def test_holidays_are_listed_by_year(client, users, app, whatsapp_account):
    from inbox.calendars import seed_holidays
    from inbox.db import session

    with app.app_context():
        seed_holidays()
        session().commit()
    admin = users.headers("admin")
    assert (
        client.post("/api/v1/holidays", json={"name": "Aïd al-Adha", "date": "2028-05-05"}, headers=admin).status_code
        == 201
    )
    leap = {"name": "Jour bissextile", "date": "2024-02-29", "recurring": True, "account_id": whatsapp_account.id}
    assert client.post("/api/v1/holidays", json=leap, headers=admin).status_code == 201
    in_2028 = client.get("/api/v1/holidays?year=2028", headers=users.headers("supervisor")).get_json()
    dates = [item["date"] for item in in_2028["items"]]
    assert in_2028["year"] == 2028 and dates == sorted(dates)
    document = openapi_document()
    conforms(document, response_schema(document, "get", "/api/v1/holidays", 200), in_2028)
    assert {"2028-01-11", "2028-02-29", "2028-05-05", "2028-11-18"} <= set(dates) and len(dates) == 12
    in_2029 = [item["date"] for item in client.get("/api/v1/holidays?year=2029", headers=admin).get_json()["items"]]
    assert "2029-01-11" in in_2029 and not {"2029-05-05", "2029-02-28"} & set(in_2029) and len(in_2029) == 10
    assert client.get("/api/v1/holidays?year=20x8", headers=admin).status_code == 400


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"name": "Aïd", "date": "2028-13-01"}, 422, "bad_holiday"),
        ({"name": "", "date": "2028-05-05"}, 422, "bad_holiday"),
        ({"date": "2028-05-05"}, 422, "bad_holiday"),
        ({"name": "Aïd", "date": "2028-05-05", "recurring": "yes"}, 422, "bad_holiday"),
        ({"name": "Aïd", "date": "2028-05-05", "account_id": 999}, 422, "bad_holiday"),
        ({"name": "Aïd", "date": "2028-05-05", "colour": "green"}, 400, "bad_request"),
        ({"name": "Aïd bis", "date": "2028-05-05"}, 409, "holiday_exists"),
    ],
)
def test_bad_holidays_are_refused_and_add_nothing(client, users, body, status, code):
    admin = users.headers("admin")
    assert client.post("/api/v1/holidays", json={"name": "Aïd", "date": "2028-05-05"}, headers=admin).status_code == 201
    response = client.post("/api/v1/holidays", json=body, headers=admin)
    assert response.status_code == status and response.get_json()["error"]["code"] == code
    assert len(client.get("/api/v1/holidays?year=2028", headers=admin).get_json()["items"]) == 1


def test_the_next_response_delay_is_the_accounts_own(app, db, whatsapp_account):
    from inbox import sla
    from inbox.db import session
    from inbox.models import ChannelAccount, Contact, ContactIdentity, Conversation

    db.get(ChannelAccount, whatsapp_account.id).next_response_minutes = 30
    contact = Contact(name="Client")
    identity = ContactIdentity(contact=contact, account_id=whatsapp_account.id, external_id="212600000021")
    conversation = Conversation(account_id=whatsapp_account.id, contact=contact, identity=identity, status="open")
    db.add(conversation)
    db.commit()
    monday = local(date(2026, 12, 7), 10)
    customer_writes(app, conversation.id, monday)
    with app.app_context():
        sla.agent_answered(conversation.id, monday + timedelta(minutes=5))
        session().commit()
    customer_writes(app, conversation.id, local(date(2026, 12, 7), 19, 50))
    with app.app_context():
        again = session().get(Conversation, conversation.id)
        assert again.next_response_due_at == local(date(2026, 12, 8), 10, 20)  # 10 minutes Monday, 20 Tuesday


def test_the_calendar_page_is_for_admins_and_linked_from_their_inbox(app, users, whatsapp_account):
    for role, allowed in (("agent", False), ("supervisor", False), ("admin", True)):
        browser = app.test_client()
        login(browser, f"{role}@example.com")
        assert browser.get("/admin/calendar?lang=en").status_code == (200 if allowed else 403), role
        assert ('href="/admin/calendar"' in browser.get("/?lang=en").get_data(as_text=True)) == allowed, role
    assert app.test_client().get("/admin/calendar").status_code == 302
    french = app.test_client()
    login(french, "admin@example.com")
    page = french.get("/admin/calendar").get_data(as_text=True)
    assert "Calendriers" in page and 'value="10:00-20:00"' in page and "<script>" not in page


def test_an_admin_edits_hours_and_holidays_from_the_page(app, users, waiting, whatsapp_account):
    browser = app.test_client()
    login(browser, "admin@example.com")
    year = waiting["saturday"].year
    page = browser.get(f"/admin/calendar?year={year}&lang=en").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"csrf_token": csrf, "date": waiting["saturday"].isoformat(), "name": "Aïd al-Fitr", "account_id": ""}
    added = browser.post(f"/admin/calendar/holidays?year={year}&lang=en", data=form, follow_redirects=True)
    assert added.status_code == 200
    html = added.get_data(as_text=True)
    assert "Saved. Due times moved: 1." in html and "Aïd al-Fitr" in html
    hours = {f"hours_{day}": "" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    bad = dict(
        hours, hours_mon="10:00 to 12:00", first_response_minutes="15", next_response_minutes="", csrf_token=csrf
    )
    refused = browser.post(f"/admin/calendar/accounts/{whatsapp_account.id}?lang=en", data=bad)
    assert refused.status_code == 422
    assert "mon: write the hours as 10:00-13:00, 14:00-20:00" in refused.get_data(as_text=True)
    good = dict(bad, hours_mon="08:30-12:30, 14:00-18:00", hours_sat="09:00-13:00", first_response_minutes="20")
    saved = browser.post(f"/admin/calendar/accounts/{whatsapp_account.id}?lang=en", data=good, follow_redirects=True)
    assert saved.status_code == 200 and 'value="08:30-12:30, 14:00-18:00"' in saved.get_data(as_text=True)
    listed = browser.get("/api/v1/channel-accounts").get_json()["items"][0]
    assert listed["business_hours"]["mon"] == [["08:30", "12:30"], ["14:00", "18:00"]]
    assert listed["business_hours"]["tue"] == [] and listed["first_response_minutes"] == 20
    assert listed["defaults"] == ["next_response_minutes"]
    restored = browser.post(
        f"/admin/calendar/accounts/{whatsapp_account.id}", data={"csrf_token": csrf, "restore": "1"}
    )
    assert restored.status_code == 302
    assert browser.get("/api/v1/channel-accounts").get_json()["items"][0]["business_hours"] == DEFAULT_WEEK
    no_token = browser.post(f"/admin/calendar/accounts/{whatsapp_account.id}", data={"restore": "1"})
    assert no_token.status_code == 400  # CSRF
