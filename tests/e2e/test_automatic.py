"""Automatic messages in Chromium: the service's own answer is drawn apart from an agent's reply."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, unique_phone
from tests.e2e.test_inbox import open_conversation, phone_sends

pytestmark = pytest.mark.e2e


def test_an_automatic_answer_is_marked_and_an_agents_reply_is_not(agent, phone):
    page, number = agent.page, unique_phone()
    phone_sends(phone.page, number, "Hicham Idrissi", "STOP")  # a stop word: confirmed automatically

    pane = open_conversation(page, "Hicham Idrissi")
    automatic = pane.locator(".msg-out.msg-auto")
    expect(automatic).to_have_count(1)
    expect(automatic.locator(".text")).to_contain_text("START")
    expect(automatic.locator(".meta-automatic")).to_have_text("Automatic")

    reply = "Bien noté, bonne journée."
    pane.locator(".composer-text").fill(reply)
    pane.locator(".composer-text").press("Enter")
    bubble = pane.locator(".msg-out", has_text=reply)
    expect(bubble.locator(".meta-author")).to_have_text("Salma Benali")
    expect(bubble.locator(".meta-automatic")).to_have_count(0)
    assert "msg-auto" not in (bubble.get_attribute("class") or "")
    assert not agent.page_errors and not phone.page_errors
    screenshot(page, "automatic-message")
