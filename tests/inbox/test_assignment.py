"""Assignment: queues, round-robin within capacities, take and its race, transfer, takeover, offline and away,
the users, teams and availability routes, their roles, and who hears what."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest

from tests.conftest import fixture_json, recent
from tests.inbox.test_api import conforms, openapi_document, response_schema

PASSWORD = "correct horse battery staple"


# ---------------------------------------------------------------- helpers


def customer_writes(post_webhook, n: int, text: str = "Salam") -> None:
    """A customer (number n) writes on WhatsApp: a new conversation for a new number."""
    payload = fixture_json("whatsapp/text.json")
    value = payload["entry"][0]["changes"][0]["value"]
    number = f"2126000{n:05d}"
    value["contacts"][0]["wa_id"] = number
    message = value["messages"][0]
    message["from"], message["id"], message["text"]["body"] = number, f"wamid.test-{n}-{text}", text
    assert post_webhook(recent(json.dumps(payload).encode())).status_code == 200


class Staff:
    """Extra users with tokens, made through the app's own functions."""

    def __init__(self, app):
        self.app = app

    def make(self, name: str, role: str = "agent", capacity: int = 5, teams=()):
        from inbox.auth import create_user, issue_token
        from inbox.db import session
        from inbox.models import Team

        with self.app.app_context():
            user = create_user(f"{name}@example.com", name, role, PASSWORD)
            user.capacity = capacity
            user.teams = [session().get(Team, t) for t in teams]
            session().flush()
            token = issue_token(user)
            session().commit()
            return user.id, {"Authorization": f"Bearer {token}"}


@pytest.fixture
def staff(app):
    return Staff(app)


@pytest.fixture
def team(db):
    from inbox.models import Team

    def make(name: str, accounts=()):
        row = Team(name=name)
        row.accounts = list(accounts)
        db.add(row)
        db.commit()
        return row.id

    return make


def online(client, headers, status: str = "online"):
    response = client.put("/api/v1/me/availability", json={"status": status}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def conversations(db):
    from sqlalchemy import select

    from inbox.models import Conversation

    db.expire_all()
    rows = list(db.scalars(select(Conversation).order_by(Conversation.id)))
    db.commit()  # end the read: on SQLite every transaction holds the write lock
    return rows


def kinds(client, headers, conversation_id) -> list[str]:
    response = client.get(f"/api/v1/conversations/{conversation_id}/timeline", headers=headers)
    assert response.status_code == 200
    return [e["kind"] for e in response.get_json()["items"]]


# ---------------------------------------------------------------- the queue and round-robin


def test_a_new_conversation_waits_in_the_general_queue_when_nobody_is_online(
    client, users, post_webhook, whatsapp_account, db
):
    customer_writes(post_webhook, 1)
    (conversation,) = conversations(db)
    assert conversation.assignee_id is None and conversation.team_id is None
    assert conversation.queued_at is not None
    shown = client.get(f"/api/v1/conversations/{conversation.id}", headers=users.headers("agent")).get_json()
    assert shown["team"] is None and shown["queued_at"] and shown["assignee"] is None
    assert kinds(client, users.headers("agent"), conversation.id) == ["queued"]


def test_the_account_owning_team_with_the_lowest_id_gets_the_conversation(
    client, users, post_webhook, whatsapp_account, team, staff, db
):
    first = team("Key accounts", [whatsapp_account])
    team("Second line", [whatsapp_account])
    outsider, outsider_headers = staff.make("outsider")
    member, member_headers = staff.make("member", teams=[first])
    online(client, outsider_headers)
    customer_writes(post_webhook, 1)
    (conversation,) = conversations(db)
    assert conversation.team_id == first and conversation.assignee_id is None  # the outsider does not serve it
    assert client.get(f"/api/v1/conversations/{conversation.id}", headers=outsider_headers).status_code == 404
    online(client, member_headers)  # going online fills the member's places at once
    assert conversations(db)[0].assignee_id == member


def test_round_robin_respects_capacities_and_the_queue_drains_in_waiting_order(
    app, client, users, post_webhook, whatsapp_account, staff, db
):
    for n in range(1, 6):
        customer_writes(post_webhook, n)  # nobody online: five wait, oldest first
    waiting = [c.id for c in conversations(db)]
    a, a_headers = staff.make("amina", capacity=1)
    b, b_headers = staff.make("badr", capacity=2)
    online(client, a_headers)
    rows = {c.id: c.assignee_id for c in conversations(db)}
    assert [rows[i] for i in waiting] == [a, None, None, None, None]  # the oldest, and a is full
    online(client, b_headers)
    rows = {c.id: c.assignee_id for c in conversations(db)}
    assert [rows[i] for i in waiting] == [a, b, b, None, None]
    customer_writes(post_webhook, 6)
    assert conversations(db)[-1].assignee_id is None  # everyone is full: the newcomer waits behind 4 and 5

    # b frees a place: the longest-waiting conversation goes to b, not the newest
    from inbox import assignment
    from inbox.db import session
    from inbox.models import Conversation

    with app.app_context():
        session().get(Conversation, waiting[1]).status = "resolved"
        assert [c.conversation_id for c in assignment.fill_places()] == [waiting[3]]
        session().commit()
    rows = {c.id: c.assignee_id for c in conversations(db)}
    assert rows[waiting[3]] == b and rows[waiting[4]] is None


def test_round_robin_goes_to_the_least_recently_assigned(client, users, post_webhook, whatsapp_account, staff, db):
    a, a_headers = staff.make("amina", capacity=3)
    b, b_headers = staff.make("badr", capacity=3)
    online(client, a_headers)
    online(client, b_headers)
    for n in range(1, 5):
        customer_writes(post_webhook, n)
    assert [c.assignee_id for c in conversations(db)] == [a, b, a, b]
    listed = {u["id"]: u for u in client.get("/api/v1/users", headers=a_headers).get_json()["items"]}
    assert listed[a]["load"] == 2 and listed[a]["capacity"] == 3 and listed[a]["availability"] == "online"


def test_concurrent_fills_never_exceed_a_capacity(app, client, users, post_webhook, whatsapp_account, staff, db):
    from inbox import assignment
    from inbox.db import session

    for n in range(1, 9):
        customer_writes(post_webhook, n)
    agent, headers = staff.make("amina", capacity=3)
    with app.app_context():
        from inbox.models import User

        user = session().get(User, agent)
        user.availability = "online"
        session().commit()
    barrier = threading.Barrier(4)
    errors = []

    def fill():
        try:
            with app.app_context():
                barrier.wait()
                assignment.fill_places()
                session().commit()
        except Exception as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=fill) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(c.assignee_id == agent for c in conversations(db)) == 3


# ---------------------------------------------------------------- take, next, and the race of two takers


def test_two_agents_taking_the_same_conversation_at_once_end_with_one_owner(
    app, users, post_webhook, whatsapp_account, staff, db
):
    customer_writes(post_webhook, 1)
    (conversation,) = conversations(db)
    takers = [staff.make(f"taker{n}") for n in range(4)]
    barrier = threading.Barrier(len(takers))
    results = {}

    def take(user_id, headers):
        client = app.test_client()
        barrier.wait()
        response = client.post(
            f"/api/v1/conversations/{conversation.id}/assign", json={"assignee": user_id}, headers=headers
        )
        results[user_id] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=take, args=taker) for taker in takers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(status for status, _ in results.values())
    assert statuses == [200, 409, 409, 409], results
    (winner,) = [uid for uid, (status, _) in results.items() if status == 200]
    assert conversations(db)[0].assignee_id == winner
    # who lost at the conditional update, or read the winner's commit first, hears why
    losers = {body["error"]["code"] for status, body in results.values() if status == 409}
    assert losers <= {"conflict", "already_taken"}
    assert kinds(app.test_client(), users.headers("admin"), conversation.id).count("assigned") == 1


def test_take_next_gives_the_longest_waiting_and_404_when_empty(client, users, post_webhook, whatsapp_account, db):
    agent = users.headers("agent")
    empty = client.post("/api/v1/conversations/next", headers=agent)
    assert empty.status_code == 404 and empty.get_json()["error"]["code"] == "queue_empty"
    customer_writes(post_webhook, 1)
    customer_writes(post_webhook, 2)
    first, second = (c.id for c in conversations(db))
    taken = client.post("/api/v1/conversations/next", headers=agent)
    assert taken.status_code == 200
    assert taken.get_json()["id"] == first and taken.get_json()["assignee"]["id"] == users.by_role["agent"].id
    assert taken.get_json()["queued_at"] is None
    assert client.post("/api/v1/conversations/next", headers=agent).get_json()["id"] == second
    assert client.post("/api/v1/conversations/next", headers=agent).status_code == 404


# ---------------------------------------------------------------- transfer, takeover, back to the queue


def test_transfer_with_a_note_then_a_supervisor_takeover(client, users, post_webhook, whatsapp_account, staff, db):
    a, a_headers = staff.make("amina")
    b, b_headers = staff.make("badr")
    c, c_headers = staff.make("chama")
    customer_writes(post_webhook, 1)
    (conversation,) = conversations(db)
    url = f"/api/v1/conversations/{conversation.id}/assign"
    assert client.post(url, json={"assignee": a}, headers=a_headers).status_code == 200
    # c may neither take a conversation held by a nor give it to someone
    taken = client.post(url, json={"assignee": c}, headers=c_headers)
    assert taken.status_code == 409 and taken.get_json()["error"]["message"] == "amina handles this conversation now."
    assert client.post(url, json={"assignee": b}, headers=c_headers).status_code == 403
    moved = client.post(
        url, json={"assignee": b, "note": "Facture contestée, il connaît le dossier"}, headers=a_headers
    )
    assert moved.status_code == 200 and moved.get_json()["assignee"]["id"] == b
    supervisor = users.by_role["supervisor"]
    over = client.post(url, json={"assignee": supervisor.id}, headers=users.headers("supervisor"))
    assert over.status_code == 200 and over.get_json()["assignee"]["id"] == supervisor.id
    events = client.get(f"/api/v1/conversations/{conversation.id}/timeline", headers=users.headers("reviewer"))
    items = events.get_json()["items"]
    assert [e["kind"] for e in items] == ["queued", "assigned", "transferred", "taken_over"]
    transferred, taken_over = items[2], items[3]
    assert transferred["data"] == {
        "from": a,
        "to": b,
        "team": None,
        "note": "Facture contestée, il connaît le dossier",
    }
    assert transferred["actor"]["id"] == a
    assert taken_over["actor"]["id"] == supervisor.id and taken_over["data"]["from"] == b
    document = openapi_document()
    schema = response_schema(document, "get", "/api/v1/conversations/{conversation_id}/timeline", 200)
    conforms(document, schema, events.get_json())


def test_transfer_to_a_team_puts_it_in_that_queue_keeping_its_place(
    client, users, post_webhook, whatsapp_account, staff, team, db
):
    claims = team("Claims")
    a, a_headers = staff.make("amina")
    customer_writes(post_webhook, 1)
    (conversation,) = conversations(db)
    url = f"/api/v1/conversations/{conversation.id}/assign"
    client.post(url, json={"assignee": a}, headers=a_headers)
    moved = client.post(url, json={"team": claims, "note": "Pour le service réclamations"}, headers=a_headers)
    assert moved.status_code == 200
    shown = moved.get_json()
    assert shown["team"] == {"id": claims, "name": "Claims"} and shown["assignee"] is None
    assert shown["queued_at"] == shown["created_at"]  # not punished: its original place
    assert client.get(f"/api/v1/conversations/{conversation.id}", headers=a_headers).status_code == 404
    assert kinds(client, users.headers("admin"), conversation.id)[-1] == "transferred"


def test_back_to_the_queue_is_not_handed_straight_back(client, users, post_webhook, whatsapp_account, staff, db):
    a, a_headers = staff.make("amina")
    online(client, a_headers)
    customer_writes(post_webhook, 1)
    (conversation,) = conversations(db)
    assert conversation.assignee_id == a
    back = client.post(f"/api/v1/conversations/{conversation.id}/assign", json={"assignee": None}, headers=a_headers)
    assert back.status_code == 200 and back.get_json()["assignee"] is None
    assert kinds(client, a_headers, conversation.id)[-1] == "returned_to_queue"
    b, b_headers = staff.make("badr")
    online(client, b_headers)
    assert conversations(db)[0].assignee_id == b


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({}, 422, "nothing_to_do"),
        ({"assignee": 999999}, 422, "bad_assignee"),
        ({"assignee": "x"}, 422, "bad_assignee"),
        ({"team": 999999}, 422, "bad_team"),
        ({"assignee": None, "note": 5}, 422, "bad_note"),
    ],
)
def test_bad_assignments_are_refused_and_change_nothing(
    body, status, code, client, users, post_webhook, whatsapp_account, db
):
    customer_writes(post_webhook, 1)
    (conversation,) = conversations(db)
    response = client.post(
        f"/api/v1/conversations/{conversation.id}/assign", json=body, headers=users.headers("supervisor")
    )
    assert response.status_code == status and response.get_json()["error"]["code"] == code
    assert kinds(client, users.headers("admin"), conversation.id) == ["queued"]


def test_an_assignment_to_a_marketing_user_or_of_a_resolved_conversation_is_refused(
    client, users, post_webhook, whatsapp_account, db
):
    customer_writes(post_webhook, 1)
    (conversation,) = conversations(db)
    url = f"/api/v1/conversations/{conversation.id}/assign"
    marketing = users.by_role["marketing"].id
    assert client.post(url, json={"assignee": marketing}, headers=users.headers("admin")).status_code == 422
    conversation.status = "resolved"
    db.commit()
    refused = client.post(url, json={"assignee": users.by_role["agent"].id}, headers=users.headers("agent"))
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "conversation_resolved"


# ---------------------------------------------------------------- offline and away


def test_going_offline_gives_conversations_back_in_their_first_place(
    client, users, post_webhook, whatsapp_account, staff, db
):
    a, a_headers = staff.make("amina", capacity=2)
    online(client, a_headers)
    customer_writes(post_webhook, 1)
    customer_writes(post_webhook, 2)
    assert [c.assignee_id for c in conversations(db)] == [a, a]
    me = online(client, a_headers, "offline")
    assert me["availability"] == "offline" and me["load"] == 0
    rows = conversations(db)
    assert [c.assignee_id for c in rows] == [None, None]
    assert [c.queued_at for c in rows] == [c.created_at for c in rows]
    events = client.get(f"/api/v1/conversations/{rows[0].id}/timeline", headers=a_headers).get_json()["items"]
    assert events[-1]["kind"] == "returned_to_queue" and events[-1]["data"]["reason"] == "offline"
    b, b_headers = staff.make("badr", capacity=1)
    online(client, b_headers)
    assert [c.assignee_id for c in conversations(db)] == [b, None]  # the oldest first


def test_away_past_the_grace_time_gives_conversations_back_through_the_job(
    app, client, users, post_webhook, whatsapp_account, staff, db, run_jobs
):
    from rq.registry import ScheduledJobRegistry

    from inbox import broker
    from inbox.assignment import sweep
    from inbox.db import utcnow
    from inbox.models import User

    a, a_headers = staff.make("amina")
    b, b_headers = staff.make("badr")
    online(client, a_headers)
    customer_writes(post_webhook, 1)
    online(client, b_headers)
    customer_writes(post_webhook, 2)
    online(client, a_headers, "away")
    online(client, b_headers, "away")
    assert [c.assignee_id for c in conversations(db)] == [a, b]  # away keeps them during the grace time
    db.get(User, a).availability_changed_at = utcnow() - timedelta(minutes=11)  # past the grace time
    db.get(User, b).availability_changed_at = utcnow() - timedelta(minutes=9)
    db.commit()
    with app.app_context():
        broker.queue().enqueue(sweep)
        broker.queue().enqueue(sweep)  # twice: safe, and still one chain
        run_jobs()
        scheduled = ScheduledJobRegistry(queue=broker.queue()).get_job_ids()
    assert [c.assignee_id for c in conversations(db)] == [None, b]
    assert len(scheduled) == 1 and scheduled[0].startswith("assignment-sweep-")
    first = conversations(db)[0].id
    events = client.get(f"/api/v1/conversations/{first}/timeline", headers=a_headers).get_json()["items"]
    assert [e["kind"] for e in events].count("returned_to_queue") == 1
    assert events[-1]["data"]["reason"] == "away"


@pytest.mark.parametrize("config_overrides", [{"AWAY_GRACE_MINUTES": 0}])
def test_the_grace_time_is_a_setting(app, client, users, post_webhook, whatsapp_account, staff, db):
    from inbox import assignment
    from inbox.db import session

    a, a_headers = staff.make("amina")
    online(client, a_headers)
    customer_writes(post_webhook, 1)
    online(client, a_headers, "away")
    with app.app_context():
        assert len(assignment.release_away()) == 1
        session().commit()
    assert conversations(db)[0].assignee_id is None


# ---------------------------------------------------------------- users and teams


def test_an_admin_adds_users_with_capacity_and_teams(client, users, team, db):
    claims = team("Claims")
    admin = users.headers("admin")
    body = {"email": "Nadia@Example.com", "name": "Nadia", "role": "agent", "password": "x" * 12}
    created = client.post("/api/v1/users", json={**body, "capacity": 7, "teams": [claims]}, headers=admin)
    assert created.status_code == 201
    user = created.get_json()
    assert user["email"] == "nadia@example.com" and user["capacity"] == 7
    assert user["teams"] == [{"id": claims, "name": "Claims"}] and user["availability"] == "offline"
    conforms(openapi_document(), response_schema(openapi_document(), "post", "/api/v1/users", 201), user)
    token = client.post("/api/v1/auth/token", json={"email": "nadia@example.com", "password": "x" * 12})
    assert token.status_code == 200
    again = client.post("/api/v1/users", json={**body, "email": "nadia@example.com"}, headers=admin)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "email_taken"
    for bad, code in (
        ({"role": "boss"}, "bad_role"),
        ({"password": "short"}, "bad_password"),
        ({"capacity": -1}, "bad_capacity"),
        ({"teams": [999]}, "bad_teams"),
        ({"email": "not-an-address"}, "bad_email"),
    ):
        response = client.post("/api/v1/users", json={**body, "email": "other@example.com", **bad}, headers=admin)
        assert response.status_code == 422 and response.get_json()["error"]["code"] == code, bad
    emails = [u["email"] for u in client.get("/api/v1/users", headers=admin).get_json()["items"]]
    assert "other@example.com" not in emails


def test_supervisors_set_agents_capacity_and_teams_admins_the_rest(
    client, users, post_webhook, whatsapp_account, team, db
):
    claims = team("Claims")
    agent = users.by_role["agent"].id
    supervisor = users.headers("supervisor")
    changed = client.patch(f"/api/v1/users/{agent}", json={"capacity": 2, "teams": [claims]}, headers=supervisor)
    assert changed.status_code == 200
    assert changed.get_json()["capacity"] == 2 and changed.get_json()["teams"][0]["id"] == claims
    assert client.patch(f"/api/v1/users/{agent}", json={"role": "admin"}, headers=supervisor).status_code == 403
    admin_id = users.by_role["admin"].id
    assert client.patch(f"/api/v1/users/{admin_id}", json={"capacity": 1}, headers=supervisor).status_code == 403
    assert client.patch("/api/v1/users/99999", json={"capacity": 1}, headers=supervisor).status_code == 404
    # an admin deactivates an agent holding a conversation: it goes back to the queue
    online(client, users.headers("agent"))
    customer_writes(post_webhook, 1)
    assert conversations(db)[0].assignee_id == agent
    off = client.patch(f"/api/v1/users/{agent}", json={"active": False}, headers=users.headers("admin"))
    assert off.status_code == 200 and off.get_json()["active"] is False
    assert conversations(db)[0].assignee_id is None


def test_admins_make_teams_that_own_accounts(client, users, whatsapp_account, db):
    admin = users.headers("admin")
    agent = users.by_role["agent"].id
    made = client.post(
        "/api/v1/teams",
        json={"name": "Key accounts", "members": [agent], "accounts": [whatsapp_account.id]},
        headers=admin,
    )
    assert made.status_code == 201
    team_id = made.get_json()["id"]
    assert made.get_json()["members"][0]["id"] == agent
    assert made.get_json()["accounts"] == [{"id": whatsapp_account.id, "name": "WhatsApp test", "channel": "whatsapp"}]
    assert client.post("/api/v1/teams", json={"name": "key accounts"}, headers=admin).status_code == 409
    assert client.post("/api/v1/teams", json={"name": "X", "members": [424242]}, headers=admin).status_code == 422
    renamed = client.patch(f"/api/v1/teams/{team_id}", json={"name": "Grands comptes", "members": []}, headers=admin)
    assert renamed.status_code == 200 and renamed.get_json()["members"] == []
    listed = client.get("/api/v1/teams", headers=users.headers("agent")).get_json()["items"]
    assert [t["name"] for t in listed] == ["Grands comptes"]
    document = openapi_document()
    conforms(document, response_schema(document, "get", "/api/v1/teams", 200), {"items": listed})


def test_a_bad_availability_is_refused(client, users):
    response = client.put("/api/v1/me/availability", json={"status": "busy"}, headers=users.headers("agent"))
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "bad_status"


# ---------------------------------------------------------------- roles of every route


ROUTES = [
    ("get", "/api/v1/users", None, {"agent", "supervisor", "admin"}),
    ("post", "/api/v1/users", {}, {"admin"}),
    ("patch", "/api/v1/users/{agent}", {}, {"supervisor", "admin"}),
    ("put", "/api/v1/me/availability", {}, {"agent", "supervisor", "admin"}),
    ("get", "/api/v1/teams", None, {"agent", "supervisor", "admin"}),
    ("post", "/api/v1/teams", {}, {"admin"}),
    ("patch", "/api/v1/teams/{team}", {}, {"admin"}),
    ("post", "/api/v1/conversations/{conversation}/assign", {}, {"agent", "supervisor", "admin"}),
    ("post", "/api/v1/conversations/next", None, {"agent", "supervisor"}),
    ("get", "/api/v1/conversations/{conversation}/timeline", None, {"agent", "supervisor", "admin", "reviewer"}),
]


def test_the_roles_of_every_assignment_route(client, users, post_webhook, whatsapp_account, team, db):
    customer_writes(post_webhook, 1)
    ids = {"agent": users.by_role["agent"].id, "team": team("Claims"), "conversation": conversations(db)[0].id}
    for method, path, body, allowed in ROUTES:
        url = path.format(**ids)
        assert client.open(url, method=method, json=body).status_code == 401, url
        for role in ("agent", "supervisor", "marketing", "admin", "reviewer"):
            response = client.open(url, method=method, json=body, headers=users.headers(role))
            if role in allowed:
                assert response.status_code != 403, (method, url, role, response.get_json())
            else:
                assert response.status_code == 403, (method, url, role)
                assert response.get_json()["error"]["code"] == "forbidden"


# ---------------------------------------------------------------- realtime


@pytest.fixture
def connect(app):
    from inbox.realtime import socketio

    opened = []

    def open_client(headers):
        listener = socketio.test_client(app, auth={"token": headers["Authorization"].split()[1]})
        assert listener.is_connected()
        opened.append(listener)
        return listener

    yield open_client
    for listener in opened:
        if listener.is_connected():
            listener.disconnect()


def test_changes_reach_the_people_concerned_and_no_one_else(
    client, users, post_webhook, whatsapp_account, staff, team, connect, db
):
    front = team("Front", [whatsapp_account])
    other = team("Other")
    a, a_headers = staff.make("amina", teams=[front])
    b, b_headers = staff.make("badr", teams=[front])
    z, z_headers = staff.make("zineb", teams=[other])
    online(client, a_headers)
    hear_a, hear_b, hear_z = connect(a_headers), connect(b_headers), connect(z_headers)
    customer_writes(post_webhook, 1)
    (conversation,) = conversations(db)
    assert conversation.assignee_id == a
    assigned = [e for e in hear_a.get_received() if e["name"] == "conversation.assigned"]
    assert len(assigned) == 1 and assigned[0]["args"][0]["conversation"]["assignee"]["id"] == a
    hear_b.get_received()
    assert hear_z.get_received() == []  # another team's agent hears nothing of it

    url = f"/api/v1/conversations/{conversation.id}/assign"
    assert client.post(url, json={"assignee": b, "note": "à toi"}, headers=a_headers).status_code == 200
    to_a = hear_a.get_received()
    assert [e["name"] for e in to_a] == ["conversation.updated"]
    assert to_a[0]["args"][0]["conversation"]["assignee"]["id"] == b and to_a[0]["args"][0]["kind"] == "transferred"
    to_b = [e["name"] for e in hear_b.get_received()]
    assert sorted(to_b) == ["conversation.assigned", "conversation.updated"]
    assert hear_z.get_received() == []

    # a supervisor takes it over: b's view learns it was taken away, the supervisor hears it assigned
    supervisor_headers = users.headers("supervisor")
    hear_s = connect(supervisor_headers)
    assert (
        client.post(url, json={"assignee": users.by_role["supervisor"].id}, headers=supervisor_headers).status_code
        == 200
    )
    assert [e["args"][0]["kind"] for e in hear_b.get_received()] == ["taken_over"]
    assert "conversation.assigned" in [e["name"] for e in hear_s.get_received()]
    assert hear_z.get_received() == []

    # moved to the other team's queue: now z hears it, and the front team hears it leave
    hear_a.get_received()
    moved = client.post(url, json={"team": other}, headers=supervisor_headers)
    assert moved.status_code == 200
    assert [e["name"] for e in hear_z.get_received()] == ["conversation.updated"]
    assert [e["name"] for e in hear_a.get_received()] == ["conversation.updated"]


def test_an_agent_answering_a_queued_conversation_takes_it(client, users, post_webhook, whatsapp_account, db):
    customer_writes(post_webhook, 1)
    (conversation,) = conversations(db)
    agent = users.headers("agent")
    sent = client.post(f"/api/v1/conversations/{conversation.id}/messages", json={"text": "Bonjour"}, headers=agent)
    assert sent.status_code == 202
    (conversation,) = conversations(db)
    assert conversation.assignee_id == users.by_role["agent"].id and conversation.queued_at is None
    assert kinds(client, agent, conversation.id) == ["queued", "assigned"]
