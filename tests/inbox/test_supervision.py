"""The supervisor's board on a scripted day (known figures per hour slot), its live board.changed event, and the
anomaly log: detected once, listed per month, annotated, exported; every bad input a clear 4xx."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from tests.inbox.test_api import assert_error, conforms, openapi_document, response_schema

CASABLANCA = ZoneInfo("Africa/Casablanca")
DAY = datetime(2026, 12, 7, tzinfo=CASABLANCA)  # a Monday, open 10:00-20:00 (UTC+1)
NOW = DAY.replace(hour=13, minute=20)


def local(hour: int, minute: int = 0, days: int = 0) -> datetime:
    """A local time of the scripted Monday (or `days` later)."""
    return DAY.replace(hour=hour, minute=minute) + timedelta(days=days)


# (received, first agent reply or None); the due time of each is received + 15 business minutes.
SCRIPT = [
    (local(10, 5), local(10, 10)),  # in time
    (local(10, 20), local(10, 30)),  # in time
    (local(10, 40), local(11, 10)),  # taken late (due 10:55)
    (local(10, 55), None),  # never taken: breached at 11:10
    (local(11, 0), local(11, 5)),
    (local(11, 30), local(11, 40)),
    (local(13, 10), None),  # waiting in the queue, due 13:25: at risk at 13:20
]
EXPECTED_HOURS = [
    {"slot": "10:00", "received": 4, "taken": 3, "taken_in_time": 2, "take_rate": 0.75, "in_time_rate": 0.5},
    {"slot": "11:00", "received": 2, "taken": 2, "taken_in_time": 2, "take_rate": 1.0, "in_time_rate": 1.0},
    {"slot": "12:00", "received": 0, "taken": 0, "taken_in_time": 0, "take_rate": None, "in_time_rate": None},
    {"slot": "13:00", "received": 1, "taken": 0, "taken_in_time": 0, "take_rate": 0.0, "in_time_rate": 0.0},
]


@pytest.fixture
def scripted_day(app, users, whatsapp_account):
    """The script's conversations, with an inbound message each, their clocks run through inbox/sla.py; a
    Saturday contact that is not today's; the agent online for 30 minutes holding the 10:30 one."""
    from inbox import sla
    from inbox.db import session
    from inbox.models import Contact, ContactIdentity, Conversation, Message, User

    ids = []
    with app.app_context():
        db = session()
        agent = db.get(User, users.by_role["agent"].id)
        agent.availability, agent.availability_changed_at = "online", NOW - timedelta(minutes=30)
        for n, (received, taken) in enumerate([(local(19, 0, days=-2), local(19, 5, days=-2)), *SCRIPT]):
            contact = Contact(name=f"Client {n}")
            identity = ContactIdentity(contact=contact, account_id=whatsapp_account.id, external_id=f"21260000{n:04d}")
            conversation = Conversation(
                account_id=whatsapp_account.id,
                contact=contact,
                identity=identity,
                status="open",
                created_at=received,
                last_message_at=received,
            )
            db.add(conversation)
            db.flush()
            db.add(
                Message(
                    conversation_id=conversation.id,
                    account_id=whatsapp_account.id,
                    direction="in",
                    type="text",
                    text="Salam",
                    status="received",
                    external_id=f"wamid.scripted-{n}",
                    sent_at=received,
                    created_at=received,
                )
            )
            sla.customer_wrote(conversation, received)
            db.flush()
            if taken is not None:
                sla.agent_answered(conversation.id, taken)
            ids.append(conversation.id)
        db.flush()
        queued = db.get(Conversation, ids[-1])
        queued.queued_at = local(13, 10)
        db.get(Conversation, ids[2]).assignee_id = agent.id
        db.commit()
    return ids[1:]


def board_at(client, users, moment: datetime, role: str = "supervisor"):
    with mock.patch("inbox.supervision.utcnow", return_value=moment.astimezone(UTC)):
        return client.get("/api/v1/board", headers=users.headers(role))


def test_the_board_of_a_scripted_day(client, users, scripted_day):
    response = board_at(client, users, NOW)
    assert response.status_code == 200, response.get_json()
    board = response.get_json()
    document = openapi_document()
    conforms(document, response_schema(document, "get", "/api/v1/board", 200), board)
    assert board["day"] == "2026-12-07"
    hours = [{k: slot[k] for k in EXPECTED_HOURS[0]} for slot in board["hours"]]
    assert hours == EXPECTED_HOURS
    assert board["hours"][0]["start"] == local(10).isoformat()
    assert board["today"] == {
        "received": 7,
        "taken": 5,
        "taken_in_time": 4,
        "take_rate": 0.7143,
        "in_time_rate": 0.5714,
    }
    [agent] = board["agents"]
    assert (agent["availability"], agent["seconds_in_state"], agent["load"], agent["capacity"]) == (
        "online",
        1800,
        1,
        5,
    )
    general = next(q for q in board["queues"] if q["team"]["id"] is None)
    assert (general["length"], general["longest_wait_seconds"]) == (1, 600)
    risky = [(r["conversation_id"], r["state"], r["timer"], r["due_at"]) for r in board["at_risk"]]
    assert board["at_risk_total"] == 2
    never_taken, queued = scripted_day[3], scripted_day[6]
    assert risky == [
        (never_taken, "breached", "first_response", local(11, 10).astimezone(UTC).isoformat()),
        (queued, "at_risk", "first_response", local(13, 25).astimezone(UTC).isoformat()),
    ]


def test_the_board_before_the_first_contact_and_on_the_next_day(client, users, scripted_day):
    early = board_at(client, users, local(9, 30)).get_json()
    assert early["hours"] == []  # before the opening, no contact yet
    assert early["today"]["received"] == 0
    tuesday = board_at(client, users, local(10, 30, days=1)).get_json()
    assert tuesday["day"] == "2026-12-08"
    assert [slot["slot"] for slot in tuesday["hours"]] == ["10:00"]
    assert tuesday["today"]["received"] == 0


def test_the_board_lists_the_most_urgent_and_counts_them_all(client, users, scripted_day):
    with mock.patch("inbox.supervision.AT_RISK_LIMIT", 1):
        board = board_at(client, users, NOW).get_json()
    assert [r["state"] for r in board["at_risk"]] == ["breached"] and board["at_risk_total"] == 2


def test_the_board_is_for_supervisors_and_admins(client, users, scripted_day):
    assert board_at(client, users, NOW, "admin").status_code == 200
    for role in ("agent", "marketing", "reviewer"):
        assert_error(board_at(client, users, NOW, role), 403, "forbidden")


def test_board_changed_reaches_supervisors_and_admins_only(app, client, users):
    from inbox.realtime import socketio

    listeners = {role: socketio.test_client(app, auth={"token": users.tokens[role]}) for role in users.tokens}
    try:
        for listener in listeners.values():
            listener.get_received()
        response = client.put("/api/v1/me/availability", json={"status": "online"}, headers=users.headers("agent"))
        assert response.status_code == 200
        heard = {
            role: [e["args"][0] for e in listener.get_received() if e["name"] == "board.changed"]
            for role, listener in listeners.items()
        }
    finally:
        for listener in listeners.values():
            listener.disconnect()
    assert heard == {
        "supervisor": [{"reason": "availability"}],
        "admin": [{"reason": "availability"}],
        "agent": [],
        "marketing": [],
        "reviewer": [],
    }


def test_a_commitment_warning_changes_the_board(app, users, scripted_day):
    from inbox import sla
    from inbox.realtime import socketio

    supervisor = socketio.test_client(app, auth={"token": users.tokens["supervisor"]})
    supervisor.get_received()
    try:
        with app.app_context(), mock.patch("inbox.sla.utcnow", return_value=NOW.astimezone(UTC)):
            sla.sweep()
        names = [e["name"] for e in supervisor.get_received()]
    finally:
        supervisor.disconnect()
    assert "sla.warning" in names
    assert names.count("board.changed") == 1  # one per sweep, however many warnings


# ---------------------------------------------------------------- anomalies

TUESDAY_NOON = local(12, 0, days=1)


def sweep_at(app, moment: datetime) -> None:
    """The periodic job at a given instant: warnings, then anomalies."""
    from inbox import sla

    with app.app_context(), mock.patch("inbox.sla.utcnow", return_value=moment.astimezone(UTC)):
        with mock.patch("inbox.supervision.utcnow", return_value=moment.astimezone(UTC)):
            sla.sweep()


def anomalies(client, users, query: str = "month=2026-12", role: str = "supervisor"):
    return client.get(f"/api/v1/anomalies?{query}", headers=users.headers(role))


def test_the_anomalies_a_scripted_day_shows_are_recorded_once(app, client, users, scripted_day):
    sweep_at(app, TUESDAY_NOON)
    sweep_at(app, TUESDAY_NOON + timedelta(seconds=30))  # the next sweep finds nothing new
    response = anomalies(client, users)
    assert response.status_code == 200
    document = openapi_document()
    conforms(document, response_schema(document, "get", "/api/v1/anomalies", 200), response.get_json())
    found = [(a["kind"], a["conversation_id"], a["occurred_at"]) for a in response.get_json()["items"]]
    late_take, never_taken, queued = scripted_day[2], scripted_day[3], scripted_day[6]
    utc = lambda moment: moment.astimezone(UTC).isoformat()  # noqa: E731
    assert sorted(found, key=lambda f: (f[2], f[0])) == [
        ("low_take_rate", None, utc(local(10))),  # 2 of 4 in time
        ("late_first_take", late_take, utc(local(10, 55))),  # answered at 11:10
        ("late_first_take", never_taken, utc(local(11, 10))),
        ("low_take_rate", None, utc(local(13))),  # 0 of 1
        ("late_first_take", queued, utc(local(13, 25))),
        ("late_answer", never_taken, utc(local(10, 55, days=1))),  # 600 business minutes after 10:55
    ]
    slot = next(a for a in response.get_json()["items"] if a["kind"] == "low_take_rate")
    assert {k: slot["data"][k] for k in ("received", "taken", "taken_in_time", "in_time_rate")} == {
        "received": 4,
        "taken": 3,
        "taken_in_time": 2,
        "in_time_rate": 0.5,
    }
    assert anomalies(client, users, "month=2026-11").get_json()["items"] == []


def test_a_claim_answered_after_j1_is_an_anomaly(app, client, db, users, scripted_day):
    from inbox.models import Case, Conversation

    conversation = db.get(Conversation, scripted_day[0])
    case = Case(
        number="2026-000001",
        contact_id=conversation.contact_id,
        conversation_id=conversation.id,
        request_type="claim",
        state="answered",
        answered_at=local(9, 0, days=2),
        answer_due_at=local(20, 0, days=1),
    )
    db.add(case)
    db.flush()
    conversation.case_id = case.id
    db.commit()
    sweep_at(app, local(10, 0, days=2))
    kinds = [
        (a["kind"], a["data"]) for a in anomalies(client, users, "kind=late_claim&month=2026-12").get_json()["items"]
    ]
    due, done = local(20, 0, days=1).astimezone(UTC).isoformat(), local(9, 0, days=2).astimezone(UTC).isoformat()
    assert kinds == [("late_claim", {"due_at": due, "done_at": done})]


def test_a_supervisor_annotates_an_anomaly(app, client, users, scripted_day):
    sweep_at(app, TUESDAY_NOON)
    first = anomalies(client, users).get_json()["items"][0]
    path = f"/api/v1/anomalies/{first['id']}"
    response = client.patch(path, json={"note": "  Panne réseau à 10 h  "}, headers=users.headers("supervisor"))
    assert response.status_code == 200, response.get_json()
    document = openapi_document()
    conforms(document, response_schema(document, "patch", "/api/v1/anomalies/{anomaly_id}", 200), response.get_json())
    noted = response.get_json()
    assert noted["note"] == "Panne réseau à 10 h" and noted["noted_by"]["name"] == "Supervisor User"
    assert anomalies(client, users).get_json()["items"][0]["note"] == "Panne réseau à 10 h"
    cleared = client.patch(path, json={"note": None}, headers=users.headers("admin")).get_json()
    assert cleared["note"] is None and cleared["noted_by"] is None


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "bad_request"),
        ([], 400, "bad_request"),
        ({"note": "x", "kind": "late_answer"}, 400, "bad_request"),
        ({"note": 5}, 422, "bad_note"),
        ({"note": "x" * 2001}, 422, "bad_note"),
    ],
)
def test_bad_notes_are_refused(app, client, users, scripted_day, body, status, code):
    sweep_at(app, TUESDAY_NOON)
    first = anomalies(client, users).get_json()["items"][0]
    response = client.patch(f"/api/v1/anomalies/{first['id']}", json=body, headers=users.headers("supervisor"))
    assert_error(response, status, code)
    assert anomalies(client, users).get_json()["items"][0]["note"] is None


def test_bad_parameters_are_refused(client, users):
    for query in ("month=2026-13", "month=december", "kind=late"):
        assert_error(anomalies(client, users, query), 400, "bad_parameter")
    assert_error(client.get("/api/v1/anomalies/export?format=pdf", headers=users.headers("admin")), 400)
    missing = client.patch("/api/v1/anomalies/999999", json={"note": "x"}, headers=users.headers("admin"))
    assert_error(missing, 404, "not_found")


def test_the_anomaly_log_is_exported_as_csv_and_xlsx(app, client, users, scripted_day):
    from openpyxl import load_workbook

    sweep_at(app, TUESDAY_NOON)
    first = anomalies(client, users).get_json()["items"][0]
    client.patch(f"/api/v1/anomalies/{first['id']}", json={"note": "=HYPERLINK(1)"}, headers=users.headers("admin"))
    response = client.get("/api/v1/anomalies/export?month=2026-12", headers=users.headers("supervisor"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="anomalies-2026-12.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["id", "kind", "occurred_at", "conversation_id", "details", "note", "noted_by", "noted_at"]
    assert len(rows) == 1 + 6
    assert rows[1][2] == local(10).isoformat()  # local time, with its offset
    noted = next(r for r in rows if r[0] == str(first["id"]))
    assert noted[5] == "'=HYPERLINK(1)"  # never run as a formula
    book = client.get("/api/v1/anomalies/export?month=2026-12&format=xlsx", headers=users.headers("admin"))
    assert book.status_code == 200
    sheet = load_workbook(io.BytesIO(book.data)).active
    assert [[cell.value for cell in row][:2] for row in sheet.iter_rows(min_row=2)] == [
        [int(r[0]), r[1]] for r in rows[1:]
    ]


# ---------------------------------------------------------------- the pages


def test_the_board_page_is_for_supervisors_and_admins_and_linked_from_their_inbox(app, users):
    from tests.inbox.test_directory import login

    anonymous = app.test_client()
    assert anonymous.get("/supervisor").status_code == 302
    for role, allowed in (("agent", False), ("supervisor", True), ("admin", True), ("marketing", False)):
        browser = app.test_client()
        login(browser, f"{role}@example.com")
        page = browser.get("/supervisor?lang=en")
        assert page.status_code == (200 if allowed else 403), role
        inbox = browser.get("/?lang=en").get_data(as_text=True) if role != "marketing" else ""
        assert ('href="/supervisor"' in inbox) == allowed, role
        if allowed:
            html = page.get_data(as_text=True)
            assert "Supervision board" in html and 'src="/static/board.js"' in html
            assert "<script>" not in html  # no inline script: the CSP forbids them
            assert 'data-at-risk-minutes="5"' in html
    french = app.test_client()
    login(french, "supervisor@example.com")
    assert "Tableau de supervision" in french.get("/supervisor").get_data(as_text=True)


def test_the_sla_shows_the_due_time_a_countdown_counts_to(app, client, users, scripted_day):
    from inbox import sla
    from inbox.db import session
    from inbox.models import Conversation

    with app.app_context():
        late_take, queued = (session().get(Conversation, scripted_day[i]) for i in (2, 6))
        taken = sla.sla_json(late_take, NOW.astimezone(UTC))
        waiting = sla.sla_json(queued, NOW.astimezone(UTC))
        session().rollback()
    # taken late: the first take is over (breached), the one-day answer was given: nothing to count to
    assert (taken["state"], taken["due_at"]) == ("breached", None)
    assert taken["timers"] == {"first_response": "breached", "next_response": None, "answer": "met"}
    # waiting: the soonest due time still waited for is the first take's
    assert waiting["due_at"] == waiting["first_response_due_at"] == local(13, 25).astimezone(UTC).isoformat()
    assert waiting["state"] == "at_risk"


def test_a_new_conversation_changes_the_board_once(app, users, post_webhook, whatsapp_account):
    from inbox.realtime import socketio
    from tests.conftest import fixture_bytes

    supervisor = socketio.test_client(app, auth={"token": users.tokens["supervisor"]})
    supervisor.get_received()
    try:
        assert post_webhook(fixture_bytes("whatsapp/text.json")).status_code == 200
        changes = [e["args"][0] for e in supervisor.get_received() if e["name"] == "board.changed"]
    finally:
        supervisor.disconnect()
    assert changes == [{"reason": "conversation.created"}]  # one per delivery, however many events it makes


def test_a_team_supervisor_sees_their_teams_queues_and_conversations_only(app, client, db, users, scripted_day):
    from inbox.models import Conversation, Team, User

    ours, theirs = Team(name="Grands comptes"), Team(name="Agence Salé")
    db.add_all([ours, theirs])
    db.flush()
    db.get(User, users.by_role["supervisor"].id).teams = [ours]
    never_taken, queued = scripted_day[3], scripted_day[6]
    db.get(Conversation, never_taken).team_id = theirs.id
    db.get(Conversation, queued).team_id = ours.id
    db.commit()
    board = board_at(client, users, NOW).get_json()
    assert [q["team"]["name"] for q in board["queues"]] == ["General queue", "Grands comptes"]
    assert [r["conversation_id"] for r in board["at_risk"]] == [queued]
    assert board["today"]["received"] == 6  # the other team's contact is not theirs to count
    everything = board_at(client, users, NOW, "admin").get_json()
    assert [r["conversation_id"] for r in everything["at_risk"]] == [never_taken, queued]
