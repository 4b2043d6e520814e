"""The contacts directory: search, details across channels, edits and their checks, suggestions, merges, roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.inbox.test_api import assert_error

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def accounts(db):
    """One account per platform, as the settings would seed them."""
    from inbox.models import ChannelAccount

    found = {
        platform: ChannelAccount(platform=platform, external_id=external_id, name=name, secrets={})
        for platform, external_id, name in (
            ("whatsapp", "109988776655443", "WhatsApp"),
            ("facebook", "581234567890123", "Atlas Page"),
            ("twitter", "1587234567890123456", "@AtlasShopMA"),
        )
    }
    db.add_all(found.values())
    db.commit()
    return found


@pytest.fixture
def make_contact(db, accounts):
    """A contact with one identity and one conversation per (platform, external id) given."""
    from inbox.models import Contact, ContactIdentity, Conversation

    def make(name=None, identities=(), at=T0, **fields):
        contact = Contact(name=name, **fields)
        db.add(contact)
        for n, (platform, external_id) in enumerate(identities):
            identity = ContactIdentity(
                contact=contact, account_id=accounts[platform].id, external_id=external_id, display_name=name
            )
            db.add(identity)
            db.flush()
            stamp = at + timedelta(minutes=n)
            db.add(
                Conversation(
                    account_id=accounts[platform].id,
                    contact_id=contact.id,
                    identity_id=identity.id,
                    status="open",
                    created_at=stamp,
                    last_message_at=stamp,
                )
            )
        db.commit()
        return contact.id

    return make


def get(client, users, path, role="agent"):
    return client.get(path, headers=users.headers(role))


# ---------------------------------------------------------------- search


def test_search_by_text_cil_contract_and_phone(client, users, make_contact):
    salma = make_contact("Salma Benali", [("whatsapp", "212661234567")], phone="212661234567", cil="CIL-001")
    youssef = make_contact("Youssef El Amrani", [("facebook", "24129351326671721")], email="youssef@example.ma")
    karim = make_contact("Karim 100%", contract="CT-778", cil="CIL-009")

    def ids(query):
        response = get(client, users, f"/api/v1/contacts{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return [item["id"] for item in response.get_json()["items"]]

    assert ids("") == [karim, salma, youssef]  # by name
    assert ids("?q=benali") == [salma]
    assert ids("?q=EXAMPLE.MA") == [youssef]
    assert ids("?q=100%25") == [karim]  # % is a character, not a wildcard
    assert ids("?q=%25") == [karim]
    assert ids("?cil=CIL-001") == [salma]
    assert ids("?contract=CT-778") == [karim]
    assert ids("?phone=%2B212%20661%2023%2045%2067") == [salma]
    assert ids("?phone=0661234567") == [salma]  # the national form is the same line
    assert ids("?limit=1") == [karim]
    items = get(client, users, "/api/v1/contacts?q=salma").get_json()["items"]
    assert items[0]["channels"] == ["whatsapp"]
    assert {"id", "name", "cil", "contract", "cin", "phone", "email", "address", "language"} <= set(items[0])


@pytest.mark.parametrize("query", ["?limit=0", "?limit=abc", "?phone=12"])
def test_bad_search_parameters_are_400(query, client, users, make_contact):
    assert_error(get(client, users, f"/api/v1/contacts{query}"), 400, "bad_parameter")


# ---------------------------------------------------------------- details


def test_details_show_every_identity_and_conversation_newest_first(client, users, make_contact, accounts):
    contact_id = make_contact(
        "Salma Benali",
        [("whatsapp", "212661234567"), ("facebook", "24129351326671721"), ("twitter", "1423456789012345678")],
    )

    response = get(client, users, f"/api/v1/contacts/{contact_id}")

    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == contact_id and body["name"] == "Salma Benali"
    assert [(i["channel"], i["external_id"]) for i in body["identities"]] == [
        ("whatsapp", "212661234567"),
        ("facebook", "24129351326671721"),
        ("twitter", "1423456789012345678"),
    ]
    assert body["identities"][1]["account_id"] == accounts["facebook"].id
    assert body["identities"][1]["account_name"] == "Atlas Page"
    assert [c["channel"] for c in body["conversations"]] == ["twitter", "facebook", "whatsapp"]
    assert all(c["contact"]["id"] == contact_id for c in body["conversations"])


def test_an_unknown_contact_is_404(client, users, make_contact):
    assert_error(get(client, users, "/api/v1/contacts/999999"), 404, "not_found")


# ---------------------------------------------------------------- edits


def test_patch_changes_the_fields_and_normalises_phone_and_email(client, users, make_contact):
    contact_id = make_contact("Salma", [("whatsapp", "212661234567")])

    response = client.patch(
        f"/api/v1/contacts/{contact_id}",
        json={
            "name": "  Salma Benali ",
            "cil": "CIL-001",
            "contract": "CT-1",
            "cin": "BE123456",
            "phone": "+212 661-23 45 67",
            "email": "Salma.Benali@Example.MA",
            "address": "12 rue Ibn Sina, Casablanca",
            "language": "fr",
        },
        headers=users.headers("agent"),
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["name"] == "Salma Benali"
    assert body["phone"] == "212661234567"
    assert body["email"] == "salma.benali@example.ma"
    assert body["language"] == "fr"
    assert body["identities"][0]["external_id"] == "212661234567"
    again = get(client, users, f"/api/v1/contacts/{contact_id}").get_json()
    assert again["cil"] == "CIL-001" and again["address"] == "12 rue Ibn Sina, Casablanca"
    assert (
        client.get(
            f"/api/v1/conversations/{again['conversations'][0]['id']}", headers=users.headers("agent")
        ).get_json()["contact"]["cil"]
        == "CIL-001"
    )

    cleared = client.patch(
        f"/api/v1/contacts/{contact_id}", json={"email": "", "cin": None}, headers=users.headers("agent")
    )
    assert cleared.get_json()["email"] is None and cleared.get_json()["cin"] is None
    assert cleared.get_json()["cil"] == "CIL-001"  # fields not named are kept


@pytest.mark.parametrize(
    "body, code",
    [
        ({"email": "salma@"}, "invalid_email"),
        ({"email": "salma benali@example.ma"}, "invalid_email"),
        ({"email": "salma@example"}, "invalid_email"),
        ({"phone": "06 61"}, "invalid_phone"),
        ({"phone": "+212 6612a4567"}, "invalid_phone"),
        ({"phone": "1234567890123456"}, "invalid_phone"),
        ({"language": "français"}, "invalid_language"),
        ({"cil": "x" * 41}, "too_long"),
        ({"name": 12}, "invalid_field"),
        ({"id": 3}, "unknown_field"),
    ],
)
def test_patch_refuses_bad_values_with_a_clear_422(body, code, client, users, make_contact, db):
    from inbox.models import Contact

    contact_id = make_contact("Salma", email="salma@example.ma")

    response = client.patch(f"/api/v1/contacts/{contact_id}", json=body, headers=users.headers("agent"))

    error = assert_error(response, 422, code)
    assert len(error["message"]) > 10
    db.expire_all()
    assert db.get(Contact, contact_id).email == "salma@example.ma"  # nothing changed


def test_patch_needs_a_json_object(client, users, make_contact):
    contact_id = make_contact("Salma")
    response = client.patch(f"/api/v1/contacts/{contact_id}", data="[]", headers=users.headers("agent"))
    assert_error(response, 400, "bad_request")


# ---------------------------------------------------------------- suggestions


def test_suggestions_by_phone_and_email(client, users, make_contact):
    whatsapp = make_contact("Salma", [("whatsapp", "212661234567")], phone="212661234567")
    messenger = make_contact("Salma Benali", [("facebook", "24129351326671721")], phone="0661234567")
    x = make_contact("salma_b", [("twitter", "1423456789012345678")], email="salma@example.ma")
    make_contact("Someone else", [("whatsapp", "212700000000")], phone="212700000000", email="other@example.ma")
    client.patch(f"/api/v1/contacts/{whatsapp}", json={"email": "SALMA@example.ma"}, headers=users.headers("agent"))

    response = get(client, users, f"/api/v1/contacts/{whatsapp}/suggestions")

    assert response.status_code == 200
    found = {item["contact"]["id"]: item for item in response.get_json()["items"]}
    assert set(found) == {messenger, x}
    assert found[messenger]["reasons"] == ["phone"]
    assert found[x]["reasons"] == ["email"]
    assert found[x]["identities"][0]["channel"] == "twitter"


def test_suggestions_by_cil_and_contract_and_none_without_data(client, users, make_contact):
    first = make_contact("A", cil="CIL-7", contract="CT-7")
    second = make_contact("B", cil="CIL-7", contract="CT-7")
    lonely = make_contact("C")

    items = get(client, users, f"/api/v1/contacts/{first}/suggestions").get_json()["items"]
    assert [(i["contact"]["id"], i["reasons"]) for i in items] == [(second, ["cil", "contract"])]
    assert get(client, users, f"/api/v1/contacts/{lonely}/suggestions").get_json() == {"items": []}


# ---------------------------------------------------------------- merges


def test_merge_keeps_every_conversation_and_identity(client, users, make_contact, db):
    from sqlalchemy import select

    from inbox.models import Contact, ContactIdentity, Conversation

    kept = make_contact("Salma Benali", [("whatsapp", "212661234567")], phone="212661234567", cil="CIL-001")
    messenger = make_contact(
        "Salma B.", [("facebook", "24129351326671721")], email="salma@example.ma", cil="CIL-OTHER", language="fr"
    )
    x = make_contact("salma_b", [("twitter", "1423456789012345678")], contract="CT-9")
    conversations_before = set(db.scalars(select(Conversation.id)))
    db.commit()  # end the read: SQLite takes the write lock for it (db.py)

    first = client.post(
        f"/api/v1/contacts/{kept}/merge", json={"contact_id": messenger}, headers=users.headers("agent")
    )
    second = client.post(f"/api/v1/contacts/{kept}/merge", json={"contact_id": x}, headers=users.headers("agent"))

    assert first.status_code == 200, first.get_data(as_text=True)
    assert second.status_code == 200, second.get_data(as_text=True)
    body = second.get_json()
    assert body["id"] == kept
    assert sorted(i["channel"] for i in body["identities"]) == ["facebook", "twitter", "whatsapp"]
    assert {c["id"] for c in body["conversations"]} == conversations_before
    assert all(c["contact"]["id"] == kept for c in body["conversations"])
    # empty fields are filled from the merged contact; filled ones are kept
    assert body["name"] == "Salma Benali" and body["cil"] == "CIL-001" and body["phone"] == "212661234567"
    assert body["email"] == "salma@example.ma" and body["language"] == "fr" and body["contract"] == "CT-9"
    assert_error(get(client, users, f"/api/v1/contacts/{messenger}"), 404, "not_found")
    listed = client.get("/api/v1/conversations", headers=users.headers("agent")).get_json()["items"]
    assert {c["contact"]["id"] for c in listed} == {kept}
    db.expire_all()
    assert db.get(Contact, messenger) is None and db.get(Contact, x) is None
    assert set(db.scalars(select(ContactIdentity.contact_id))) == {kept}


def test_a_merge_announces_the_moved_conversations(app, client, users, make_contact):
    from inbox.realtime import socketio

    kept = make_contact("Salma", [("whatsapp", "212661234567")])
    other = make_contact("Salma B.", [("facebook", "24129351326671721"), ("twitter", "1423456789012345678")])
    listener = socketio.test_client(app, auth={"token": users.tokens["agent"]})
    listener.get_received()

    client.post(f"/api/v1/contacts/{kept}/merge", json={"contact_id": other}, headers=users.headers("agent"))

    events = [e for e in listener.get_received() if e["name"] == "conversation.updated"]
    listener.disconnect()
    assert sorted(e["args"][0]["conversation"]["channel"] for e in events) == ["facebook", "twitter"]
    assert all(e["args"][0]["conversation"]["contact"]["id"] == kept for e in events)


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"contact_id": "self"}, 422, "same_contact"),
        ({"contact_id": 999999}, 404, "not_found"),
        ({"contact_id": "2"}, 422, "bad_contact_id"),
        ({"contact_id": True}, 422, "bad_contact_id"),
        ({}, 422, "bad_contact_id"),
    ],
)
def test_merge_refuses_itself_and_unknown_contacts(body, status, code, client, users, make_contact, db):
    from inbox.models import Contact

    contact_id = make_contact("Salma", [("whatsapp", "212661234567")])
    if body.get("contact_id") == "self":
        body = {"contact_id": contact_id}

    response = client.post(f"/api/v1/contacts/{contact_id}/merge", json=body, headers=users.headers("agent"))

    assert_error(response, status, code)
    assert db.get(Contact, contact_id) is not None


def test_merging_into_an_unknown_contact_is_404(client, users, make_contact):
    other = make_contact("Salma")
    response = client.post("/api/v1/contacts/999999/merge", json={"contact_id": other}, headers=users.headers("agent"))
    assert_error(response, 404, "not_found")


# ---------------------------------------------------------------- roles


def _routes(contact_id: int, other_id: int):
    return [
        ("GET", "/api/v1/contacts", None),
        ("GET", f"/api/v1/contacts/{contact_id}", None),
        ("PATCH", f"/api/v1/contacts/{contact_id}", {"name": "X"}),
        ("GET", f"/api/v1/contacts/{contact_id}/suggestions", None),
        ("POST", f"/api/v1/contacts/{contact_id}/merge", {"contact_id": other_id}),
    ]


def test_marketing_may_not_see_or_change_contacts(client, users, make_contact, db):
    from inbox.models import Contact

    contact_id, other_id = make_contact("Salma"), make_contact("Salma B.")
    for method, path, body in _routes(contact_id, other_id):
        response = client.open(path, method=method, json=body, headers=users.headers("marketing"))
        assert_error(response, 403, "forbidden")
        assert_error(client.open(path, method=method, json=body), 401, "unauthorized")
    db.expire_all()
    assert db.get(Contact, other_id) is not None and db.get(Contact, contact_id).name == "Salma"


@pytest.mark.parametrize("role", ["agent", "supervisor", "admin"])
def test_agents_supervisors_and_admins_may(role, client, users, make_contact):
    contact_id, other_id = make_contact("Salma"), make_contact("Salma B.")
    for method, path, body in _routes(contact_id, other_id):
        response = client.open(path, method=method, json=body, headers=users.headers(role))
        assert response.status_code == 200, (method, path, response.get_data(as_text=True))


def test_answers_match_the_openapi_document(client, users, make_contact):
    from tests.inbox.test_api import conforms, openapi_document, response_schema

    document = openapi_document()
    agent = users.headers("agent")
    kept = make_contact("Salma", [("whatsapp", "212661234567")], phone="212661234567")
    other = make_contact("Salma B.", [("facebook", "24129351326671721")], phone="+212661234567")
    answers = [
        ("get", "/api/v1/contacts", 200, client.get("/api/v1/contacts?q=salma", headers=agent)),
        ("get", "/api/v1/contacts/{contact_id}", 200, client.get(f"/api/v1/contacts/{kept}", headers=agent)),
        (
            "get",
            "/api/v1/contacts/{contact_id}/suggestions",
            200,
            client.get(f"/api/v1/contacts/{kept}/suggestions", headers=agent),
        ),
        (
            "patch",
            "/api/v1/contacts/{contact_id}",
            422,
            client.patch(f"/api/v1/contacts/{kept}", json={"email": "x"}, headers=agent),
        ),
        (
            "patch",
            "/api/v1/contacts/{contact_id}",
            200,
            client.patch(f"/api/v1/contacts/{kept}", json={"cil": "CIL-1"}, headers=agent),
        ),
        (
            "post",
            "/api/v1/contacts/{contact_id}/merge",
            200,
            client.post(f"/api/v1/contacts/{kept}/merge", json={"contact_id": other}, headers=agent),
        ),
        (
            "post",
            "/api/v1/contacts/{contact_id}/merge",
            404,
            client.post(f"/api/v1/contacts/{kept}/merge", json={"contact_id": other}, headers=agent),
        ),
    ]
    for method, path, status, response in answers:
        assert response.status_code == status, (method, path, response.get_data(as_text=True))
        conforms(document, response_schema(document, method, path, status), response.get_json())
