"""Canned replies: rendering with every variable in the sandbox, a missing value refused before sending, and
templates that try to escape the sandbox refused when saved; the API's rules and roles."""

from __future__ import annotations

import pytest

from inbox.rendering import REPLY_VARIABLES, MissingValue, TemplateRefused, check, render
from tests.inbox import test_api
from tests.inbox.test_api import assert_error

make_conversation = test_api.make_conversation

EVERY_VARIABLE = (
    "{{ contact.name }}|{{ contact.first_name }}|{{ contact.cil }}|{{ contact.contract }}|{{ contact.phone }}|"
    "{{ contact.email }}|{{ contact.address }}|{{ case.number }}|{{ case.state }}|{{ agent.name }}|"
    "{{ agent.first_name }}"
)
FULL = {
    "contact": {
        "name": "Fatima Zahra",
        "first_name": "Fatima",
        "cil": "0123456789",
        "contract": "C-778",
        "phone": "212661234567",
        "email": "f@example.ma",
        "address": "12 rue Oqba, Agdal",
    },
    "case": {"number": "2026-000042", "state": "open"},
    "agent": {"name": "Salma Benali", "first_name": "Salma"},
}


def test_every_variable_renders():
    assert render(EVERY_VARIABLE, FULL, REPLY_VARIABLES) == (
        "Fatima Zahra|Fatima|0123456789|C-778|212661234567|f@example.ma|12 rue Oqba, Agdal|2026-000042|open|"
        "Salma Benali|Salma"
    )


def test_filters_and_conditions_render():
    text = "{{ contact.first_name | upper }}{% if case.number %}, dossier {{ case.number }}{% endif %}."
    assert render(text, FULL, REPLY_VARIABLES) == "FATIMA, dossier 2026-000042."
    assert render("{{ contact.cil | default('à préciser') }}", {"contact": {}}, REPLY_VARIABLES) == "à préciser"


@pytest.mark.parametrize("missing", [None, ""])
def test_a_missing_value_is_named_never_left_as_a_gap(missing):
    values = {**FULL, "contact": {**FULL["contact"], "cil": missing}, "case": {}}
    with pytest.raises(MissingValue, match=r"case\.number, contact\.cil"):
        render("Bonjour, CIL {{ contact.cil }}, dossier {{ case.number }}", values, REPLY_VARIABLES)


@pytest.mark.parametrize(
    "source",
    [
        "{{ contact.__class__ }}",
        "{{ contact.name.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ config }}",
        "{{ self }}",
        "{{ lipsum.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ contact['name'] }}",
        "{{ contact.name|attr('__class__') }}",
        "{{ contact.name.upper() }}",
        "{% for c in contact %}{{ c }}{% endfor %}",
        "{% import 'os' as os %}",
        "{% include 'web/login.html' %}",
        "{% set x = 1 %}",
        "{% macro m() %}{% endmacro %}",
        "{{ contact.password_hash }}",
        "{{ agent.email }}",
        "{{ contact }}",
        "{{ contact.name",
        "",
    ],
)
def test_a_template_that_reaches_beyond_its_values_is_refused(source):
    with pytest.raises(TemplateRefused):
        check(source, REPLY_VARIABLES)


def test_campaign_columns_are_flat_variables():
    assert check("Salam {{ prenom }}, CIL {{ cil }}", {"prenom", "cil"}) == {"prenom", "cil"}
    with pytest.raises(TemplateRefused, match="the columns are: cil, prenom"):
        check("{{ nom }}", {"prenom", "cil"})


# ---------------------------------------------------------------- the API


def create(client, users, role="supervisor", **fields):
    body = {"topic": "Facturation", "shortcut": "facture", "language": "fr", "body": "Bonjour {{ contact.name }}"}
    return client.post("/api/v1/canned-replies", json={**body, **fields}, headers=users.headers(role))


def test_create_list_validate_and_edit(client, users):
    created = create(client, users)
    assert created.status_code == 201, created.get_data(as_text=True)
    reply = created.get_json()
    assert reply["variables"] == ["contact.name"] and reply["validated"] is False
    validated = client.post(f"/api/v1/canned-replies/{reply['id']}/validate", headers=users.headers("supervisor"))
    assert validated.get_json()["validated"] is True
    create(client, users, shortcut="facture", language="ar", body="مرحبا {{ contact.name }}")
    listed = client.get("/api/v1/canned-replies?language=ar", headers=users.headers("agent")).get_json()["items"]
    assert [r["language"] for r in listed] == ["ar", "fr"]
    edited = client.patch(
        f"/api/v1/canned-replies/{reply['id']}",
        json={"body": "Bonsoir {{ contact.name }}"},
        headers=users.headers("supervisor"),
    ).get_json()
    assert edited["validated"] is False  # a changed text must be validated again


@pytest.mark.parametrize(
    "fields, status, code",
    [
        ({"body": "{{ contact.__class__ }}"}, 422, "template_refused"),
        ({"body": "{% for x in contact %}{% endfor %}"}, 422, "template_refused"),
        ({"language": "de"}, 422, "bad_language"),
        ({"shortcut": "Facture Élevée"}, 422, "bad_shortcut"),
        ({"topic": ""}, 422, "bad_topic"),
    ],
)
def test_bad_replies_are_refused_and_nothing_is_kept(fields, status, code, client, users, db):
    from inbox.models import CannedReply

    assert_error(create(client, users, **fields), status, code)
    assert db.query(CannedReply).count() == 0


def test_a_shortcut_is_unique_per_language(client, users):
    assert create(client, users).status_code == 201
    assert_error(create(client, users), 409, "shortcut_taken")


def test_preview_for_a_conversation_and_a_missing_value(client, users, make_conversation, db):
    from inbox.models import Conversation

    conversation_id = make_conversation(name="Fatima Zahra", cil="0123456789")
    reply = create(
        client, users, body="Bonjour {{ contact.first_name }}, CIL {{ contact.cil }}. {{ agent.first_name }}"
    )
    path = f"/api/v1/conversations/{conversation_id}/canned-replies/{reply.get_json()['id']}/preview"
    preview = client.post(path, headers=users.headers("agent"))
    assert preview.status_code == 200, preview.get_data(as_text=True)
    assert preview.get_json()["text"] == "Bonjour Fatima, CIL 0123456789. Agent"

    conversation = db.get(Conversation, conversation_id)
    conversation.contact.cil = None
    db.commit()
    error = assert_error(client.post(path, headers=users.headers("agent")), 422, "missing_value")
    assert "contact.cil" in error["message"]


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("GET", "/api/v1/canned-replies", {"agent", "supervisor", "admin", "reviewer", "marketing"}),
        ("POST", "/api/v1/canned-replies", {"supervisor", "admin", "marketing"}),
        ("POST", "/api/v1/canned-replies/{id}/validate", {"supervisor", "admin"}),
    ],
)
def test_reply_roles(method, path, allowed, client, users):
    reply_id = create(client, users, shortcut="base").get_json()["id"]
    for n, role in enumerate(("agent", "supervisor", "marketing", "admin", "reviewer")):
        body = {"topic": "T", "shortcut": f"s{n}", "language": "fr", "body": "Bonjour"} if path.endswith("s") else None
        response = client.open(path.format(id=reply_id), method=method, json=body, headers=users.headers(role))
        if role in allowed:
            assert response.status_code in (200, 201), (role, response.get_data(as_text=True))
        else:
            assert_error(response, 403, "forbidden")
