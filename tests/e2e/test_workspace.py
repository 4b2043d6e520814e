"""The workspace in Chromium: private notes with an @mention, drafts kept across a reload, the list's views."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.conftest import unique_phone
from tests.e2e.test_inbox import open_conversation, phone_sends

pytestmark = pytest.mark.e2e


def test_a_private_note_with_a_mention_never_reaches_the_customer(agent, phone):
    page, number = agent.page, unique_phone()
    phone_sends(phone.page, number, "Khadija Note", "Coupure d'eau depuis ce matin")
    pane = open_conversation(page, "Khadija Note")

    page.keyboard.press("Alt+n")  # the composer switches to a private note
    expect(pane.locator(".composer.is-note")).to_be_visible()
    box = pane.locator(".composer-text")
    box.press_sequentially("Vérifier le secteur avec @Admin")
    option = pane.locator(".mention-option", has_text="Administrator")
    expect(option).to_be_visible()
    box.press("Enter")  # picks the colleague
    expect(box).to_have_value("Vérifier le secteur avec @Administrator ")
    box.press("Enter")  # adds the note
    note = pane.locator(".msg-note")
    expect(note).to_contain_text("Vérifier le secteur avec")
    expect(note.locator(".mention")).to_have_text("@Administrator")
    expect(box).to_have_value("")

    page.keyboard.press("Alt+n")  # back to replies: the customer sees the reply, never the note
    expect(pane.locator(".composer.is-note")).to_have_count(0)
    box.fill("Nous vérifions, merci de patienter.")
    box.press("Enter")
    expect(phone.page.locator(".phone-chat .bubble:not(.from-me)", has_text="Nous vérifions")).to_be_visible()
    expect(phone.page.locator(".phone-chat", has_text="Vérifier le secteur")).to_have_count(0)
    assert agent.page_errors == [] and agent.csp_problems() == []


def test_a_draft_survives_a_reload(agent, phone):
    page, number = agent.page, unique_phone()
    phone_sends(phone.page, number, "Youssef Draft", "Bonjour")
    pane = open_conversation(page, "Youssef Draft")
    pane.locator(".composer-text").fill("Bonjour Monsieur, votre dossier est")
    page.reload()
    page.wait_for_selector("#connection[data-state=live]")
    pane = open_conversation(page, "Youssef Draft")
    expect(pane.locator(".composer-text")).to_have_value("Bonjour Monsieur, votre dossier est")


def test_views_show_mine_and_unassigned_live(agent, phone):
    page, number = agent.page, unique_phone()
    page.locator("#views button[data-view=unassigned]").click()
    phone_sends(phone.page, number, "Samira Views", "Salam")
    item = page.locator(".conv-item", has_text="Samira Views")
    expect(item).to_be_visible()  # a new conversation is unassigned: it arrives live in the view
    page.locator("#views button[data-view=mine]").click()
    expect(item).to_have_count(0)


def admin_token(service) -> str:
    from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

    answer = requests.post(
        f"{service.base_url}/api/v1/auth/token", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}, timeout=10
    )
    return answer.json()["token"]


def test_a_canned_reply_is_rendered_for_the_customer_before_sending(agent, phone, service):
    token = admin_token(service)
    created = requests.post(
        f"{service.base_url}/api/v1/canned-replies",
        json={
            "topic": "Accueil",
            "shortcut": f"accueil{unique_phone()[-4:]}",
            "language": "fr",
            "body": "Bonjour {{ contact.first_name }}, ici {{ agent.first_name }}. Comment puis-je vous aider ?",
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    shortcut = created.json()["shortcut"]
    page, number = agent.page, unique_phone()
    phone_sends(phone.page, number, "Nadia Canned", "Bonjour, une question sur ma facture")
    pane = open_conversation(page, "Nadia Canned")
    expect(pane.locator(".pill-language")).to_have_text("Français")
    box = pane.locator(".composer-text")
    box.press_sequentially(f"/{shortcut[:6]}")
    expect(pane.locator(".mention-option", has_text=f"/{shortcut}")).to_be_visible()
    box.press("Enter")
    expect(box).to_have_value("Bonjour Nadia, ici Salma. Comment puis-je vous aider ?")
    box.press("Enter")
    expect(phone.page.locator(".phone-chat .bubble:not(.from-me)", has_text="Bonjour Nadia, ici Salma")).to_be_visible()


def test_an_agent_links_the_contact_to_the_directory_and_sees_the_history(agent, phone, service):
    token = admin_token(service)
    cil = unique_phone()[-8:]
    created = requests.post(
        f"{service.base_url}/api/v1/customers",
        json={"cil": cil, "name": "Rachid Alaoui", "contracts": [f"C-{cil}"], "zone": "sale"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    page, number = agent.page, unique_phone()
    phone_sends(phone.page, number, "Rachid Link", "Salam, bghit n3ref chhal khassni nkhalas")
    pane = open_conversation(page, "Rachid Link")
    pane.locator(".contact-toggle").click()
    panel = pane.locator(".contact-panel")
    panel.locator(".directory-search").fill(cil)
    result = panel.locator(".directory-result", has_text=cil)
    expect(result).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    result.get_by_role("button", name="Link").click()
    expect(panel.locator(".directory-entry")).to_contain_text("Salé")
    expect(panel.locator(".contact-history")).to_contain_text("CIL:")
    expect(panel.locator(".contact-history")).to_contain_text(cil)
    assert agent.page_errors == [] and agent.csp_problems() == []
