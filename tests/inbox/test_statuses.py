"""Delivery statuses of outbound messages: forward only, failures explained, early ones kept, duplicates absorbed."""

from __future__ import annotations

import json

import pytest
import responses
from sqlalchemy import func, select

from tests.conftest import GRAPH, PHONE_NUMBER_ID, fixture_bytes, fixture_json, recent

MESSAGES_URL = f"{GRAPH}/{PHONE_NUMBER_ID}/messages"
SEND_RESPONSE = fixture_json("whatsapp/api/send_response.json")
WAMID = SEND_RESPONSE["messages"][0]["id"]
FIXTURES = {
    "sent": "status_sent.json",
    "delivered": "status_delivered.json",
    "read": "status_read.json",
    "failed": "status_failed_131047_reengagement.json",
    "failed_131026": "status_failed_131026_undeliverable.json",
}


def status_body(name: str, wamid: str = WAMID) -> bytes:
    """A status fixture rewritten to be about our message."""
    payload = fixture_json(f"whatsapp/{FIXTURES[name]}")
    status = payload["entry"][0]["changes"][0]["value"]["statuses"][0]
    status["id"] = wamid
    status["recipient_id"] = "212612345678"
    return json.dumps(payload).encode()


@pytest.fixture
def graph():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, MESSAGES_URL, json=SEND_RESPONSE)
        yield mock


@pytest.fixture
def conversation_id(client, post_webhook, whatsapp_account, users):
    assert post_webhook(recent(fixture_bytes("whatsapp/text.json"))).status_code == 200
    return client.get("/api/v1/conversations", headers=users.headers("agent")).get_json()["items"][0]["id"]


@pytest.fixture
def queued(client, users, conversation_id, graph):
    """An agent reply stored as queued; its send job has not run yet."""
    response = client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"text": "Salam"}, headers=users.headers("agent")
    )
    assert response.status_code == 202
    return response.get_json()


@pytest.fixture
def sent(queued, run_jobs):
    """The same reply, sent: WhatsApp answered WAMID."""
    run_jobs()
    return queued


def rows(db, statement) -> list[tuple]:
    """Read plain values with the test's own session, then end its transaction (on SQLite it holds the write
    lock, and ORM objects would reopen one when read after the rollback)."""
    try:
        return [tuple(row) for row in db.execute(statement)]
    finally:
        db.rollback()


def read_back(client, users, message: dict) -> dict:
    items = client.get(
        f"/api/v1/conversations/{message['conversation_id']}/messages", headers=users.headers("agent")
    ).get_json()["items"]
    return next(m for m in items if m["id"] == message["id"])


ORDERS = [
    (("sent", "delivered", "read"), "read"),
    (("read", "delivered", "sent"), "read"),
    (("delivered", "sent"), "delivered"),
    (("read", "delivered"), "read"),
    (("sent", "read", "delivered"), "read"),
    (("delivered", "failed"), "delivered"),  # a late failure never undoes a delivery the customer has
    (("read", "failed"), "read"),
    (("failed", "delivered", "read"), "failed"),  # failed is terminal
    (("sent", "failed"), "failed"),
]


@pytest.mark.parametrize("order, final", ORDERS, ids=["-".join(o) for o, _ in ORDERS])
def test_statuses_only_move_forward(order, final, client, users, post_webhook, sent):
    assert read_back(client, users, sent)["status"] == "sent"
    for name in order:
        assert post_webhook(status_body(name)).status_code == 200
    assert read_back(client, users, sent)["status"] == final


@pytest.mark.parametrize(
    "name, code, words",
    [("failed", "131047", "24 hours"), ("failed_131026", "131026", "could not deliver")],
)
def test_a_failed_status_shows_its_code_and_reason(name, code, words, client, users, post_webhook, sent):
    assert post_webhook(status_body(name)).status_code == 200
    message = read_back(client, users, sent)
    assert message["status"] == "failed"
    assert message["error"]["code"] == code
    assert words in message["error"]["message"]


@pytest.mark.parametrize(
    "early, final",
    [(("delivered", "read"), "read"), (("delivered",), "delivered"), (("failed",), "failed"), (("sent",), "sent")],
)
def test_statuses_that_arrive_before_the_job_stored_the_wamid_are_applied(
    early, final, client, users, post_webhook, queued, run_jobs, db
):
    from inbox.models import DeliveryReceipt

    for name in early:
        assert post_webhook(status_body(name)).status_code == 200
    assert rows(db, select(func.count(DeliveryReceipt.id))) == [(len(early),)]  # kept though no message has that id
    assert read_back(client, users, queued)["status"] == "queued"

    run_jobs()

    message = read_back(client, users, queued)
    assert message["external_id"] == WAMID
    assert message["status"] == final
    if final == "failed":
        assert message["error"]["code"] == "131047"


def test_the_same_status_twice_is_stored_once(client, users, post_webhook, sent, db):
    from inbox.models import DeliveryReceipt

    body = status_body("delivered")
    assert post_webhook(body).status_code == 200
    assert post_webhook(body).status_code == 200
    assert rows(db, select(DeliveryReceipt.external_id, DeliveryReceipt.status)) == [(WAMID, "delivered")]
    assert read_back(client, users, sent)["status"] == "delivered"


def test_a_status_is_announced_once(app, client, users, post_webhook, sent):
    from inbox.realtime import socketio

    listener = socketio.test_client(app, auth={"token": users.tokens["agent"]})
    assert listener.is_connected()
    listener.get_received()
    body = status_body("delivered")
    post_webhook(body)
    post_webhook(body)
    post_webhook(status_body("sent"))  # late and backwards: nothing to announce
    updates = [e for e in listener.get_received() if e["name"] == "message.updated"]
    assert len(updates) == 1
    [payload] = updates[0]["args"]
    assert payload["conversation_id"] == sent["conversation_id"]
    assert payload["message"]["id"] == sent["id"]
    assert payload["message"]["status"] == "delivered"
    listener.disconnect()


def test_a_status_for_an_unknown_message_is_kept_and_harmless(client, users, post_webhook, sent, db):
    from inbox.models import DeliveryReceipt

    other = "wamid.HBgMMjEyNjEyMzQ1Njc4FQIAERgSQUFBQUFBQUFBQUFBQUFBQUFBAA=="
    assert post_webhook(status_body("read", wamid=other)).status_code == 200
    assert read_back(client, users, sent)["status"] == "sent"
    assert rows(db, select(DeliveryReceipt.external_id)) == [(other,)]


def test_a_status_never_touches_an_inbound_message(client, users, post_webhook, whatsapp_account):
    post_webhook(fixture_bytes("whatsapp/text.json"))
    inbound_wamid = fixture_json("whatsapp/text.json")["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    assert post_webhook(status_body("read", wamid=inbound_wamid)).status_code == 200
    conversation = client.get("/api/v1/conversations", headers=users.headers("agent")).get_json()["items"][0]
    [message] = client.get(
        f"/api/v1/conversations/{conversation['id']}/messages", headers=users.headers("agent")
    ).get_json()["items"]
    assert message["status"] == "received"
