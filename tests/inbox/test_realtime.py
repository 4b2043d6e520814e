"""Socket.IO: who may connect, who hears what, and that clients never choose their rooms."""

from __future__ import annotations

import json

import pytest
import responses

from tests.conftest import GRAPH, PHONE_NUMBER_ID, fixture_bytes, fixture_json, recent
from tests.inbox.test_media import log_in


@pytest.fixture
def socketio():
    from inbox.realtime import socketio

    return socketio


@pytest.fixture
def connect(app, socketio):
    """Open Socket.IO test clients, closed at the end of the test."""
    opened = []

    def open_client(**kwargs):
        listener = socketio.test_client(app, **kwargs)
        opened.append(listener)
        return listener

    yield open_client
    for listener in opened:
        if listener.is_connected():
            listener.disconnect()


def names(listener) -> list[str]:
    return [event["name"] for event in listener.get_received()]


@pytest.mark.parametrize(
    "auth",
    [None, {}, {"token": ""}, {"token": "not-a-token"}, {"token": None}, "a-bare-string"],
    ids=["nothing", "empty auth", "empty token", "bad token", "null token", "not a dict"],
)
def test_a_connection_without_valid_credentials_is_refused(auth, connect, whatsapp_account):
    listener = connect(auth=auth)
    assert not listener.is_connected()


def test_a_deactivated_users_token_is_refused(app, connect, users, db):
    from inbox.models import User

    user = db.get(User, users.by_role["agent"].id)
    user.active = False
    db.commit()
    assert not connect(auth={"token": users.tokens["agent"]}).is_connected()


def test_an_agent_hears_a_new_conversation_and_its_message(connect, users, post_webhook, whatsapp_account):
    listener = connect(auth={"token": users.tokens["agent"]})
    assert listener.is_connected()

    assert post_webhook(fixture_bytes("whatsapp/text.json")).status_code == 200

    events = listener.get_received()
    assert [e["name"] for e in events] == ["conversation.created", "message.created"]
    created, message = (e["args"][0] for e in events)
    assert created["conversation"]["channel"] == "whatsapp"
    assert created["conversation_id"] == created["conversation"]["id"]
    assert message["conversation_id"] == created["conversation_id"]
    assert message["message"]["text"].startswith("Salam")
    assert message["message"]["direction"] == "in"


def test_a_second_message_updates_the_conversation(connect, users, post_webhook, whatsapp_account):
    post_webhook(fixture_bytes("whatsapp/text.json"))
    listener = connect(auth={"token": users.tokens["supervisor"]})
    again = fixture_json("whatsapp/text.json")
    message = again["entry"][0]["changes"][0]["value"]["messages"][0]
    message["id"] += "2"
    message["text"]["body"] = "Wach kayn chi jadid?"
    post_webhook(json.dumps(again).encode())
    assert names(listener) == ["message.created", "conversation.updated", "board.changed"]  # a supervisor


@pytest.mark.parametrize("role", ["agent", "supervisor", "admin"])
def test_every_conversation_reader_hears(role, connect, users, post_webhook, whatsapp_account):
    listener = connect(auth={"token": users.tokens[role]})
    post_webhook(fixture_bytes("whatsapp/text.json"))
    assert "message.created" in names(listener)


def test_marketing_hears_no_conversation(connect, users, post_webhook, whatsapp_account):
    marketing = connect(auth={"token": users.tokens["marketing"]})
    agent = connect(auth={"token": users.tokens["agent"]})
    assert marketing.is_connected()

    post_webhook(fixture_bytes("whatsapp/text.json"))

    assert names(agent)  # the event went out...
    assert names(marketing) == []  # ...but not to marketing


@pytest.mark.parametrize(
    "event, args",
    [
        ("join", ["conversations:all"]),
        ("join", [{"room": "conversations:all"}]),
        ("join_room", ["conversations:all"]),
        ("subscribe", ["conversations:all"]),
        ("enter_room", [{"room": "conversations:all"}]),
    ],
)
def test_a_client_cannot_choose_its_rooms(event, args, connect, users, post_webhook, whatsapp_account):
    marketing = connect(auth={"token": users.tokens["marketing"]})
    marketing.emit(event, *args)
    post_webhook(fixture_bytes("whatsapp/text.json"))
    assert [n for n in names(marketing) if n.startswith(("conversation.", "message."))] == []


def test_the_browser_connects_with_its_session_cookie(app, client, connect, users, post_webhook, whatsapp_account):
    assert not connect(flask_test_client=client).is_connected()  # the cookie jar is still empty
    log_in(client)
    listener = connect(flask_test_client=client)
    assert listener.is_connected()
    post_webhook(fixture_bytes("whatsapp/text.json"))
    assert "message.created" in names(listener)


def test_an_agent_reply_and_its_delivery_are_announced(
    connect, client, users, post_webhook, whatsapp_account, run_jobs
):
    send_response = fixture_json("whatsapp/api/send_response.json")
    post_webhook(recent(fixture_bytes("whatsapp/text.json")))
    conversation = client.get("/api/v1/conversations", headers=users.headers("agent")).get_json()["items"][0]
    listener = connect(auth={"token": users.tokens["supervisor"]})
    with responses.RequestsMock() as graph:
        graph.add(responses.POST, f"{GRAPH}/{PHONE_NUMBER_ID}/messages", json=send_response)
        client.post(
            f"/api/v1/conversations/{conversation['id']}/messages",
            json={"text": "Salam"},
            headers=users.headers("agent"),
        )
        run_jobs()
    status = fixture_json("whatsapp/status_delivered.json")
    status["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = send_response["messages"][0]["id"]
    post_webhook(json.dumps(status).encode())

    events = [(e["name"], e["args"][0]) for e in listener.get_received()]
    statuses = [p["message"]["status"] for name, p in events if name.startswith("message.")]
    assert statuses == ["queued", "sent", "delivered"]
    assert [name for name, _ in events if name.startswith("message.")] == [
        "message.created",
        "message.updated",
        "message.updated",
    ]
    answered = [p for name, p in events if name == "conversation.updated"]
    assert answered and answered[-1]["conversation"]["first_response_at"] is not None
