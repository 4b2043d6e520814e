"""Replies on Messenger, Page comments and X through the API and the send job, with the platforms faked."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import responses

from tests.conftest import GRAPH, PAGE_ID, X_API, fixture_bytes, fixture_json

PSID = "24129351326671721"
COMMENT = "1122334455667788_998877665544332"
MENTION = "1854125000011112222"
X_AUTHOR = "1423456789012345678"


def _messenger_text_at(moment: datetime) -> bytes:
    payload = json.loads(fixture_bytes("messenger/text.json"))
    payload["entry"][0]["messaging"][0]["timestamp"] = int(moment.timestamp() * 1000)
    return json.dumps(payload).encode()


def _only_conversation(client, headers) -> dict:
    [conversation] = client.get("/api/v1/conversations", headers=headers).get_json()["items"]
    return conversation


def _messages(client, headers, conversation_id) -> list[dict]:
    return client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=headers).get_json()["items"]


@pytest.mark.parametrize(
    ("age", "messaging_type", "tag"),
    [(timedelta(hours=23), "RESPONSE", None), (timedelta(days=3), "MESSAGE_TAG", "HUMAN_AGENT")],
)
@responses.activate
def test_messenger_reply_type_follows_the_window(
    age, messaging_type, tag, client, post_webhook, facebook_account, users, run_jobs
):
    responses.post(f"{GRAPH}/{PAGE_ID}/messages", json=fixture_json("messenger/api/send_response.json"))
    post_webhook(_messenger_text_at(datetime.now(UTC) - age), platform="facebook")
    headers = users.headers("agent")
    conversation = _only_conversation(client, headers)
    assert conversation["reply_modes"] == [{"mode": "direct", "allowed": True, "reason": None, "templates": False}]
    sent = client.post(
        f"/api/v1/conversations/{conversation['id']}/messages", json={"text": "Bonjour"}, headers=headers
    )
    assert sent.status_code == 202
    run_jobs()
    body = json.loads(responses.calls[0].request.body)
    assert body["messaging_type"] == messaging_type
    assert body.get("tag") == tag
    assert body["recipient"] == {"id": PSID}
    [_, reply] = _messages(client, headers, conversation["id"])
    assert reply["status"] == "sent"
    assert reply["external_id"].startswith("m_")


def test_messenger_reply_after_seven_days_is_refused_before_typing(client, post_webhook, facebook_account, users):
    post_webhook(_messenger_text_at(datetime.now(UTC) - timedelta(days=8)), platform="facebook")
    headers = users.headers("agent")
    conversation = _only_conversation(client, headers)
    [mode] = conversation["reply_modes"]
    assert mode["allowed"] is False and mode["reason"]
    refused = client.post(f"/api/v1/conversations/{conversation['id']}/messages", json={"text": "x"}, headers=headers)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "outside_window"
    assert len(_messages(client, headers, conversation["id"])) == 1  # nothing stored


def _fresh_comment(post_webhook) -> None:
    post_id = "581234567890123_1122334455667788"
    if not any(m.url == f"{GRAPH}/{post_id}" for m in responses.registered()):
        responses.get(f"{GRAPH}/{post_id}", json={"id": post_id, "message": "Le tajine du mois"})
    payload = json.loads(fixture_bytes("facebook_feed/comment_add.json"))
    payload["entry"][0]["changes"][0]["value"]["created_time"] = int(time.time())
    post_webhook(json.dumps(payload).encode(), platform="facebook")


@responses.activate
def test_public_and_private_replies_to_a_comment(client, post_webhook, facebook_account, users, run_jobs):
    responses.post(f"{GRAPH}/{COMMENT}/comments", json={"id": "1122334455667788_111"})
    responses.post(f"{GRAPH}/{PAGE_ID}/messages", json={"recipient_id": PSID, "message_id": "m_private1"})
    _fresh_comment(post_webhook)
    headers = users.headers("agent")
    conversation = _only_conversation(client, headers)
    url = f"/api/v1/conversations/{conversation['id']}/messages"
    public = client.post(url, json={"text": "Le prix est 250 DH", "mode": "public_reply"}, headers=headers)
    assert public.status_code == 202
    private = client.post(url, json={"text": "Je vous écris en privé", "mode": "private_reply"}, headers=headers)
    assert private.status_code == 202
    again = client.post(url, json={"text": "encore", "mode": "private_reply"}, headers=headers)
    assert again.status_code == 422
    assert again.get_json()["error"]["code"] == "already_private_replied"
    direct = client.post(url, json={"text": "x", "mode": "direct"}, headers=headers)
    assert direct.get_json()["error"]["code"] == "mode_not_supported"
    run_jobs()
    public_call, private_call = [c for c in responses.calls if c.request.method == "POST"]
    assert json.loads(public_call.request.body) == {"message": "Le prix est 250 DH"}
    assert json.loads(private_call.request.body)["recipient"] == {"comment_id": COMMENT}
    comment, *replies = _messages(client, headers, conversation["id"])
    assert comment["private_replied"] is True
    assert [r["status"] for r in replies] == ["sent", "sent"]
    assert [r["mode"] for r in replies] == ["public_reply", "private_reply"]


@responses.activate
def test_failed_private_reply_does_not_use_up_the_one_allowed(client, post_webhook, facebook_account, users, run_jobs):
    error = {"error": {"message": "(#10900) Activity already replied to", "code": 10900, "type": "OAuthException"}}
    responses.post(f"{GRAPH}/{PAGE_ID}/messages", json=error, status=400)
    _fresh_comment(post_webhook)
    headers = users.headers("agent")
    conversation = _only_conversation(client, headers)
    url = f"/api/v1/conversations/{conversation['id']}/messages"
    assert client.post(url, json={"text": "privé", "mode": "private_reply"}, headers=headers).status_code == 202
    run_jobs()
    comment, reply = _messages(client, headers, conversation["id"])
    assert reply["status"] == "failed"
    assert comment["private_replied"] is False


@responses.activate
def test_hide_a_comment(client, post_webhook, facebook_account, users):
    responses.post(f"{GRAPH}/{COMMENT}", json={"success": True})
    _fresh_comment(post_webhook)
    headers = users.headers("agent")
    conversation = _only_conversation(client, headers)
    [comment] = _messages(client, headers, conversation["id"])
    hidden = client.post(f"/api/v1/messages/{comment['id']}/hide", json={"hidden": True}, headers=headers)
    assert hidden.status_code == 200
    assert hidden.get_json()["hidden"] is True
    [hide_call] = [c for c in responses.calls if c.request.method == "POST"]
    assert json.loads(hide_call.request.body) == {"is_hidden": True}
    marketing = client.post(f"/api/v1/messages/{comment['id']}/hide", json={}, headers=users.headers("marketing"))
    assert marketing.status_code == 403


@responses.activate
def test_x_dm_and_public_reply_go_out_with_the_right_bodies(client, post_x_webhook, twitter_account, users, run_jobs):
    responses.post(
        f"{X_API}/2/dm_conversations/with/{X_AUTHOR}/messages", json=fixture_json("twitter/api/dm_send_response.json")
    )
    responses.post(f"{X_API}/2/tweets", json={"data": {"id": "1854127000000000001", "text": "…"}})
    post_x_webhook(fixture_bytes("twitter/dm_text_incoming.json"))
    post_x_webhook(fixture_bytes("twitter/tweet_create_mention.json"))
    headers = users.headers("agent")
    conversations = client.get("/api/v1/conversations", headers=headers).get_json()["items"]
    by_thread = {c["thread"] is not None: c for c in conversations}
    dm = client.post(
        f"/api/v1/conversations/{by_thread[False]['id']}/messages", json={"text": "On regarde"}, headers=headers
    )
    mention = client.post(
        f"/api/v1/conversations/{by_thread[True]['id']}/messages",
        json={"text": "@youssef_amr on regarde"},
        headers=headers,
    )
    assert dm.status_code == mention.status_code == 202
    run_jobs()
    bodies = {call.request.url: json.loads(call.request.body) for call in responses.calls}
    assert bodies[f"{X_API}/2/dm_conversations/with/{X_AUTHOR}/messages"] == {"text": "On regarde"}
    assert bodies[f"{X_API}/2/tweets"] == {
        "text": "@youssef_amr on regarde",
        "reply": {"in_reply_to_tweet_id": MENTION},
    }


@responses.activate
def test_x_429_is_retried_after_its_reset(client, post_x_webhook, twitter_account, users, run_jobs, app):
    from rq.registry import ScheduledJobRegistry

    from inbox import broker

    reset = int(time.time()) + 120
    url = f"{X_API}/2/dm_conversations/with/{X_AUTHOR}/messages"
    responses.post(url, json={"title": "Too Many Requests"}, status=429, headers={"x-rate-limit-reset": str(reset)})
    responses.post(url, json=fixture_json("twitter/api/dm_send_response.json"))
    post_x_webhook(fixture_bytes("twitter/dm_text_incoming.json"))
    headers = users.headers("agent")
    conversation = _only_conversation(client, headers)
    client.post(f"/api/v1/conversations/{conversation['id']}/messages", json={"text": "Bonjour"}, headers=headers)
    run_jobs()
    assert len(responses.calls) == 1
    with app.app_context():
        registry = ScheduledJobRegistry(queue=broker.queue())
        [job_id] = registry.get_job_ids()
        when = registry.get_scheduled_time(job_id)
        assert when.timestamp() >= reset - 5  # not before the platform's reset
        broker.queue().enqueue_job(broker.queue().fetch_job(job_id))  # time passes
        registry.remove(job_id)
    run_jobs()
    assert len(responses.calls) == 2
    [_, reply] = _messages(client, headers, conversation["id"])
    assert reply["status"] == "sent"


@responses.activate
def test_a_comment_conversation_gets_its_post_text(client, post_webhook, facebook_account, users, run_jobs):
    post_id = "581234567890123_1122334455667788"
    responses.get(
        f"{GRAPH}/{post_id}",
        json={
            "id": post_id,
            "message": "Nouveau: la facture en ligne 📄",
            "permalink_url": "https://www.facebook.com/p/1",
        },
    )
    post_webhook(fixture_bytes("facebook_feed/comment_add.json"), platform="facebook")
    headers = users.headers("agent")
    assert _only_conversation(client, headers)["thread"].get("text") is None
    run_jobs()
    thread = _only_conversation(client, headers)["thread"]
    assert thread["text"] == "Nouveau: la facture en ligne 📄"
    assert thread["id"] == post_id
    assert "fields=message" in responses.calls[0].request.url
