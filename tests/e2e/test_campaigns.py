"""The marketing team in Chromium: logging in lands on /campaigns, a campaign made from a CSV in the browser
shows its audience report and preview, starts against the sandbox's fake WhatsApp, pauses, resumes and its
progress bar reaches done without a reload; an agent cannot open the page."""

from __future__ import annotations

import secrets

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Watched, prefer_language, screenshot, unique_phone
from tests.e2e.test_two_agents import PASSWORD, _make_user, _token

pytestmark = pytest.mark.e2e
RECIPIENTS = 12
DONE_TIMEOUT_MS = 60_000


def _marketing_page(service, browser):
    """A new marketing user's browser context and watched page, logged in, on /campaigns, live."""
    admin = _token(service, ADMIN_EMAIL, ADMIN_PASSWORD)
    _, email = _make_user(service, admin, f"Meryem {secrets.token_hex(2)}", "marketing")
    context = browser.new_context(base_url=service.base_url, viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(15_000)
    watched = Watched(context.new_page())
    page = watched.page
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/campaigns")  # marketing lands here, never on the inbox
    prefer_language(page, "en")
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    return context, watched, admin


def _fill_campaign(page, name: str, csv_lines: list[str], text: str) -> None:
    """The new-campaign form: its name, a CSV audience chosen as a file, and the text."""
    page.fill("#campaign-form input[name=name]", name)
    audience = "\n".join(csv_lines).encode()
    page.set_input_files(
        "#campaign-form input[name=csv]", files=[{"name": "audience.csv", "mimeType": "text/csv", "buffer": audience}]
    )
    page.fill("#campaign-form textarea[name=text]", text)


def test_marketing_makes_previews_starts_pauses_resumes_and_watches_a_campaign_finish(service, browser):
    context, watched, _ = _marketing_page(service, browser)
    page = watched.page
    try:
        page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page

        phones = [unique_phone() for _ in range(RECIPIENTS)]
        lines = ["phone;prenom"] + [f"+{phone};Client{index}" for index, phone in enumerate(phones)] + ["12;Bad"]
        name = f"Coupure {secrets.token_hex(2)}"
        _fill_campaign(page, name, lines, "Bonjour {{ prenom }}, coupure demain de 9 h à 12 h.")
        expect(page.locator("#campaign-columns")).to_contain_text("{{ prenom }}")
        page.fill("#campaign-form input[name=rate]", "1")  # slow enough to pause in the middle
        page.click("#campaign-form button[type=submit]")

        detail = page.locator("#campaign-detail")
        expect(detail).to_have_attribute("data-ready", "true")
        expect(page.locator("#audience-report dd[data-figure=recipients]")).to_have_text(str(RECIPIENTS))
        expect(page.locator("#bad-rows tbody tr")).to_contain_text("not a phone number")
        expect(page.locator("#preview li")).to_have_count(5)
        expect(page.locator("#preview li").first).to_contain_text("Bonjour Client0, coupure demain")
        screenshot(page, "campaign-preview")

        page.click("#do-start")
        expect(detail).to_have_attribute("data-status", "running")
        expect(page.locator("#progress")).not_to_have_attribute("data-percent", "0")  # live, from campaign.progress
        page.click("#do-pause")
        expect(detail).to_have_attribute("data-status", "paused")
        page.click("#do-resume")
        expect(detail).to_have_attribute("data-status", "running")
        expect(page.locator("#progress")).to_have_attribute("data-percent", "100", timeout=DONE_TIMEOUT_MS)
        expect(detail).to_have_attribute("data-status", "done", timeout=DONE_TIMEOUT_MS)
        expect(page.locator("#outcomes dd[data-figure=sent]")).to_have_text(str(RECIPIENTS))
        expect(page.locator("#campaign-list tr", has_text=name)).to_have_attribute("data-status", "done")
        assert page.get_attribute("#export-csv", "href").endswith("/export?format=csv")
        screenshot(page, "campaign-done")
        assert page.evaluate("window.__sameDocument") is True
        assert watched.page_errors == [] and watched.csp_problems() == []
    finally:
        context.close()


def test_a_campaign_with_an_image_chosen_in_the_form_is_sent(service, browser):
    context, watched, _ = _marketing_page(service, browser)
    page = watched.page
    try:
        phones = [unique_phone() for _ in range(2)]
        lines = ["phone;prenom", f"+{phones[0]};A", f"+{phones[1]};B"]
        _fill_campaign(page, f"Affiche {secrets.token_hex(2)}", lines, "Bonjour {{ prenom }}, voici les horaires.")
        page.set_input_files(
            "#campaign-form input[name=file]",
            files=[{"name": "horaires.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n" + b"\0" * 2048}],
        )
        page.click("#campaign-form button[type=submit]")
        detail = page.locator("#campaign-detail")
        expect(detail).to_have_attribute("data-ready", "true")
        expect(page.locator("#campaign-file")).to_contain_text("horaires.png")
        page.click("#do-start")
        expect(detail).to_have_attribute("data-status", "done", timeout=DONE_TIMEOUT_MS)
        expect(page.locator("#outcomes dd[data-figure=sent]")).to_have_text("2")
        assert watched.page_errors == [] and watched.csp_problems() == []
    finally:
        context.close()


def test_directory_filters_with_tags_typed_in_the_form(service, browser):
    context, watched, admin = _marketing_page(service, browser)
    page = watched.page
    try:
        name = f"Clients e-facture {secrets.token_hex(2)}"
        page.fill("#campaign-form input[name=name]", name)
        page.check("#campaign-form input[name=audience_kind][value=filters]")
        page.fill("#campaign-form input[name=zone]", "Salé")
        page.fill("#campaign-form input[name=tags]", " E-Facture ,gros consommateur, ")
        page.fill("#campaign-form textarea[name=text]", "Bonjour {{ prenom }}, votre e-facture est prête.")
        screenshot(page, "campaign-filters")
        page.click("#campaign-form button[type=submit]")
        expect(page.locator("#campaign-detail")).to_have_attribute("data-ready", "true")
        listed = requests.get(f"{service.base_url}/api/v1/campaigns", headers=admin, timeout=10).json()["items"]
        campaign = next(item for item in listed if item["name"] == name)
        assert campaign["audience"]["filters"] == {"zone": "Salé", "tags": ["e-facture", "gros consommateur"]}
        assert watched.page_errors == [] and watched.csp_problems() == []
    finally:
        context.close()


def test_marketing_adds_and_removes_a_stop_word_on_the_page(service, browser):
    context, watched, _ = _marketing_page(service, browser)
    page = watched.page
    try:
        words = page.locator("#stop-word-list li")
        expect(page.locator('#stop-word-list li[data-word="baraka"]')).to_have_count(1)  # the shipped list
        word = f"halte {secrets.token_hex(2)}"
        page.fill("#stop-word-form input[name=word]", f"  {word.upper()} !")
        page.click("#stop-word-form button[type=submit]")
        added = page.locator(f'#stop-word-list li[data-word="{word}"]')
        expect(added).to_have_attribute("data-action", "stop")
        count = words.count()
        page.fill("#stop-word-form input[name=word]", word)  # already listed: the page says so
        page.click("#stop-word-form button[type=submit]")
        expect(page.locator("#campaign-error")).to_contain_text("already in the list")
        added.locator("button").click()
        expect(added).to_have_count(0)
        expect(words).to_have_count(count - 1)
        screenshot(page, "campaign-stop-words")
        assert watched.page_errors == [] and watched.csp_problems() == []
    finally:
        context.close()


def test_an_agent_cannot_open_the_campaigns_page(agent):
    answer = agent.page.goto("/campaigns")
    assert answer.status == 403
