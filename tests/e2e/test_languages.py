"""The inbox in Chromium in Arabic, right to left (customer text keeping its own direction), then in French."""

from __future__ import annotations

import re
import time
from urllib.parse import urljoin

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, Watched, login, unique_phone
from tests.e2e.test_workspace import admin_token

pytestmark = pytest.mark.e2e
FRENCH_TEXT = "Bonjour, ma facture d'eau de mars est trop élevée."


def _customer_with_a_cil(service, number: str, name: str, cil: str) -> None:
    """A WhatsApp conversation with one French message, whose contact carries a CIL."""
    service.post_webhook({
        "contacts": [{"profile": {"name": name}, "wa_id": number}],
        "messages": [{"from": number, "id": f"wamid.LANG{number}", "timestamp": str(int(time.time())),
                      "type": "text", "text": {"body": FRENCH_TEXT}}],
    })
    headers = {"Authorization": f"Bearer {admin_token(service)}"}
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:  # the delivery is stored first, then taken in by the worker
        found = requests.get(f"{service.base_url}/api/v1/conversations", params={"q": name}, headers=headers,
                             timeout=10).json()["items"]
        if found:
            break
        time.sleep(0.3)
    assert found, f"no conversation for {name}"
    contact_id = found[0]["contact"]["id"]
    changed = requests.patch(f"{service.base_url}/api/v1/contacts/{contact_id}", json={"cil": cil}, headers=headers,
                             timeout=10)
    assert changed.status_code == 200, changed.text


def _box(page, selector: str) -> dict:
    return page.locator(selector).bounding_box()


def test_an_arabic_agent_reads_right_to_left_then_switches_to_french(context, service):
    number, cil = unique_phone(), unique_phone()[-8:]
    name = f"Karim Tazi {number[-4:]}"
    _customer_with_a_cil(service, number, name, cil)
    watched = Watched(context.new_page())
    page = watched.page
    login(page, language="ar")

    html = page.locator("html")
    expect(html).to_have_attribute("lang", "ar")
    expect(html).to_have_attribute("dir", "rtl")
    sidebar, workspace = _box(page, ".sidebar"), _box(page, ".workspace")
    assert sidebar["x"] >= workspace["x"] + workspace["width"] - 1, "the conversation list is on the right"
    expect(page.locator("#search")).to_have_attribute("placeholder", "ابحث عن اسم أو هاتف أو رسالة")
    expect(page.locator("#connection")).to_have_text("مباشر")  # the scripts' words come from the catalogue
    expect(page.locator("#take-next")).to_have_text("تولّي التالية")
    expect(page.locator("#views button[data-view=all]")).to_contain_text("الكل")

    page.locator(".conv-item", has_text=name).click()
    pane = page.locator(".pane", has=page.locator(".pane-name", has_text=name))
    message = pane.locator(".msg-in .text", has_text=FRENCH_TEXT)
    expect(message).to_have_attribute("dir", "auto")
    assert message.evaluate("node => getComputedStyle(node).direction") == "ltr", "French keeps its direction"
    expect(pane.locator(".pane-name")).to_have_attribute("dir", "auto")
    expect(pane.locator(".day").last).to_have_text("اليوم")
    expect(pane.locator(".msg-in .meta time").last).to_have_text(re.compile(r"^\d{2}:\d{2}$"))  # Western digits
    expect(pane.locator(".composer-text")).to_have_attribute("placeholder", re.compile("^اكتب رداً…"))

    pane.locator(".contact-toggle").click()
    panel = pane.locator(".contact-panel")
    expect(panel.locator("h3")).to_have_text("جهة الاتصال")
    expect(panel.locator(".contact-fields dt", has_text="رقم الزبون")).to_be_visible()
    expect(panel.locator(".contact-cil")).to_have_text(cil)
    expect(panel.locator(".contact-cil")).to_have_attribute("dir", "auto")
    expect(panel.locator(".contact-body")).not_to_contain_text("null")
    panel_box, pane_box = panel.bounding_box(), pane.bounding_box()
    assert panel_box["x"] <= pane_box["x"] + 1, "the contact panel opens on the pane's left, its inline end"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "inbox-arabic-rtl.png"), full_page=True)

    page.locator("#settings-toggle").click()
    with page.expect_navigation():
        page.locator("select#ui-language").select_option("fr")
    expect(html).to_have_attribute("lang", "fr")
    expect(html).to_have_attribute("dir", "ltr")
    page.wait_for_selector("#connection[data-state=live]")
    expect(page.locator("#connection")).to_have_text("En direct")
    expect(page.locator("#take-next")).to_have_text("Prendre la suivante")
    sidebar, workspace = _box(page, ".sidebar"), _box(page, ".workspace")
    assert sidebar["x"] + sidebar["width"] <= workspace["x"] + 1, "the conversation list is back on the left"
    saved = page.request.get(urljoin(page.url, "/api/v1/me/preferences")).json()
    assert saved["language"] == "fr"
    assert watched.page_errors == [] and watched.csp_problems() == []
