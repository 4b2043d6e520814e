"""Campaigns through the API and the RQ jobs against a faked Graph API: personalisation, bad rows, missing
values, opt-outs (before and mid-campaign), 130429, 131047, pause and resume, interrupted sends, exports,
replies, roles."""

from __future__ import annotations

import io
import json
import time
from collections import Counter
from datetime import timedelta

import pytest
import responses

from tests.conftest import GRAPH, PHONE_NUMBER_ID, fixture_bytes
from tests.inbox.test_api import assert_error

MESSAGES_URL = f"{GRAPH}/{PHONE_NUMBER_ID}/messages"


class FakeGraph:
    """Answers sends with fresh message ids (or scripted errors) and counts them per recipient."""

    def __init__(self, mock):
        self.sent = Counter()
        self.texts = {}
        self.errors = {}  # recipient -> list of (status, code) to answer first
        mock.add_callback(responses.POST, MESSAGES_URL, callback=self.answer)

    def answer(self, request):
        body = json.loads(request.body)
        to = body["to"]
        queued = self.errors.get(to)
        if queued:
            status, code = queued.pop(0)
            return status, {}, json.dumps({"error": {"code": code, "message": "scripted", "type": "OAuthException"}})
        self.sent[to] += 1
        self.texts[to] = body.get("text", {}).get("body") or body.get("template")
        return (
            200,
            {},
            json.dumps({"messaging_product": "whatsapp", "messages": [{"id": f"wamid.{to}.{self.sent[to]}"}]}),
        )


@pytest.fixture(autouse=True)
def stop_words(app):
    """The default stop and start words, as the first start seeds them."""
    from campaigns.optout import seed_stop_words
    from inbox.db import session

    with app.app_context():
        seed_stop_words()
        session().commit()


@pytest.fixture
def graph():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeGraph(mock)


CSV = (
    "phone;prenom;montant\n"
    "0612345601;Amina;350\n"
    "+212 6 12 34 56 02;Youssef;120\n"
    "00212612345603;;90\n"  # no first name: skipped with its reason
    "0612345601;Amina bis;350\n"  # the same person again: a duplicate, never a second message
    "12;Bad;1\n"  # not a phone number
    "0612345604;Khadija\n"  # a value missing from the row
)


def create(client, users, role="marketing", **fields):
    body = {
        "name": "Rappel facture",
        "channel": "whatsapp",
        "text": "Bonjour {{ prenom }}, votre facture de {{ montant }} DH est disponible.",
        "audience": {"csv": CSV},
        **fields,
    }
    return client.post("/api/v1/campaigns", json=body, headers=users.headers(role))


def prepared(client, users, run_jobs, **fields) -> dict:
    response = create(client, users, **fields)
    assert response.status_code == 202, response.get_data(as_text=True)
    run_jobs()
    return client.get(f"/api/v1/campaigns/{response.get_json()['id']}", headers=users.headers("marketing")).get_json()


def control(client, users, campaign_id, action):
    return client.post(f"/api/v1/campaigns/{campaign_id}/{action}", headers=users.headers("marketing"))


def test_the_audience_report_and_preview_before_anything_is_sent(client, users, whatsapp_account, run_jobs, graph):
    campaign = prepared(client, users, run_jobs)
    report = campaign["audience_report"]
    assert (report["rows"], report["recipients"], report["duplicates"], report["skipped"]) == (6, 3, 1, 1)
    assert sorted(r["line"] for r in report["bad_rows"]) == [6, 7]
    assert campaign["status"] == "draft" and campaign["counts"]["total"] == 3 and sum(graph.sent.values()) == 0
    assert campaign["preview"][0] == {
        "address": "212612345601",
        "text": "Bonjour Amina, votre facture de 350 DH est disponible.",
    }
    skipped = client.get(
        f"/api/v1/campaigns/{campaign['id']}/recipients?state=skipped", headers=users.headers("marketing")
    ).get_json()["items"]
    assert skipped[0]["address"] == "212612345603" and "prenom" in skipped[0]["reason"]


def test_each_recipient_gets_their_own_message_once(client, users, whatsapp_account, run_jobs, graph):
    campaign = prepared(client, users, run_jobs)
    assert control(client, users, campaign["id"], "start").status_code == 200
    run_jobs()
    assert graph.sent == Counter({"212612345601": 1, "212612345602": 1})
    assert graph.texts["212612345602"] == "Bonjour Youssef, votre facture de 120 DH est disponible."
    done = client.get(f"/api/v1/campaigns/{campaign['id']}", headers=users.headers("marketing")).get_json()
    assert done["status"] == "done"
    assert done["counts"] | {} == {**done["counts"], "sent": 2, "skipped": 1, "pending": 0, "failed": 0}
    assert_error(control(client, users, campaign["id"], "start"), 409, "bad_state")


def test_a_rate_limit_slows_down_and_completes_and_131047_fails_that_recipient(
    client, users, whatsapp_account, run_jobs, graph
):
    graph.errors["212612345601"] = [(400, 130429), (400, 130429)]
    graph.errors["212612345602"] = [(400, 131047)]
    campaign = prepared(client, users, run_jobs)
    control(client, users, campaign["id"], "start")
    run_jobs()
    assert graph.sent == Counter({"212612345601": 1})  # after two rate-limit answers, sent once
    result = client.get(f"/api/v1/campaigns/{campaign['id']}", headers=users.headers("marketing")).get_json()
    assert result["counts"]["failed"] == 1 and result["outcomes"]["failed_by_reason"] == {"131047": 1}
    assert result["status"] == "done"


def test_pause_and_resume(client, users, whatsapp_account, run_jobs, graph):
    campaign = prepared(client, users, run_jobs)
    control(client, users, campaign["id"], "start")
    assert control(client, users, campaign["id"], "pause").get_json()["status"] == "paused"
    run_jobs()  # the queued send loops see the pause and stop
    assert sum(graph.sent.values()) == 0
    assert control(client, users, campaign["id"], "resume").get_json()["status"] == "running"
    run_jobs()
    assert sum(graph.sent.values()) == 2


def stop_from(post_webhook, number: str, text: str, n: int):
    body = json.loads(fixture_bytes("whatsapp/text.json"))
    value = body["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = value["messages"][0]["from"] = number
    value["messages"][0]["text"]["body"], value["messages"][0]["id"] = text, f"wamid.stop{n}"
    value["messages"][0]["timestamp"] = str(int(time.time()))
    assert post_webhook(json.dumps(body).encode()).status_code == 200


def test_a_stop_word_opts_out_with_a_confirmation_and_start_opts_back_in(
    client, users, db, whatsapp_account, post_webhook, run_jobs, graph
):
    from inbox.models import Message, OptOut

    stop_from(post_webhook, "212612345601", "Arrêt !", 1)
    run_jobs()
    assert db.query(OptOut).filter_by(address="212612345601").count() == 1
    assert graph.sent["212612345601"] == 1  # the confirmation
    confirmation = db.query(Message).filter_by(direction="out").one()
    assert "START" in confirmation.text and confirmation.author_id is None
    db.rollback()  # end the read: on SQLite it holds the write lock (inbox/db.py)
    listed = client.get("/api/v1/opt-outs?format=csv", headers=users.headers("marketing")).get_data(as_text=True)
    assert "212612345601" in listed

    campaign = prepared(client, users, run_jobs)
    assert campaign["audience_report"]["opted_out"] == 1
    stop_from(post_webhook, "212612345601", "start", 2)
    assert db.query(OptOut).count() == 0


def test_an_opt_out_mid_campaign_stops_the_sends_not_yet_made(
    client, users, whatsapp_account, post_webhook, run_jobs, graph
):
    campaign = prepared(client, users, run_jobs)
    control(client, users, campaign["id"], "start")
    stop_from(post_webhook, "212612345602", "STOP", 3)  # processed before the send loop reaches them
    run_jobs()
    assert graph.sent["212612345602"] == 1  # only the opt-out confirmation, no campaign message
    assert graph.texts["212612345602"].startswith("C'est noté")
    skipped = client.get(
        f"/api/v1/campaigns/{campaign['id']}/recipients?state=skipped", headers=users.headers("marketing")
    ).get_json()["items"]
    assert {r["address"]: r["reason"] for r in skipped}["212612345602"] == "opted out"


def test_an_interrupted_send_is_never_resent_by_itself(app, client, users, db, whatsapp_account, run_jobs, graph):
    from inbox.db import utcnow
    from inbox.models import CampaignRecipient

    campaign = prepared(client, users, run_jobs)
    row = db.query(CampaignRecipient).filter_by(address="212612345601").one()
    row.state, row.claimed_at = "sending", utcnow() - timedelta(minutes=5)  # its worker died mid-send
    db.commit()
    row_id = row.id
    control(client, users, campaign["id"], "start")
    run_jobs()
    assert graph.sent == Counter({"212612345602": 1})
    result = client.get(f"/api/v1/campaigns/{campaign['id']}", headers=users.headers("marketing")).get_json()
    assert result["counts"]["interrupted"] == 1 and result["status"] == "done"
    resent = client.post(
        f"/api/v1/campaigns/{campaign['id']}/recipients/{row_id}/resend", headers=users.headers("marketing")
    )
    assert resent.status_code == 200
    run_jobs()
    assert graph.sent["212612345601"] == 1  # a person decided to send it again


def test_a_reply_opens_a_conversation_that_shows_its_campaign(
    client, users, db, whatsapp_account, post_webhook, run_jobs, graph
):
    from inbox.models import Conversation

    campaign = prepared(client, users, run_jobs)
    control(client, users, campaign["id"], "start")
    run_jobs()
    stop_from(post_webhook, "212612345601", "Merci, je paie demain", 4)
    conversation = db.query(Conversation).one()
    assert conversation.campaign_id == campaign["id"]
    db.rollback()
    result = client.get(f"/api/v1/campaigns/{campaign['id']}", headers=users.headers("marketing")).get_json()
    assert result["outcomes"]["replied"] == 1


def test_exports_as_csv_and_xlsx(client, users, whatsapp_account, run_jobs, graph):
    from openpyxl import load_workbook

    campaign = prepared(client, users, run_jobs)
    control(client, users, campaign["id"], "start")
    run_jobs()
    text = client.get(f"/api/v1/campaigns/{campaign['id']}/export", headers=users.headers("marketing"))
    lines = text.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("address,state") and len(lines) == 4
    book = client.get(f"/api/v1/campaigns/{campaign['id']}/export?format=xlsx", headers=users.headers("marketing"))
    sheet = load_workbook(io.BytesIO(book.data)).active
    assert [c.value for c in sheet[1]][:2] == ["address", "state"] and sheet.max_row == 4


@pytest.mark.parametrize(
    "fields, code",
    [
        ({"text": "Bonjour {{ nom }}"}, "template_refused"),
        ({"text": "{{ prenom.__class__ }}"}, "template_refused"),
        ({"audience": {"csv": "nom;montant\nA;1\n"}}, "bad_audience"),
        ({"audience": {"csv": ""}}, "bad_audience"),
        ({"audience": {"filters": {"colour": "red"}}}, "bad_audience"),
        ({"audience": {"filters": {"tags": "e-facture"}}}, "bad_audience"),  # a list of tags
        ({"audience": {"filters": {"tags": ["e-facture", "<b>"]}}}, "bad_audience"),
        ({"audience": {"filters": {"segment": "vip"}}}, "bad_audience"),
        ({"audience": {"filters": {"zone": 7}}}, "bad_audience"),
        ({"rate_per_second": 500}, "bad_rate"),
        ({"channel": "pigeon"}, "bad_channel"),
        ({"scheduled_at": "2020-01-01T10:00"}, "bad_schedule"),
        ({"text": None, "template": {"name": "facture", "language": "fr", "parameters": ["nom"]}}, "bad_template"),
    ],
)
def test_bad_campaigns_are_refused_and_nothing_is_kept(fields, code, client, users, db, whatsapp_account):
    from inbox.models import Campaign

    body = {k: v for k, v in fields.items() if v is not None}
    if fields.get("text", "") is None:
        response = client.post(
            "/api/v1/campaigns",
            json={"name": "x", "channel": "whatsapp", "audience": {"csv": CSV}, **body},
            headers=users.headers("marketing"),
        )
    else:
        response = create(client, users, **body)
    assert_error(response, 422, code)
    assert db.query(Campaign).count() == 0


def test_a_platform_template_with_columns_as_parameters(client, users, whatsapp_account, run_jobs, graph):
    response = client.post(
        "/api/v1/campaigns",
        json={
            "name": "Coupure",
            "channel": "whatsapp",
            "template": {"name": "coupure_programmee", "language": "fr", "parameters": ["prenom", "montant"]},
            "audience": {"csv": CSV},
        },
        headers=users.headers("marketing"),
    )
    assert response.status_code == 202
    run_jobs()
    control(client, users, response.get_json()["id"], "start")
    run_jobs()
    sent = graph.texts["212612345601"]
    assert sent["name"] == "coupure_programmee"
    assert [p["text"] for p in sent["components"][0]["parameters"]] == ["Amina", "350"]


@pytest.mark.parametrize(
    "role, allowed",
    [("marketing", True), ("admin", True), ("agent", False), ("supervisor", False), ("reviewer", False)],
)
def test_campaign_roles(role, allowed, client, users, whatsapp_account):
    response = create(client, users, role=role)
    listing = client.get("/api/v1/campaigns", headers=users.headers(role))
    if allowed:
        assert response.status_code == 202 and listing.status_code == 200
    else:
        assert_error(response, 403, "forbidden")
        assert_error(listing, 403, "forbidden")


def test_marketing_never_sees_conversation_contents(client, users, whatsapp_account, post_webhook):
    stop_from(post_webhook, "212612345601", "Bonjour", 5)
    assert_error(client.get("/api/v1/conversations", headers=users.headers("marketing")), 403)


def _status(external_id: str, to: str, status: str) -> bytes:
    body = json.loads(fixture_bytes("whatsapp/status_read.json"))
    body["entry"][0]["changes"][0]["value"]["statuses"][0].update(id=external_id, recipient_id=to, status=status)
    return json.dumps(body).encode()


def test_the_list_shows_each_campaigns_counts_in_a_constant_number_of_queries(
    app, client, users, whatsapp_account, run_jobs, graph, post_webhook
):
    from sqlalchemy import event

    sent = prepared(client, users, run_jobs)
    control(client, users, sent["id"], "start")
    run_jobs()
    for external_id, to, status in (
        ("wamid.212612345601.1", "212612345601", "delivered"),
        ("wamid.212612345601.1", "212612345601", "read"),  # delivered then read: one message delivered
        ("wamid.212612345602.1", "212612345602", "delivered"),
    ):
        assert post_webhook(_status(external_id, to, status)).status_code == 200
    draft = prepared(client, users, run_jobs)
    statements = []
    event.listen(app.extensions["db_engine"], "before_cursor_execute", lambda *args: statements.append(1))
    listing = client.get("/api/v1/campaigns", headers=users.headers("marketing")).get_json()["items"]
    with_two = len(statements)
    counts = {item["id"]: item["counts"] for item in listing}
    assert counts[sent["id"]] == {
        "total": 3, "pending": 0, "sent": 2, "delivered": 2, "read": 1, "failed": 0, "skipped": 1, "interrupted": 0
    }
    assert counts[draft["id"]] | {} == {**counts[draft["id"]], "total": 3, "pending": 2, "sent": 0, "delivered": 0}
    for campaign_id, shown in counts.items():
        detail = client.get(f"/api/v1/campaigns/{campaign_id}", headers=users.headers("marketing")).get_json()
        assert detail["counts"] == shown
    for _ in range(3):
        prepared(client, users, run_jobs)
    statements.clear()
    listing = client.get("/api/v1/campaigns", headers=users.headers("marketing")).get_json()["items"]
    assert len(listing) == 5 and len(statements) == with_two  # not one query per campaign


def test_directory_filters_take_the_customers_with_every_tag_and_a_whatsapp_identity(
    client, users, db, whatsapp_account, run_jobs, graph
):
    from inbox.models import Contact, ContactIdentity, Customer, CustomerTag

    def customer(cil, phone, tags, identity=True):
        entry = Customer(cil=cil, name=f"Client {cil}", tags=[CustomerTag(tag=tag) for tag in tags])
        contact = Contact(name=f"Prénom{cil} Nom", cil=cil, customer=entry)
        db.add_all([entry, contact])
        db.flush()
        if identity:
            db.add(ContactIdentity(contact_id=contact.id, account_id=whatsapp_account.id, external_id=phone))

    customer("T-1", "212611000001", ["e-facture", "gros consommateur"])
    customer("T-2", "212611000002", ["e-facture"])
    customer("T-3", "212611000003", ["gros consommateur"])
    customer("T-4", "212611000004", ["e-facture", "gros consommateur"], identity=False)  # not on WhatsApp
    db.commit()

    def audience_of(tags):
        campaign = prepared(
            client, users, run_jobs, text="Bonjour {{ prenom }}", audience={"filters": {"tags": tags}}
        )
        rows = client.get(f"/api/v1/campaigns/{campaign['id']}/recipients", headers=users.headers("marketing"))
        return campaign, sorted(row["address"] for row in rows.get_json()["items"])

    campaign, both = audience_of(["E-Facture", "Gros Consommateur"])  # written as marketing types them
    assert both == ["212611000001"]
    assert campaign["audience"]["filters"] == {"tags": ["e-facture", "gros consommateur"]}
    assert campaign["preview"][0]["text"] == "Bonjour PrénomT-1"
    assert audience_of(["e-facture"])[1] == ["212611000001", "212611000002"]
    assert audience_of(["fidèle"])[1] == []


def test_directory_filters_are_kept_as_the_directory_writes_its_values(client, users, whatsapp_account):
    filters = {"zone": "sale", "segment": "Key account", "language": "fr", "cil_prefix": "", "tags": []}
    response = create(client, users, text="Bonjour {{ prenom }}", audience={"filters": filters})
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.get_json()["audience"]["filters"] == {"zone": "Salé", "segment": "key_account", "language": "fr"}


def test_marketing_edits_the_stop_words_and_the_opt_out_follows_the_list(
    client, users, db, whatsapp_account, post_webhook, run_jobs, graph
):
    from inbox.models import OptOut

    headers = users.headers("marketing")
    added = client.post("/api/v1/stop-words", json={"word": "Halte, svp !"}, headers=headers)
    assert added.status_code == 201 and added.get_json()["word"] == "halte svp" and added.get_json()["action"] == "stop"
    assert_error(client.post("/api/v1/stop-words", json={"word": "HALTE svp"}, headers=headers), 409, "word_exists")
    for body in ({"word": "?!"}, {"word": "x" * 41}, {"word": 7}, {"word": "pause", "action": "later"}):
        assert_error(client.post("/api/v1/stop-words", json=body, headers=headers), 422, "bad_word")
    listed = client.get("/api/v1/stop-words", headers=headers).get_json()["items"]
    assert {"word": "halte svp", "action": "stop"} in [{"word": i["word"], "action": i["action"]} for i in listed]
    assert {"word": "start", "action": "start"} in [{"word": i["word"], "action": i["action"]} for i in listed]

    stop_from(post_webhook, "212612345601", "Halte svp", 1)
    run_jobs()
    assert db.query(OptOut).filter_by(address="212612345601").count() == 1
    db.rollback()

    arret = next(i for i in listed if i["word"] == "arret")
    assert client.delete(f"/api/v1/stop-words/{arret['id']}", headers=headers).status_code == 204
    assert_error(client.delete(f"/api/v1/stop-words/{arret['id']}", headers=headers), 404, "not_found")
    stop_from(post_webhook, "212612345602", "Arrêt", 2)  # an ordinary message now
    run_jobs()
    assert db.query(OptOut).filter_by(address="212612345602").count() == 0
