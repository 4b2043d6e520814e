"""The server's sentences in the reader's language: API errors, reply-mode reasons and send failures. The
`code` never changes; a client that states no language gets English."""

from __future__ import annotations

import pytest
import responses as fake_http

from tests.conftest import GRAPH, PHONE_NUMBER_ID, fixture_bytes, recent

FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9"}


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]


@pytest.fixture
def old_conversation(client, post_webhook, whatsapp_account, users) -> int:
    """A WhatsApp conversation whose customer last wrote long ago: its 24-hour window is closed."""
    assert post_webhook(fixture_bytes("whatsapp/text.json")).status_code == 200
    return client.get("/api/v1/conversations", headers=users.headers("agent")).get_json()["items"][0]["id"]


@pytest.fixture
def fresh_conversation(client, post_webhook, whatsapp_account, users) -> int:
    """A WhatsApp conversation whose customer wrote a minute ago."""
    assert post_webhook(recent(fixture_bytes("whatsapp/text.json"))).status_code == 200
    return client.get("/api/v1/conversations", headers=users.headers("agent")).get_json()["items"][0]["id"]


def test_the_same_error_in_french_arabic_and_english_with_the_same_code(client, users):
    agent = users.headers("agent")
    french = error_of(client.get("/api/v1/conversations?limit=0", headers={**agent, **FRENCH}), 400)
    english = error_of(client.get("/api/v1/conversations?limit=0", headers=agent), 400)
    assert client.put("/api/v1/me/preferences", json={"language": "ar"}, headers=agent).status_code == 200
    arabic = error_of(client.get("/api/v1/conversations?limit=0", headers=agent), 400)

    assert french["code"] == english["code"] == arabic["code"] == "bad_parameter"
    assert english["message"] == "limit must be a whole number from 1 to 200."
    assert french["message"] == "limit doit être un nombre entier de 1 à 200."
    assert arabic["message"] == "يجب أن يكون limit عددًا صحيحًا من 1 إلى 200."


def test_the_users_choice_wins_over_the_browser_and_lang_over_both(client, users):
    agent = users.headers("agent")
    client.put("/api/v1/me/preferences", json={"language": "ar"}, headers=agent)
    stored = error_of(client.get("/api/v1/conversations/999999", headers={**agent, **FRENCH}), 404)
    asked = error_of(client.get("/api/v1/conversations/999999?lang=en", headers={**agent, **FRENCH}), 404)
    assert stored["code"] == asked["code"] == "not_found"
    assert stored["message"] == "لا توجد محادثة 999999."
    assert asked["message"] == "No conversation 999999."


def test_before_login_the_accept_language_decides(client):
    arabic = error_of(client.get("/api/v1/conversations", headers={"Accept-Language": "ar-MA,ar;q=0.9"}), 401)
    unknown = error_of(client.get("/api/v1/conversations", headers={"Accept-Language": "de-DE,de"}), 401)
    assert arabic["code"] == unknown["code"] == "unauthorized"
    assert arabic["message"] == "سجّل الدخول أو أرسل Authorization: Bearer <token>."
    assert unknown["message"] == "Log in or pass Authorization: Bearer <token>.", "no language of ours: English"


def test_a_closed_window_is_explained_in_french(client, users, old_conversation):
    url = f"/api/v1/conversations/{old_conversation}"
    french = client.get(url, headers={**users.headers("agent"), **FRENCH}).get_json()["reply_modes"][0]
    english = client.get(url, headers=users.headers("agent")).get_json()["reply_modes"][0]
    assert not french["allowed"] and not english["allowed"]
    assert french["reason"].startswith("Plus de 24 heures se sont écoulées depuis le dernier message du client")
    assert english["reason"].startswith("More than 24 hours have passed since the customer last wrote")

    refused = error_of(
        client.post(f"{url}/messages", json={"text": "Salam"}, headers={**users.headers("agent"), **FRENCH}), 422
    )
    assert refused["code"] == "outside_window" and refused["message"] == french["reason"]


@pytest.mark.parametrize(
    ("platform_error", "french", "english"),
    [
        (
            {"code": 131026, "message": "Message undeliverable"},
            "WhatsApp n'a pas pu remettre ce message : le numéro n'utilise peut-être pas WhatsApp, ou son "
            "application est trop ancienne.",
            "WhatsApp could not deliver this message: the number may not use WhatsApp, or its app is too old.",
        ),
        (
            {"code": 132999, "message": "Something new", "error_data": {"details": "A new rule"}},
            "WhatsApp a refusé le message (132999): A new rule",  # a code we do not know: in the sentence
            "WhatsApp refused the message (132999): A new rule",
        ),
    ],
    ids=["known code", "unknown code"],
)
def test_a_failed_send_says_why_in_french(
    client, users, fresh_conversation, run_jobs, db, platform_error, french, english
):
    agent = users.headers("agent")
    url = f"/api/v1/conversations/{fresh_conversation}/messages"
    with fake_http.RequestsMock() as graph:
        graph.add(fake_http.POST, f"{GRAPH}/{PHONE_NUMBER_ID}/messages", status=400, json={"error": platform_error})
        db.rollback()
        assert client.post(url, json={"text": "Salam"}, headers=agent).status_code == 202
        run_jobs()
    shown_french = client.get(url, headers={**agent, **FRENCH}).get_json()["items"][-1]
    shown_english = client.get(url, headers=agent).get_json()["items"][-1]
    assert shown_french["status"] == shown_english["status"] == "failed"
    assert shown_french["error"] == {"code": str(platform_error["code"]), "message": french}
    assert shown_english["error"] == {"code": str(platform_error["code"]), "message": english}

    from inbox.models import Message

    stored = db.get(Message, shown_french["id"])
    assert stored.error_message == english, "the platform's code and the English sentence are what is stored"


def test_a_signed_in_browser_gets_french_like_its_pages(client, users):
    from tests.inbox.test_directory import login

    csrf = login(client, "agent@example.com")
    error = error_of(client.get("/api/v1/conversations?limit=0", headers={"X-CSRFToken": csrf}), 400)
    assert error["message"] == "limit doit être un nombre entier de 1 à 200."


def test_a_realtime_event_is_in_english_whoever_triggered_it(app, client, users, old_conversation, db):
    from inbox.realtime import socketio

    listener = socketio.test_client(app, auth={"token": users.tokens["supervisor"]})
    try:
        listener.get_received()
        db.rollback()
        read = client.post(
            f"/api/v1/conversations/{old_conversation}/read", headers={**users.headers("agent"), **FRENCH}
        )
        assert read.status_code == 200
        updates = [e["args"][0] for e in listener.get_received() if e["name"] == "conversation.updated"]
    finally:
        listener.disconnect()
    assert updates, "reading the conversation announces it"
    reason = updates[-1]["conversation"]["reply_modes"][0]["reason"]
    assert reason.startswith("More than 24 hours have passed"), (
        "a payload many agents share is not in one agent's language"
    )


def test_a_refused_value_is_explained_in_arabic_and_keeps_its_code(client, users, fresh_conversation):
    agent = users.headers("agent")
    contact = client.get(f"/api/v1/conversations/{fresh_conversation}", headers=agent).get_json()["contact"]
    url = f"/api/v1/contacts/{contact['id']}"
    arabic = error_of(client.patch(url, json={"email": "nope"}, headers={**agent, "Accept-Language": "ar"}), 422)
    english = error_of(client.patch(url, json={"email": "nope"}, headers=agent), 422)
    assert arabic["code"] == english["code"] == "invalid_email"
    assert english["message"] == "'nope' is not an e-mail address (name@example.com)."
    assert arabic["message"] == "'nope' ليس عنوان بريد إلكتروني (name@example.com)."


def test_werkzeug_s_own_errors_are_said_in_the_client_s_language(client, users):
    agent = users.headers("agent")
    missing = error_of(client.get("/api/v1/nothing-here", headers={**agent, **FRENCH}), 404)
    method = error_of(client.put("/api/v1/conversations", headers={**agent, **FRENCH}), 405)
    english = error_of(client.get("/api/v1/nothing-here", headers=agent), 404)
    assert missing["code"] == english["code"] == "not_found" and method["code"] == "method_not_allowed"
    assert missing["message"] == "Il n’y a rien à cette adresse."
    assert method["message"] == "Cette adresse n’accepte pas cette méthode."
    assert english["message"] == "There is nothing at this address."
