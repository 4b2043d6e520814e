"""In Chromium: the qualification bar refuses to resolve an unqualified conversation, qualifies a claim, shows its
case and resolves it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, unique_phone
from tests.e2e.test_inbox import _inbound, open_conversation

pytestmark = pytest.mark.e2e


def test_an_agent_qualifies_a_claim_and_resolves_it(agent, service):
    page, number, name = agent.page, unique_phone(), "Hamid Tazi"
    service.post_webhook(_inbound(number, name, [{"type": "text", "text": {"body": "Fatura ghalya bzaf had chhar"}}]))
    pane = open_conversation(page, name)
    bar = pane.locator(".case-panel")

    bar.get_by_role("button", name="Resolve").click()
    expect(bar.locator(".case-error")).to_contain_text("request_type, family, nature missing")

    bar.get_by_label("Request type").select_option("claim")
    bar.get_by_label("Family").select_option(label="Facturation")
    bar.get_by_label("Nature").select_option(label="Facture élevée")
    bar.get_by_label("Treating service").select_option(label="Cellule de traitement des réclamations")
    bar.get_by_role("button", name="Save").click()
    expect(bar.locator(".case-head strong")).to_have_text(re.compile(r"Case \d{4}-\d{6}"))
    expect(bar.locator(".case-timeline")).to_contain_text("Case opened")
    expect(bar.locator(".case-timeline")).to_contain_text("Qualified")
    expect(bar.locator(".case-box")).not_to_contain_text("null")
    expect(pane.locator(".pane-header")).to_contain_text("Claim")  # the request type by its name

    bar.get_by_role("button", name="Resolve").click()
    expect(pane.locator(".pane-header .pill-resolved")).to_be_visible()
    expect(bar.locator(".case-error")).to_be_hidden()
    assert not agent.page_errors and agent.csp_problems() == []
    screenshot(page, "case-panel")
