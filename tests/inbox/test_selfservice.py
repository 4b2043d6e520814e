"""Self-service on WhatsApp through signed webhooks and a faked Graph API: the menu, the meter-reading flow
(bad indexes included), the out-of-hours answer once per closed period, and the flow stopping when an agent
writes. Every automatic message is checked as the API shows it and as it left for Meta."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import responses

from tests.conftest import GRAPH, PHONE_NUMBER_ID

MESSAGES_URL = f"{GRAPH}/{PHONE_NUMBER_ID}/messages"
CUSTOMER = "212612345678"
OPEN = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)  # a Wednesday, 12:00 in Casablanca: open
CLOSED = datetime(2026, 12, 2, 21, 30, tzinfo=UTC)  # the same day, 22:30: closed until Thursday 10:00
NEXT_CLOSED = datetime(2026, 12, 3, 20, 15, tzinfo=UTC)  # Thursday 21:15: closed until Friday 10:00


@pytest.fixture
def config_overrides():
    return {"SELF_SERVICE": True}


@pytest.fixture(autouse=True)
def release_db(client, db, monkeypatch):
    """On SQLite the test's session holds the write lock after a read: every request ends its transaction first."""
    original = client.open

    def open_(*args, **kwargs):
        db.rollback()
        return original(*args, **kwargs)

    monkeypatch.setattr(client, "open", open_)


class FakeGraph:
    """Answers every send with a fresh wamid and keeps the bodies sent."""

    def __init__(self, mock):
        self.bodies, self.count = [], 0
        mock.add_callback(responses.POST, MESSAGES_URL, callback=self.answer)

    def answer(self, request):
        self.bodies.append(json.loads(request.body))
        self.count += 1  # never the same id twice: a repeated one would be taken for the echo of an earlier send
        answer = {"messaging_product": "whatsapp", "messages": [{"id": f"wamid.out{self.count}"}]}
        return 200, {}, json.dumps(answer)

    def take(self) -> list[dict]:
        """The bodies sent since the last call."""
        bodies, self.bodies = self.bodies, []
        return bodies


@pytest.fixture
def graph():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeGraph(mock)


class Customer:
    """A WhatsApp customer writing through signed webhooks; each message is ingested and its answers sent."""

    def __init__(self, post_webhook, run_jobs):
        self.post, self.run_jobs, self.count = post_webhook, run_jobs, 0

    def _send(self, at: datetime, kind: str, content: dict) -> None:
        self.count += 1
        message = {"from": CUSTOMER, "id": f"wamid.in{self.count}", "timestamp": str(int(at.timestamp())), "type": kind}
        message[kind] = content
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "212500000000", "phone_number_id": PHONE_NUMBER_ID},
            "contacts": [{"profile": {"name": "Samira"}, "wa_id": CUSTOMER}],
            "messages": [message],
        }
        payload = {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
        }
        response = self.post(json.dumps(payload).encode())  # signed with the app secret (conftest)
        assert response.status_code == 200, response.get_data(as_text=True)
        self.run_jobs()

    def text(self, body: str, at: datetime = OPEN) -> None:
        self._send(at, "text", {"body": body})

    def taps(self, reply_id: str, at: datetime = OPEN, title: str = "") -> None:
        kind = "list_reply" if reply_id.startswith("menu:") else "button_reply"
        self._send(at, "interactive", {"type": kind, kind: {"id": reply_id, "title": title or reply_id}})

    def photo(self, at: datetime = OPEN) -> None:
        self._send(at, "image", {"id": "media-meter-1", "mime_type": "image/jpeg", "sha256": "abc"})


@pytest.fixture
def customer(post_webhook, run_jobs, whatsapp_account, graph):
    return Customer(post_webhook, run_jobs)


@pytest.fixture
def catalogue(app, db):
    """The default catalogue, its claims cell served by a team."""
    from inbox.catalogue import seed_default
    from inbox.db import session
    from inbox.models import CatalogueItem, Team

    with app.app_context():
        seed_default()
        session().commit()
    team = Team(name="Réclamations")
    db.add(team)
    db.flush()
    cell = db.query(CatalogueItem).filter_by(name="Cellule de traitement des réclamations").one()
    cell.team_id = team.id
    db.commit()
    return team


def conversation_of(client, users) -> dict:
    items = client.get("/api/v1/conversations", headers=users.headers("admin")).get_json()["items"]
    assert len(items) == 1
    return items[0]


def messages_of(client, users, conversation_id: int) -> list[dict]:
    url = f"/api/v1/conversations/{conversation_id}/messages"
    return client.get(url, headers=users.headers("admin")).get_json()["items"]


def automatic(client, users) -> list[dict]:
    conversation = conversation_of(client, users)
    return [m for m in messages_of(client, users, conversation["id"]) if m["automatic"]]


def choice_ids(body: dict) -> list[str]:
    action = body["interactive"]["action"]
    if body["interactive"]["type"] == "list":
        return [row["id"] for section in action["sections"] for row in section["rows"]]
    return [button["reply"]["id"] for button in action["buttons"]]


# ---------------------------------------------------------------------------------------------- the menu


def test_a_new_conversation_is_queued_at_once_and_gets_the_menu(client, users, db, customer, graph):
    from inbox.models import Conversation

    customer.text("Bonjour, j'ai une question sur ma facture d'eau")

    conversation = conversation_of(client, users)
    assert db.get(Conversation, conversation["id"]).queued_at is not None  # in the queue, as any other
    (menu,) = automatic(client, users)
    assert menu["automatic"] == "menu" and menu["type"] == "interactive" and menu["status"] == "sent"
    assert menu["author"] == {"type": "system"}
    (sent,) = graph.take()
    assert sent["to"] == CUSTOMER and sent["type"] == "interactive"
    assert sent["interactive"]["type"] == "list"  # four choices: more than WhatsApp's three buttons
    assert sent["interactive"]["body"]["text"].startswith("Bienvenue au service client")
    assert sent["interactive"]["action"]["button"] == "Choisir"
    assert choice_ids(sent) == ["menu:information", "menu:claim", "menu:meter", "menu:agent"]
    rows = sent["interactive"]["action"]["sections"][0]["rows"]
    assert all(len(row["title"]) <= 24 for row in rows)
    assert conversation_of(client, users)["first_response_at"] is None  # the menu answers nobody

    customer.text("Vous êtes là ?")  # a second message in open hours: no second menu
    assert graph.take() == []


def test_choosing_a_claim_prequalifies_and_routes_to_the_claims_team(client, users, db, customer, graph, catalogue):
    from inbox.models import Conversation

    customer.text("Bonjour, j'ai un problème de coupure d'eau depuis hier")
    graph.take()
    customer.taps("menu:claim", title="Réclamation")

    conversation = db.get(Conversation, conversation_of(client, users)["id"])
    assert conversation.request_type == "claim"
    assert conversation.service.name == "Cellule de traitement des réclamations"
    assert conversation.team_id == catalogue.id  # waits in the claims team's queue
    assert conversation.status == "open" and conversation.queued_at is not None
    (answer,) = graph.take()
    assert answer["type"] == "text" and "décrivez le problème" in answer["text"]["body"]


def test_talk_to_an_agent_answers_and_leaves_the_conversation_waiting(client, users, db, customer, graph):
    customer.text("Salam, bghit nhder m3a chi wahed 3afak")
    graph.take()
    customer.taps("menu:agent")
    (answer,) = graph.take()
    assert answer["type"] == "text"
    conversation = conversation_of(client, users)
    assert conversation["status"] == "open" and conversation["request_type"] is None


# ------------------------------------------------------------------------------------- the meter reading


def directory_contract(db, number: str = "10012345", name: str = "Samira Alaoui"):
    from inbox.models import Customer as Entry
    from inbox.models import CustomerContract

    entry = Entry(cil=f"CIL{number}", name=name)
    entry.contracts.append(CustomerContract(number=number))
    db.add(entry)
    db.commit()


def earlier_reading(db, contract: str, meter: str, index: int, days_ago: int):
    """A reading already on record, `days_ago` days old, in a conversation of its own."""
    from inbox.db import utcnow
    from inbox.models import Contact, MeterReading

    contact = Contact(name="Earlier")
    db.add(contact)
    db.flush()
    db.add(
        MeterReading(
            receipt_number=f"REL-OLD-{index}",
            contact_id=contact.id,
            contract=contract,
            meter=meter,
            index_value=index,
            created_at=utcnow() - timedelta(days=days_ago),
        )
    )
    db.commit()


def test_a_meter_reading_end_to_end_with_every_bad_answer(client, users, db, customer, graph, catalogue):
    from inbox.models import Attachment, Conversation, MeterReading

    directory_contract(db)
    earlier_reading(db, "10012345", "water", 1000, days_ago=30)  # unusual above 1000 + 30 days x 3 m3
    customer.text("Bonjour, je veux donner mon index")
    graph.take()

    customer.taps("menu:meter")
    assert "numéro de contrat" in graph.take()[0]["text"]["body"]
    customer.text("99999999")  # not in the directory
    assert "Nous ne trouvons pas ce contrat" in graph.take()[0]["text"]["body"]
    customer.text("1001 2345")  # spaces as printed on the bill
    (ask_meter,) = graph.take()
    assert ask_meter["interactive"]["type"] == "button"
    assert choice_ids(ask_meter) == ["meter:water", "meter:electricity"]
    customer.taps("meter:water", title="Eau")
    assert "chiffres uniquement" in graph.take()[0]["text"]["body"]

    customer.text("10a5")  # letters
    assert "en chiffres uniquement, par exemple" in graph.take()[0]["text"]["body"]
    customer.text("950")  # below the last reading
    assert "inférieur au dernier relevé connu (1000)" in graph.take()[0]["text"]["body"]
    customer.text("5000")  # an unusual jump: asked to confirm
    (confirm,) = graph.take()
    assert "consommation inhabituelle" in confirm["interactive"]["body"]["text"]
    assert choice_ids(confirm) == ["index:confirm", "index:correct"]
    customer.taps("index:correct")
    assert "chiffres uniquement" in graph.take()[0]["text"]["body"]
    customer.text("1 050")
    (ask_photo,) = graph.take()
    assert choice_ids(ask_photo) == ["photo:skip"]
    assert db.query(MeterReading).count() == 1  # nothing recorded before the flow ends
    customer.photo()

    reading = db.query(MeterReading).filter_by(contract="10012345", index_value=1050).one()
    assert reading.meter == "water" and not reading.confirmed_unusual
    photo = db.get(Attachment, reading.photo_attachment_id)
    assert photo.media_ref == "media-meter-1"
    (receipt,) = [b for b in graph.take() if b.get("type") == "text"]
    assert reading.receipt_number in receipt["text"]["body"] and reading.receipt_number.startswith("REL-2026-")
    conversation = db.get(Conversation, reading.conversation_id)
    assert conversation.status == "resolved" and conversation.request_type == "request"
    assert (conversation.family.name, conversation.nature.name) == ("Compteur", "Relève")
    shown = messages_of(client, users, conversation.id)[-1]
    assert shown["automatic"] == "receipt" and shown["data"]["receipt_number"] == reading.receipt_number


def test_a_linked_contact_is_recognised_and_an_unusual_index_confirmed(client, users, db, customer, graph):
    from inbox.models import Contact, MeterReading, SelfServiceState

    customer.text("Bonjour")
    graph.take()
    contact = db.get(Contact, conversation_of(client, users)["contact"]["id"])
    contact.contract = "20067890"  # linked by an agent to its directory entry earlier
    db.commit()
    earlier_reading(db, "20067890", "electricity", 4000, days_ago=1)

    customer.taps("menu:meter")
    (ask_meter,) = graph.take()
    assert "contrat 20067890" in ask_meter["interactive"]["body"]["text"]  # no question about the contract
    customer.text("Électricité")  # typed instead of tapped
    assert "chiffres uniquement" in graph.take()[0]["text"]["body"]
    state = db.get(SelfServiceState, conversation_of(client, users)["id"])  # kept in the database, not in memory
    assert (state.step, state.data["contract"], state.data["meter"]) == ("meter_index", "20067890", "electricity")
    customer.text("4500")  # 500 kWh in a day
    graph.take()
    customer.taps("index:confirm")
    graph.take()
    customer.taps("photo:skip")

    reading = db.query(MeterReading).filter_by(contract="20067890", index_value=4500).one()
    assert reading.confirmed_unusual and reading.photo_attachment_id is None
    assert conversation_of(client, users)["status"] == "resolved"


def test_three_wrong_answers_hand_over_to_an_agent(client, users, db, customer, graph):
    customer.text("Bonjour")
    customer.taps("menu:meter")
    for wrong in ("abc", "1-2", "x"):
        customer.text(wrong)
    graph.take()
    customer.text("12345678")  # no longer asked for: an agent takes it from here
    assert graph.take() == []
    kinds = [m["automatic"] for m in automatic(client, users)]
    assert kinds == ["menu", "ask_contract", "retry_meter_contract", "retry_meter_contract", "handed_over"]
    assert conversation_of(client, users)["status"] == "open"


def test_readings_are_listed_filtered_and_exported(client, users, db, customer, graph):
    from inbox.models import Contact

    customer.text("Bonjour")
    contact = db.get(Contact, conversation_of(client, users)["contact"]["id"])
    contact.contract = "20067890"
    db.commit()
    for step in ("menu:meter", "meter:water"):
        customer.taps(step)
    customer.text("321")
    customer.taps("photo:skip")

    listed = client.get("/api/v1/meter-readings?meter=water&contract=20067890", headers=users.headers("agent"))
    assert listed.status_code == 200
    (item,) = listed.get_json()["items"]
    assert (item["index"], item["meter"], item["contact"]["name"]) == (321, "water", "Samira")
    assert client.get("/api/v1/meter-readings?meter=electricity", headers=users.headers("agent")).get_json() == {
        "items": []
    }
    exported = client.get("/api/v1/meter-readings?format=csv", headers=users.headers("supervisor"))
    assert exported.mimetype == "text/csv"
    lines = exported.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("receipt_number,created_at,contract,meter,index")
    assert lines[1].startswith(f"{item['receipt_number']},") and ",20067890,water,321," in lines[1]
    for bad in ("meter=gas", "since=yesterday", "limit=0"):
        response = client.get(f"/api/v1/meter-readings?{bad}", headers=users.headers("agent"))
        assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_parameter"
    assert client.get("/api/v1/meter-readings", headers=users.headers("marketing")).status_code == 403


# -------------------------------------------------------------------------------- outside business hours


def test_the_out_of_hours_answer_goes_once_per_closed_period(client, users, db, customer, graph):
    customer.text("Bonsoir, ma facture est trop élevée ce mois-ci", at=CLOSED)
    notice, menu = graph.take()
    assert notice["type"] == "text"
    assert "Ils seront de retour demain à 10:00" in notice["text"]["body"]
    assert menu["type"] == "interactive"

    customer.text("Vous êtes là ? Je voudrais une réponse", at=CLOSED + timedelta(minutes=20))
    customer.text("Toujours personne ?", at=CLOSED + timedelta(hours=3))
    assert graph.take() == []  # the same closed period: said once

    customer.text("Bonjour, pouvez-vous regarder ma facture ?", at=OPEN + timedelta(days=1))  # Thursday, open
    assert graph.take() == []

    customer.text("Bonsoir, toujours pas de réponse pour ma facture", at=NEXT_CLOSED)  # the next closed period
    notice, menu = graph.take()
    assert "Ils seront de retour demain à 10:00" in notice["text"]["body"]
    assert menu["type"] == "interactive"
    kinds = [m["automatic"] for m in automatic(client, users)]
    assert kinds == ["closed", "menu", "closed", "menu"]
    assert conversation_of(client, users)["first_response_at"] is None  # automatic answers stop no clock


def test_the_out_of_hours_answer_speaks_the_customers_language(client, users, db, customer, graph, app):
    customer.text("السلام عليكم، عندي مشكل فالفاتورة ديال الضو هاد الشهر", at=CLOSED)
    notice, menu = graph.take()
    assert conversation_of(client, users)["language"] == "ary"
    assert "غادي يرجعو غدا مع 10:00" in notice["text"]["body"]
    assert menu["interactive"]["action"]["button"] == "ختار"


def test_the_next_opening_is_said_in_every_language():
    from inbox.business_time import Calendar
    from inbox.selfservice import when_text

    calendar = Calendar()
    saturday_night = datetime(2026, 12, 5, 21, 0, tzinfo=UTC)  # 22:00 on Saturday: closed until Monday
    reopens = calendar.next_open(saturday_night)
    assert when_text(calendar, saturday_night, reopens, "fr") == "lundi 07/12 à 10:00"
    assert when_text(calendar, saturday_night, reopens, "en") == "on Monday 07/12 at 10:00"
    assert when_text(calendar, saturday_night, reopens, "ar") == "يوم الاثنين 07/12 على الساعة 10:00"
    assert when_text(calendar, saturday_night, reopens, "ary") == "نهار التنين 07/12 مع 10:00"
    early = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)  # Monday 08:00
    assert when_text(calendar, early, calendar.next_open(early), "en") == "today at 10:00"


# ------------------------------------------------------------------------------------ an agent writes


def test_the_flow_stops_as_soon_as_an_agent_writes(client, users, db, customer, graph):
    # Written a minute ago, not at OPEN: an agent's free-form reply needs the 24-hour window still open today.
    # Whether the clock is open now or not, the closed notice (if any) came with the first message.
    just_now = datetime.now(UTC) - timedelta(minutes=1)
    customer.text("Bonjour, je veux envoyer mon relevé", at=just_now)
    graph.take()
    conversation = conversation_of(client, users)
    sent = client.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        json={"text": "Bonjour, je m'en occupe."},
        headers=users.headers("admin"),
    )
    assert sent.status_code == 202, sent.get_data(as_text=True)
    customer.run_jobs()
    assert graph.take()[0]["text"]["body"] == "Bonjour, je m'en occupe."
    assert conversation_of(client, users)["first_response_at"] is not None  # an agent's reply does count

    customer.taps("menu:meter", at=just_now)
    customer.text("12345", at=just_now)
    assert graph.take() == []  # the flow says nothing more
    customer.text("Et ce soir ?", at=CLOSED)
    (notice,) = graph.take()  # the out-of-hours answer still goes, without a menu
    assert "de retour demain à 10:00" in notice["text"]["body"]


def test_self_service_is_off_with_the_setting(client, users, db, whatsapp_account, post_webhook, run_jobs, graph, app):
    app.config["SELF_SERVICE"] = False
    Customer(post_webhook, run_jobs).text("Bonjour", at=CLOSED)
    assert graph.take() == []


def test_a_stop_word_gets_its_confirmation_and_no_menu(client, users, db, customer, graph, app):
    from campaigns.optout import seed_stop_words
    from inbox.db import session

    with app.app_context():
        seed_stop_words()
        session().commit()
    customer.text("STOP")
    assert [m["automatic"] for m in automatic(client, users)] == ["opt_stop"]
    assert len(graph.take()) == 1
