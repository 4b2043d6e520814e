"""Deliveries that arrive at the same moment, and webhooks that arrive while a job waits on the platform."""

from __future__ import annotations

import json
import threading

import pytest
import responses
from sqlalchemy import func, select

from tests.conftest import GRAPH, PHONE_NUMBER_ID, fixture_bytes, fixture_json, meta_signature, recent
from tests.inbox.test_media import LOOKASIDE, inbound, lookup_answer
from tests.inbox.test_sending import tiny_png

TIMEOUT = 60


def post_at_once(app, bodies: list[bytes]) -> list[int]:
    """Post each body from its own thread and test client, all released together; returns the statuses."""
    barrier = threading.Barrier(len(bodies))
    statuses: list[int | None] = [None] * len(bodies)
    errors: list[BaseException] = []

    def post(index: int, body: bytes) -> None:
        try:
            client = app.test_client()
            headers = {"Content-Type": "application/json", "X-Hub-Signature-256": meta_signature(body)}
            barrier.wait(timeout=TIMEOUT)
            statuses[index] = client.post("/webhooks/whatsapp", data=body, headers=headers).status_code
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=post, args=(i, body)) for i, body in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT)
    assert not errors, errors
    return statuses


def count(db, statement) -> int:
    try:
        return db.scalar(statement)
    finally:
        db.rollback()  # end the test session's transaction: on SQLite it holds the write lock


@pytest.fixture
def listener(app, users, whatsapp_account):
    from inbox.realtime import socketio

    client = socketio.test_client(app, auth={"token": users.tokens["agent"]})
    assert client.is_connected()
    yield client
    client.disconnect()


def event_names(listener) -> list[str]:
    return [e["name"] for e in listener.get_received()]


@pytest.mark.parametrize("known_sender", [False, True], ids=["first contact", "known sender"])
def test_the_same_delivery_three_times_at_once_is_stored_and_announced_once(
    known_sender, app, db, listener, post_webhook
):
    from inbox.models import Contact, Conversation, Message

    if known_sender:
        earlier = fixture_json("whatsapp/text.json")
        earlier["entry"][0]["changes"][0]["value"]["messages"][0]["id"] += "0"
        assert post_webhook(json.dumps(earlier).encode()).status_code == 200
        listener.get_received()
    body = fixture_bytes("whatsapp/text.json")

    assert post_at_once(app, [body, body, body]) == [200, 200, 200]

    wamid = fixture_json("whatsapp/text.json")["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    assert count(db, select(func.count(Message.id)).where(Message.external_id == wamid)) == 1
    assert count(db, select(func.count(Conversation.id))) == 1
    assert count(db, select(func.count(Contact.id))) == 1
    names = event_names(listener)
    assert names.count("message.created") == 1
    assert names.count("conversation.created") == (0 if known_sender else 1)


def test_different_messages_of_a_new_sender_at_once_share_one_conversation(app, db, listener):
    from inbox.models import Contact, ContactIdentity, Conversation, Message

    bodies = []
    for n in range(4):
        payload = fixture_json("whatsapp/text.json")
        message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
        message["id"] += str(n)
        message["text"]["body"] = f"message {n}"
        bodies.append(json.dumps(payload).encode())

    assert post_at_once(app, bodies) == [200] * 4

    assert count(db, select(func.count(Message.id))) == 4
    assert count(db, select(func.count(Conversation.id))) == 1
    assert count(db, select(func.count(ContactIdentity.id))) == 1
    assert count(db, select(func.count(Contact.id))) == 1
    names = event_names(listener)
    assert names.count("message.created") == 4
    assert names.count("conversation.created") == 1


def test_a_returning_customers_messages_at_once_open_one_new_conversation(app, db, listener, post_webhook):
    """The sender's identity row is locked (PostgreSQL) or the write lock taken (SQLite) before looking for an open
    conversation, so concurrent messages do not each open one."""
    from inbox.models import Conversation, Message

    assert post_webhook(fixture_bytes("whatsapp/text.json")).status_code == 200
    db.execute(Conversation.__table__.update().values(status="resolved"))
    db.commit()
    listener.get_received()
    bodies = []
    for n in range(4):
        payload = fixture_json("whatsapp/text.json")
        message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
        message["id"] += f"back{n}"
        bodies.append(json.dumps(payload).encode())

    assert post_at_once(app, bodies) == [200] * 4

    assert count(db, select(func.count(Conversation.id)).where(Conversation.status == "open")) == 1
    assert count(db, select(func.count(Message.id))) == 5
    assert event_names(listener).count("conversation.created") == 1


def test_a_status_batch_and_its_duplicate_at_once(app, db, users, post_webhook, whatsapp_account, run_jobs):
    from inbox.models import DeliveryReceipt

    send_response = fixture_json("whatsapp/api/send_response.json")
    post_webhook(recent(fixture_bytes("whatsapp/text.json")))
    client = app.test_client()
    conversation = client.get("/api/v1/conversations", headers=users.headers("agent")).get_json()["items"][0]
    with responses.RequestsMock() as graph:
        graph.add(responses.POST, f"{GRAPH}/{PHONE_NUMBER_ID}/messages", json=send_response)
        sent = client.post(
            f"/api/v1/conversations/{conversation['id']}/messages",
            json={"text": "Salam"},
            headers=users.headers("agent"),
        ).get_json()
        run_jobs()
    bodies = []
    for name in ("status_delivered.json", "status_read.json", "status_delivered.json", "status_read.json"):
        payload = fixture_json(f"whatsapp/{name}")
        payload["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = send_response["messages"][0]["id"]
        bodies.append(json.dumps(payload).encode())

    assert post_at_once(app, bodies) == [200] * 4

    assert count(db, select(func.count(DeliveryReceipt.id))) == 2
    items = client.get(f"/api/v1/conversations/{conversation['id']}/messages", headers=users.headers("agent"))
    assert next(m for m in items.get_json()["items"] if m["id"] == sent["id"])["status"] == "read"


def _post_in_thread(app, body: bytes) -> int | None:
    """Post a webhook from another thread, as Meta would while a job waits; None if it did not finish."""
    result: list[int] = []

    def post():
        client = app.test_client()
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": meta_signature(body)}
        result.append(client.post("/webhooks/whatsapp", data=body, headers=headers).status_code)

    thread = threading.Thread(target=post)
    thread.start()
    thread.join(timeout=10)
    return result[0] if result else None


def test_webhooks_are_stored_while_a_send_waits_for_whatsapp(app, db, users, post_webhook, whatsapp_account, run_jobs):
    """The send job holds no database transaction during the platform call (on SQLite that is the write lock)."""
    from inbox.models import Message

    send_response = fixture_json("whatsapp/api/send_response.json")
    post_webhook(recent(fixture_bytes("whatsapp/text.json")))
    client = app.test_client()
    conversation = client.get("/api/v1/conversations", headers=users.headers("agent")).get_json()["items"][0]
    during_the_call = []
    early_status = fixture_json("whatsapp/status_delivered.json")
    early_status["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = send_response["messages"][0]["id"]
    customer_again = fixture_json("whatsapp/text.json")
    customer_again["entry"][0]["changes"][0]["value"]["messages"][0]["id"] += "again"

    def whatsapp(request):
        # Meta's status and a new customer message arrive before WhatsApp's answer reaches the job.
        during_the_call.append(_post_in_thread(app, json.dumps(early_status).encode()))
        during_the_call.append(_post_in_thread(app, json.dumps(customer_again).encode()))
        return 200, {}, json.dumps(send_response)

    with responses.RequestsMock() as graph:
        graph.add_callback(responses.POST, f"{GRAPH}/{PHONE_NUMBER_ID}/messages", callback=whatsapp)
        sent = client.post(
            f"/api/v1/conversations/{conversation['id']}/messages",
            json={"text": "Salam"},
            headers=users.headers("agent"),
        ).get_json()
        run_jobs()

    assert during_the_call == [200, 200]
    assert count(db, select(func.count(Message.id)).where(Message.direction == "in")) == 2
    items = client.get(f"/api/v1/conversations/{conversation['id']}/messages", headers=users.headers("agent"))
    assert next(m for m in items.get_json()["items"] if m["id"] == sent["id"])["status"] == "delivered"


def test_webhooks_are_stored_while_a_file_downloads(app, db, users, post_webhook, whatsapp_account, run_jobs):
    from inbox.models import Message

    content = tiny_png()
    body, media = inbound("image_with_caption.json", content)
    during_the_download = []
    other = fixture_json("whatsapp/text.json")

    def file_server(request):
        during_the_download.append(_post_in_thread(app, json.dumps(other).encode()))
        return 200, {"Content-Type": "image/png"}, content

    with responses.RequestsMock() as graph:
        graph.add(responses.GET, f"{GRAPH}/{media['id']}", json=lookup_answer(media, content))
        graph.add_callback(responses.GET, LOOKASIDE, callback=file_server)
        post_webhook(body)
        run_jobs()

    assert during_the_download == [200]
    assert count(db, select(func.count(Message.id))) == 2
