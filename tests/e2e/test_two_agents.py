"""Two agents in two browsers: a conversation arrives live, is transferred with a note, is taken over while
the second agent looks at it, and is qualified and resolved; each step seen live by both, no reloads."""

from __future__ import annotations

import re
import secrets
import time

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Watched, login, screenshot, unique_phone

pytestmark = pytest.mark.e2e
PASSWORD = "e2e two agents password"


def _token(service, email: str, password: str) -> dict:
    answer = requests.post(
        f"{service.base_url}/api/v1/auth/token", json={"email": email, "password": password}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def _make_user(service, admin: dict, name: str, role: str) -> tuple[int, str]:
    email = f"{name.split()[0].lower()}-{secrets.token_hex(3)}@e2e.example.com"
    body = {"email": email, "name": name, "role": role, "password": PASSWORD}
    made = requests.post(f"{service.base_url}/api/v1/users", json=body, headers=admin, timeout=10)
    assert made.status_code == 201, made.text
    return made.json()["id"], email


def test_two_agents_receive_transfer_see_a_takeover_and_resolve_live(service, browser):
    admin = _token(service, ADMIN_EMAIL, ADMIN_PASSWORD)
    suffix = secrets.token_hex(2)
    a_name, b_name, s_name = f"Amina {suffix}", f"Badr {suffix}", f"Samir {suffix}"
    a_id, a_email = _make_user(service, admin, a_name, "agent")
    # the other browser tests leave conversations waiting, which go first (the longest-waiting): room for all
    roomy = requests.patch(f"{service.base_url}/api/v1/users/{a_id}", json={"capacity": 50}, headers=admin, timeout=10)
    assert roomy.status_code == 200, roomy.text
    b_id, b_email = _make_user(service, admin, b_name, "agent")
    s_id, s_email = _make_user(service, admin, s_name, "supervisor")
    contexts = [browser.new_context(base_url=service.base_url, viewport={"width": 1440, "height": 900}) for _ in "ab"]
    try:
        for context in contexts:
            context.set_default_timeout(15_000)
        a, b = (Watched(context.new_page()) for context in contexts)
        login(a.page, a_email, PASSWORD)
        login(b.page, b_email, PASSWORD)
        for page in (a.page, b.page):
            page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page
        with a.page.expect_response("**/api/v1/me/availability"):
            a.page.select_option("#availability", "online")

        number, customer = unique_phone(), f"Khadija {suffix}"
        message = {"from": number, "id": f"wamid.e2e-{secrets.token_hex(8)}", "timestamp": str(int(time.time()))}
        service.post_webhook(
            {
                "contacts": [{"profile": {"name": customer}, "wa_id": number}],
                "messages": [{**message, "type": "text", "text": {"body": "Coupure d'eau depuis ce matin"}}],
            }
        )
        # A is online with room: the conversation reaches A live, assigned to A
        a.page.locator(".conv-item", has_text=customer).click()
        pane_a = a.page.locator(".pane", has=a.page.locator(".pane-name", has_text=customer))
        expect(pane_a.locator(".assign-holder")).to_have_text("Handled by you")
        expect(b.page.locator(".conv-item", has_text=customer)).to_be_visible()  # B sees it in the general queue

        # A transfers it to B with a note
        pane_a.get_by_role("button", name="Assign / transfer…").click()
        pane_a.locator(".assign-form select").select_option(f"user:{b_id}")
        pane_a.locator(".assign-form input[name=note]").fill("Quartier Hay Riad, déjà signalé")
        pane_a.locator(".assign-form button[type=submit]").click()
        expect(pane_a.locator(".assign-holder")).to_have_text(f"Handled by {b_name}")

        b.page.locator(".conv-item", has_text=customer).click()
        pane_b = b.page.locator(".pane", has=b.page.locator(".pane-name", has_text=customer))
        expect(pane_b.locator(".assign-holder")).to_have_text("Handled by you")
        pane_b.get_by_role("button", name="Timeline").click()
        expect(pane_b.locator(".assign-event", has_text="Transferred")).to_contain_text("Quartier Hay Riad")

        # a supervisor takes it over while B looks at it: B's pane says so at once, and so does A's
        conversation_id = int(pane_b.get_attribute("data-conversation-id"))
        supervisor = _token(service, s_email, PASSWORD)
        taken = requests.post(
            f"{service.base_url}/api/v1/conversations/{conversation_id}/assign",
            json={"assignee": s_id},
            headers=supervisor,
            timeout=10,
        )
        assert taken.status_code == 200, taken.text
        expect(pane_b.locator(".assign-notice")).to_have_text(f"Now handled by {s_name}Dismiss")
        expect(pane_a.locator(".assign-holder")).to_have_text(f"Handled by {s_name}")
        expect(pane_b.locator(".assign-event", has_text="Taken over")).to_be_visible()
        screenshot(b.page, "two-agents-taken-over")

        # B qualifies the claim and resolves it: A's pane shows it resolved, live
        bar = pane_b.locator(".case-panel")
        bar.get_by_label("Request type").select_option("claim")
        bar.get_by_label("Family").select_option(label="Facturation")
        bar.get_by_label("Nature").select_option(label="Facture élevée")
        bar.get_by_label("Treating service").select_option(label="Cellule de traitement des réclamations")
        bar.get_by_role("button", name="Save").click()
        expect(bar.locator(".case-head strong")).to_have_text(re.compile(r"Case \d{4}-\d{6}"))
        bar.get_by_role("button", name="Resolve").click()
        expect(pane_b.locator(".pane-header .pill-resolved")).to_be_visible()
        expect(pane_a.locator(".pane-header .pill-resolved")).to_be_visible()
        for watched in (a, b):
            assert watched.page.evaluate("window.__sameDocument") is True
            assert watched.page_errors == [] and watched.csp_problems() == []
    finally:
        # A goes offline so that the other browser tests' conversations are not auto-assigned
        requests.put(
            f"{service.base_url}/api/v1/me/availability",
            json={"status": "offline"},
            headers=_token(service, a_email, PASSWORD),
            timeout=10,
        )
        for context in contexts:
            context.close()
