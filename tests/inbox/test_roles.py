"""The role matrix over every API route: each route declares who may call it, the declaration is the one
this table expects, and every other role gets 403 through HTTP (before any look-up: no existence leaks)."""

from __future__ import annotations

import re

import pytest

from tests.inbox.test_api import METHODS, assert_error

ROLES = ("agent", "supervisor", "marketing", "admin", "reviewer")
PUBLIC = {("POST", "/api/v1/auth/token"), ("GET", "/api/v1/openapi.json")}
EVERYONE = set(ROLES)
READ = {"agent", "supervisor", "admin", "reviewer"}
WRITE = {"agent", "supervisor", "admin"}
CAMPAIGNS = {"marketing", "admin"}
SUPERVISION = {"supervisor", "admin"}

# Who may call each route. A route missing here fails the test: adding a route means deciding its roles.
EXPECTED = {
    ("GET", "/api/v1/board"): SUPERVISION,
    ("GET", "/api/v1/anomalies"): SUPERVISION,
    ("PATCH", "/api/v1/anomalies/{anomaly_id}"): SUPERVISION,
    ("GET", "/api/v1/anomalies/export"): SUPERVISION,
    ("GET", "/api/v1/channel-accounts"): SUPERVISION,
    ("PATCH", "/api/v1/channel-accounts/{account_id}/calendar"): {"admin"},
    ("GET", "/api/v1/holidays"): SUPERVISION,
    ("POST", "/api/v1/holidays"): {"admin"},
    ("DELETE", "/api/v1/holidays/{holiday_id}"): {"admin"},
    ("GET", "/api/v1/me"): EVERYONE,
    ("GET", "/api/v1/conversations"): READ,
    ("GET", "/api/v1/conversations/{conversation_id}"): READ,
    ("GET", "/api/v1/conversations/{conversation_id}/messages"): READ,
    ("POST", "/api/v1/conversations/{conversation_id}/messages"): WRITE,
    ("POST", "/api/v1/conversations/{conversation_id}/read"): WRITE,
    ("POST", "/api/v1/messages/{message_id}/hide"): WRITE,
    ("POST", "/api/v1/attachments/{attachment_id}/retry"): WRITE,
    ("GET", "/api/v1/unrouted-deliveries"): {"admin"},
    ("GET", "/api/v1/users"): WRITE,  # agents choose whom to transfer to
    ("POST", "/api/v1/users"): {"admin"},
    ("PATCH", "/api/v1/users/{user_id}"): {"admin", "supervisor"},
    ("PUT", "/api/v1/me/availability"): WRITE,
    ("GET", "/api/v1/teams"): WRITE,
    ("POST", "/api/v1/teams"): {"admin"},
    ("PATCH", "/api/v1/teams/{team_id}"): {"admin"},
    ("POST", "/api/v1/conversations/{conversation_id}/assign"): WRITE,
    ("POST", "/api/v1/conversations/next"): {"agent", "supervisor"},
    ("GET", "/api/v1/conversations/{conversation_id}/timeline"): READ,
    ("GET", "/api/v1/contacts"): READ,
    ("GET", "/api/v1/contacts/{contact_id}"): READ,
    ("PATCH", "/api/v1/contacts/{contact_id}"): WRITE,
    ("GET", "/api/v1/contacts/{contact_id}/suggestions"): READ,
    ("GET", "/api/v1/contacts/{contact_id}/changes"): READ,
    ("POST", "/api/v1/contacts/{contact_id}/customer"): WRITE,
    ("DELETE", "/api/v1/contacts/{contact_id}/customer"): WRITE,
    ("GET", "/api/v1/customers"): READ,
    ("POST", "/api/v1/customers"): WRITE,
    ("GET", "/api/v1/customers/{customer_id}"): READ,
    ("PATCH", "/api/v1/customers/{customer_id}"): WRITE,
    ("POST", "/api/v1/customers/import"): {"admin"},
    ("POST", "/api/v1/contacts/{contact_id}/merge"): WRITE,
    ("GET", "/api/v1/conversations/{conversation_id}/notes"): READ,
    ("POST", "/api/v1/conversations/{conversation_id}/notes"): WRITE,
    ("GET", "/api/v1/conversations/{conversation_id}/mentionable"): WRITE,
    ("GET", "/api/v1/conversations/counts"): READ,
    ("GET", "/api/v1/notifications"): READ,
    ("POST", "/api/v1/notifications/{notification_id}/read"): READ,
    ("POST", "/api/v1/notifications/read-all"): READ,
    ("GET", "/api/v1/me/preferences"): EVERYONE,
    ("PUT", "/api/v1/me/preferences"): EVERYONE,
    ("GET", "/api/v1/conversations/{conversation_id}/templates"): WRITE,
    ("GET", "/api/v1/channel-accounts/{account_id}/templates"): {"supervisor", "marketing", "admin"},
    ("GET", "/api/v1/canned-replies"): EVERYONE,
    ("POST", "/api/v1/canned-replies"): {"supervisor", "admin", "marketing"},
    ("PATCH", "/api/v1/canned-replies/{reply_id}"): {"supervisor", "admin", "marketing"},
    ("POST", "/api/v1/canned-replies/{reply_id}/validate"): {"supervisor", "admin"},
    ("POST", "/api/v1/conversations/{conversation_id}/canned-replies/{reply_id}/preview"): WRITE,
    ("GET", "/api/v1/campaigns"): CAMPAIGNS,
    ("POST", "/api/v1/campaigns"): CAMPAIGNS,
    ("GET", "/api/v1/campaigns/{campaign_id}"): CAMPAIGNS,
    ("POST", "/api/v1/campaigns/{campaign_id}/{action}"): CAMPAIGNS,
    ("PUT", "/api/v1/campaigns/{campaign_id}/file"): CAMPAIGNS,
    ("DELETE", "/api/v1/campaigns/{campaign_id}/file"): CAMPAIGNS,
    ("GET", "/api/v1/stop-words"): CAMPAIGNS,
    ("POST", "/api/v1/stop-words"): CAMPAIGNS,
    ("DELETE", "/api/v1/stop-words/{word_id}"): CAMPAIGNS,
    ("GET", "/api/v1/campaigns/{campaign_id}/recipients"): CAMPAIGNS,
    ("POST", "/api/v1/campaigns/{campaign_id}/recipients/{recipient_id}/resend"): CAMPAIGNS,
    ("GET", "/api/v1/campaigns/{campaign_id}/export"): CAMPAIGNS,
    ("GET", "/api/v1/opt-outs"): CAMPAIGNS,
    ("GET", "/api/v1/catalogue"): READ,
    ("POST", "/api/v1/catalogue/items"): {"admin"},
    ("PATCH", "/api/v1/catalogue/items/{item_id}"): {"admin"},
    ("PATCH", "/api/v1/conversations/{conversation_id}"): WRITE,
    ("POST", "/api/v1/conversations/{conversation_id}/case-number"): WRITE,
    ("GET", "/api/v1/cases"): READ,
    ("GET", "/api/v1/cases/{case_id}"): READ,
    ("PATCH", "/api/v1/cases/{case_id}"): WRITE,
    ("POST", "/api/v1/cases/{case_id}/escalate"): WRITE,
    ("POST", "/api/v1/cases/{case_id}/elements"): WRITE,
    ("POST", "/api/v1/cases/{case_id}/hand-back"): WRITE,
    ("POST", "/api/v1/cases/{case_id}/proposals"): WRITE,
    ("POST", "/api/v1/proposals/{proposal_id}/approve"): {"supervisor", "reviewer"},
    ("POST", "/api/v1/proposals/{proposal_id}/reject"): {"supervisor", "reviewer"},
    ("GET", "/api/v1/meter-readings"): READ,
}


def api_routes(app) -> dict[tuple[str, str], object]:
    routes = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        path = path.replace("{any(start, pause, resume, cancel):action}", "{action}")
        for method in rule.methods & METHODS:
            routes[(method, path)] = app.view_functions[rule.endpoint]
    return routes


def test_every_route_declares_the_expected_roles(app):
    routes = api_routes(app)
    assert set(routes) - PUBLIC == set(EXPECTED), "every API route needs its line in EXPECTED"
    for key, view in routes.items():
        if key in PUBLIC:
            continue
        assert set(getattr(view, "roles", ())) == EXPECTED[key], key


def concrete(path: str) -> str:
    return re.sub(r"{action}", "start", re.sub(r"{[a-z_]+_id}", "1", path))


@pytest.mark.parametrize("key", sorted(EXPECTED), ids=lambda key: f"{key[0]} {key[1]}")
def test_a_role_not_allowed_gets_403(key, client, users):
    method, path = key
    for role in sorted(set(ROLES) - EXPECTED[key]):
        response = client.open(concrete(path), method=method, json={}, headers=users.headers(role))
        assert_error(response, 403, "forbidden")
