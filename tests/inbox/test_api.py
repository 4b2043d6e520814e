"""The REST API: authentication, roles, tokens, the login rate limit, conversation filters and pagination."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import PASSWORD, fixture_bytes, recent

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The contract's error shape: {"error": {"code", "message"}}."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert set(error) >= {"code", "message"}
    assert isinstance(error["message"], str) and error["message"]
    if code:
        assert error["code"] == code
    return error


# ---------------------------------------------------------------- authentication and roles

CONVERSATION_ROUTES = [
    ("GET", "/api/v1/conversations", None),
    ("GET", "/api/v1/conversations/{id}", None),
    ("GET", "/api/v1/conversations/{id}/messages", None),
    ("POST", "/api/v1/conversations/{id}/messages", {"text": "Salam"}),
    ("POST", "/api/v1/conversations/{id}/read", None),
    ("POST", "/api/v1/attachments/{id}/retry", None),
]


@pytest.fixture
def conversation_id(client, post_webhook, whatsapp_account, users):
    assert post_webhook(fixture_bytes("whatsapp/text.json")).status_code == 200
    return client.get("/api/v1/conversations", headers=users.headers("agent")).get_json()["items"][0]["id"]


@pytest.mark.parametrize("method, path, body", CONVERSATION_ROUTES + [("GET", "/api/v1/me", None)])
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-a-token", "Bearer ", "Basic YWdlbnQ6cGFzcw==", "bearer"],
    ids=["none", "bad token", "empty token", "basic", "scheme only"],
)
def test_no_or_bad_token_is_401(method, path, body, authorization, client, users, conversation_id):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.open(path.format(id=conversation_id), method=method, json=body, headers=headers)
    assert_error(response, 401, "unauthorized")


@pytest.mark.parametrize("method, path, body", CONVERSATION_ROUTES)
def test_marketing_may_not_read_conversations(method, path, body, client, users, conversation_id):
    response = client.open(
        path.format(id=conversation_id), method=method, json=body, headers=users.headers("marketing")
    )
    assert_error(response, 403, "forbidden")


@pytest.mark.parametrize(
    "path, allowed",
    [
        ("/api/v1/unrouted-deliveries", {"admin"}),
        ("/api/v1/users", {"agent", "admin", "supervisor"}),
        ("/api/v1/me", {"agent", "supervisor", "marketing", "admin"}),
        ("/api/v1/conversations", {"agent", "supervisor", "admin"}),
    ],
)
def test_roles(path, allowed, client, users):
    for role in ("agent", "supervisor", "marketing", "admin"):
        response = client.get(path, headers=users.headers(role))
        if role in allowed:
            assert response.status_code == 200, (role, path)
        else:
            assert_error(response, 403, "forbidden")


def test_a_deactivated_users_token_stops_working(client, users, db):
    from inbox.models import User

    assert client.get("/api/v1/me", headers=users.headers("agent")).status_code == 200
    user = db.get(User, users.by_role["agent"].id)
    user.active = False
    db.commit()
    assert_error(client.get("/api/v1/me", headers=users.headers("agent")), 401)


def test_token_for_the_right_password(client, users):
    response = client.post("/api/v1/auth/token", json={"email": "Agent@Example.com ", "password": PASSWORD})
    assert response.status_code == 200
    token = response.get_json()["token"]
    assert len(token) >= 32
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.get_json()["email"] == "agent@example.com"
    assert me.get_json()["role"] == "agent"


@pytest.mark.parametrize(
    "body",
    [
        {"email": "agent@example.com", "password": "wrong"},
        {"email": "nobody@example.com", "password": PASSWORD},
        {"email": "agent@example.com", "password": ""},
        {"email": "agent@example.com"},
    ],
    ids=["wrong password", "unknown e-mail", "empty password", "no password"],
)
def test_no_token_for_wrong_credentials(body, client, users):
    error = assert_error(client.post("/api/v1/auth/token", json=body), 401, "bad_credentials")
    assert "token" not in error


def test_token_needs_a_json_object(client, users):
    assert_error(client.post("/api/v1/auth/token", data="email=a", content_type="text/plain"), 400)
    assert_error(client.post("/api/v1/auth/token", json=["agent@example.com", PASSWORD]), 400)


def test_a_token_is_stored_as_a_hash(client, users, db):
    from sqlalchemy import select

    from inbox.models import ApiToken

    token = client.post("/api/v1/auth/token", json={"email": "agent@example.com", "password": PASSWORD}).get_json()
    hashes = list(db.scalars(select(ApiToken.token_hash)))
    db.rollback()
    assert token["token"] not in hashes
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes)


@pytest.mark.parametrize("config_overrides", [{"LOGIN_RATE_LIMIT": "3 per minute"}])
def test_token_requests_are_rate_limited(client, users, config_overrides):
    for _ in range(3):
        assert (
            client.post("/api/v1/auth/token", json={"email": "agent@example.com", "password": "no"}).status_code == 401
        )
    response = client.post("/api/v1/auth/token", json={"email": "agent@example.com", "password": PASSWORD})
    assert_error(response, 429)


@pytest.mark.parametrize("config_overrides", [{"LOGIN_RATE_LIMIT": "3 per minute"}])
def test_the_login_form_is_rate_limited(client, users, config_overrides):
    for _ in range(3):
        page = client.get("/login").get_data(as_text=True)
        csrf = re.search(r'name="csrf[_-]token"\s+(?:value|content)="([^"]+)"', page).group(1)
        response = client.post("/login", data={"email": "agent@example.com", "password": "no", "csrf_token": csrf})
        assert response.status_code == 401
    page = client.get("/login")
    assert page.status_code == 200  # looking at the form is not limited
    csrf = re.search(r'name="csrf[_-]token"\s+(?:value|content)="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = client.post("/login", data={"email": "agent@example.com", "password": PASSWORD, "csrf_token": csrf})
    assert response.status_code == 429


def test_browser_calls_need_the_csrf_token(client, users, conversation_id):
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf[_-]token"\s+(?:value|content)="([^"]+)"', page).group(1)
    assert client.post("/login", data={"email": "agent@example.com", "password": PASSWORD}).status_code == 400
    logged_in = client.post("/login", data={"email": "agent@example.com", "password": PASSWORD, "csrf_token": csrf})
    assert logged_in.status_code == 302

    assert client.get("/api/v1/me").status_code == 200  # the session cookie is a credential
    assert client.post(f"/api/v1/conversations/{conversation_id}/read").status_code == 400
    response = client.post(f"/api/v1/conversations/{conversation_id}/read", headers={"X-CSRFToken": csrf})
    assert response.status_code == 200


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_unknown_api_routes_are_json_404(client, users):
    assert_error(client.get("/api/v1/nothing-here", headers=users.headers("agent")), 404)
    assert_error(client.get("/api/v1/conversations/424242", headers=users.headers("agent")), 404, "not_found")


def test_mark_read_resets_the_unread_count(client, users, conversation_id):
    before = client.get(f"/api/v1/conversations/{conversation_id}", headers=users.headers("agent")).get_json()
    assert before["unread_count"] == 1
    response = client.post(f"/api/v1/conversations/{conversation_id}/read", headers=users.headers("agent"))
    assert response.status_code == 200
    assert response.get_json()["unread_count"] == 0


# ---------------------------------------------------------------- conversations: filters, pagination, times


@pytest.fixture
def make_conversation(app, db, whatsapp_account):
    """Insert a conversation with its contact and one inbound message, at chosen times."""
    from inbox.models import ChannelAccount, Contact, ContactIdentity, Conversation, Message

    accounts = {"whatsapp": whatsapp_account}
    counter = iter(range(10_000))

    def make(
        *,
        at: datetime = T0,
        created: datetime | None = None,
        channel: str = "whatsapp",
        status: str = "open",
        name: str = "Client",
        phone: str | None = None,
        cil: str | None = None,
        contract: str | None = None,
        text: str = "Bonjour",
        assignee=None,
        request_type: str | None = None,
    ) -> int:
        n = next(counter)
        if channel not in accounts:
            accounts[channel] = ChannelAccount(platform=channel, external_id=f"{channel}-1", name=channel, secrets={})
            db.add(accounts[channel])
            db.flush()
        account = accounts[channel]
        contact = Contact(name=name, phone=phone or f"+2126000{n:05d}", cil=cil, contract=contract)
        identity = ContactIdentity(contact=contact, account_id=account.id, external_id=f"ext-{n}")
        conversation = Conversation(
            account_id=account.id,
            contact=contact,
            identity=identity,
            status=status,
            created_at=created or at,
            last_message_at=at,
            assignee_id=assignee,
            request_type=request_type,
        )
        db.add(conversation)
        db.flush()
        db.add(
            Message(
                conversation_id=conversation.id,
                account_id=account.id,
                direction="in",
                type="text",
                text=text,
                status="received",
                external_id=f"wamid.{n}",
                created_at=at,
            )
        )
        db.commit()
        return conversation.id

    return make


def listed(client, users, **query) -> list[int]:
    response = client.get("/api/v1/conversations", query_string=query, headers=users.headers("agent"))
    assert response.status_code == 200, response.get_data(as_text=True)
    return [c["id"] for c in response.get_json()["items"]]


def test_filters(client, users, make_conversation):
    agent = users.by_role["agent"].id
    wa_open = make_conversation(name="Youssef El Amrani", cil="CIL-100200", contract="CT-1", text="facture d'octobre")
    wa_pending = make_conversation(status="pending", name="فاطمة الزهراء", text="الفاتورة ديال شهر أكتوبر")
    fb_open = make_conversation(channel="facebook", name="Salma Benali", phone="+212677001122", text="coupure d'eau")
    wa_resolved = make_conversation(status="resolved", assignee=agent, request_type="claim", text="50% de remise ?")
    everything = {wa_open, wa_pending, fb_open, wa_resolved}

    cases = [
        ({}, everything),
        ({"channel": "whatsapp"}, {wa_open, wa_pending, wa_resolved}),
        ({"channel": "facebook"}, {fb_open}),
        ({"channel": "twitter"}, set()),
        ({"status": "open"}, {wa_open, fb_open}),
        ({"status": "pending"}, {wa_pending}),
        ({"status": "resolved"}, {wa_resolved}),
        ({"q": "FACTURE"}, {wa_open}),  # in a message, whatever the case
        ({"q": "الفاتورة"}, {wa_pending}),  # Arabic script
        ({"q": "Benali"}, {fb_open}),  # the contact's name
        ({"q": "677001122"}, {fb_open}),  # the contact's phone
        ({"q": "50%"}, {wa_resolved}),  # % is a character, not a wildcard
        ({"q": "%"}, {wa_resolved}),
        ({"q": "_"}, set()),
        ({"cil": "CIL-100200"}, {wa_open}),
        ({"cil": "CIL-999"}, set()),
        ({"contract": "CT-1"}, {wa_open}),
        ({"assignee": str(agent)}, {wa_resolved}),
        ({"assignee": "none"}, {wa_open, wa_pending, fb_open}),
        ({"request_type": "claim"}, {wa_resolved}),
        ({"channel": "whatsapp", "status": "open", "q": "octobre"}, {wa_open}),
    ]
    for query, expected in cases:
        assert set(listed(client, users, **query)) == expected, query


def test_since_and_until(client, users, make_conversation):
    old = make_conversation(created=T0 - timedelta(days=10), at=T0 - timedelta(days=9))
    long_running = make_conversation(created=T0 - timedelta(days=10), at=T0 + timedelta(hours=1))
    recent = make_conversation(created=T0 + timedelta(days=1), at=T0 + timedelta(days=1, hours=2))

    assert set(listed(client, users, since=T0.isoformat())) == {long_running, recent}
    assert set(listed(client, users, until=T0.isoformat())) == {old, long_running}
    assert set(listed(client, users, since=T0.isoformat(), until=T0.isoformat())) == {long_running}
    # the same instant written in Casablanca's offset
    casablanca = (T0 + timedelta(hours=1)).replace(tzinfo=None).isoformat() + "+01:00"
    assert set(listed(client, users, since=casablanca)) == {long_running, recent}
    assert set(listed(client, users, since="2026-03-02T09:00:00Z")) == {long_running, recent}


@pytest.mark.parametrize(
    "query, code",
    [
        ({"since": "2026-03-02T09:00:00"}, "bad_parameter"),  # no offset
        ({"since": "yesterday"}, "bad_parameter"),
        ({"until": "02/03/2026"}, "bad_parameter"),
        ({"limit": "0"}, "bad_parameter"),
        ({"limit": "201"}, "bad_parameter"),
        ({"limit": "ten"}, "bad_parameter"),
        ({"cursor": "not-a-cursor"}, "bad_parameter"),
        ({"cursor": "W10="}, "bad_parameter"),
        ({"assignee": "me"}, "bad_parameter"),
        ({"request_type": "complaint"}, "bad_parameter"),
    ],
)
def test_bad_parameters_are_400(query, code, client, users, whatsapp_account):
    response = client.get("/api/v1/conversations", query_string=query, headers=users.headers("agent"))
    assert_error(response, 400, code)


def test_cursor_pagination_walks_every_conversation_once_newest_first(client, users, make_conversation):
    ids = [make_conversation(at=T0 + timedelta(minutes=n)) for n in range(5)]
    # three more at the very same instant: the id breaks the tie
    ids += [make_conversation(at=T0 + timedelta(minutes=2)) for _ in range(3)]
    expected = [
        c
        for c, _ in sorted(
            ((c, T0 + timedelta(minutes=n)) for c, n in zip(ids, [0, 1, 2, 3, 4, 2, 2, 2], strict=True)),
            key=lambda pair: (pair[1], pair[0]),
            reverse=True,
        )
    ]

    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/conversations", query_string=query, headers=users.headers("agent")).get_json()
        assert len(body["items"]) <= 3
        seen += [c["id"] for c in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert pages < 10
    assert seen == expected
    assert pages == 3


def test_a_full_last_page_has_no_next_cursor(client, users, make_conversation):
    for n in range(4):
        make_conversation(at=T0 + timedelta(minutes=n))
    first = client.get("/api/v1/conversations?limit=2", headers=users.headers("agent")).get_json()
    second = client.get(
        "/api/v1/conversations",
        query_string={"limit": 2, "cursor": first["next_cursor"]},
        headers=users.headers("agent"),
    ).get_json()
    assert len(second["items"]) == 2
    assert second["next_cursor"] is None


def test_the_cursor_keeps_the_filters(client, users, make_conversation):
    for n in range(6):
        make_conversation(at=T0 + timedelta(minutes=n), status="open" if n % 2 else "pending")
    first = client.get("/api/v1/conversations?limit=2&status=open", headers=users.headers("agent")).get_json()
    second = client.get(
        "/api/v1/conversations",
        query_string={"limit": 2, "status": "open", "cursor": first["next_cursor"]},
        headers=users.headers("agent"),
    ).get_json()
    statuses = {c["status"] for c in first["items"] + second["items"]}
    assert statuses == {"open"}
    assert len(first["items"] + second["items"]) == 3


def _is_iso_with_offset(value: str) -> bool:
    parsed = datetime.fromisoformat(value)
    return parsed.tzinfo is not None and re.search(r"(\+|-)\d\d:\d\d$|Z$", value) is not None


def test_times_are_iso_8601_with_offset(client, users, conversation_id):
    conversation = client.get(f"/api/v1/conversations/{conversation_id}", headers=users.headers("agent")).get_json()
    for name in ("created_at", "last_message_at", "last_inbound_at", "first_response_due_at"):
        assert _is_iso_with_offset(conversation[name]), (name, conversation[name])
    assert conversation["first_response_at"] is None
    [message] = client.get(
        f"/api/v1/conversations/{conversation_id}/messages", headers=users.headers("agent")
    ).get_json()["items"]
    for name in ("created_at", "sent_at"):
        assert _is_iso_with_offset(message[name]), (name, message[name])
    assert datetime.fromisoformat(message["sent_at"]) == datetime.fromtimestamp(1761905400, UTC)


def test_a_conversation_has_the_contract_fields(client, users, conversation_id):
    conversation = client.get(f"/api/v1/conversations/{conversation_id}", headers=users.headers("agent")).get_json()
    assert set(conversation) >= {
        "id",
        "channel",
        "status",
        "contact",
        "assignee",
        "request_type",
        "case_number",
        "created_at",
        "last_message_at",
        "first_response_due_at",
        "first_response_at",
    }
    assert set(conversation["contact"]) >= {"id", "name", "cil", "contract", "phone"}
    assert "secrets" not in json.dumps(conversation)
    [message] = client.get(
        f"/api/v1/conversations/{conversation_id}/messages", headers=users.headers("agent")
    ).get_json()["items"]
    assert set(message) >= {
        "id",
        "direction",
        "type",
        "text",
        "attachments",
        "status",
        "external_id",
        "created_at",
        "author",
    }


def test_messages_are_oldest_first(client, users, make_conversation, db, whatsapp_account):
    from inbox.models import Message

    conversation_id = make_conversation(at=T0)
    for n, minutes in enumerate([5, -5, 1]):
        db.add(
            Message(
                conversation_id=conversation_id,
                account_id=whatsapp_account.id,
                direction="in",
                type="text",
                text=f"m{n}",
                status="received",
                external_id=f"wamid.order{n}",
                created_at=T0 + timedelta(minutes=minutes),
            )
        )
    db.commit()
    items = client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=users.headers("agent"))
    assert [m["text"] for m in items.get_json()["items"]] == ["m1", "Bonjour", "m2", "m0"]


# ---------------------------------------------------------------- the OpenAPI document

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def openapi_document() -> dict:
    from inbox.openapi import document

    return copy.deepcopy(document())


def flask_routes(app, prefix: str = "/api/v1") -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(prefix):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            routes |= {(method, path) for method in rule.methods & METHODS}
    return routes


def documented(document: dict, prefix: str = "/api/v1") -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        if path.startswith(prefix)
        for method in operations
        if method.upper() in METHODS
    }


def test_the_document_describes_every_api_route_and_no_other(app):
    assert flask_routes(app) == documented(openapi_document())


def test_the_document_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == openapi_document()
    assert response.get_json()["openapi"].startswith("3.1")


def test_health_media_and_every_connectors_webhooks_are_documented(app):
    from connectors import REGISTRY

    paths = openapi_document()["paths"]
    assert "get" in paths["/healthz"]
    assert "get" in paths["/media/{attachment_id}"]
    for platform in REGISTRY:
        assert {"get", "post"} <= set(paths[f"/webhooks/{platform}"]), platform


def _refs(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolve(document: dict, ref: str):
    assert ref.startswith("#/"), ref
    node = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def test_the_document_holds_together(app):
    document = openapi_document()
    for ref in _refs(document):
        _resolve(document, ref)
    for path, operations in document["paths"].items():
        names = set(re.findall(r"{([^}]+)}", path))
        for method, operation in operations.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == names, (method, path)
            assert operation["responses"], (method, path)
            assert operation.get("operationId"), (method, path)
    # every route that checks roles documents 401 and 403; every route that takes a token documents 401
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        view = app.view_functions[rule.endpoint]
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods & METHODS:
            operation = document["paths"][path][method.lower()]
            if getattr(view, "roles", None):
                assert {"401", "403"} <= set(operation["responses"]), (method, path)


def conforms(document: dict, schema: dict, value, where: str = "$") -> None:
    """A small JSON Schema check: the keywords this document uses ($ref, type, properties, required,
    additionalProperties, items, enum, oneOf, format date-time, minimum)."""
    if "$ref" in schema:
        return conforms(document, _resolve(document, schema["$ref"]), value, where)
    if "oneOf" in schema:
        matches = 0
        for option in schema["oneOf"]:
            try:
                conforms(document, option, value, where)
                matches += 1
            except AssertionError:
                pass
        assert matches == 1, f"{where}: {value!r} matches {matches} of oneOf"
        return
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        python = {
            "string": str,
            "integer": int,
            "number": (int, float),
            "boolean": bool,
            "object": dict,
            "array": list,
            "null": type(None),
        }
        ok = any(
            isinstance(value, python[t]) and not (t in ("integer", "number") and isinstance(value, bool)) for t in types
        )
        assert ok, f"{where}: {value!r} is not {types}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if value is None:
        return
    if schema.get("format") == "date-time":
        assert _is_iso_with_offset(value), f"{where}: {value!r} is not ISO 8601 with offset"
    if "minimum" in schema:
        assert value >= schema["minimum"], where
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            assert name in value, f"{where}: {name} is missing"
        if schema.get("additionalProperties") is False:
            assert set(value) <= set(properties), f"{where}: {set(value) - set(properties)} not documented"
        for name, item in value.items():
            if name in properties:
                conforms(document, properties[name], item, f"{where}.{name}")
    if isinstance(value, list) and "items" in schema:
        for n, item in enumerate(value):
            conforms(document, schema["items"], item, f"{where}[{n}]")


def response_schema(document: dict, method: str, path: str, status: int) -> dict:
    response = document["paths"][path][method]["responses"][str(status)]
    if "$ref" in response:
        response = _resolve(document, response["$ref"])
    return response["content"]["application/json"]["schema"]


def test_real_answers_match_the_document(client, users, post_webhook, whatsapp_account, run_jobs, db):
    import responses as fake_http

    from tests.conftest import GRAPH, PHONE_NUMBER_ID, fixture_json

    document = openapi_document()
    agent = users.headers("agent")
    post_webhook(recent(fixture_bytes("whatsapp/text.json")))
    post_webhook(recent(fixture_bytes("whatsapp/image_with_caption.json")))
    post_webhook(recent(fixture_bytes("whatsapp/location.json")))
    unknown = fixture_json("whatsapp/text.json")
    unknown["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "1"
    post_webhook(json.dumps(unknown).encode())
    conversations = client.get("/api/v1/conversations?limit=2", headers=agent)
    conforms(document, response_schema(document, "get", "/api/v1/conversations", 200), conversations.get_json())
    conversation_id = conversations.get_json()["items"][0]["id"]
    with fake_http.RequestsMock(assert_all_requests_are_fired=False) as graph:
        graph.add(
            fake_http.POST, f"{GRAPH}/{PHONE_NUMBER_ID}/messages", json=fixture_json("whatsapp/api/send_response.json")
        )
        sent = client.post(f"/api/v1/conversations/{conversation_id}/messages", json={"text": "Salam"}, headers=agent)
        graph.replace(
            fake_http.POST, f"{GRAPH}/{PHONE_NUMBER_ID}/messages", status=400, json={"error": {"code": 131047}}
        )
        client.post(f"/api/v1/conversations/{conversation_id}/messages", json={"text": "Encore"}, headers=agent)
        graph.add(fake_http.GET, re.compile(r".*"), status=404)
        run_jobs()
    messages_path = "/api/v1/conversations/{conversation_id}/messages"
    conforms(document, response_schema(document, "post", messages_path, 202), sent.get_json())
    for item in conversations.get_json()["items"]:
        url = f"/api/v1/conversations/{item['id']}/messages"
        conforms(
            document, response_schema(document, "get", messages_path, 200), client.get(url, headers=agent).get_json()
        )
        conforms(
            document,
            response_schema(document, "get", "/api/v1/conversations/{conversation_id}", 200),
            client.get(f"/api/v1/conversations/{item['id']}", headers=agent).get_json(),
        )
    token = client.post("/api/v1/auth/token", json={"email": "admin@example.com", "password": PASSWORD})
    conforms(document, response_schema(document, "post", "/api/v1/auth/token", 200), token.get_json())
    admin = users.headers("admin")
    for path in ("/api/v1/me", "/api/v1/users", "/api/v1/unrouted-deliveries"):
        conforms(document, response_schema(document, "get", path, 200), client.get(path, headers=admin).get_json())
    errors = [
        ("get", "/api/v1/conversations", client.get("/api/v1/conversations"), 401),
        ("get", "/api/v1/conversations", client.get("/api/v1/conversations", headers=users.headers("marketing")), 403),
        (
            "get",
            "/api/v1/conversations/{conversation_id}",
            client.get("/api/v1/conversations/999999", headers=agent),
            404,
        ),
        (
            "post",
            messages_path,
            client.post(f"/api/v1/conversations/{conversation_id}/messages", json={}, headers=agent),
            422,
        ),
        ("get", "/api/v1/conversations", client.get("/api/v1/conversations?limit=0", headers=agent), 400),
    ]
    for method, path, response, status in errors:
        assert response.status_code == status
        conforms(document, response_schema(document, method, path, status), response.get_json())
    conforms(document, response_schema(document, "get", "/healthz", 200), client.get("/healthz").get_json())
