"""X fixtures posted signed to the real route, read back; the CRC; the account's own DMs as outbound."""

from __future__ import annotations

import json

import pytest

from tests.conftest import fixture_bytes, fixture_json, x_signature

FIXTURES = {
    "dm_text_incoming.json": ("text", "Salam, ma commande #7781 n'est pas encore arrivée 😕 واش ممكن تشوفو ليا؟", 0),
    "dm_with_media.json": ("image", "Voici la photo du colis abîmé", 1),
    "tweet_create_mention.json": ("mention", "@AtlasShopMA toujours pas de réponse pour ma commande #7781 😤", 0),
}


def _everything(client, headers):
    conversations = client.get("/api/v1/conversations", headers=headers).get_json()["items"]
    messages = []
    for conversation in conversations:
        url = f"/api/v1/conversations/{conversation['id']}/messages"
        messages += client.get(url, headers=headers).get_json()["items"]
    return conversations, messages


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_read_back(name, client, post_x_webhook, twitter_account, users):
    kind, text, attachments = FIXTURES[name]
    assert post_x_webhook(fixture_bytes(f"twitter/{name}")).status_code == 200
    conversations, [message] = _everything(client, users.headers("agent"))
    assert (message["type"], message["direction"], message["text"]) == (kind, "in", text)
    assert len(message["attachments"]) == attachments
    assert conversations[0]["channel"] == "twitter"
    if kind == "mention":
        assert message["external_id"] == "1854125000011112222"  # id_str, never the rounded number
        assert conversations[0]["thread"] is not None
        assert [m["mode"] for m in conversations[0]["reply_modes"]] == ["public_reply"]
        assert conversations[0]["handle"] == "youssef_amr"
    else:
        assert conversations[0]["thread"] is None


def test_crc_answers_the_fixture_vector(client, twitter_account):
    response = client.get("/webhooks/twitter", query_string=fixture_json("twitter/crc_get_query.json"))
    assert response.status_code == 200
    assert response.get_json() == fixture_json("twitter/crc_expected_response.json")


def test_signatures(post_x_webhook, twitter_account):
    body = fixture_bytes("twitter/dm_text_incoming.json")
    assert x_signature(body) == "sha256=A1ASxx50TX3Jzh/TTkH9YAIsK/Kelyyu8MdQ7MiyIgo="
    assert post_x_webhook(body, signature=None).status_code == 401
    assert post_x_webhook(body, signature="sha256=AAAA").status_code == 401
    assert post_x_webhook(body).status_code == 200


def test_dm_typed_in_the_x_app_is_stored_as_outbound(client, post_x_webhook, twitter_account, users):
    post_x_webhook(fixture_bytes("twitter/dm_text_incoming.json"))
    own = json.loads(fixture_bytes("twitter/dm_text_incoming.json"))
    event = own["direct_message_events"][0]
    event["id"] = "1854123456789099999"
    event["message_create"]["sender_id"] = own["for_user_id"]
    event["message_create"]["target"]["recipient_id"] = "1423456789012345678"
    event["message_create"]["message_data"]["text"] = "On vérifie tout de suite."
    assert post_x_webhook(json.dumps(own).encode()).status_code == 200
    conversations, messages = _everything(client, users.headers("agent"))
    assert len(conversations) == 1
    [outbound] = [m for m in messages if m["direction"] == "out"]
    assert outbound["author"] == {"type": "external", "name": "X app"}


def test_noise_is_ignored_without_error(client, post_x_webhook, twitter_account, users):
    for key in ("favorite_events", "follow_events", "direct_message_indicate_typing_events"):
        body = json.dumps({"for_user_id": "1587234567890123456", key: [{"id": "1"}]}).encode()
        assert post_x_webhook(body).status_code == 200
    assert _everything(client, users.headers("agent")) == ([], [])
