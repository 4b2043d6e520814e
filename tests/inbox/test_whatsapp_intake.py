"""Every WhatsApp fixture posted signed to the real route, then read back through the API."""

from __future__ import annotations

import json

import pytest

from tests.conftest import DATA, fixture_bytes, meta_signature

# file -> (type, text, attachment mime types); statuses are covered in test_statuses.py
SALAM = "Salam 👋 bghit n3ref wach la commande dyali wslat? / السلام عليكم، واش الطلبية ديالي وصلات؟"
MESSAGES = {
    "text.json": ("text", SALAM, []),
    "text_wire_format_escaped.json": ("text", SALAM, []),
    "image_with_caption.json": ("image", "هذي هي الصورة ديال المنتوج 📦 — le carton est abîmé", ["image/jpeg"]),
    "document_pdf.json": ("document", "Voici la facture d'octobre", ["application/pdf"]),
    "video.json": ("video", "Vidéo du colis à la réception", ["video/mp4"]),
    "audio_voice_ogg.json": ("audio", None, ["audio/ogg; codecs=opus"]),
    "location.json": ("location", "Twin Center — Boulevard Zerktouni, Casablanca 20100, Maroc", []),
    "contacts.json": ("contacts", "Karim Tazi", []),
    "interactive_button_reply.json": ("interactive", "Oui, confirmer", []),
    "interactive_list_reply.json": ("interactive", "Lundi 10h-12h", []),
    "button_template_quick_reply.json": ("button", "إيقاف العروض", []),
    "reaction.json": ("reaction", "❤️", []),
    "unsupported_with_errors.json": ("unsupported", None, []),
    "text_reply_with_context.json": ("text", "Oui c'est bien cette adresse, merci 🙏 شكرا", []),
}


def _messages(client, headers):
    conversations = client.get("/api/v1/conversations", headers=headers).get_json()["items"]
    items = []
    for conversation in conversations:
        items += client.get(f"/api/v1/conversations/{conversation['id']}/messages", headers=headers).get_json()["items"]
    return conversations, items


def test_every_message_fixture_is_covered():
    files = {p.name for p in (DATA / "whatsapp").glob("*.json")}
    statuses = {f for f in files if f.startswith("status_")}
    assert files - statuses - {"verification_get_query.json", "batch_two_messages.json"} == set(MESSAGES)


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_fixture_is_stored_and_read_back(name, client, post_webhook, whatsapp_account, users):
    expected_type, expected_text, mimes = MESSAGES[name]
    raw = json.loads(fixture_bytes(f"whatsapp/{name}"))
    value = raw["entry"][0]["changes"][0]["value"]
    sent = value["messages"][0]

    response = post_webhook(fixture_bytes(f"whatsapp/{name}"))

    assert response.status_code == 200, response.get_data(as_text=True)
    conversations, messages = _messages(client, users.headers("agent"))
    assert len(messages) == 1
    message = messages[0]
    assert message["type"] == expected_type
    assert message["text"] == expected_text
    assert message["direction"] == "in"
    assert message["status"] == "received"
    assert message["external_id"] == sent["id"]
    assert [a["mime_type"] for a in message["attachments"]] == mimes
    assert all(a["state"] == "pending" for a in message["attachments"])
    assert message["author"]["name"] == value["contacts"][0]["profile"]["name"]
    contact = conversations[0]["contact"]
    assert contact["phone"] == "+" + sent["from"]
    assert conversations[0]["channel"] == "whatsapp"
    assert conversations[0]["unread_count"] == 1


def test_type_specific_details_are_kept(client, post_webhook, whatsapp_account, users):
    for name in ("location.json", "reaction.json", "unsupported_with_errors.json", "text_reply_with_context.json"):
        assert post_webhook(fixture_bytes(f"whatsapp/{name}")).status_code == 200
    _, messages = _messages(client, users.headers("agent"))
    by_type = {m["type"]: m for m in messages}
    assert by_type["location"]["data"]["latitude"] == 33.5883
    assert by_type["location"]["data"]["longitude"] == -7.6114
    assert by_type["reaction"]["reply_to_external_id"].startswith("wamid.")
    assert by_type["reaction"]["data"]["removed"] is False
    assert by_type["unsupported"]["error"]["code"] == "131051"
    assert by_type["text"]["reply_to_external_id"] == "wamid.HBgMMjEyNjk4NzY1NDMyFQIAERgSOUU2MUMwRDJCN0E0RjgzMzExAA=="


def test_batch_keeps_every_message(client, post_webhook, whatsapp_account, users):
    assert post_webhook(fixture_bytes("whatsapp/batch_two_messages.json")).status_code == 200
    conversations, messages = _messages(client, users.headers("agent"))
    assert len(conversations) == 2
    assert sorted(m["text"] for m in messages) == sorted(
        ["Wach kayn livraison l Tanger?", "بغيت نبدل العنوان ديال التوصيل"]
    )


def test_same_delivery_twice_is_stored_once(client, post_webhook, whatsapp_account, users):
    body = fixture_bytes("whatsapp/text.json")
    assert post_webhook(body).status_code == 200
    assert post_webhook(body).status_code == 200
    _, messages = _messages(client, users.headers("agent"))
    assert len(messages) == 1


def test_unknown_message_type_is_kept_with_raw_payload(client, post_webhook, whatsapp_account, users, db):
    from inbox.models import Message

    payload = json.loads(fixture_bytes("whatsapp/text.json"))
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message.pop("text")
    message["type"] = "hologram"
    message["hologram"] = {"shape": "cube"}
    assert post_webhook(json.dumps(payload).encode()).status_code == 200
    _, messages = _messages(client, users.headers("agent"))
    assert messages[0]["type"] == "unsupported"
    stored = db.get(Message, messages[0]["id"])
    assert stored.raw["hologram"] == {"shape": "cube"}


def test_reaction_removal_and_forwarded_and_referral(client, post_webhook, whatsapp_account, users):
    payload = json.loads(fixture_bytes("whatsapp/reaction.json"))
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["reaction"]["emoji"] = ""
    assert post_webhook(json.dumps(payload).encode()).status_code == 200
    forwarded = json.loads(fixture_bytes("whatsapp/text.json"))
    message = forwarded["entry"][0]["changes"][0]["value"]["messages"][0]
    message["id"] += "F"
    message["context"] = {"forwarded": True}
    message["referral"] = {"source_type": "ad", "source_id": "120", "headline": "Facture en ligne"}
    assert post_webhook(json.dumps(forwarded).encode()).status_code == 200
    _, messages = _messages(client, users.headers("agent"))
    by_type = {m["type"]: m for m in messages}
    assert by_type["reaction"]["data"]["removed"] is True
    assert by_type["text"]["data"]["forwarded"] is True
    assert by_type["text"]["data"]["referral"]["headline"] == "Facture en ligne"


def test_value_level_errors_and_other_fields_are_kept_for_admins(client, post_webhook, whatsapp_account, users):
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"phone_number_id": "109988776655443"},
                            "errors": [{"code": 131000, "title": "Something went wrong"}],
                        },
                    },
                    {"field": "account_update", "value": {"event": "VERIFIED_ACCOUNT"}},
                ],
            }
        ],
    }
    assert post_webhook(json.dumps(payload).encode()).status_code == 200
    items = client.get("/api/v1/unrouted-deliveries", headers=users.headers("admin")).get_json()["items"]
    reasons = sorted(i["reason"] for i in items)
    assert any("131000" in r for r in reasons)
    assert any("account_update" in r for r in reasons)


def test_unknown_phone_number_id_is_kept_and_visible_to_admins(client, post_webhook, whatsapp_account, users):
    payload = json.loads(fixture_bytes("whatsapp/text.json"))
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999999999999999"
    response = post_webhook(json.dumps(payload).encode())
    assert response.status_code == 200
    assert client.get("/api/v1/conversations", headers=users.headers("agent")).get_json()["items"] == []
    admin = client.get("/api/v1/unrouted-deliveries", headers=users.headers("admin"))
    assert admin.status_code == 200
    [item] = admin.get_json()["items"]
    assert item["account_ref"] == "999999999999999"
    assert item["payload"]["text"]["body"].startswith("Salam")
    assert client.get("/api/v1/unrouted-deliveries", headers=users.headers("agent")).status_code == 403


def test_signature_is_checked_over_the_raw_bytes(post_webhook, whatsapp_account):
    body = fixture_bytes("whatsapp/text_wire_format_escaped.json")
    expected = "sha256=50dfa09c8fec14d0e094e744ebd098f015a37190afe7f32b4d5e9d7bdb43f9fe"
    assert meta_signature(body) == expected
    assert post_webhook(body, signature=None).status_code == 401
    assert post_webhook(body, signature="sha256=" + "0" * 64).status_code == 401
    reparsed = json.dumps(json.loads(body)).encode()  # same JSON, other bytes: the signature no longer holds
    assert post_webhook(reparsed, signature=expected).status_code == 401
    assert post_webhook(body, signature=expected).status_code == 200


def test_refused_deliveries_store_nothing(client, post_webhook, whatsapp_account, users, db):
    from sqlalchemy import func, select

    from inbox.models import Message, UnroutedDelivery

    post_webhook(fixture_bytes("whatsapp/text.json"), signature="sha256=bad")
    assert db.scalar(select(func.count(Message.id))) == 0
    assert db.scalar(select(func.count(UnroutedDelivery.id))) == 0


def test_signed_but_not_json_is_400(post_webhook, whatsapp_account):
    response = post_webhook(b"this is not json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "not_json"


def test_oversized_body_is_413(post_webhook, whatsapp_account):
    response = post_webhook(b"{" + b" " * (5 * 1024 * 1024) + b"}")
    assert response.status_code == 413


def test_verification_get(client, whatsapp_account):
    query = json.loads(fixture_bytes("whatsapp/verification_get_query.json"))
    response = client.get("/webhooks/whatsapp", query_string=query)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == query["hub.challenge"]
    assert response.mimetype == "text/plain"
    wrong = dict(query, **{"hub.verify_token": "nope"})
    assert client.get("/webhooks/whatsapp", query_string=wrong).status_code == 403


def test_legacy_vector_literal_empty_entry():
    body = b'{"object":"whatsapp_business_account","entry":[]}'
    assert meta_signature(body) == "sha256=12de659b8d0ec9a2676667460c140a214613d07f860b67307173535b64a9f7f2"
    assert meta_signature(fixture_bytes("whatsapp/text.json")) == (
        "sha256=08f23e43bc29da61742f338e1bebd27ef4eb09606dfcc3a01ad44b7135bab312"
    )
