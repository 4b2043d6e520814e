"""The workspace: private notes with @mentions, notifications, the list's views and counts, preferences, and
who sees which conversation when teams own channel accounts."""

from __future__ import annotations

import pytest

from tests.inbox import test_api, test_realtime
from tests.inbox.test_api import assert_error
from tests.inbox.test_realtime import names

make_conversation = test_api.make_conversation
connect, socketio = test_realtime.connect, test_realtime.socketio


@pytest.fixture
def team(app, db, users):
    """A team holding the supervisor and a second agent; the first agent is in no team."""
    from inbox.auth import hash_password
    from inbox.models import Team, User

    colleague = User(
        email="agent2@example.com", name="Second Agent", role="agent", password_hash=hash_password("long enough")
    )
    db.add(colleague)
    team = Team(name="Key accounts")
    team.members = [colleague, db.get(User, users.by_role["supervisor"].id)]
    db.add(team)
    db.commit()
    return team


def headers(users, role="agent"):
    return users.headers(role)


def token_for(app, email):
    from inbox.auth import issue_token
    from inbox.db import session
    from inbox.models import User

    with app.app_context():
        user = session().query(User).filter_by(email=email).one()
        token = issue_token(user)
        session().commit()
        return {"Authorization": f"Bearer {token}"}


def put_in_team(db, conversation_id, team):
    from inbox.models import Conversation

    db.get(Conversation, conversation_id).team_id = team.id
    db.commit()


# ---------------------------------------------------------------- notes and mentions


def test_a_note_is_kept_private_and_lists_with_its_author(client, users, make_conversation, db):
    from inbox.models import Message

    conversation_id = make_conversation()
    response = client.post(
        f"/api/v1/conversations/{conversation_id}/notes",
        json={"text": "  Client déjà rappelé hier  "},
        headers=headers(users),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    note = response.get_json()
    assert note["text"] == "Client déjà rappelé hier"
    assert note["author"]["id"] == users.by_role["agent"].id
    listed = client.get(f"/api/v1/conversations/{conversation_id}/notes", headers=headers(users, "reviewer"))
    assert [n["id"] for n in listed.get_json()["items"]] == [note["id"]]
    # never a message: nothing is queued to the customer
    texts = [m.text for m in db.query(Message).filter_by(conversation_id=conversation_id)]
    assert "Client déjà rappelé hier" not in texts


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"text": ""}, 422, "empty_note"),
        ({"text": "   "}, 422, "empty_note"),
        ({"text": 12}, 422, "empty_note"),
        ({"text": "x" * 5001}, 422, "text_too_long"),
        ({"text": "ok", "mentions": "2"}, 400, "bad_request"),
        ({"text": "ok", "mentions": [True]}, 400, "bad_request"),
        ({"text": "ok", "mentions": [999999]}, 422, "unknown_user"),
    ],
)
def test_bad_notes_are_refused_and_nothing_is_kept(body, status, code, client, users, make_conversation, db):
    from inbox.models import Note, Notification

    conversation_id = make_conversation()
    response = client.post(f"/api/v1/conversations/{conversation_id}/notes", json=body, headers=headers(users))
    assert_error(response, status, code)
    assert db.query(Note).count() == 0 and db.query(Notification).count() == 0


def test_a_mention_notifies_the_colleague_live_and_only_them(app, client, users, make_conversation, connect):
    conversation_id = make_conversation()
    supervisor = users.by_role["supervisor"]
    mentioned = connect(auth={"token": users.tokens["supervisor"]})
    bystander = connect(auth={"token": users.tokens["admin"]})
    mentioned.get_received(), bystander.get_received()

    response = client.post(
        f"/api/v1/conversations/{conversation_id}/notes",
        json={"text": "@Supervisor peux-tu valider ?", "mentions": [supervisor.id]},
        headers=headers(users),
    )
    assert response.status_code == 201
    assert [u["id"] for u in response.get_json()["mentions"]] == [supervisor.id]
    got = mentioned.get_received()
    assert {"note.created", "notification.created"} <= {e["name"] for e in got}
    notification = next(e for e in got if e["name"] == "notification.created")["args"][0]["notification"]
    assert notification["kind"] == "mention" and notification["conversation_id"] == conversation_id
    assert names(bystander) == ["note.created"]  # the note, not someone else's notification

    inbox = client.get("/api/v1/notifications", headers=headers(users, "supervisor")).get_json()
    assert inbox["unread"] == 1 and inbox["items"][0]["data"]["by"] == "Agent User"
    assert client.get("/api/v1/notifications", headers=headers(users, "admin")).get_json()["unread"] == 0


def test_notifications_are_read_one_by_one_or_all_and_only_by_their_user(client, users, make_conversation):
    conversation_id = make_conversation()
    supervisor = users.by_role["supervisor"]
    for n in range(3):
        client.post(
            f"/api/v1/conversations/{conversation_id}/notes",
            json={"text": f"note {n}", "mentions": [supervisor.id]},
            headers=headers(users),
        )
    items = client.get("/api/v1/notifications", headers=headers(users, "supervisor")).get_json()["items"]
    first = items[0]["id"]
    assert_error(client.post(f"/api/v1/notifications/{first}/read", headers=headers(users, "admin")), 404)
    read = client.post(f"/api/v1/notifications/{first}/read", headers=headers(users, "supervisor")).get_json()
    assert read["read_at"] is not None
    unread = client.get("/api/v1/notifications?unread=1", headers=headers(users, "supervisor")).get_json()
    assert len(unread["items"]) == 2 and unread["unread"] == 2
    marked = client.post("/api/v1/notifications/read-all", headers=headers(users, "supervisor")).get_json()
    assert marked == {"marked": 2}
    assert client.get("/api/v1/notifications", headers=headers(users, "supervisor")).get_json()["unread"] == 0


def test_a_colleague_who_cannot_see_the_conversation_cannot_be_mentioned(client, users, make_conversation, team, db):
    conversation_id = make_conversation()
    put_in_team(db, conversation_id, team)
    # the supervisor leads the team; the first agent (no team) cannot see a team conversation
    response = client.post(
        f"/api/v1/conversations/{conversation_id}/notes",
        json={"text": "regarde", "mentions": [users.by_role["agent"].id]},
        headers=headers(users, "supervisor"),
    )
    assert_error(response, 422, "cannot_see")
    mentionable = client.get(
        f"/api/v1/conversations/{conversation_id}/mentionable", headers=headers(users, "supervisor")
    ).get_json()["items"]
    names_ = {u["name"] for u in mentionable}
    assert "Second Agent" in names_ and "Agent User" not in names_ and "Marketing User" not in names_


# ---------------------------------------------------------------- views, counts and team visibility


def test_views_mine_unassigned_team_and_all(client, users, make_conversation, team, db):
    agent = users.by_role["agent"].id
    mine = make_conversation(assignee=agent)
    free = make_conversation()
    for_team = make_conversation()
    put_in_team(db, for_team, team)
    colleague = token_for(client.application, "agent2@example.com")

    def view(name, who):
        response = client.get("/api/v1/conversations", query_string={"view": name}, headers=who)
        assert response.status_code == 200, response.get_data(as_text=True)
        return {c["id"] for c in response.get_json()["items"]}

    assert view("mine", headers(users)) == {mine}
    assert view("unassigned", headers(users)) == {free}
    assert view("all", headers(users)) == {mine, free}  # the team's conversation is not the first agent's
    assert view("team", colleague) == {for_team}
    assert view("all", colleague) == {mine, free, for_team}  # the general queue and their team's
    assert view("all", headers(users, "admin")) == {mine, free, for_team}
    assert_error(client.get("/api/v1/conversations?view=everything", headers=headers(users)), 400, "bad_parameter")


def test_team_conversations_are_hidden_from_outsiders_everywhere(client, users, make_conversation, team, db):
    conversation_id = make_conversation()
    put_in_team(db, conversation_id, team)
    for path in ("", "/messages", "/notes"):
        assert_error(client.get(f"/api/v1/conversations/{conversation_id}{path}", headers=headers(users)), 404)
    colleague = token_for(client.application, "agent2@example.com")
    assert client.get(f"/api/v1/conversations/{conversation_id}", headers=colleague).status_code == 200
    assert client.get(f"/api/v1/conversations/{conversation_id}", headers=headers(users, "reviewer")).status_code == 200


def test_counts_per_view(client, users, make_conversation, db):
    from inbox.models import Conversation

    agent = users.by_role["agent"].id
    make_conversation(assignee=agent)
    unread = make_conversation()
    make_conversation(status="resolved")
    db.get(Conversation, unread).unread_count = 3
    db.commit()
    counts = client.get("/api/v1/conversations/counts", headers=headers(users)).get_json()
    assert counts["mine"] == {"open": 1, "unread": 0}
    assert counts["unassigned"] == {"open": 1, "unread": 1}
    assert counts["all"] == {"open": 2, "unread": 1}


def test_realtime_rooms_follow_teams(app, client, users, make_conversation, team, db, connect):
    from inbox.models import Conversation
    from inbox.realtime import conversation_event

    conversation_id = make_conversation()
    put_in_team(db, conversation_id, team)
    outsider = connect(auth={"token": users.tokens["agent"]})
    member_headers = token_for(app, "agent2@example.com")
    member = connect(auth={"token": member_headers["Authorization"].split()[1]})
    admin = connect(auth={"token": users.tokens["admin"]})
    for listener in (outsider, member, admin):
        listener.get_received()
    with app.app_context():
        from inbox.db import session

        conversation_event("conversation.updated", session().get(Conversation, conversation_id))
    assert names(member) == ["conversation.updated"]
    assert names(admin) == ["conversation.updated", "board.changed"]  # admins watch the board too
    assert names(outsider) == []


# ---------------------------------------------------------------- preferences


def test_preferences_default_change_and_refuse_nonsense(client, users):
    assert client.get("/api/v1/me/preferences", headers=headers(users)).get_json() == {
        "desktop_notifications": True,
        "sound": True,
        "language": None,
    }
    changed = client.put("/api/v1/me/preferences", json={"sound": False}, headers=headers(users)).get_json()
    assert changed == {"desktop_notifications": True, "sound": False, "language": None}
    assert client.get("/api/v1/me/preferences", headers=headers(users)).get_json()["sound"] is False
    assert client.get("/api/v1/me/preferences", headers=headers(users, "admin")).get_json()["sound"] is True
    assert_error(client.put("/api/v1/me/preferences", json={"sound": "no"}, headers=headers(users)), 400)
    assert_error(client.put("/api/v1/me/preferences", json={"theme": "dark"}, headers=headers(users)), 400)


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("GET", "/api/v1/conversations/{id}/notes", {"agent", "supervisor", "admin", "reviewer"}),
        ("POST", "/api/v1/conversations/{id}/notes", {"agent", "supervisor", "admin"}),
        ("GET", "/api/v1/conversations/{id}/mentionable", {"agent", "supervisor", "admin"}),
        ("GET", "/api/v1/conversations/counts", {"agent", "supervisor", "admin", "reviewer"}),
        ("GET", "/api/v1/notifications", {"agent", "supervisor", "admin", "reviewer"}),
        ("POST", "/api/v1/notifications/read-all", {"agent", "supervisor", "admin", "reviewer"}),
        ("POST", "/api/v1/conversations/{id}/read", {"agent", "supervisor", "admin"}),
    ],
)
def test_workspace_roles(method, path, allowed, client, users, make_conversation):
    conversation_id = make_conversation()
    for role in ("agent", "supervisor", "marketing", "admin", "reviewer"):
        body = {"text": "note"} if method == "POST" else None
        response = client.open(path.format(id=conversation_id), method=method, json=body, headers=headers(users, role))
        if role in allowed:
            assert response.status_code in (200, 201), (role, path, response.get_data(as_text=True))
        else:
            assert_error(response, 403, "forbidden")
