"""Messenger and Page-feed fixtures posted signed to the real route, read back through the API."""

from __future__ import annotations

import json

import pytest

from tests.conftest import DATA, fixture_bytes

# file -> (type, direction, text, attachments)
MESSENGER = {
    "text.json": ("text", "in", "Bonjour, est-ce que vous livrez à Marrakech ? 🚚 واش كتوصلو لمراكش؟", 0),
    "image.json": ("image", "in", None, 1),
    "file.json": ("document", "in", None, 1),
    "video.json": ("video", "in", None, 1),
    "audio.json": ("audio", "in", None, 1),
    "sticker_like.json": ("sticker", "in", None, 1),
    "fallback_link_share.json": ("link", "in", "https://www.example.ma/produits/tajine-argile", 0),
    "location_legacy.json": ("location", "in", "Youssef's Location", 0),
    "quick_reply.json": ("interactive", "in", "Casablanca", 0),
    "postback.json": ("interactive", "in", "Suivre ma commande", 0),
    "message_echo.json": ("text", "out", "Votre commande #7781 est en route 🚚", 0),
    "reply_to.json": ("text", "in", "Oui, celui-là en taille M", 0),
}
FEED = {
    "comment_add.json": ("comment", "Combien le prix de ce tajine ? 😍 بشحال هادا؟"),
    "comment_reply.json": ("comment", "حتى أنا بغيت نعرف الثمن 🙏"),
    "visitor_post.json": (
        "post",
        "Bonjour, j'ai commandé il y a 5 jours et toujours rien reçu. Commande #7781. Merci de me répondre.",
    ),
}


def _everything(client, headers):
    conversations = client.get("/api/v1/conversations", headers=headers).get_json()["items"]
    messages = []
    for conversation in conversations:
        url = f"/api/v1/conversations/{conversation['id']}/messages"
        messages += client.get(url, headers=headers).get_json()["items"]
    return conversations, messages


def test_every_fixture_is_covered():
    messenger = {p.name for p in (DATA / "messenger").glob("*.json")}
    assert messenger - {"verification_get_query.json", "batch_two_events.json", "delivery.json", "read.json"} == set(
        MESSENGER
    )
    feed = {p.name for p in (DATA / "facebook_feed").glob("*.json")}
    assert feed - {"comment_edited.json", "reaction_add.json"} == set(FEED)


@pytest.mark.parametrize("name", sorted(MESSENGER))
def test_messenger_fixture_read_back(name, client, post_webhook, facebook_account, users):
    kind, direction, text, attachments = MESSENGER[name]
    assert post_webhook(fixture_bytes(f"messenger/{name}"), platform="facebook").status_code == 200
    conversations, [message] = _everything(client, users.headers("agent"))
    assert (message["type"], message["direction"], message["text"]) == (kind, direction, text)
    assert len(message["attachments"]) == attachments
    assert conversations[0]["channel"] == "facebook"
    assert conversations[0]["thread"] is None
    if direction == "out":
        assert message["author"] == {"type": "external", "name": "Page inbox"}
        assert conversations[0]["unread_count"] == 0


@pytest.mark.parametrize("name", sorted(FEED))
def test_feed_fixture_read_back(name, client, post_webhook, facebook_account, users):
    kind, text = FEED[name]
    assert post_webhook(fixture_bytes(f"facebook_feed/{name}"), platform="facebook").status_code == 200
    conversations, [message] = _everything(client, users.headers("agent"))
    assert (message["type"], message["direction"], message["text"]) == (kind, "in", text)
    assert conversations[0]["thread"]["id"]
    modes = [m["mode"] for m in conversations[0]["reply_modes"]]
    assert modes == ["public_reply", "private_reply"]


def test_batch_of_two_events_keeps_both(client, post_webhook, facebook_account, users):
    assert post_webhook(fixture_bytes("messenger/batch_two_events.json"), platform="facebook").status_code == 200
    _, messages = _everything(client, users.headers("agent"))
    assert len(messages) == 2


def test_comments_on_one_post_by_one_person_share_a_conversation(client, post_webhook, facebook_account, users):
    first = json.loads(fixture_bytes("facebook_feed/comment_add.json"))
    second = json.loads(fixture_bytes("facebook_feed/comment_add.json"))
    change = second["entry"][0]["changes"][0]["value"]
    change["comment_id"] += "1"
    change["message"] = "Et la livraison ?"
    for payload in (first, second):
        assert post_webhook(json.dumps(payload).encode(), platform="facebook").status_code == 200
    conversations, messages = _everything(client, users.headers("agent"))
    assert len(conversations) == 1 and len(messages) == 2
    assert conversations[0]["thread"]["url"].startswith("https://www.facebook.com/")


def test_edit_keeps_history_and_removal_marks_removed(client, post_webhook, facebook_account, users):
    post_webhook(fixture_bytes("facebook_feed/comment_add.json"), platform="facebook")
    post_webhook(fixture_bytes("facebook_feed/comment_edited.json"), platform="facebook")
    _, [message] = _everything(client, users.headers("agent"))
    assert message["text"] == "Combien le prix de ce tajine en taille moyenne ? 😍"
    assert message["history"][0]["text"] == "Combien le prix de ce tajine ? 😍 بشحال هادا؟"
    assert message["edited_at"]
    removal = json.loads(fixture_bytes("facebook_feed/comment_edited.json"))
    removal["entry"][0]["changes"][0]["value"]["verb"] = "remove"
    post_webhook(json.dumps(removal).encode(), platform="facebook")
    _, [message] = _everything(client, users.headers("agent"))
    assert message["removed_at"]


def test_reactions_never_open_conversations(client, post_webhook, facebook_account, users):
    assert post_webhook(fixture_bytes("facebook_feed/reaction_add.json"), platform="facebook").status_code == 200
    assert _everything(client, users.headers("agent")) == ([], [])


def test_echo_of_our_own_send_is_stored_once(client, post_webhook, facebook_account, users, db):
    from inbox.models import Message

    post_webhook(fixture_bytes("messenger/text.json"), platform="facebook")
    [conversation], _ = _everything(client, users.headers("agent"))
    ours = Message(
        conversation_id=conversation["id"],
        account_id=facebook_account.id,
        direction="out",
        type="text",
        text="Votre commande #7781 est en route 🚚",
        status="queued",
        author_id=users.by_role["agent"].id,
    )
    db.add(ours)
    db.commit()
    echo = json.loads(fixture_bytes("messenger/message_echo.json"))
    echo["entry"][0]["messaging"][0]["message"]["metadata"] = str(ours.id)  # what our send put there
    assert post_webhook(json.dumps(echo).encode(), platform="facebook").status_code == 200
    assert post_webhook(json.dumps(echo).encode(), platform="facebook").status_code == 200
    _, messages = _everything(client, users.headers("agent"))
    outbound = [m for m in messages if m["direction"] == "out"]
    assert len(outbound) == 1
    assert outbound[0]["id"] == ours.id
    assert outbound[0]["external_id"] == echo["entry"][0]["messaging"][0]["message"]["mid"]
    assert outbound[0]["author"]["type"] == "user"


def test_watermarks_mark_earlier_outbound_messages(client, post_webhook, facebook_account, users, db):
    from datetime import UTC, datetime

    from inbox.models import Message

    post_webhook(fixture_bytes("messenger/text.json"), platform="facebook")
    [conversation], _ = _everything(client, users.headers("agent"))
    watermark = datetime.fromtimestamp(1761905407990 / 1000, UTC)
    rows = []
    for offset, mid in ((-5, "m_before"), (+5, "m_after")):
        row = Message(
            conversation_id=conversation["id"],
            account_id=facebook_account.id,
            direction="out",
            type="text",
            text=mid,
            status="sent",
            external_id=mid,
            sent_at=datetime.fromtimestamp(watermark.timestamp() + offset, UTC),
        )
        rows.append(row)
    db.add_all(rows)
    db.commit()
    post_webhook(fixture_bytes("messenger/read.json"), platform="facebook")
    post_webhook(fixture_bytes("messenger/delivery.json"), platform="facebook")  # late: read stays read
    _, messages = _everything(client, users.headers("agent"))
    status = {m["text"]: m["status"] for m in messages if m["direction"] == "out"}
    read_watermark = json.loads(fixture_bytes("messenger/read.json"))["entry"][0]["messaging"][0]["read"]["watermark"]
    assert read_watermark >= 1761905407990 - 5000
    assert status["m_before"] == "read"
    assert status["m_after"] == "sent"


def test_verification_and_signatures(client, post_webhook, facebook_account):
    query = json.loads(fixture_bytes("messenger/verification_get_query.json"))
    query["hub.verify_token"] = "fb-verify"
    response = client.get("/webhooks/facebook", query_string=query)
    assert response.status_code == 200 and response.get_data(as_text=True) == query["hub.challenge"]
    assert client.get("/webhooks/facebook", query_string=dict(query, **{"hub.verify_token": "x"})).status_code == 403
    body = fixture_bytes("messenger/text.json")
    assert post_webhook(body, platform="facebook", signature=None).status_code == 401
    assert post_webhook(body, platform="facebook", signature="sha256=" + "0" * 64).status_code == 401
    expected = "sha256=9d6bd59c2b33cc4bddbdbe1bc4350d8dffcc9fbeab6b8fe143bc23a6951a7317"
    assert post_webhook(body, platform="facebook", signature=expected).status_code == 200
