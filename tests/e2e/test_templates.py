"""In Chromium: once WhatsApp's 24-hour window has closed, the composer offers the approved templates instead of a
text box, and the template sent reaches the customer's (sandbox) phone with its values."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, unique_phone
from tests.e2e.test_inbox import _inbound, open_conversation

pytestmark = pytest.mark.e2e


def test_a_closed_window_switches_the_composer_to_approved_templates(agent, service, context):
    page, number, name = agent.page, unique_phone(), "Karima Tazi"
    wrote = str(int(time.time()) - 25 * 3600)
    service.post_webhook(_inbound(number, name, [
        {"type": "text", "text": {"body": "Bonjour, ma facture est trop élevée ce mois-ci"}, "timestamp": wrote}]))
    pane = open_conversation(page, name)

    refusal = pane.locator(".composer-refusal")
    expect(refusal).to_contain_text("24 hours")
    expect(pane.locator(".composer-text")).to_be_hidden()
    picker = pane.locator(".template-picker")
    expect(picker).to_be_visible()
    select = picker.locator(".template-select")
    expect(select.locator("option").first).to_have_text("relance_reclamation · fr ★")  # French: it suits
    expect(picker.locator(".template-status")).to_contain_text("1 more templates need a file")
    assert "nouvelle_offre" not in select.inner_text(), "a pending template is never offered"

    send = picker.locator(".template-send")
    expect(send).to_be_disabled()
    values = picker.locator(".template-value")
    expect(values).to_have_count(2)
    expect(values.nth(0)).to_have_attribute("placeholder", "Salma")  # the sample it was approved with
    values.nth(0).fill("Karima")
    expect(picker.locator(".template-preview")).to_contain_text("Bonjour Karima, votre réclamation [2]")
    expect(send).to_be_disabled()
    values.nth(1).fill("2026-000481")
    expect(send).to_be_enabled()
    send.click()

    sent = "Bonjour Karima, votre réclamation 2026-000481 est en cours de traitement."
    bubble = pane.locator(".msg-out", has_text=sent)
    expect(bubble).to_be_visible()
    expect(bubble.locator(".msg-label", has_text="Approved template")).to_be_visible()
    expect(bubble.locator('[data-status="delivered"], [data-status="read"]')).to_have_count(1, timeout=20_000)
    screenshot(page, "composer-approved-template")

    phone = context.new_page()
    phone.goto("/sandbox")
    phone.fill("input[name=phone]", number)
    phone.fill("input[name=name]", name)
    expect(phone.locator(".bubble", has_text=sent)).to_be_visible(timeout=20_000)
    assert not agent.page_errors and not agent.csp_problems()
