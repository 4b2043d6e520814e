"""The commitments' timers on scripted conversations with known answers: the first take, the next response
after the customer writes again, the one-day answer; automatic messages answer nobody; warnings once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import GRAPH, PHONE_NUMBER_ID, fixture_bytes, make_config
from tests.inbox import test_cases, test_sending

CASABLANCA = ZoneInfo("Africa/Casablanca")
graph = test_sending.graph
MONDAY = datetime(2026, 12, 7, 10, 0, tzinfo=CASABLANCA)  # a Monday, open 10:00-20:00


def at(minutes: float) -> datetime:
    """Monday 10:00 local plus some wall-clock minutes."""
    return MONDAY + timedelta(minutes=minutes)


@pytest.fixture
def conversation_id(app, db, whatsapp_account):
    from inbox.models import Contact, ContactIdentity, Conversation

    contact = Contact(name="Client")
    identity = ContactIdentity(contact=contact, account_id=whatsapp_account.id, external_id="212600000001")
    conversation = Conversation(account_id=whatsapp_account.id, contact=contact, identity=identity, status="open")
    db.add(conversation)
    db.commit()
    return conversation.id


def customer_writes(app, conversation_id, when):
    from inbox import sla
    from inbox.db import session
    from inbox.models import Conversation

    with app.app_context():
        sla.customer_wrote(session().get(Conversation, conversation_id), when)
        session().commit()


def agent_answers(app, conversation_id, when) -> bool:
    from inbox import sla
    from inbox.db import session

    with app.app_context():
        done = sla.agent_answered(conversation_id, when)
        session().commit()
        return done


def states(app, conversation_id, when):
    from inbox import sla
    from inbox.db import session
    from inbox.models import Conversation

    with app.app_context():
        conversation = session().get(Conversation, conversation_id)
        return sla.timers(conversation, when), sla.sla_json(conversation, when)


def test_a_first_take_in_time_is_met(app, conversation_id):
    customer_writes(app, conversation_id, at(0))
    timers, summary = states(app, conversation_id, at(5))
    assert timers == {"first_response": "running", "next_response": None, "answer": "running"}
    assert summary["first_response_due_at"] == at(15).astimezone(UTC).isoformat()
    assert summary["answer_due_at"] == at(600).astimezone(UTC).isoformat()  # a business day: 600 minutes
    assert states(app, conversation_id, at(11))[1]["state"] == "at_risk"  # 5 minutes before
    assert agent_answers(app, conversation_id, at(12))
    assert states(app, conversation_id, at(60))[0] == {"first_response": "met", "next_response": None, "answer": "met"}
    assert states(app, conversation_id, at(60))[1]["state"] == "met"


def test_a_late_first_take_is_breached_and_stays_so(app, conversation_id):
    customer_writes(app, conversation_id, at(0))
    assert states(app, conversation_id, at(16))[1]["state"] == "breached"  # visible as soon as it is due
    agent_answers(app, conversation_id, at(20))
    timers, summary = states(app, conversation_id, at(60))
    assert timers["first_response"] == "breached" and timers["answer"] == "met"
    assert summary["state"] == "breached"  # the worst one


def test_the_next_response_restarts_when_the_customer_writes_again(app, conversation_id):
    customer_writes(app, conversation_id, at(0))
    agent_answers(app, conversation_id, at(3))
    customer_writes(app, conversation_id, at(60))
    customer_writes(app, conversation_id, at(65))  # a second message in the same wait moves nothing
    timers, summary = states(app, conversation_id, at(68))
    assert timers == {"first_response": "met", "next_response": "running", "answer": "running"}
    assert summary["next_response_due_at"] == at(75).astimezone(UTC).isoformat()
    assert agent_answers(app, conversation_id, at(80))  # five minutes late
    assert states(app, conversation_id, at(90))[0]["next_response"] == "breached"


def test_a_reply_written_before_the_customers_new_message_does_not_answer_it(app, conversation_id):
    customer_writes(app, conversation_id, at(0))
    agent_answers(app, conversation_id, at(3))
    customer_writes(app, conversation_id, at(60))
    assert not agent_answers(app, conversation_id, at(59))  # queued before, accepted after
    assert states(app, conversation_id, at(68))[0]["next_response"] == "running"


def test_the_night_does_not_count(app, conversation_id):
    customer_writes(app, conversation_id, MONDAY.replace(hour=19, minute=55))
    summary = states(app, conversation_id, MONDAY.replace(hour=23))[1]
    due = datetime(2026, 12, 8, 10, 10, tzinfo=CASABLANCA).astimezone(UTC).isoformat()
    assert summary["first_response_due_at"] == due and summary["state"] == "running"


def test_a_resolved_conversation_stops_the_clock(app, db, conversation_id):
    from inbox.models import Conversation

    customer_writes(app, conversation_id, at(0))
    conversation = db.get(Conversation, conversation_id)
    conversation.status, conversation.resolved_at = "resolved", at(10)
    db.commit()
    assert states(app, conversation_id, at(100))[1]["state"] == "met"


# ---------------------------------------------------------------- through the webhook and the send job


def webhook_at(when: datetime) -> bytes:
    body = json.loads(fixture_bytes("whatsapp/text.json"))
    body["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = str(int(when.timestamp()))
    return json.dumps(body).encode()


def test_automatic_messages_do_not_answer_but_an_agents_reply_does(
    app, client, db, users, post_webhook, whatsapp_account, graph, run_jobs
):
    from inbox.models import Conversation, Message
    from inbox.sending import queue_send

    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    assert post_webhook(webhook_at(an_hour_ago)).status_code == 200
    [item] = client.get("/api/v1/conversations", headers=users.headers("agent")).get_json()["items"]
    assert item["sla"]["state"] in ("running", "at_risk", "breached")  # which one depends on the hour now
    graph.add("POST", f"{GRAPH}/{PHONE_NUMBER_ID}/messages", **test_sending.OK)
    automatic = Message(
        conversation_id=item["id"],
        account_id=whatsapp_account.id,
        direction="out",
        type="text",
        text="Nos conseillers vous répondent de 10h à 20h.",
        status="queued",
    )
    db.add(automatic)
    db.commit()
    with app.app_context():
        queue_send(automatic.id)
    run_jobs()
    db.expire_all()
    assert db.get(Message, automatic.id).status == "sent"
    assert db.get(Conversation, item["id"]).first_response_at is None  # the automatic answer counts nothing
    db.rollback()  # end the read: on SQLite it holds the write lock (db.py)

    response = client.post(
        f"/api/v1/conversations/{item['id']}/messages", json={"text": "Bonjour"}, headers=users.headers("agent")
    )
    assert response.status_code == 202
    run_jobs()
    db.expire_all()
    conversation = db.get(Conversation, item["id"])
    assert conversation.first_response_at is not None and conversation.awaiting_since is None


# ---------------------------------------------------------------- warnings, exactly once


def test_warnings_are_recorded_once_across_a_restart_of_the_worker(
    app, conversation_id, database_url, redis_url, media_dir
):
    from inbox import create_app, sla
    from inbox.db import session

    customer_writes(app, conversation_id, at(0))
    with app.app_context():
        first = sla.record_warnings(at(11))
        session().commit()
        assert [(w.timer, w.level) for w in first] == [("first_response", "at_risk")]
        assert sla.record_warnings(at(12)) == []  # the same sweep again: nothing new
        session().commit()
    restarted = create_app(make_config(database_url, redis_url, media_dir))  # a new worker process's app
    try:
        with restarted.app_context():
            assert sla.record_warnings(at(13)) == []
            late = sla.record_warnings(at(16))
            session().commit()
            assert [(w.timer, w.level) for w in late] == [("first_response", "breached")]
            assert sla.record_warnings(at(17)) == []
    finally:
        restarted.extensions["db_engine"].dispose()


def test_an_answered_wait_warns_no_more(app, conversation_id):
    from inbox import sla

    customer_writes(app, conversation_id, at(0))
    agent_answers(app, conversation_id, at(2))
    with app.app_context():
        assert sla.due_warnings(at(20)) == []


def test_the_sweep_warns_supervisors_and_the_assignee_live_and_once(app, db, users, conversation_id):
    from unittest import mock

    from inbox import sla
    from inbox.models import Conversation, TimelineEvent
    from inbox.realtime import socketio

    conversation = db.get(Conversation, conversation_id)
    conversation.assignee_id = users.by_role["agent"].id
    db.commit()
    customer_writes(app, conversation_id, at(0))
    supervisor = socketio.test_client(app, auth={"token": users.tokens["supervisor"]})
    assignee = socketio.test_client(app, auth={"token": users.tokens["agent"]})
    marketing = socketio.test_client(app, auth={"token": users.tokens["marketing"]})
    for listener in (supervisor, assignee, marketing):
        listener.get_received()
    try:
        for moment in (at(11), at(12), at(16), at(17)):  # at risk, again, breached, again
            with app.app_context(), mock.patch("inbox.sla.utcnow", return_value=moment):
                sla.sweep()
        levels = {
            name: [e["args"][0]["level"] for e in listener.get_received() if e["name"] == "sla.warning"]
            for name, listener in (("supervisor", supervisor), ("assignee", assignee), ("marketing", marketing))
        }
    finally:
        for listener in (supervisor, assignee, marketing):
            listener.disconnect()
    assert levels == {"supervisor": ["at_risk", "breached"], "assignee": ["at_risk"], "marketing": []}
    kinds = [e.kind for e in db.query(TimelineEvent).filter_by(conversation_id=conversation_id)]
    assert kinds.count("sla_at_risk") == 1 and kinds.count("sla_breached") == 1


@pytest.fixture
def colleague(db):
    """A second agent, online with room."""
    from inbox.auth import hash_password
    from inbox.models import User

    user = User(email="colleague@example.com", name="Colleague", role="agent", password_hash=hash_password("x" * 12))
    user.availability = "online"
    db.add(user)
    db.commit()
    return user.id


def sweep_at(app, moment):
    from unittest import mock

    from inbox import sla

    with app.app_context(), mock.patch("inbox.sla.utcnow", return_value=moment):
        sla.sweep()


def test_a_breach_moves_the_conversation_to_the_next_agent_with_room_once(app, db, users, conversation_id, colleague):
    from inbox.models import Conversation, TimelineEvent
    from inbox.realtime import socketio

    app.config["SLA_BREACH_MOVE"] = "requeue"
    holder = users.by_role["agent"]
    db.get(Conversation, conversation_id).assignee_id = holder.id
    db.commit()
    customer_writes(app, conversation_id, at(0))
    watcher = socketio.test_client(app, auth={"token": users.tokens["supervisor"]})
    watcher.get_received()
    try:
        sweep_at(app, at(11))  # at risk: nothing moves
        db.expire_all()
        assert db.get(Conversation, conversation_id).assignee_id == holder.id
        db.rollback()  # SQLite: the read holds the write lock (inbox/db.py)
        sweep_at(app, at(16))  # breached: to the colleague, who had room
        sweep_at(app, at(17))  # the same breach again: no second move
        updates = [e["args"][0]["conversation"] for e in watcher.get_received() if e["name"] == "conversation.updated"]
    finally:
        watcher.disconnect()
    db.expire_all()
    assert db.get(Conversation, conversation_id).assignee_id == colleague
    events = [(e.kind, e.data) for e in db.query(TimelineEvent).filter_by(conversation_id=conversation_id)]
    returned = [data for kind, data in events if kind == "returned_to_queue"]
    assert returned == [{"from": holder.id, "to": None, "team": None, "reason": "breached"}]
    assert [data["to"] for kind, data in events if kind == "assigned"] == [colleague]
    assert updates and (updates[-1]["assignee"] or {}).get("id") == colleague  # supervisors see it live


def test_a_breach_moves_nothing_by_default(app, db, users, conversation_id, colleague):
    from inbox.models import Conversation

    holder = users.by_role["agent"]
    db.get(Conversation, conversation_id).assignee_id = holder.id
    db.commit()
    customer_writes(app, conversation_id, at(0))
    sweep_at(app, at(16))
    db.expire_all()
    assert db.get(Conversation, conversation_id).assignee_id == holder.id


def test_a_breached_conversation_waiting_in_the_queue_goes_before_newer_ones(
    app, db, conversation_id, whatsapp_account
):
    from inbox.models import Contact, ContactIdentity, Conversation

    app.config["SLA_BREACH_MOVE"] = "requeue"
    breached = db.get(Conversation, conversation_id)
    breached.created_at, breached.queued_at = at(0), at(30)  # given back to the queue late
    newer = Conversation(
        account_id=whatsapp_account.id,
        contact=Contact(name="Newer"),
        status="open",
        created_at=at(20),
        queued_at=at(20),
    )
    newer.identity = ContactIdentity(contact=newer.contact, account_id=whatsapp_account.id, external_id="2126111")
    db.add(newer)
    db.commit()
    customer_writes(app, conversation_id, at(0))
    sweep_at(app, at(40))
    db.expire_all()
    assert db.get(Conversation, conversation_id).queued_at == at(0)
    assert db.get(Conversation, newer.id).queued_at == at(20)


def test_an_unknown_breach_move_refuses_to_start():
    from inbox.config import Config

    with pytest.raises(RuntimeError, match="SLA_BREACH_MOVE"):
        Config(SLA_BREACH_MOVE="teleport").check()


# ---------------------------------------------------------------- claims: answered by the end of J+1

catalogue = test_cases.catalogue
SATURDAY_EVENING = datetime(2026, 12, 5, 19, 55, tzinfo=CASABLANCA)  # open until 20:00
MONDAY_NIGHT = datetime(2026, 12, 7, 20, 30, tzinfo=CASABLANCA)  # closed: the business day is Tuesday


@pytest.mark.parametrize(
    ("filed", "due"),
    [
        (SATURDAY_EVENING, datetime(2026, 12, 7, 20, 0, tzinfo=CASABLANCA)),  # J Saturday, J+1 Monday (Sunday shut)
        (MONDAY_NIGHT, datetime(2026, 12, 9, 20, 0, tzinfo=CASABLANCA)),  # J Tuesday, J+1 Wednesday
    ],
)
def test_a_claim_is_due_at_the_end_of_the_next_business_day_after_the_customer_filed_it(
    app, client, users, post_webhook, whatsapp_account, catalogue, filed, due
):
    from inbox import sla
    from inbox.db import session
    from inbox.models import Case, Conversation

    assert post_webhook(webhook_at(filed)).status_code == 200
    [item] = test_cases.conversations(client, users)
    assert item["sla"]["answer_due_at"] == datetime.fromisoformat(item["sla"]["answer_due_at"]).isoformat()
    one_day = item["sla"]["answer_due_at"]
    claimed = test_cases.claim(client, users, item, catalogue)
    assert claimed["sla"]["answer_due_at"] == due.astimezone(UTC).isoformat() != one_day
    case_id = claimed["case"]["id"]
    with app.app_context():
        conversation = session().get(Conversation, item["id"])
        assert session().get(Case, case_id).answer_due_at == due  # stored, not computed on the fly
        assert sla.timers(conversation, due - timedelta(minutes=30))["answer"] == "running"
        assert sla.timers(conversation, due - timedelta(minutes=2))["answer"] == "at_risk"
        assert sla.timers(conversation, due + timedelta(minutes=1))["answer"] == "breached"
        late = [w for w in sla.due_warnings(due + timedelta(minutes=1)) if w[1] == "answer"]
        assert late == [(item["id"], "answer", "breached", due)]  # the claim's due time, not the one-day one
        session().rollback()
    response = client.patch(f"/api/v1/cases/{case_id}", json={"state": "answered"}, headers=users.headers("agent"))
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        conversation = session().get(Conversation, item["id"])
        expected = "met" if session().get(Case, case_id).answered_at <= due else "breached"
        assert sla.timers(conversation, due + timedelta(days=3))["answer"] == expected
        assert [w for w in sla.due_warnings(due + timedelta(days=3)) if w[1] == "answer"] == []
        session().rollback()


def test_requalifying_a_claim_keeps_its_first_due_time(
    app, client, db, users, post_webhook, whatsapp_account, catalogue
):
    from inbox.models import Case

    assert post_webhook(webhook_at(SATURDAY_EVENING)).status_code == 200
    [item] = test_cases.conversations(client, users)
    claimed = test_cases.claim(client, users, item, catalogue)
    due = claimed["sla"]["answer_due_at"]
    response = test_cases.patch(client, users, item["id"], nature=None)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["sla"]["answer_due_at"] == due
    request = test_cases.patch(client, users, item["id"], request_type="request")
    assert request.status_code == 200, request.get_json()
    assert request.get_json()["sla"]["answer_due_at"] != due  # a request has the one-day answer again
    assert db.get(Case, claimed["case"]["id"]).answer_due_at is not None
    db.rollback()
