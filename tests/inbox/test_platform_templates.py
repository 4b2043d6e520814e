"""WhatsApp's approved templates: listed from the Graph API, offered once the 24-hour window closes, sent with
their values; free text refused once the window is closed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import responses

from connectors.base import AccountSettings, SendError
from connectors.whatsapp import client as whatsapp
from tests.conftest import GRAPH, PHONE_NUMBER_ID, fixture_bytes, recent
from tests.inbox import test_api
from tests.inbox.test_sending import MESSAGES_URL, OK, calls_to, message

BUSINESS_ID = "1029384756"
TEMPLATES_URL = f"{GRAPH}/{BUSINESS_ID}/message_templates"
NEXT_PAGE = f"{TEMPLATES_URL}?fields=name&limit=100&after=MjQZD"
make_conversation = test_api.make_conversation


def template(name, language, body, status="APPROVED", **extra):
    components = [{"type": "BODY", "text": body, **extra.pop("body_extra", {})}, *extra.pop("components", [])]
    return {"name": name, "language": language, "status": status, "category": "UTILITY", "id": name,
            "components": components, **extra}


PAGE_ONE = {
    "data": [
        template("relance", "fr", "Bonjour {{1}}, votre dossier {{2}} avance.",
                 body_extra={"example": {"body_text": [["Salma", "2026-000123"]]}}),
        template("relance", "ar", "مرحباً {{1}}، ملفكم {{2}} قيد المعالجة."),
        template("brouillon", "fr", "Pas encore validé.", status="PENDING"),
        template("refusee", "fr", "Refusée.", status="REJECTED"),
    ],
    "paging": {"cursors": {"before": "MAZDZD", "after": "MjQZD"}, "next": NEXT_PAGE},
}
PAGE_TWO = {
    "data": [
        template("follow_up", "en_US", "Hello, we are following up."),
        template("facture", "fr", "Votre facture {{1}}.", components=[{"type": "HEADER", "format": "IMAGE"}]),
        template("nommee", "fr", "Bonjour {{prenom}}.", parameter_format="NAMED"),
        template("entete", "fr", "Texte.", components=[{"type": "HEADER", "format": "TEXT", "text": "Dossier {{1}}"}]),
        template("bouton", "fr", "Texte.", components=[
            {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Voir", "url": "https://x.test/{{1}}"}]}]),
    ],
    "paging": {"cursors": {"before": "MjQZD", "after": "NDgZD"}},
}


@pytest.fixture
def graph():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def listings(graph) -> int:
    """How many times the whole list was asked for (its first page)."""
    return sum(1 for c in graph.calls if c.request.url.startswith(TEMPLATES_URL) and "after=" not in c.request.url)


def list_answers(graph, pages=(PAGE_ONE, PAGE_TWO)):
    graph.add(responses.GET, NEXT_PAGE, json=pages[1], match=[responses.matchers.query_param_matcher(
        {"fields": "name", "limit": "100", "after": "MjQZD"})])
    graph.add(responses.GET, TEMPLATES_URL, json=pages[0])


@pytest.fixture
def business_account(db, whatsapp_account):
    whatsapp_account.secrets = {**whatsapp_account.secrets, "business_account_id": BUSINESS_ID}
    db.commit()
    return whatsapp_account


@pytest.fixture
def conversation(client, post_webhook, business_account, users, db):
    """A conversation whose customer wrote 25 hours ago: the window is closed."""
    body = recent(fixture_bytes("whatsapp/text.json"), seconds_ago=25 * 3600)
    assert post_webhook(body).status_code == 200
    [item] = client.get("/api/v1/conversations", headers=users.headers("agent")).get_json()["items"]
    return item


def settings(secrets=None) -> AccountSettings:
    return AccountSettings(external_id=PHONE_NUMBER_ID, api_base_url=GRAPH,
                           secrets=secrets or {"token": "tok", "business_account_id": BUSINESS_ID})


# ---------------------------------------------------------------- the connector


def test_every_page_is_read_and_only_approved_templates_are_kept(graph):
    list_answers(graph)
    found = whatsapp.list_templates(settings())
    assert [(t.name, t.language) for t in found] == [
        ("relance", "fr"), ("relance", "ar"), ("follow_up", "en_US"), ("facture", "fr"), ("nommee", "fr"),
        ("entete", "fr"), ("bouton", "fr")]
    first = found[0]
    assert (first.parameters, first.examples, first.category, first.unusable_reason) == (
        2, ("Salma", "2026-000123"), "utility", None)
    assert graph.calls[0].request.headers["Authorization"] == "Bearer tok"
    assert "fields=name%2Clanguage%2Cstatus%2Ccategory%2Ccomponents" in graph.calls[0].request.url
    reasons = {t.name: t.unusable_reason for t in found}
    assert reasons["follow_up"] is None
    assert "header is a file" in reasons["facture"]
    assert "named" in reasons["nommee"]
    assert "header takes a value" in reasons["entete"]
    assert "buttons takes a value" in reasons["bouton"]


def test_a_graph_error_is_a_send_error_with_its_reason(graph):
    graph.add(responses.GET, TEMPLATES_URL, status=401,
              json={"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}})
    with pytest.raises(SendError) as raised:
        whatsapp.list_templates(settings())
    assert raised.value.code == "190" and "token" in raised.value.message and not raised.value.retryable


def test_no_business_account_id_says_which_setting_is_missing():
    with pytest.raises(SendError) as raised:
        whatsapp.list_templates(settings({"token": "tok"}))
    assert "WHATSAPP_BUSINESS_ACCOUNT_ID" in raised.value.message


@pytest.mark.parametrize(("hours", "closed"), [(23.9, False), (24.1, True), (None, False)])
def test_the_24_hour_window(hours, closed):
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    last = None if hours is None else now - timedelta(hours=hours)
    assert (whatsapp.reply_refusal(last, now) is not None) is closed


# ---------------------------------------------------------------- the API


def test_the_composer_lists_templates_in_the_conversations_language_first(client, users, conversation, graph, db):
    from inbox.models import Conversation

    db.get(Conversation, conversation["id"]).language = "ary"  # Darija: Arabic templates, then French
    db.commit()
    list_answers(graph)
    answer = client.get(f"/api/v1/conversations/{conversation['id']}/templates", headers=users.headers("agent"))
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["window"]["open"] is False and "24 hours" in body["window"]["reason"]
    names = [(t["name"], t["language"], t["usable"], t["suits_conversation"]) for t in body["items"]]
    assert names[:3] == [
        ("relance", "ar", True, True), ("relance", "fr", True, True), ("follow_up", "en_US", True, False)]
    assert all(not usable for _n, _l, usable, _s in names[3:])
    assert body["items"][0]["body"] == "مرحباً {{1}}، ملفكم {{2}} قيد المعالجة." and body["items"][0]["parameters"] == 2


def test_the_list_is_cached_for_five_minutes_unless_refreshed(client, users, conversation, graph):
    list_answers(graph)
    url = f"/api/v1/conversations/{conversation['id']}/templates"
    for _ in range(3):
        assert client.get(url, headers=users.headers("agent")).status_code == 200
    assert listings(graph) == 1
    assert client.get(url + "?refresh=1", headers=users.headers("agent")).status_code == 200
    assert listings(graph) == 2


def test_the_reply_modes_say_the_window_closed_and_templates_are_the_way(client, users, conversation):
    [mode] = client.get(f"/api/v1/conversations/{conversation['id']}", headers=users.headers("agent")).get_json()[
        "reply_modes"]
    assert mode["allowed"] is False and mode["templates"] is True and "template" in mode["reason"]


def test_free_text_is_refused_once_the_window_closed_and_nothing_is_stored(client, users, conversation, graph):
    answer = client.post(f"/api/v1/conversations/{conversation['id']}/messages", json={"text": "Bonjour"},
                         headers=users.headers("agent"))
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "outside_window"
    items = client.get(f"/api/v1/conversations/{conversation['id']}/messages", headers=users.headers("agent"))
    assert [m["direction"] for m in items.get_json()["items"]] == ["in"]
    assert not calls_to(graph, MESSAGES_URL)


def test_a_template_is_sent_with_its_values_after_the_window_closed(client, users, conversation, graph, run_jobs):
    list_answers(graph)
    graph.add(responses.POST, MESSAGES_URL, **OK)
    choice = {"name": "relance", "language": "fr", "parameters": [" Salma ", "2026-000123"]}
    answer = client.post(f"/api/v1/conversations/{conversation['id']}/messages", json={"template": choice},
                         headers=users.headers("agent"))
    assert answer.status_code == 202, answer.get_json()
    sent = answer.get_json()
    assert sent["type"] == "template" and sent["text"] == "Bonjour Salma, votre dossier 2026-000123 avance."
    assert sent["data"]["template"] == {"name": "relance", "language": "fr", "parameters": ["Salma", "2026-000123"]}
    run_jobs()
    [call] = calls_to(graph, MESSAGES_URL)
    assert json.loads(call.request.body) == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "212612345678", "type": "template",
        "template": {"name": "relance", "language": {"code": "fr"}, "components": [
            {"type": "body", "parameters": [
                {"type": "text", "text": "Salma"}, {"type": "text", "text": "2026-000123"}]}]},
    }
    assert message(client, users, conversation["id"], sent["id"])["status"] == "sent"


@pytest.mark.parametrize(
    ("choice", "code", "words"),
    [
        ({"name": "relance", "language": "fr", "parameters": ["Salma"]}, "bad_parameters", "takes 2 values; 1 given"),
        ({"name": "relance", "language": "fr", "parameters": ["Salma", "  "]}, "missing_value", "{{2}} is empty"),
        ({"name": "relance", "language": "fr", "parameters": ["Salma", "a\nb"]}, "bad_parameters", "line break"),
        ({"name": "relance", "language": "fr", "parameters": ["Salma", "x" * 1025]}, "bad_parameters", "longer"),
        ({"name": "relance", "language": "fr", "parameters": ["Salma", 7]}, "bad_template", "list of texts"),
        ({"name": "relance", "language": "de", "parameters": []}, "unknown_template", "relance in de"),
        ({"name": "brouillon", "language": "fr"}, "unknown_template", "No approved template"),
        ({"name": "facture", "language": "fr", "parameters": ["F1"]}, "template_unusable", "header is a file"),
        ("relance", "bad_template", "template is {name, language"),
    ],
)
def test_a_wrong_template_choice_is_refused_and_nothing_is_stored(client, users, conversation, graph, choice, code,
                                                                   words):
    list_answers(graph)
    answer = client.post(f"/api/v1/conversations/{conversation['id']}/messages", json={"template": choice},
                         headers=users.headers("agent"))
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == code
    assert words in answer.get_json()["error"]["message"]
    items = client.get(f"/api/v1/conversations/{conversation['id']}/messages", headers=users.headers("agent"))
    assert len(items.get_json()["items"]) == 1
    assert not calls_to(graph, MESSAGES_URL)


def test_an_unknown_template_is_looked_up_once_more_at_the_platform(client, users, conversation, graph):
    list_answers(graph)
    client.post(f"/api/v1/conversations/{conversation['id']}/messages",
                json={"template": {"name": "tout_neuf", "language": "fr"}}, headers=users.headers("agent"))
    assert listings(graph) == 2, "cached list first, then a fresh one"


def test_a_template_goes_alone(client, users, conversation, graph):
    list_answers(graph)
    answer = client.post(f"/api/v1/conversations/{conversation['id']}/messages", headers=users.headers("agent"),
                         json={"text": "Bonjour", "template": {"name": "relance", "language": "fr"}})
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "bad_message"


def test_templates_unavailable_is_a_clear_502(client, users, conversation, graph):
    graph.add(responses.GET, TEMPLATES_URL, status=500, json={"error": {"message": "oops", "code": 1}})
    answer = client.get(f"/api/v1/conversations/{conversation['id']}/templates", headers=users.headers("agent"))
    assert answer.status_code == 502 and answer.get_json()["error"]["code"] == "templates_unavailable"


def test_a_channel_without_templates_says_so(client, users, make_conversation, db):
    conversation_id = make_conversation(channel="facebook")
    db.commit()
    answer = client.get(f"/api/v1/conversations/{conversation_id}/templates", headers=users.headers("agent"))
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "no_templates"
    sent = client.post(f"/api/v1/conversations/{conversation_id}/messages", headers=users.headers("agent"),
                       json={"template": {"name": "relance", "language": "fr"}})
    assert sent.status_code == 422 and sent.get_json()["error"]["code"] == "no_templates"


def test_marketing_lists_an_accounts_templates_but_not_a_conversations(client, users, conversation, graph,
                                                                      business_account):
    list_answers(graph)
    account = client.get(f"/api/v1/channel-accounts/{business_account.id}/templates",
                         headers=users.headers("marketing"))
    assert account.status_code == 200 and len(account.get_json()["items"]) == 7
    refused = client.get(f"/api/v1/conversations/{conversation['id']}/templates", headers=users.headers("marketing"))
    assert refused.status_code == 403
    assert client.get(f"/api/v1/channel-accounts/{business_account.id}/templates",
                      headers=users.headers("agent")).status_code == 403
