"""Qualification, cases and claims through the API: resolving needs a qualification, case numbers, follow-ups,
the case number sent, escalation, answer elements, hand-back, approval and the roles of every route."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest
import responses

from tests.conftest import GRAPH, PHONE_NUMBER_ID, fixture_json

MESSAGES_URL = f"{GRAPH}/{PHONE_NUMBER_ID}/messages"
SEND_RESPONSE = fixture_json("whatsapp/api/send_response.json")
CUSTOMER = "212612345678"
_ids = iter(range(1, 1_000_000))


def inbound(post_webhook, sender: str = CUSTOMER, text: str = "Salam, fatura ghalya bzaf") -> None:
    """A signed WhatsApp text from `sender`, sent now, with a fresh message id."""
    payload = fixture_json("whatsapp/text.json")
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = sender
    message = value["messages"][0]
    message.update({"from": sender, "id": f"wamid.case-test-{next(_ids)}", "timestamp": str(int(time.time()))})
    message["text"]["body"] = text
    assert post_webhook(json.dumps(payload).encode()).status_code == 200


def conversations(client, users) -> list[dict]:
    return client.get("/api/v1/conversations", headers=users.headers("admin")).get_json()["items"]


def patch(client, users, conversation_id: int, role: str = "agent", **body):
    return client.patch(f"/api/v1/conversations/{conversation_id}", json=body, headers=users.headers(role))


def error_code(response) -> str:
    return response.get_json()["error"]["code"]


@pytest.fixture
def catalogue(app, db):
    """A small catalogue: billing (every request type), connection (requests and information), two services."""
    from inbox.models import CatalogueItem, Team

    team = Team(name="Cellule réclamations")
    db.add(team)
    db.flush()
    billing = CatalogueItem(kind="family", name="Facturation", request_types=None)
    connection = CatalogueItem(kind="family", name="Branchement", request_types=["request", "information"])
    db.add_all([billing, connection])
    db.flush()
    high_bill = CatalogueItem(kind="nature", name="Facture élevée", parent_id=billing.id)
    new_connection = CatalogueItem(kind="nature", name="Nouveau branchement", parent_id=connection.id)
    claims = CatalogueItem(kind="service", name="Cellule de traitement", team_id=team.id)
    agencies = CatalogueItem(kind="service", name="Agences", team_id=None)
    old = CatalogueItem(kind="service", name="Ancien service", active=False)
    db.add_all([high_bill, new_connection, claims, agencies, old])
    db.commit()
    return {
        "team": team.id,
        "billing": billing.id,
        "connection": connection.id,
        "high_bill": high_bill.id,
        "new_connection": new_connection.id,
        "claims": claims.id,
        "agencies": agencies.id,
        "old": old.id,
    }


@pytest.fixture
def conversation(client, users, post_webhook, whatsapp_account) -> dict:
    inbound(post_webhook)
    [item] = conversations(client, users)
    return item


def claim(client, users, conversation, catalogue) -> dict:
    """Qualify the conversation as a billing claim treated by the claims cell; the conversation."""
    response = patch(
        client,
        users,
        conversation["id"],
        request_type="claim",
        family=catalogue["billing"],
        nature=catalogue["high_bill"],
        service=catalogue["claims"],
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def extra_user(app, role: str, name: str, team_id: int | None = None) -> tuple[int, dict]:
    """Another user (in a team, if given); their id and bearer headers."""
    from inbox.auth import create_user, issue_token
    from inbox.db import session
    from inbox.models import Team

    with app.app_context():
        user = create_user(f"{name}@example.com", name, role, "a password long enough")
        if team_id:
            user.teams.append(session().get(Team, team_id))
        session().flush()
        token = issue_token(user)
        session().commit()
        return user.id, {"Authorization": f"Bearer {token}"}


# ---------------------------------------------------------------- qualification


def test_a_conversation_cannot_be_resolved_unqualified(client, users, conversation, catalogue):
    response = patch(client, users, conversation["id"], status="resolved")
    assert response.status_code == 422
    assert error_code(response) == "unqualified"
    assert "request_type, family, nature" in response.get_json()["error"]["message"]

    patch(client, users, conversation["id"], request_type="claim")
    response = patch(client, users, conversation["id"], status="resolved", family=catalogue["billing"])
    assert response.status_code == 422  # a claim with a family and no service is inconsistent
    assert error_code(response) == "missing_service"
    response = patch(
        client, users, conversation["id"], status="resolved", family=catalogue["billing"], service=catalogue["claims"]
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["message"].endswith("nature missing.")
    detail = client.get(f"/api/v1/conversations/{conversation['id']}", headers=users.headers("agent")).get_json()
    assert detail["status"] == "open" and detail["family"] is None  # nothing half-written


def test_a_qualified_conversation_is_resolved_with_its_time_and_timeline(app, client, users, conversation, catalogue):
    from sqlalchemy import select

    from inbox.db import session
    from inbox.models import Conversation, TimelineEvent

    claim(client, users, conversation, catalogue)
    response = patch(client, users, conversation["id"], status="resolved")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "resolved"
    assert body["family"] == {"id": catalogue["billing"], "name": "Facturation"}
    assert body["nature"]["name"] == "Facture élevée" and body["service"]["name"] == "Cellule de traitement"
    with app.app_context():
        assert session().get(Conversation, conversation["id"]).resolved_at is not None
        kinds = (
            session()
            .scalars(select(TimelineEvent.kind).where(TimelineEvent.conversation_id == conversation["id"]))
            .all()
        )
    assert kinds == ["queued", "case_opened", "qualified", "status_changed"]  # queued: it arrived
    # reopening clears resolved_at
    assert patch(client, users, conversation["id"], status="open").get_json()["status"] == "open"
    with app.app_context():
        assert session().get(Conversation, conversation["id"]).resolved_at is None


def test_an_information_request_needs_no_service_and_gets_no_case(client, users, conversation, catalogue):
    response = patch(
        client,
        users,
        conversation["id"],
        request_type="information",
        family=catalogue["connection"],
        nature=catalogue["new_connection"],
        status="resolved",
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["case"] is None and response.get_json()["case_number"] is None
    assert client.get("/api/v1/cases", headers=users.headers("supervisor")).get_json()["items"] == []


@pytest.mark.parametrize(
    "body, code",
    [
        ({"request_type": "complaint"}, "invalid_request_type"),
        ({"status": "closed"}, "invalid_status"),
        ({"family": 999999}, "invalid_family"),
        ({"family": True}, "invalid_family"),
        ({"nature": "FAMILY"}, "invalid_nature"),  # a family's id given as a nature
        ({"request_type": "request", "family": "billing", "nature": "new_connection"}, "inconsistent_nature"),
        ({"request_type": "request", "nature": "high_bill"}, "inconsistent_nature"),
        ({"request_type": "claim", "family": "connection", "service": "claims"}, "inconsistent_family"),
        ({"request_type": "claim", "family": "billing", "nature": "high_bill"}, "missing_service"),
        ({"request_type": "claim", "family": "billing", "service": "old"}, "invalid_service"),
    ],
)
def test_consistency_errors(body, code, client, users, conversation, catalogue):
    names = {**catalogue, "FAMILY": catalogue["billing"]}
    resolved = {
        name: names[value] if name in ("family", "nature", "service") and isinstance(value, str) else value
        for name, value in body.items()
    }
    response = patch(client, users, conversation["id"], **resolved)
    assert response.status_code == 422, response.get_json()
    assert error_code(response) == code


def test_an_empty_patch_is_400(client, users, conversation):
    assert patch(client, users, conversation["id"]).status_code == 400
    response = client.patch(f"/api/v1/conversations/{conversation['id']}", data="x", headers=users.headers("agent"))
    assert response.status_code == 400


# ---------------------------------------------------------------- cases


def test_a_claim_opens_a_case_with_a_year_prefixed_number_and_requalifying_updates_it(
    client, users, conversation, catalogue
):
    first = claim(client, users, conversation, catalogue)
    assert re.fullmatch(r"\d{4}-\d{6}", first["case_number"])
    assert first["case"]["number"] == first["case_number"] and first["case"]["state"] == "open"
    response = patch(
        client,
        users,
        conversation["id"],
        request_type="request",
        family=catalogue["connection"],
        nature=catalogue["new_connection"],
        service=None,
    )
    assert response.get_json()["case"]["id"] == first["case"]["id"]  # the same case, updated
    [case] = client.get("/api/v1/cases", headers=users.headers("supervisor")).get_json()["items"]
    assert case["request_type"] == "request" and case["family"]["name"] == "Branchement"
    assert case["service"] is None


def test_case_numbers_are_unique_when_cases_are_opened_at_once(app, client, users, post_webhook, whatsapp_account):
    count = 12
    for index in range(count):
        inbound(post_webhook, sender=f"2126100000{index:02d}")
    ids = [c["id"] for c in conversations(client, users)]
    assert len(ids) == count
    barrier = threading.Barrier(count)
    answers = []

    def qualify(conversation_id):
        own = app.test_client()
        barrier.wait()
        answers.append(patch(own, users, conversation_id, request_type="request"))

    threads = [threading.Thread(target=qualify, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200] * count
    numbers = sorted(a.get_json()["case_number"] for a in answers)
    assert len(set(numbers)) == count
    year = numbers[0][:4]
    assert numbers == [f"{year}-{n:06d}" for n in range(1, count + 1)]


def test_the_number_counter_never_repeats_across_threads(app):
    from inbox.cases import next_number
    from inbox.db import session

    got, barrier = [], threading.Barrier(8)

    def work():
        with app.app_context():
            barrier.wait()
            for _ in range(5):
                got.append(next_number())
                session().commit()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 40 and len(set(got)) == 40


def test_the_year_is_the_services_local_year(app):
    from datetime import UTC, datetime

    from inbox.cases import case_year

    with app.app_context():
        # 23:30 UTC on 31 December is already 00:30 on 1 January in Casablanca (UTC+1)
        assert case_year(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == 2027


def test_a_follow_up_lands_on_the_open_case(client, users, post_webhook, conversation, catalogue):
    first = claim(client, users, conversation, catalogue)
    assert patch(client, users, conversation["id"], status="resolved").status_code == 200
    inbound(post_webhook, text="Fin wslat la réclamation dyali?")
    items = conversations(client, users)
    assert len(items) == 2
    new = next(c for c in items if c["id"] != conversation["id"])
    assert new["case_number"] == first["case_number"] and new["case"]["id"] == first["case"]["id"]
    cases = client.get("/api/v1/cases", headers=users.headers("supervisor")).get_json()["items"]
    assert len(cases) == 1 and cases[0]["follow_ups"] == 1
    detail = client.get(f"/api/v1/cases/{first['case']['id']}", headers=users.headers("agent")).get_json()
    assert {c["id"] for c in detail["conversations"]} == {conversation["id"], new["id"]}
    assert [e["kind"] for e in detail["timeline"]][-1] == "follow_up"
    # qualifying the follow-up as information does not open a second case
    patch(client, users, new["id"], request_type="information", family=catalogue["billing"])
    assert len(client.get("/api/v1/cases", headers=users.headers("supervisor")).get_json()["items"]) == 1


def test_a_closed_case_does_not_catch_the_next_conversation(client, users, post_webhook, conversation, catalogue):
    first = claim(client, users, conversation, catalogue)
    patch(client, users, conversation["id"], status="resolved")
    response = client.patch(
        f"/api/v1/cases/{first['case']['id']}", json={"state": "closed"}, headers=users.headers("agent")
    )
    assert response.status_code == 200 and response.get_json()["state"] == "closed"
    inbound(post_webhook, text="Salam 3awtani")
    new = next(c for c in conversations(client, users) if c["id"] != conversation["id"])
    assert new["case"] is None and new["case_number"] is None
    case = client.get(f"/api/v1/cases/{first['case']['id']}", headers=users.headers("agent")).get_json()
    assert case["follow_ups"] == 0


def test_case_filters(client, users, conversation, catalogue):
    first = claim(client, users, conversation, catalogue)
    number = first["case_number"]
    get = lambda query: client.get(f"/api/v1/cases?{query}", headers=users.headers("agent"))  # noqa: E731
    assert [c["number"] for c in get(f"number={number}").get_json()["items"]] == [number]
    assert get("state=closed").get_json()["items"] == []
    assert len(get(f"contact={first['contact']['id']}").get_json()["items"]) == 1
    assert get("state=lost").status_code == 400 and get("queue=mine").status_code == 400
    assert get("queue=service").get_json()["items"] == []  # the agent is in no team


# ---------------------------------------------------------------- the case number sent


@pytest.fixture
def graph():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        sent = iter(range(1, 1000))

        def answer(_request):
            reply = {**SEND_RESPONSE, "messages": [{"id": f"wamid.sent-{next(sent)}"}]}
            return 200, {"Content-Type": "application/json"}, json.dumps(reply)

        mock.add_callback(responses.POST, MESSAGES_URL, callback=answer)
        yield mock


def sent_texts(graph) -> list[str]:
    return [json.loads(c.request.body)["text"]["body"] for c in graph.calls if c.request.url == MESSAGES_URL]


def test_the_case_number_is_sent_in_the_contacts_language(
    app, client, users, conversation, catalogue, graph, run_jobs, db
):
    from inbox.models import Contact

    url = f"/api/v1/conversations/{conversation['id']}/case-number"
    response = client.post(url, headers=users.headers("agent"))
    assert response.status_code == 422 and error_code(response) == "no_case"
    number = claim(client, users, conversation, catalogue)["case_number"]
    response = client.post(url, headers=users.headers("agent"))
    assert response.status_code == 202 and response.get_json()["status"] == "queued"
    contact = db.get(Contact, conversation["contact"]["id"])
    contact.language = "ar"
    db.commit()
    assert client.post(url, headers=users.headers("agent")).status_code == 202
    run_jobs()
    french, arabic = sent_texts(graph)
    assert french == f"Votre demande est enregistrée sous le numéro {number}. Gardez-le pour suivre son traitement."
    assert number in arabic and "رقم" in arabic


def test_the_case_number_is_refused_when_the_reply_window_is_closed(
    client, users, conversation, catalogue, db, monkeypatch
):
    from connectors import get_connector
    from inbox.models import Message

    claim(client, users, conversation, catalogue)
    connector = type(get_connector("whatsapp"))
    monkeypatch.setattr(connector, "reply_refusal", lambda self, since, now, mode="direct": "The window is closed.")
    response = client.post(f"/api/v1/conversations/{conversation['id']}/case-number", headers=users.headers("agent"))
    assert response.status_code == 422 and error_code(response) == "outside_window"
    assert db.query(Message).filter_by(direction="out").count() == 0


# ---------------------------------------------------------------- escalation


def test_a_claim_is_escalated_answered_by_its_service_and_handed_back(app, client, users, conversation, catalogue, db):
    from inbox.models import Conversation, Notification
    from inbox.realtime import socketio

    case_id = claim(client, users, conversation, catalogue)["case"]["id"]
    row = db.get(Conversation, conversation["id"])
    row.assignee_id = users.by_role["agent"].id
    db.commit()
    member_id, member = extra_user(app, "agent", "back-office", catalogue["team"])
    assert client.get("/api/v1/cases?queue=service", headers=member).get_json()["items"] == []
    url = f"/api/v1/cases/{case_id}"

    assert client.post(f"{url}/escalate", json={}, headers=users.headers("agent")).status_code == 422  # no note
    assert client.post(f"{url}/elements", json={"text": "x"}, headers=member).status_code == 403  # not escalated
    response = client.post(f"{url}/escalate", json={"note": "Relevé à vérifier"}, headers=users.headers("agent"))
    assert response.status_code == 200
    assert response.get_json()["state"] == "escalated"
    assert response.get_json()["escalated_team"]["id"] == catalogue["team"]
    again = client.post(f"{url}/escalate", json={"note": "encore"}, headers=users.headers("agent"))
    assert again.status_code == 409

    [queued] = client.get("/api/v1/cases?queue=service", headers=member).get_json()["items"]
    assert queued["id"] == case_id
    # the front-office agent is not of the treating team
    forbidden = client.post(f"{url}/elements", json={"text": "x"}, headers=users.headers("agent"))
    assert forbidden.status_code == 403
    response = client.post(f"{url}/elements", json={"text": "Index relevé erroné: facture refaite"}, headers=member)
    assert response.status_code == 201
    element = response.get_json()["timeline"][-1]
    assert element["kind"] == "element" and element["actor"]["id"] == member_id
    assert element["data"]["text"] == "Index relevé erroné: facture refaite"

    listener = socketio.test_client(app, auth={"token": users.tokens["agent"]})
    listener.get_received()
    response = client.post(f"{url}/hand-back", json={"note": "Éléments ajoutés"}, headers=member)
    assert response.status_code == 200
    assert response.get_json()["state"] == "open" and response.get_json()["escalated_team"] is None
    received = listener.get_received()
    listener.disconnect()
    notified = [e for e in received if e["name"] == "notification.created"]
    assert notified and notified[0]["args"][0]["notification"]["case_id"] == case_id
    assert any(e["name"] == "case.updated" for e in received)
    [note] = db.query(Notification).all()
    assert note.user_id == users.by_role["agent"].id and note.kind == "case_handed_back"
    assert note.data["text"].endswith("Éléments ajoutés") and note.data["by"]
    db.commit()  # end the read: on SQLite every transaction holds the write lock
    answer = client.get(url, headers=users.headers("agent"))
    assert answer.status_code == 200, answer.get_json()
    kinds = [e["kind"] for e in answer.get_json()["timeline"]]
    assert kinds[-3:] == ["escalated", "element", "handed_back"]


def test_only_a_claim_is_escalated_and_a_service_without_team_needs_one(app, client, users, conversation, catalogue):
    response = patch(
        client, users, conversation["id"], request_type="request", family=catalogue["connection"]
    ).get_json()
    url = f"/api/v1/cases/{response['case']['id']}/escalate"
    assert error_code(client.post(url, json={"note": "n"}, headers=users.headers("agent"))) == "not_a_claim"
    patch(
        client,
        users,
        conversation["id"],
        request_type="claim",
        family=catalogue["billing"],
        service=catalogue["agencies"],
    )
    assert error_code(client.post(url, json={"note": "n"}, headers=users.headers("agent"))) == "no_team"
    named = client.post(url, json={"note": "n", "team": catalogue["team"]}, headers=users.headers("agent"))
    assert named.status_code == 200 and named.get_json()["escalated_team"]["id"] == catalogue["team"]


# ---------------------------------------------------------------- approval


def propose(client, users, case_id: int, role: str = "agent", text: str = "Votre facture sera corrigée."):
    return client.post(f"/api/v1/cases/{case_id}/proposals", json={"text": text}, headers=users.headers(role))


def test_an_approved_proposal_is_sent_with_its_edited_text(client, users, conversation, catalogue, graph, run_jobs):
    case_id = claim(client, users, conversation, catalogue)["case"]["id"]
    response = propose(client, users, case_id)
    assert response.status_code == 201
    proposal = response.get_json()
    assert proposal["state"] == "pending"
    case = client.get(f"/api/v1/cases/{case_id}", headers=users.headers("reviewer")).get_json()
    assert case["state"] == "awaiting_approval" and case["proposals"][0]["id"] == proposal["id"]
    run_jobs()
    assert sent_texts(graph) == []  # nothing leaves before approval

    edited = "Votre facture sera corrigée sous 48 heures."
    url = f"/api/v1/proposals/{proposal['id']}/approve"
    response = client.post(url, json={"text": edited, "comment": "Délai précisé"}, headers=users.headers("reviewer"))
    assert response.status_code == 200, response.get_json()
    approved = response.get_json()
    assert approved["state"] == "approved" and approved["text"] == edited
    assert approved["reviewer"]["role"] == "reviewer" and approved["message_id"]
    run_jobs()
    assert sent_texts(graph) == [edited]
    case = client.get(f"/api/v1/cases/{case_id}", headers=users.headers("agent")).get_json()
    assert case["state"] == "answered" and case["answered_at"]
    approval = [e for e in case["timeline"] if e["kind"] == "proposal_approved"][0]
    assert approval["actor"]["role"] == "reviewer" and approval["data"]["edited"] is True
    # reviewed once
    again = client.post(url, json={}, headers=users.headers("supervisor"))
    assert again.status_code == 409 and error_code(again) == "already_reviewed"


def test_a_rejected_proposal_is_never_sent(client, users, conversation, catalogue, graph, run_jobs):
    case_id = claim(client, users, conversation, catalogue)["case"]["id"]
    proposal = propose(client, users, case_id).get_json()
    url = f"/api/v1/proposals/{proposal['id']}/reject"
    missing = client.post(url, json={}, headers=users.headers("supervisor"))
    assert missing.status_code == 422 and error_code(missing) == "missing_field"
    response = client.post(url, json={"comment": "Ton à revoir"}, headers=users.headers("supervisor"))
    assert response.status_code == 200 and response.get_json()["state"] == "rejected"
    assert response.get_json()["message_id"] is None
    run_jobs()
    assert [c.request.url for c in graph.calls] == []
    case = client.get(f"/api/v1/cases/{case_id}", headers=users.headers("agent")).get_json()
    assert case["state"] == "open"
    rejected = [e for e in case["timeline"] if e["kind"] == "proposal_rejected"][0]
    assert rejected["data"]["comment"] == "Ton à revoir" and rejected["actor"]["role"] == "supervisor"
    approve = client.post(f"/api/v1/proposals/{proposal['id']}/approve", json={}, headers=users.headers("reviewer"))
    assert approve.status_code == 409


def test_the_author_cannot_approve_their_own_proposal(client, users, conversation, catalogue, graph, run_jobs):
    case_id = claim(client, users, conversation, catalogue)["case"]["id"]
    proposal = propose(client, users, case_id, role="supervisor").get_json()
    for action, body in (("approve", {}), ("reject", {"comment": "non"})):
        response = client.post(
            f"/api/v1/proposals/{proposal['id']}/{action}", json=body, headers=users.headers("supervisor")
        )
        assert response.status_code == 403 and error_code(response) == "self_approval"
    run_jobs()
    assert len(graph.calls) == 0


def test_a_request_has_no_proposal(client, users, conversation, catalogue):
    case_id = patch(client, users, conversation["id"], request_type="request").get_json()["case"]["id"]
    response = propose(client, users, case_id)
    assert response.status_code == 422 and error_code(response) == "not_a_claim"


def test_case_updated_reaches_the_conversations_rooms(app, client, users, conversation, catalogue):
    from inbox.realtime import socketio

    listener = socketio.test_client(app, auth={"token": users.tokens["agent"]})
    outsider = socketio.test_client(app, auth={"token": users.tokens["marketing"]})
    listener.get_received()
    case_id = claim(client, users, conversation, catalogue)["case"]["id"]
    propose(client, users, case_id)
    updates = [e["args"][0] for e in listener.get_received() if e["name"] == "case.updated"]
    assert updates[-1] == {
        "case_id": case_id,
        "case": {"id": case_id, "number": updates[-1]["case"]["number"], "state": "awaiting_approval"},
    }
    assert not [e for e in outsider.get_received() if e["name"] == "case.updated"]
    listener.disconnect()
    outsider.disconnect()


# ---------------------------------------------------------------- roles


def _routes(conversation_id: int, case_id: int, proposal_id: int) -> list[tuple[str, str, dict | None, set]]:
    writers = {"agent", "supervisor", "admin"}
    readers = writers | {"reviewer"}
    return [
        ("GET", "/api/v1/catalogue", None, readers),
        ("POST", "/api/v1/catalogue/items", {"kind": "family", "name": "Nouvelle"}, {"admin"}),
        ("PATCH", "/api/v1/catalogue/items/ITEM", {"position": 3}, {"admin"}),
        ("PATCH", f"/api/v1/conversations/{conversation_id}", {"status": "pending"}, writers),
        ("POST", f"/api/v1/conversations/{conversation_id}/case-number", None, writers),
        ("GET", "/api/v1/cases", None, readers),
        ("GET", f"/api/v1/cases/{case_id}", None, readers),
        ("PATCH", f"/api/v1/cases/{case_id}", {"state": "answered"}, writers),
        ("POST", f"/api/v1/cases/{case_id}/escalate", {"note": "n"}, writers),
        ("POST", f"/api/v1/cases/{case_id}/elements", {"text": "t"}, writers),
        ("POST", f"/api/v1/cases/{case_id}/hand-back", {"note": "n"}, writers),
        ("POST", f"/api/v1/cases/{case_id}/proposals", {"text": "t"}, writers),
        ("POST", f"/api/v1/proposals/{proposal_id}/approve", {}, {"supervisor", "reviewer"}),
        ("POST", f"/api/v1/proposals/{proposal_id}/reject", {"comment": "c"}, {"supervisor", "reviewer"}),
    ]


def test_roles_of_every_route(client, users, conversation, catalogue, graph):
    case_id = claim(client, users, conversation, catalogue)["case"]["id"]
    proposal_id = propose(client, users, case_id).get_json()["id"]
    for method, path, body, allowed in _routes(conversation["id"], case_id, proposal_id):
        path = path.replace("ITEM", str(catalogue["billing"]))
        for role in ("agent", "supervisor", "admin", "reviewer", "marketing"):
            response = client.open(path, method=method, json=body, headers=users.headers(role))
            refused_for_role = response.status_code == 403 and "role may not" in response.get_json()["error"]["message"]
            if role in allowed:
                assert not refused_for_role and response.status_code < 500, (method, path, role, response.get_json())
            else:
                assert response.status_code == 403, (method, path, role, response.status_code)
                assert error_code(response) == "forbidden"
        assert client.open(path, method=method, json=body).status_code == 401, (method, path)


def test_reviewers_read_cases_but_do_not_change_conversations(client, users, conversation, catalogue):
    case_id = claim(client, users, conversation, catalogue)["case"]["id"]
    assert client.get(f"/api/v1/cases/{case_id}", headers=users.headers("reviewer")).status_code == 200
    assert patch(client, users, conversation["id"], role="reviewer", status="pending").status_code == 403
    assert client.get("/api/v1/cases", headers=users.headers("marketing")).status_code == 403


def test_an_agent_does_not_see_a_case_of_a_team_conversation_they_cannot_see(
    app, client, users, conversation, catalogue, db
):
    from inbox.models import Conversation, Team

    case_id = claim(client, users, conversation, catalogue)["case"]["id"]
    other = Team(name="Grands comptes")
    db.add(other)
    db.flush()
    db.get(Conversation, conversation["id"]).team_id = other.id
    db.commit()
    assert client.get(f"/api/v1/cases/{case_id}", headers=users.headers("agent")).status_code == 404
    assert client.get("/api/v1/cases", headers=users.headers("agent")).get_json()["items"] == []
    assert client.get(f"/api/v1/cases/{case_id}", headers=users.headers("supervisor")).status_code == 200


def test_answers_match_the_document(client, users, conversation, catalogue, graph):
    from tests.inbox.test_api import conforms, openapi_document, response_schema

    document = openapi_document()

    def check(method, path, template, status, role="supervisor", body=None):
        response = client.open(path, method=method.upper(), json=body, headers=users.headers(role))
        assert response.status_code == status, response.get_json()
        conforms(document, response_schema(document, method, template, status), response.get_json())
        return response.get_json()

    check("get", "/api/v1/catalogue", "/api/v1/catalogue", 200)
    body = {"request_type": "claim", "family": catalogue["billing"], "nature": catalogue["high_bill"]}
    body["service"] = catalogue["claims"]
    conv = check(
        "patch",
        f"/api/v1/conversations/{conversation['id']}",
        "/api/v1/conversations/{conversation_id}",
        200,
        body=body,
    )
    case_id = conv["case"]["id"]
    check("get", "/api/v1/cases", "/api/v1/cases", 200)
    proposal = check(
        "post",
        f"/api/v1/cases/{case_id}/proposals",
        "/api/v1/cases/{case_id}/proposals",
        201,
        role="agent",
        body={"text": "Réponse"},
    )
    check(
        "post",
        f"/api/v1/proposals/{proposal['id']}/approve",
        "/api/v1/proposals/{proposal_id}/approve",
        200,
        role="reviewer",
        body={},
    )
    check("get", f"/api/v1/cases/{case_id}", "/api/v1/cases/{case_id}", 200)
    check(
        "post",
        f"/api/v1/conversations/{conversation['id']}/case-number",
        "/api/v1/conversations/{conversation_id}/case-number",
        202,
    )
    item = check(
        "post",
        "/api/v1/catalogue/items",
        "/api/v1/catalogue/items",
        201,
        role="admin",
        body={"kind": "service", "name": "Nouveau", "team": catalogue["team"]},
    )
    check(
        "patch",
        f"/api/v1/catalogue/items/{item['id']}",
        "/api/v1/catalogue/items/{item_id}",
        200,
        role="admin",
        body={"active": False},
    )
