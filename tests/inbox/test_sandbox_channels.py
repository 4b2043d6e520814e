"""The sandbox's Messenger chat, Page post and X account, end to end in one process: the phone posts signed
webhooks shaped like the fixtures, the connectors call the fake Graph and X APIs, and what they send shows on the
phone with the statuses and echoes the platforms report."""

from __future__ import annotations

import io
import json
import re
import threading
from urllib.parse import urlsplit

import pytest
import responses

from tests.conftest import fixture_json
from tests.e2e.test_inbox import small_png

PHONE = "212611223344"
NAME = "Nadia Berrada"


@pytest.fixture
def config_overrides():
    return {"SANDBOX": True}


@pytest.fixture
def sandbox(app):
    """The sandbox accounts, seeded as at start."""
    from inbox.channels import seed_accounts
    from inbox.db import session

    with app.app_context():
        seed_accounts()
        session().commit()


class Loopback:
    """Serves the requests made to the service's own address (the sandbox's webhooks, the connectors' calls to the
    fake APIs) with the app, each in a thread of its own as a real server would; records the webhooks."""

    def __init__(self, app):
        self.app = app
        self.webhooks: list[tuple[str, dict, dict]] = []  # (platform, headers, payload)

    def serve(self, request):
        parts = urlsplit(request.url)
        if parts.path.startswith("/webhooks/"):
            body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
            self.webhooks.append((parts.path.rsplit("/", 1)[1], dict(request.headers), json.loads(body)))
        answer = {}

        def run():
            response = self.app.test_client().open(
                parts.path,
                query_string=parts.query,
                method=request.method,
                data=request.body,
                headers={
                    k: v.decode() if isinstance(v, bytes) else v  # requests_oauthlib sets bytes
                    for k, v in request.headers.items()
                    if k.lower() != "content-length"
                },
            )
            answer["response"] = (response.status_code, dict(response.headers), response.get_data())

        worker = threading.Thread(target=run)
        worker.start()
        worker.join(60)
        return answer["response"]

    def of(self, platform: str) -> list[dict]:
        return [payload for name, _, payload in self.webhooks if name == platform]


@pytest.fixture
def client(app):
    """A browser on the phone page: its session carries the page's CSRF token, sent as the phone's script does."""
    browser = app.test_client()
    page = browser.get("/sandbox").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    browser.environ_base["HTTP_X_CSRFTOKEN"] = token
    return browser


@pytest.fixture
def loopback(app, sandbox):
    found = Loopback(app)
    pattern = re.compile(re.escape(app.config["PUBLIC_URL"]) + r"/.*")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            mock.add_callback(method, pattern, callback=found.serve)
        yield found


def same_shape(fixture, ours, where="$"):
    """Our payload has the fixture's keys at every level (the optional ones aside), with the same JSON types."""
    optional = {"metadata", "app_id", "mids", "source_app_id", "is_echo", "photo"}
    if isinstance(fixture, dict):
        assert isinstance(ours, dict), where
        missing = set(fixture) - set(ours) - optional
        assert not missing, f"{where}: {missing} missing"
        for key in set(fixture) & set(ours):
            if key != "users":
                same_shape(fixture[key], ours[key], f"{where}.{key}")
    elif isinstance(fixture, list):
        assert isinstance(ours, list), where
        if fixture and ours:
            same_shape(fixture[0], ours[0], f"{where}[0]")
    elif fixture is not None and ours is not None:
        assert type(fixture) is type(ours), f"{where}: {type(ours).__name__} instead of {type(fixture).__name__}"


def conversations(client, users, channel):
    url = f"/api/v1/conversations?channel={channel}"
    return client.get(url, headers=users.headers("agent")).get_json()["items"]


def messages(client, users, conversation_id):
    url = f"/api/v1/conversations/{conversation_id}/messages"
    return client.get(url, headers=users.headers("agent")).get_json()["items"]


def reply(client, users, conversation_id, text, **fields):
    url = f"/api/v1/conversations/{conversation_id}/messages"
    return client.post(url, json={"text": text, **fields}, headers=users.headers("agent"))


# ---------------------------------------------------------------- Messenger


def test_a_messenger_chat_both_ways(client, users, loopback, run_jobs):
    sent = client.post("/sandbox/api/messenger", json={"phone": PHONE, "name": NAME, "text": "Salam, facture ?"})

    assert sent.status_code == 201 and sent.get_json()["webhook_status"] == 200
    [conversation] = conversations(client, users, "facebook")
    assert conversation["handle"] == "7000212611223344" and conversation["thread"] is None
    assert [m["mode"] for m in conversation["reply_modes"]] == ["direct"]
    [inbound] = messages(client, users, conversation["id"])
    assert (inbound["direction"], inbound["text"]) == ("in", "Salam, facture ?")

    assert reply(client, users, conversation["id"], "Bonjour Madame").status_code == 202
    run_jobs()

    chat = client.get(f"/sandbox/api/messenger?phone={PHONE}").get_json()["items"]
    assert [(m["from"], m.get("text")) for m in chat] == [("customer", "Salam, facture ?"), ("page", "Bonjour Madame")]
    assert chat[1]["messaging_type"] == "RESPONSE"
    outbound = [m for m in messages(client, users, conversation["id"]) if m["direction"] == "out"]
    assert len(outbound) == 1  # the echo of our own send is not stored twice
    assert outbound[0]["status"] == "delivered" and outbound[0]["external_id"] == chat[1]["id"]

    assert client.post("/sandbox/api/messenger/read", json={"phone": PHONE}).get_json()["webhook_status"] == 200
    assert [m["status"] for m in messages(client, users, conversation["id"]) if m["direction"] == "out"] == ["read"]

    [inbound_payload, echo, delivery, read] = loopback.of("facebook")
    same_shape(fixture_json("messenger/text.json"), inbound_payload)
    same_shape(fixture_json("messenger/message_echo.json"), echo)
    same_shape(fixture_json("messenger/delivery.json"), delivery)
    same_shape(fixture_json("messenger/read.json"), read)
    assert echo["entry"][0]["messaging"][0]["message"]["metadata"] == str(outbound[0]["id"])
    assert inbound_payload["entry"][0]["id"] == "200000000000002"


def test_messenger_files_both_ways(client, users, loopback, run_jobs):
    picture = (io.BytesIO(small_png()), "compteur.png", "image/png")
    sent = client.post(
        "/sandbox/api/messenger",
        data={"phone": PHONE, "name": NAME, "text": "Mon compteur", "file": picture},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 201 and len(sent.get_json()["ids"]) == 2  # the file, then its text
    run_jobs()
    [conversation] = conversations(client, users, "facebook")
    image, text = messages(client, users, conversation["id"])
    assert image["type"] == "image" and image["attachments"][0]["state"] == "ready"
    assert text["text"] == "Mon compteur"

    form = {"text": "Voici le reçu", "file": (io.BytesIO(b"%PDF-1.4 receipt"), "recu.pdf", "application/pdf")}
    url = f"/api/v1/conversations/{conversation['id']}/messages"
    assert client.post(url, data=form, headers=users.headers("agent")).status_code == 202
    run_jobs()

    chat = client.get(f"/sandbox/api/messenger?phone={PHONE}").get_json()["items"]
    page = [m for m in chat if m["from"] == "page"]
    assert page[0]["file"]["filename"] == "recu.pdf" and page[1]["text"] == "Voici le reçu"
    assert client.get(page[0]["file"]["url"]).get_data() == b"%PDF-1.4 receipt"


# ---------------------------------------------------------------- the Page's post


def _comment(client, text, parent_id=None, phone=PHONE, name=NAME):
    body = {"phone": phone, "name": name, "text": text}
    if parent_id:
        body["parent_id"] = parent_id
    answer = client.post("/sandbox/api/page/comments", json=body)
    assert answer.status_code == 201 and answer.get_json()["webhook_status"] == 200, answer.get_data(as_text=True)
    return answer.get_json()["id"]


def test_a_comment_answered_publicly_and_privately_and_hidden(client, users, loopback, run_jobs):
    comment_id = _comment(client, "Jusqu'à quelle heure exactement ?")
    [conversation] = conversations(client, users, "facebook")
    assert conversation["thread"]["id"] == "200000000000002_900000000000001"
    assert conversation["thread"]["url"].endswith("/sandbox#page")
    assert [m["mode"] for m in conversation["reply_modes"]] == ["public_reply", "private_reply"]
    [comment] = messages(client, users, conversation["id"])
    assert comment["type"] == "comment" and comment["external_id"] == comment_id

    assert reply(client, users, conversation["id"], "Jusqu'à 13 h.", mode="public_reply").status_code == 202
    assert reply(client, users, conversation["id"], "Votre CIL ?", mode="private_reply").status_code == 202
    second = reply(client, users, conversation["id"], "Encore ?", mode="private_reply")
    assert second.status_code == 422 and second.get_json()["error"]["code"] == "already_private_replied"
    run_jobs()

    page = client.get(f"/sandbox/api/page?phone={PHONE}").get_json()
    assert page["post"]["text"].startswith("Travaux")
    answers = [c for c in page["comments"] if c["parent_id"] == comment_id]
    assert [(c["message"], c["by_page"]) for c in answers] == [("Jusqu'à 13 h.", True)]
    chat = client.get(f"/sandbox/api/messenger?phone={PHONE}").get_json()["items"]
    assert chat[0]["text"] == "Votre CIL ?" and chat[0]["private_reply_to"]["comment_id"] == comment_id
    assert len(conversations(client, users, "facebook")) == 1  # the Page's own comment opened nothing
    sent = [m for m in messages(client, users, conversation["id"]) if m["direction"] == "out"]
    assert [(m["mode"], m["status"]) for m in sent] == [("public_reply", "sent"), ("private_reply", "delivered")]

    hidden = client.post(
        f"/api/v1/messages/{comment['id']}/hide", json={"hidden": True}, headers=users.headers("agent")
    )
    assert hidden.status_code == 200 and hidden.get_json()["hidden"] is True
    mine = client.get(f"/sandbox/api/page?phone={PHONE}").get_json()["comments"]
    assert [c["hidden"] for c in mine if c["id"] == comment_id] == [True]  # its author still sees it
    others = client.get("/sandbox/api/page?phone=212600000099").get_json()["comments"]
    assert comment_id not in {c["id"] for c in others}
    run_jobs()

    feed = loopback.of("facebook")
    same_shape(fixture_json("facebook_feed/comment_add.json"), feed[0])
    values = [p["entry"][0]["changes"][0]["value"] for p in feed if "changes" in p["entry"][0]]
    [page_comment] = [v for v in values if v["from"]["id"] == "200000000000002" and v["verb"] == "add"]
    assert page_comment["parent_id"] == comment_id and page_comment["message"] == "Jusqu'à 13 h."
    assert [v["verb"] for v in values if v["comment_id"] == comment_id] == ["add", "hide"]


def test_replies_edits_and_removals_of_comments(client, users, loopback, run_jobs):
    first = _comment(client, "Coupure demain ?")
    answer = _comment(client, "Moi aussi je veux savoir", parent_id=first, phone="212622334455", name="Karim")
    edited = client.patch(f"/sandbox/api/page/comments/{first}", json={"phone": PHONE, "text": "Coupure jeudi ?"})
    assert edited.get_json()["webhook_status"] == 200
    refused = client.patch(f"/sandbox/api/page/comments/{first}", json={"phone": "212622334455", "text": "x"})
    assert refused.status_code == 403
    removed = client.delete(f"/sandbox/api/page/comments/{answer}?phone=212622334455")
    assert removed.get_json()["webhook_status"] == 200

    by_name = {c["contact"]["name"]: c for c in conversations(client, users, "facebook")}
    [nadia] = messages(client, users, by_name[NAME]["id"])
    assert nadia["text"] == "Coupure jeudi ?" and nadia["edited_at"]
    assert [h["text"] for h in nadia["history"]] == ["Coupure demain ?"]
    [karim] = messages(client, users, by_name["Karim"]["id"])
    assert karim["reply_to_external_id"] == first and karim["removed_at"]
    shown = client.get(f"/sandbox/api/page?phone={PHONE}").get_json()["comments"]
    assert [c["id"] for c in shown] == [first]

    feed = loopback.of("facebook")
    same_shape(fixture_json("facebook_feed/comment_reply.json"), feed[1])
    same_shape(fixture_json("facebook_feed/comment_edited.json"), feed[2])
    assert feed[3]["entry"][0]["changes"][0]["value"]["verb"] == "remove"


# ---------------------------------------------------------------- X


def test_an_x_direct_message_both_ways(client, users, loopback, run_jobs):
    sent = client.post("/sandbox/api/x/dms", json={"phone": PHONE, "name": NAME, "text": "Salam, coupure ?"})
    assert sent.get_json()["webhook_status"] == 200
    [conversation] = conversations(client, users, "twitter")
    assert conversation["thread"] is None and conversation["handle"] == "client11223344"

    assert reply(client, users, conversation["id"], "Oui, jusqu'à 13 h.").status_code == 202
    run_jobs()

    view = client.get(f"/sandbox/api/x?phone={PHONE}").get_json()
    assert [(m["from"], m["text"]) for m in view["dms"]] == [
        ("customer", "Salam, coupure ?"),
        ("account", "Oui, jusqu'à 13 h."),
    ]
    outbound = [m for m in messages(client, users, conversation["id"]) if m["direction"] == "out"]
    assert len(outbound) == 1 and outbound[0]["author"]["type"] == "user"  # the echo is ours, stored once
    [incoming, echo] = loopback.of("twitter")
    same_shape(fixture_json("twitter/dm_text_incoming.json"), incoming)
    same_shape(fixture_json("twitter/dm_text_incoming.json"), echo)
    assert echo["direct_message_events"][0]["message_create"]["sender_id"] == "300000000000003"
    headers = next(h for name, h, _ in loopback.webhooks if name == "twitter")
    assert headers["x-twitter-webhooks-signature"].startswith("sha256=")


def test_an_x_dm_with_a_photo_both_ways(client, users, loopback, run_jobs):
    picture = (io.BytesIO(small_png()), "colis.png", "image/png")
    data = {"phone": PHONE, "name": NAME, "text": "Le compteur", "file": picture}
    assert client.post("/sandbox/api/x/dms", data=data, content_type="multipart/form-data").status_code == 201
    run_jobs()
    [conversation] = conversations(client, users, "twitter")
    [photo] = messages(client, users, conversation["id"])
    assert photo["type"] == "image" and photo["text"] == "Le compteur"
    assert photo["attachments"][0]["state"] == "ready"

    form = {"text": "Merci", "file": (io.BytesIO(small_png()), "plan.png", "image/png")}
    url = f"/api/v1/conversations/{conversation['id']}/messages"
    assert client.post(url, data=form, headers=users.headers("agent")).status_code == 202
    run_jobs()
    dms = client.get(f"/sandbox/api/x?phone={PHONE}").get_json()["dms"]
    assert dms[-1]["from"] == "account" and dms[-1]["file"]["mime_type"] == "image/png"
    assert client.get(dms[-1]["file"]["url"]).get_data() == small_png()

    video = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 3000  # videos go up in chunks (INIT, APPEND, FINALIZE)
    form = {"text": "La vidéo", "file": (io.BytesIO(video), "travaux.mp4", "video/mp4")}
    assert client.post(url, data=form, headers=users.headers("agent")).status_code == 202
    run_jobs()
    dms = client.get(f"/sandbox/api/x?phone={PHONE}").get_json()["dms"]
    assert dms[-1]["file"]["mime_type"] == "video/mp4" and dms[-1]["text"] == "La vidéo"
    assert client.get(dms[-1]["file"]["url"]).get_data() == video


def test_an_x_mention_answered_publicly(client, users, loopback, run_jobs):
    sent = client.post("/sandbox/api/x/tweets", json={"phone": PHONE, "name": NAME, "text": "pas d'eau à Maârif"})
    assert sent.get_json()["webhook_status"] == 200
    [conversation] = conversations(client, users, "twitter")
    assert conversation["thread"]["id"] == "mentions:1400000212611223344"
    assert [m["mode"] for m in conversation["reply_modes"]] == ["public_reply"]
    [mention] = messages(client, users, conversation["id"])
    assert mention["text"] == "@InboxSandbox pas d'eau à Maârif"

    answer = reply(client, users, conversation["id"], "@client11223344 Travaux en cours", mode="public_reply")
    assert answer.status_code == 202
    run_jobs()

    tweets = client.get(f"/sandbox/api/x?phone={PHONE}").get_json()["tweets"]
    assert [(t["text"], t["in_reply_to"]) for t in tweets] == [
        ("@InboxSandbox pas d'eau à Maârif", None),
        ("@client11223344 Travaux en cours", mention["external_id"]),
    ]
    assert client.get("/sandbox/api/x?phone=212600000099").get_json()["tweets"] == []
    assert len(conversations(client, users, "twitter")) == 1  # the account's own tweet opened nothing
    [customer_tweet, account_tweet] = loopback.of("twitter")
    same_shape(fixture_json("twitter/tweet_create_mention.json"), customer_tweet)
    assert account_tweet["tweet_create_events"][0]["user"]["id_str"] == "300000000000003"

    again = client.post(
        "/sandbox/api/x/tweets",
        json={"phone": PHONE, "name": NAME, "text": "merci", "in_reply_to": tweets[1]["id"]},
    )
    assert again.get_json()["webhook_status"] == 200
    assert messages(client, users, conversation["id"])[-1]["reply_to_external_id"] == tweets[1]["id"]


# ---------------------------------------------------------------- the fake APIs' checks


def test_the_fake_apis_check_credentials(client, sandbox):
    page = client.post("/sandbox/graph/v21.0/200000000000002/messages", json={"recipient": {"id": "1"}})
    assert page.status_code == 401
    wrong = client.post("/sandbox/graph/v21.0/200000000000002/messages", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert client.post("/sandbox/x/2/tweets", json={"text": "hi"}).status_code == 401
    oauth = 'OAuth oauth_consumer_key="nope", oauth_token="nope"'
    assert client.post("/sandbox/x/2/tweets", json={"text": "hi"}, headers={"Authorization": oauth}).status_code == 401


def test_an_unknown_recipient_is_refused_like_the_send_api(client, sandbox, app):
    from inbox.channels import SANDBOX_FACEBOOK_ID
    from inbox.db import session
    from inbox.sandbox import _account

    with app.app_context():
        token = _account("facebook").secrets["token"]
        session().commit()
    answer = client.post(
        f"/sandbox/graph/v21.0/{SANDBOX_FACEBOOK_ID}/messages",
        json={"recipient": {"id": "999"}, "messaging_type": "RESPONSE", "message": {"text": "x"}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == 100


@pytest.mark.parametrize(
    "path",
    ["/sandbox", "/sandbox/api/messenger", "/sandbox/api/page", "/sandbox/api/x", "/sandbox/graph/v21.0/1"],
)
def test_nothing_of_the_sandbox_without_sandbox(path, database_url, redis_url, media_dir):
    from inbox import create_app
    from tests.conftest import make_config

    app = create_app(make_config(database_url, redis_url, media_dir, SANDBOX=False))
    client = app.test_client()
    assert client.get(path).status_code == 404
    assert client.post("/sandbox/x/2/tweets", json={}).status_code in (400, 404)  # CSRF or nothing: never served
    assert not [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/sandbox")]
    app.extensions["db_engine"].dispose()
