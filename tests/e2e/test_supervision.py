"""A supervisor on the board sees a breach appear without a reload: a conversation's first-take due time is
made to pass, the worker's commitments sweep warns, the board refetches on board.changed; then the
supervisor takes the conversation over from the board, sees it held, and notes the anomaly it left in the
month's log, still without a reload."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import column, create_engine, table

from inbox.db import UTCDateTime
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Watched, login, screenshot, unique_phone
from tests.e2e.test_two_agents import PASSWORD, _make_user, _token

pytestmark = pytest.mark.e2e
SWEEP_WAIT_MS = 60_000  # the worker sweeps every 30 s


def _conversation_of(service, headers: dict, number: str) -> int:
    """The conversation of a customer's number, once the intake has stored it (it may be deferred)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = requests.get(
            f"{service.base_url}/api/v1/conversations", params={"limit": 100}, headers=headers, timeout=10
        )
        assert found.status_code == 200, found.text
        items = [c for c in found.json()["items"] if number in (c["handle"] or "")]
        if items:
            return items[0]["id"]
        time.sleep(0.3)
    pytest.fail(f"no conversation of {number}")


def _make_overdue(service, conversation_id: int) -> None:
    """Move the first-take due time a minute into the past, as if 15 business minutes had gone by."""
    conversations = table("conversations", column("id"), column("first_response_due_at", UTCDateTime()))
    engine = create_engine(service.env["DATABASE_URL"])
    try:
        with engine.begin() as connection:
            connection.execute(
                conversations.update()
                .where(conversations.c.id == conversation_id)
                .values(first_response_due_at=datetime.now(UTC) - timedelta(minutes=1))
            )
    finally:
        engine.dispose()


def test_a_supervisor_sees_a_breach_appear_on_the_board_and_takes_over(service, browser):
    admin = _token(service, ADMIN_EMAIL, ADMIN_PASSWORD)
    name = f"Samia {secrets.token_hex(2)}"
    supervisor_id, email = _make_user(service, admin, name, "supervisor")
    context = browser.new_context(base_url=service.base_url, viewport={"width": 1440, "height": 900})
    context.set_default_timeout(15_000)
    try:
        watched = Watched(context.new_page())
        page = watched.page
        login(page, email, PASSWORD)
        page.click("#board-link")
        page.wait_for_url("**/supervisor")
        expect(page.locator("#connection")).to_have_attribute("data-state", "live")
        expect(page.locator("#board")).to_have_attribute("data-loaded", "true")
        page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page

        number, customer = unique_phone(), f"Youssef {secrets.token_hex(2)}"
        message = {"from": number, "id": f"wamid.e2e-{secrets.token_hex(8)}", "timestamp": str(int(time.time()))}
        with page.expect_response("**/api/v1/board"):  # the arrival changes the board: it refetches
            service.post_webhook(
                {
                    "contacts": [{"profile": {"name": customer}, "wa_id": number}],
                    "messages": [{**message, "type": "text", "text": {"body": "Compteur bloqué"}}],
                }
            )
            conversation_id = _conversation_of(service, admin, number)
        page.wait_for_timeout(1000)  # past the page's debounce: what it shows now is the board after the arrival
        row = page.locator(f'#board-risk tr[data-conversation-id="{conversation_id}"]')
        expect(row).to_have_count(0)  # just arrived: within its commitments

        _make_overdue(service, conversation_id)
        expect(row).to_have_attribute("data-state", "breached", timeout=SWEEP_WAIT_MS)
        timeline = requests.get(
            f"{service.base_url}/api/v1/conversations/{conversation_id}/timeline", headers=admin, timeout=10
        )
        assert "sla_breached" in [event["kind"] for event in timeline.json()["items"]]  # the sweep told the page
        expect(row).to_contain_text(customer)
        expect(row.locator(".countdown")).to_have_attribute("data-state", "breached")
        before = row.locator(".countdown").text_content()
        page.wait_for_timeout(1500)
        assert row.locator(".countdown").text_content() != before  # it ticks: time late grows
        screenshot(page, "board-breach")

        row.locator(".board-actions button").last.click()  # take over
        expect(row).to_contain_text(name)
        held = requests.get(f"{service.base_url}/api/v1/conversations/{conversation_id}", headers=admin, timeout=10)
        assert held.json()["assignee"]["id"] == supervisor_id

        # the late first take is in the month's anomaly log, where the supervisor notes why
        anomaly = page.locator("#board-anomalies tr[data-kind=late_first_take]", has_text=f"#{conversation_id}")
        expect(anomaly).to_be_visible()
        anomaly.locator("input").fill("Pic d'appels après la coupure")
        anomaly.locator("button[type=submit]").click()
        expect(anomaly.locator(".anomaly-saved")).to_have_text("Saved")
        month = datetime.now(UTC).strftime("%Y-%m")
        log = requests.get(f"{service.base_url}/api/v1/anomalies", params={"month": month}, headers=admin, timeout=10)
        [noted] = [a for a in log.json()["items"] if a["conversation_id"] == conversation_id]
        assert (noted["kind"], noted["note"], noted["noted_by"]["id"]) == (
            "late_first_take",
            "Pic d'appels après la coupure",
            supervisor_id,
        )
        assert page.evaluate("window.__sameDocument") is True
        assert watched.page_errors == [] and watched.csp_problems() == []
    finally:
        context.close()


def test_the_inbox_shows_a_countdown_to_the_nearest_due_time(service, agent):
    page = agent.page
    admin = _token(service, ADMIN_EMAIL, ADMIN_PASSWORD)
    number, customer = unique_phone(), f"Nadia {secrets.token_hex(2)}"
    message = {"from": number, "id": f"wamid.e2e-{secrets.token_hex(8)}", "timestamp": str(int(time.time()))}
    service.post_webhook(
        {
            "contacts": [{"profile": {"name": customer}, "wa_id": number}],
            "messages": [{**message, "type": "text", "text": {"body": "Facture erronée"}}],
        }
    )
    conversation_id = _conversation_of(service, admin, number)
    shown = requests.get(f"{service.base_url}/api/v1/conversations/{conversation_id}", headers=admin, timeout=10)
    due = shown.json()["sla"]["due_at"]
    assert due == shown.json()["sla"]["first_response_due_at"]
    item = page.locator(".conv-item", has_text=customer)
    expect(item.locator(".countdown")).to_have_attribute("data-due", due)  # arrived live, with its countdown
    expect(item.locator(".countdown")).to_have_attribute("data-state", "running")
    item.click()
    pane = page.locator(".pane", has=page.locator(".pane-name", has_text=customer))
    expect(pane.locator(".pane-header .countdown")).to_have_attribute("data-due", due)
    text = pane.locator(".pane-header .countdown").text_content()
    if ":" in text:  # within a day (in business hours): it ticks every second
        page.wait_for_timeout(1500)
        assert pane.locator(".pane-header .countdown").text_content() != text
    assert agent.page_errors == [] and agent.csp_problems() == []
