"""The agent's inbox and the sandbox phone in Chromium: live conversation, safe rendering, every message type."""

from __future__ import annotations

import struct
import time
import zlib

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, unique_phone

pytestmark = pytest.mark.e2e
XSS = "<img src=x onerror=window.__xss=1>"


def small_png(width: int = 160, height: int = 100) -> bytes:
    """A valid PNG: a blue-to-green gradient."""

    def pixel(x: int, y: int) -> bytes:
        return bytes((30, 60 + 180 * x // width, 220 - 120 * y // height))

    rows = b"".join(b"\x00" + b"".join(pixel(x, y) for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def phone_sends(page, number: str, name: str, text: str = "", file=None) -> None:
    """Write from the sandbox phone and wait until the service took it."""
    page.fill("input[name=phone]", number)
    page.fill("input[name=name]", name)
    if file is not None:
        page.set_input_files("input[type=file]", file)
    page.fill(".phone-composer textarea", text)
    sent_before = page.locator('.from-me [data-status="sent"]').count()
    page.click(".phone-send")
    expect(page.locator('.from-me [data-status="sent"]')).to_have_count(sent_before + 1)


def open_conversation(page, name: str):
    """Click a conversation in the list; returns its pane."""
    page.locator(".conv-item", has_text=name).click()
    pane = page.locator(".pane", has=page.locator(".pane-name", has_text=name))
    expect(pane).to_be_visible()
    return pane


def test_customer_and_agent_talk_live(agent, phone, tmp_path):
    page, number = agent.page, unique_phone()
    page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page

    phone_sends(phone.page, number, "Fatima Zahra", "Bonjour, ma facture de mars est trop élevée")
    item = page.locator(".conv-item", has_text="Fatima Zahra")
    expect(item.locator(".badge")).to_have_text("1")
    pane = open_conversation(page, "Fatima Zahra")
    expect(pane.locator(".msg-in .text")).to_have_text("Bonjour, ma facture de mars est trop élevée")
    expect(item.locator(".badge")).to_have_count(0)  # opening it marked it read

    picture = tmp_path / "compteur.png"
    picture.write_bytes(small_png())
    phone_sends(phone.page, number, "Fatima Zahra", "Photo du compteur", file=picture)
    image = pane.locator(".msg-in img.photo")
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth === 160", arg=image.element_handle())
    expect(pane.locator(".msg-in", has=page.locator("img.photo")).locator(".text")).to_have_text("Photo du compteur")

    reply = "Merci Madame, je vérifie votre relevé."
    pane.locator(".composer-text").fill(reply)
    pane.locator(".composer-text").press("Enter")
    bubble = pane.locator(".msg-out", has_text=reply)
    expect(bubble.locator(".status")).to_have_count(1)
    expect(phone.page.locator(".phone-chat .bubble:not(.from-me)", has_text=reply)).to_be_visible()
    expect(bubble.locator('[data-status="read"]')).to_be_visible(timeout=20_000)

    assert page.evaluate("window.__sameDocument") is True
    assert not agent.page_errors and not phone.page_errors
    screenshot(page, "inbox")
    screenshot(phone.page, "sandbox-phone")


def test_html_from_customers_is_shown_as_text(agent, phone):
    page = agent.page
    phone_sends(phone.page, unique_phone(), XSS, XSS)

    item = page.locator(".conv-item", has_text=XSS)
    expect(item.locator(".conv-name")).to_have_text(XSS)
    pane = open_conversation(page, XSS)
    expect(pane.locator(".pane-name")).to_have_text(XSS)
    expect(pane.locator(".msg-in .text")).to_have_text(XSS)
    expect(phone.page.locator(".from-me .text").last).to_have_text(XSS)
    page.wait_for_timeout(300)  # an injected <img> would fail to load and run its handler by now

    for watched in (agent, phone):
        assert watched.page.evaluate("typeof window.__xss") == "undefined"
        assert watched.page.locator("img[src='x']").count() == 0
        assert watched.csp_problems() == []
        assert watched.page_errors == []


def _inbound(number: str, name: str, messages: list[dict]) -> dict:
    stamp = str(int(time.time()))
    for index, message in enumerate(messages):
        message.setdefault("from", number)
        message.setdefault("id", f"wamid.E2E{number}{index:03d}")
        message.setdefault("timestamp", stamp)
    return {"contacts": [{"profile": {"name": name}, "wa_id": number}], "messages": messages}


def test_every_message_type_is_rendered(agent, service):
    page, number, name = agent.page, unique_phone(), "سلمى العلوي"
    arabic = "مرحبا، لدي مشكلة في العداد"
    first = f"wamid.E2E{number}000"
    service.post_webhook(
        _inbound(
            number,
            name,
            [
                {"type": "text", "text": {"body": arabic}},
                {"type": "location", "location": {"latitude": 33.5731, "longitude": -7.5898, "name": "Agence Maarif"}},
                {
                    "type": "contacts",
                    "contacts": [
                        {
                            "name": {"formatted_name": "Karim Idrissi"},
                            "phones": [{"phone": "+212 661 234 567", "type": "CELL"}],
                        }
                    ],
                },
                {
                    "type": "interactive",
                    "interactive": {"type": "button_reply", "button_reply": {"id": "b1", "title": "Oui"}},
                },
                {"type": "unknown_kind", "errors": [{"code": 131051, "title": "Message type unknown"}]},
                {
                    "type": "document",
                    "document": {"id": "999999999", "filename": "facture.pdf", "mime_type": "application/pdf"},
                },
                {"type": "reaction", "reaction": {"message_id": first, "emoji": "👍"}},
            ],
        )
    )
    pane = open_conversation(page, name)

    arabic_text = pane.locator(".msg-in .text", has_text=arabic)
    expect(arabic_text).to_have_attribute("dir", "auto")
    assert arabic_text.evaluate("node => getComputedStyle(node).direction") == "rtl"
    expect(pane.locator(".map-link")).to_have_attribute(
        "href", "https://www.openstreetmap.org/?mlat=33.5731&mlon=-7.5898#map=17/33.5731/-7.5898"
    )
    expect(pane.locator(".location")).to_contain_text("33.57310, -7.58980")
    expect(pane.locator(".contact-card")).to_contain_text("Karim Idrissi")
    expect(pane.locator(".contact-card")).to_contain_text("+212 661 234 567")
    expect(pane.locator('.msg[data-type="interactive"]')).to_contain_text("Button reply")
    expect(pane.locator('.msg[data-type="interactive"] .text')).to_have_text("Oui")
    expect(pane.locator(".notice")).to_contain_text("Unsupported message")
    expect(pane.locator('.msg[data-type="reaction"]')).to_have_count(0)  # shown on its target, not alone
    reaction = pane.locator(".msg", has=page.locator(".text", has_text=arabic)).locator(".reaction")
    expect(reaction).to_have_text("👍")

    failed = pane.locator(".attachment-failed")
    expect(failed).to_contain_text("facture.pdf")
    expect(failed).to_contain_text("File not downloaded")
    with page.expect_response("**/api/v1/attachments/*/retry") as retried:
        failed.get_by_role("button", name="Retry").click()
    assert retried.value.status == 202
    expect(failed.get_by_role("button", name="Retry")).to_be_enabled()  # the new attempt failed too, live

    service.post_webhook(
        _inbound(
            number,
            name,
            [
                {"id": f"wamid.E2E{number}100", "type": "reaction", "reaction": {"message_id": first, "emoji": ""}},
            ],
        )
    )
    expect(reaction).to_have_count(0)
    assert not agent.page_errors and agent.csp_problems() == []
    screenshot(page, "message-types")


def test_tabs_split_view_and_api_errors(agent, phone):
    page = agent.page
    names = ["Youssef Amrani", "Nadia Berrada"]
    for name in names:
        phone_sends(phone.page, unique_phone(), name, f"Bonjour, ici {name}")
    for name in names:
        open_conversation(page, name)
    expect(page.locator(".tab")).to_have_count(2)
    expect(page.locator(".pane")).to_have_count(1)

    page.click("#split-toggle")
    expect(page.locator(".pane")).to_have_count(2)
    page.keyboard.press("Alt+1")
    expect(page.locator(".tab.is-active")).to_contain_text(names[0])
    screenshot(page, "split-view")

    pane = page.locator(".pane", has=page.locator(".pane-name", has_text=names[0]))
    pane.locator(".composer-text").fill("x" * 5000)
    pane.locator(".composer-text").press("Enter")
    expect(pane.locator(".composer-error")).to_contain_text("at most")
    expect(pane.locator(".composer-text")).to_have_value("x" * 5000)  # kept, to be shortened

    page.locator(".tab", has_text=names[1]).get_by_role("button", name=f"Close {names[1]}").click()
    expect(page.locator(".tab")).to_have_count(1)
    expect(page.locator(".pane")).to_have_count(1)


def test_what_arrives_while_offline_is_fetched_on_reconnect(agent, service, context):
    page, number = agent.page, unique_phone()
    service.post_webhook(_inbound(number, "Omar Tazi", [{"type": "text", "text": {"body": "Première question"}}]))
    pane = open_conversation(page, "Omar Tazi")

    context.set_offline(True)
    expect(page.locator("#connection")).to_have_attribute("data-state", "offline")
    service.post_webhook(
        _inbound(
            number,
            "Omar Tazi",
            [
                {"id": f"wamid.E2E{number}200", "type": "text", "text": {"body": "Envoyé pendant la coupure"}},
            ],
        )
    )
    context.set_offline(False)

    expect(page.locator("#connection")).to_have_attribute("data-state", "live", timeout=30_000)
    expect(pane.locator(".msg-in .text", has_text="Envoyé pendant la coupure")).to_be_visible()
