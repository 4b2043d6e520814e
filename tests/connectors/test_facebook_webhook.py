"""Every Messenger and Page feed fixture through the Facebook parser, the handshake and the signature."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from connectors import get_connector
from tests.conftest import APP_SECRET, DATA, fixture_bytes, fixture_json, meta_signature

PAGE = "581234567890123"
SALMA, YOUSSEF, FATIMA = "5567123498761234", "8473629105562341", "6120998877443321"
PSID_A, PSID_B = "24129351326671721", "7645218390012874"
POST = "581234567890123_1122334455667788"
COMMENT = "1122334455667788_998877665544332"
ECHOED_MID = "m_Ou1Tg2Oi3Nn4Gg5Aa6Bb7Cc8Dd9Ee0Ff1Gg2Hh3Ii4Jj5Kk6Ll7Mm8Nn9Oo0Pp1Qq2Rr3Ss4Tt5Uu6Vv7Ww8X"

# file -> (kind, type, direction, sender_ref, text, number of attachments)
MESSENGER = {
    "text.json": (
        "message",
        "text",
        "in",
        PSID_A,
        "Bonjour, est-ce que vous livrez à Marrakech ? 🚚 واش كتوصلو لمراكش؟",
        0,
    ),
    "image.json": ("message", "image", "in", PSID_A, None, 1),
    "file.json": ("message", "document", "in", PSID_B, None, 1),
    "video.json": ("message", "video", "in", PSID_A, None, 1),
    "audio.json": ("message", "audio", "in", PSID_B, None, 1),
    "sticker_like.json": ("message", "sticker", "in", PSID_A, None, 1),
    "fallback_link_share.json": ("message", "link", "in", PSID_B, "https://www.example.ma/produits/tajine-argile", 0),
    "location_legacy.json": ("message", "location", "in", PSID_A, "Youssef's Location", 0),
    "quick_reply.json": ("message", "interactive", "in", PSID_B, "Casablanca", 0),
    "postback.json": ("message", "interactive", "in", PSID_A, "Suivre ma commande", 0),
    "delivery.json": ("watermark", "text", "in", PSID_A, None, 0),
    "read.json": ("watermark", "text", "in", PSID_A, None, 0),
    "message_echo.json": ("message", "text", "out", PSID_A, "Votre commande #7781 est en route 🚚", 0),
    "reply_to.json": ("message", "text", "in", PSID_B, "Oui, celui-là en taille M", 0),
}
FEED = {
    "comment_add.json": ("message", "comment", "in", YOUSSEF, "Combien le prix de ce tajine ? 😍 بشحال هادا؟", 0),
    "comment_edited.json": ("edit", "text", "in", YOUSSEF, "Combien le prix de ce tajine en taille moyenne ? 😍", 0),
    "comment_reply.json": ("message", "comment", "in", FATIMA, "حتى أنا بغيت نعرف الثمن 🙏", 0),
    "visitor_post.json": (
        "message",
        "post",
        "in",
        SALMA,
        "Bonjour, j'ai commandé il y a 5 jours et toujours rien reçu. Commande #7781. Merci de me répondre.",
        0,
    ),
}


def parse(payload):
    return get_connector("facebook").parse(payload)


def test_every_fixture_is_covered():
    messenger = {p.name for p in (DATA / "messenger").glob("*.json")}
    assert messenger - {"verification_get_query.json", "batch_two_events.json"} == set(MESSENGER)
    feed = {p.name for p in (DATA / "facebook_feed").glob("*.json")}
    assert feed - {"reaction_add.json"} == set(FEED)


@pytest.mark.parametrize("name", sorted(MESSENGER))
def test_messenger_fixture(name):
    kind, type_, direction, sender, text, attachments = MESSENGER[name]
    raw = fixture_json(f"messenger/{name}")
    event_raw = raw["entry"][0]["messaging"][0]
    [event] = parse(raw)
    assert (event.kind, event.type, event.direction, event.sender_ref) == (kind, type_, direction, sender)
    assert event.text == text
    assert len(event.attachments) == attachments
    assert event.channel == "facebook"
    assert event.account_ref == PAGE
    assert event.raw == event_raw
    message = event_raw.get("message") or event_raw.get("postback") or {}
    if kind == "message":
        assert event.external_id == message["mid"]
        # Messenger timestamps are integer milliseconds (fixtures README E)
        assert event.sent_at == datetime.fromtimestamp(event_raw["timestamp"] / 1000, UTC)
    for attachment, given in zip(event.attachments, message.get("attachments", []), strict=False):
        assert attachment.media_ref == given["payload"]["url"]


@pytest.mark.parametrize("name", sorted(FEED))
def test_feed_fixture(name):
    kind, type_, direction, sender, text, attachments = FEED[name]
    raw = fixture_json(f"facebook_feed/{name}")
    value = raw["entry"][0]["changes"][0]["value"]
    [event] = parse(raw)
    assert (event.kind, event.type, event.direction, event.sender_ref) == (kind, type_, direction, sender)
    assert event.text == text
    assert len(event.attachments) == attachments
    assert event.account_ref == PAGE
    assert event.sender_name == value["from"]["name"]
    assert event.thread_ref == value["post_id"]
    assert event.thread["id"] == value["post_id"]
    assert event.sent_at == datetime.fromtimestamp(value["created_time"], UTC)  # feed times are seconds
    assert event.external_id == value.get("comment_id", value["post_id"])


def test_file_keeps_its_name_and_sticker_its_id():
    [file] = parse(fixture_json("messenger/file.json"))
    assert file.attachments[0].filename == "Devis_Riad_Atlas.pdf"
    [sticker] = parse(fixture_json("messenger/sticker_like.json"))
    assert sticker.data == {"sticker_id": "369239263222822"}


def test_new_sticker_type_alongside_the_old_image_form_is_one_sticker():
    payload = fixture_json("messenger/sticker_like.json")
    message = payload["entry"][0]["messaging"][0]["message"]
    new_url = "https://scontent.xx.fbcdn.net/v/sticker.png"
    message["attachments"].append({"type": "sticker", "payload": {"url": new_url, "sticker_id": 369239263222822}})
    [event] = parse(payload)
    assert event.type == "sticker"
    assert [a.media_ref for a in event.attachments] == [new_url]
    assert event.data["sticker_id"] == "369239263222822"
    message["attachments"] = message["attachments"][1:]  # only the new form (after the transition)
    [event] = parse(payload)
    assert (event.type, len(event.attachments)) == ("sticker", 1)


def test_link_share_quick_reply_postback_location_and_reply_data():
    [link] = parse(fixture_json("messenger/fallback_link_share.json"))
    assert link.data["url"] == "https://www.example.ma/produits/tajine-argile"
    assert link.data["title"] == "Tajine en argile fait main — Example.ma"
    [quick] = parse(fixture_json("messenger/quick_reply.json"))
    assert quick.data == {"interactive_type": "quick_reply", "payload": "CITY_CASABLANCA"}
    [postback] = parse(fixture_json("messenger/postback.json"))
    assert postback.data == {"interactive_type": "postback", "payload": "TRACK_ORDER_7781"}
    [location] = parse(fixture_json("messenger/location_legacy.json"))
    assert (location.data["latitude"], location.data["longitude"]) == (31.6295, -7.9811)
    [reply] = parse(fixture_json("messenger/reply_to.json"))
    assert reply.reply_to == ECHOED_MID


def test_legacy_fallback_without_payload():
    payload = fixture_json("messenger/fallback_link_share.json")
    message = payload["entry"][0]["messaging"][0]["message"]
    del message["text"]
    message["attachments"] = [{"type": "fallback", "title": "Promo", "url": "https://example.ma/p", "payload": None}]
    [event] = parse(payload)
    assert (event.type, event.text, event.data["url"]) == ("link", "Promo", "https://example.ma/p")


def test_echo_is_outbound_to_the_customer_by_the_page_inbox():
    [echo] = parse(fixture_json("messenger/message_echo.json"))
    assert echo.direction == "out"
    assert echo.sender_ref == PSID_A  # the customer, not the Page
    assert echo.external_id == ECHOED_MID
    assert echo.author_label == "Page inbox"
    assert echo.client_ref == "agent:42"
    assert echo.data["app_id"] == "1517776481860111"


def test_watermarks():
    [delivered] = parse(fixture_json("messenger/delivery.json"))
    assert (delivered.status, delivered.external_id) == ("delivered", None)
    assert delivered.data["external_ids"] == [ECHOED_MID]
    assert delivered.sent_at == datetime.fromtimestamp(1761905407.990, UTC)
    [read] = parse(fixture_json("messenger/read.json"))
    assert read.status == "read"
    assert read.sent_at == datetime.fromtimestamp(1761905407.990, UTC)


def test_batches_of_entries_and_of_events_per_entry():
    payload = fixture_json("messenger/batch_two_events.json")
    assert [e.text for e in parse(payload)] == ["Salam", "Le prix du tajine svp ?"]
    merged = copy.deepcopy(payload)
    merged["entry"][0]["messaging"] += merged["entry"].pop()["messaging"]
    merged["entry"][0]["messaging"].append(fixture_json("messenger/read.json")["entry"][0]["messaging"][0])
    merged["entry"].append(fixture_json("facebook_feed/comment_add.json")["entry"][0])
    events = parse(merged)
    assert [e.kind for e in events] == ["message", "message", "watermark", "message"]
    assert events[-1].type == "comment"


def test_comment_reply_keeps_its_thread_and_parent():
    [top] = parse(fixture_json("facebook_feed/comment_add.json"))
    [reply] = parse(fixture_json("facebook_feed/comment_reply.json"))
    assert top.reply_to is None
    assert reply.reply_to == COMMENT
    assert reply.thread_ref == top.thread_ref == POST
    assert reply.thread["url"] == "https://www.facebook.com/581234567890123/posts/1122334455667788"


def test_visitor_post_opens_a_thread_on_itself():
    [post] = parse(fixture_json("facebook_feed/visitor_post.json"))
    assert post.thread_ref == post.external_id == "581234567890123_2233445566778899"
    assert post.thread["text"] == post.text


def test_removal_and_comment_with_photo():
    payload = fixture_json("facebook_feed/comment_add.json")
    value = payload["entry"][0]["changes"][0]["value"]
    value["photo"] = "https://scontent.xx.fbcdn.net/v/photo.jpg"
    [event] = parse(payload)
    assert [a.media_ref for a in event.attachments] == [value["photo"]]
    value["verb"] = "remove"
    [removal] = parse(payload)
    assert (removal.kind, removal.external_id) == ("removal", COMMENT)


def test_reactions_and_the_pages_own_comments_are_ignored():
    assert parse(fixture_json("facebook_feed/reaction_add.json")) == []
    payload = fixture_json("facebook_feed/comment_add.json")
    payload["entry"][0]["changes"][0]["value"]["from"] = {"id": PAGE, "name": "Atlas Shop"}
    assert parse(payload) == []


def test_comment_without_its_author_is_kept_for_admins_and_moderation_is_dropped():
    payload = fixture_json("facebook_feed/comment_add.json")
    value = payload["entry"][0]["changes"][0]["value"]
    del value["from"]
    [event] = parse(payload)
    assert (event.kind, event.account_ref) == ("unrouted", PAGE)
    value["verb"] = "hide"
    assert parse(payload) == []


def test_unknown_shapes_are_unrouted_never_raised():
    events = parse({"object": "page", "entry": [{"id": PAGE, "messaging": [{"sender": {"id": "1"}, "optin": {}}]}]})
    assert events[0].kind == "unrouted" and "optin" in events[0].text
    events = parse({"object": "page", "entry": [{"id": PAGE, "changes": [{"field": "ratings", "value": {}}]}]})
    assert events[0].kind == "unrouted" and events[0].account_ref == PAGE
    broken = {"object": "page", "entry": [{"id": PAGE, "messaging": [{"sender": {"id": "1"}, "message": "x"}]}]}
    assert parse(broken)[0].kind == "unrouted"
    assert parse({"object": "instagram", "entry": []})[0].kind == "unrouted"
    weird = {"object": "page", "entry": [{"id": PAGE, "messaging": [{"sender": {"id": "1"}, "message": {"mid": "m"}}]}]}
    assert parse(weird)[0].type == "unsupported"


def test_unknown_attachment_type_is_unsupported_with_its_type():
    payload = fixture_json("messenger/image.json")
    payload["entry"][0]["messaging"][0]["message"]["attachments"] = [{"type": "template", "payload": {}}]
    [event] = parse(payload)
    assert (event.type, event.data["platform_type"]) == ("unsupported", "template")


def test_message_reaction_and_edit_events():
    base = {"sender": {"id": PSID_A}, "recipient": {"id": PAGE}, "timestamp": 1761905400000}
    reaction = dict(base, reaction={"mid": ECHOED_MID, "action": "react", "emoji": "❤", "reaction": "love"})
    edit = dict(base, message_edit={"mid": ECHOED_MID, "text": "corrigé", "num_edit": 1})
    events = parse({"object": "page", "entry": [{"id": PAGE, "messaging": [reaction, edit]}]})
    assert (events[0].type, events[0].text, events[0].reply_to) == ("reaction", "❤", ECHOED_MID)
    assert (events[1].kind, events[1].external_id, events[1].text) == ("edit", ECHOED_MID, "corrigé")


# --- handshake and signature (fixtures README A.1, A.2) ---------------------------------------------------------


def test_verification_handshake():
    connector = get_connector("facebook")
    query = fixture_json("messenger/verification_get_query.json")
    assert connector.challenge(query, ["other", "fb-verify-9a8b7c"]) == (200, "1903260781", "text/plain")
    assert connector.challenge(query, ["wrong"])[0] == 403
    assert connector.challenge({**query, "hub.mode": "unsubscribe"}, ["fb-verify-9a8b7c"])[0] == 403


@pytest.mark.parametrize(
    "name, expected",
    [
        ("messenger/text.json", "sha256=9d6bd59c2b33cc4bddbdbe1bc4350d8dffcc9fbeab6b8fe143bc23a6951a7317"),
        ("facebook_feed/comment_add.json", "sha256=807a17e7ec30ba684366daa939105b844e88233e6d418066bf1efd6bf9945a5d"),
    ],
)
def test_signature_vectors(name, expected):
    connector = get_connector("facebook")
    body = fixture_bytes(name)
    assert meta_signature(body) == expected
    assert connector.verify({"X-Hub-Signature-256": expected}, body, ["old-secret", APP_SECRET])
    assert not connector.verify({"X-Hub-Signature-256": "sha256=" + "0" * 64}, body, [APP_SECRET])
    assert not connector.verify({}, body, [APP_SECRET])
    assert not connector.verify({"X-Hub-Signature-256": expected}, json.dumps(json.loads(body)).encode(), [APP_SECRET])
    assert not connector.verify({"X-Hub-Signature-256": expected}, body, [])
