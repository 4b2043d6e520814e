"""The sandbox phone and self-service: the menu shows on the phone, a tap goes back as a signed interactive reply
shaped like the fixture, and the service answers it."""

from __future__ import annotations

import pytest

from tests.conftest import fixture_json
from tests.inbox import test_sandbox_channels as channels

PHONE = "212611223355"
ALWAYS_OPEN = {day: [["00:00", "00:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}

sandbox, loopback, client, same_shape = channels.sandbox, channels.loopback, channels.client, channels.same_shape


@pytest.fixture
def config_overrides():
    return {"SANDBOX": True, "SELF_SERVICE": True}


@pytest.fixture
def open_all_day(app, db, sandbox):
    """The sandbox number open around the clock, so that the test does not depend on the hour it runs at."""
    from inbox.models import ChannelAccount

    account = db.query(ChannelAccount).filter_by(platform="whatsapp").one()
    account.business_hours = ALWAYS_OPEN
    db.commit()


def outbox(client) -> list[dict]:
    return client.get(f"/sandbox/api/messages?phone={PHONE}").get_json()["items"]


def test_the_phone_shows_the_menu_and_a_tap_answers_it(client, users, loopback, run_jobs, open_all_day):
    sent = client.post("/sandbox/api/messages", json={"phone": PHONE, "name": "Omar", "text": "Bonjour"})
    assert sent.status_code == 201 and sent.get_json()["webhook_status"] == 200
    run_jobs()
    (menu,) = outbox(client)
    rows = menu["body"]["interactive"]["action"]["sections"][0]["rows"]
    agent = next(row for row in rows if row["id"] == "menu:agent")

    tap = {
        "phone": PHONE,
        "name": "Omar",
        "text": agent["title"],
        "reply_id": agent["id"],
        "reply_title": agent["title"],
        "reply_kind": "list",
    }
    assert client.post("/sandbox/api/messages", json=tap).get_json()["webhook_status"] == 200
    run_jobs()

    values = [payload["entry"][0]["changes"][0]["value"] for payload in loopback.of("whatsapp")]
    delivered = [value["messages"][0] for value in values if value.get("messages")][-1]
    fixture = fixture_json("whatsapp/interactive_list_reply.json")["entry"][0]["changes"][0]["value"]["messages"][0]
    fixture.pop("context")  # a tap on a list quotes nothing in our fake
    fixture["interactive"]["list_reply"].pop("description")
    same_shape(fixture, delivered)
    assert delivered["interactive"]["list_reply"] == {"id": "menu:agent", "title": agent["title"]}
    answer = outbox(client)[-1]
    assert answer["type"] == "text" and "conseiller" in answer["body"]["text"]["body"]
