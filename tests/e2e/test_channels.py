"""Messenger, Page comments and X in Chromium, live: the sandbox phone writes on each channel, the agent answers
from the inbox (a message, a public reply, a private reply), and the phone shows what the service sent."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.e2e.conftest import screenshot, unique_phone
from tests.e2e.test_inbox import open_conversation

pytestmark = pytest.mark.e2e
# Not test_inbox's XSS string: the service is shared by the package, and its test looks for its own.
XSS = "<img src=x onerror=window.__xss=2><b>gras</b>"


def as_customer(page, channel: str, number: str, name: str) -> None:
    """Switch the phone to a channel and play this customer."""
    page.click(f'.channel-switch button[data-channel="{channel}"]')
    expect(page.locator(f'.channel-view[data-view="{channel}"]')).to_be_visible()
    page.fill("input[name=phone]", number)
    page.fill("input[name=name]", name)
    page.locator("input[name=name]").press("Tab")  # "change": the phone reloads this customer's view


def psid(number: str) -> str:
    """The customer's Messenger id in the sandbox (inbox.sandbox.psid_of)."""
    return f"7{int(number):015d}"


PAGE_ID = "200000000000002"  # inbox.channels.SANDBOX_FACEBOOK_ID


def post_messenger(service, *events: dict) -> None:
    """Post a signed Messenger delivery for the sandbox Page, as Meta would."""
    engine = create_engine(service.env["DATABASE_URL"])
    with engine.connect() as connection:
        raw = connection.execute(
            text("SELECT secrets FROM channel_accounts WHERE platform = 'facebook' AND external_id = :id"),
            {"id": PAGE_ID},
        ).scalar_one()
    engine.dispose()
    app_secret = (json.loads(raw) if isinstance(raw, str) else raw)["app_secret"]
    body = json.dumps(
        {"object": "page", "entry": [{"id": PAGE_ID, "time": int(time.time() * 1000), "messaging": list(events)}]}
    ).encode()
    signature = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    response = requests.post(
        f"{service.base_url}/webhooks/facebook",
        data=body,
        timeout=10,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
    )
    assert response.status_code == 200, response.text


def mid() -> str:
    return "m_E2E" + secrets.token_urlsafe(60)[:80]


def conversation_item(page, *texts: str):
    return page.locator(".conv-item", has_text=re.compile("|".join(re.escape(t) for t in texts)))


def reply_in(pane, text: str) -> None:
    pane.locator(".composer-text").fill(text)
    pane.locator(".composer-text").press("Enter")
    expect(pane.locator(".msg-out", has_text=text)).to_be_visible()


def test_a_messenger_conversation_handled_live(agent, phone, service):
    page, number, name = agent.page, unique_phone(), "Imane Chraibi"
    as_customer(phone.page, "messenger", number, name)
    phone.page.fill(".phone-composer textarea", "Bonjour, ma facture Messenger")
    phone.page.click(".phone-send")
    expect(phone.page.locator('.from-me [data-status="sent"]')).to_have_count(1)

    item = conversation_item(page, name, psid(number))
    expect(item).to_be_visible()  # live: no reload
    expect(item.locator('[data-channel-kind="messenger"]')).to_have_count(1)
    item.click()
    pane = page.locator(".pane").first
    expect(pane.locator(".msg-in .text")).to_have_text("Bonjour, ma facture Messenger")
    expect(pane.locator(".reply-modes")).to_be_hidden()  # a private chat takes messages only
    expect(pane.locator(".pane-thread")).to_be_hidden()

    reply_in(pane, "Bonjour, je regarde votre facture.")
    answer = phone.page.locator(".phone-chat .bubble:not(.from-me)", has_text="Bonjour, je regarde votre facture.")
    expect(answer).to_be_visible()
    bubble = pane.locator(".msg-out", has_text="Bonjour, je regarde votre facture.")
    expect(bubble.locator('[data-status="read"]')).to_be_visible(timeout=20_000)  # delivered, then read on the phone
    expect(pane.locator(".msg-out")).to_have_count(1)  # Messenger's echo of our send is not shown twice

    # Someone answers from the Page's own inbox: only Messenger's echo tells, and it shows who.
    post_messenger(
        service,
        {
            "sender": {"id": PAGE_ID},
            "recipient": {"id": psid(number)},
            "timestamp": int(time.time() * 1000),
            "message": {"mid": mid(), "is_echo": True, "app_id": 263902037430900, "text": "Réponse depuis la Page"},
        },
    )
    typed_outside = pane.locator(".msg-out", has_text="Réponse depuis la Page")
    expect(typed_outside.locator(".meta-external")).to_have_text("Page inbox")
    assert not agent.page_errors and not phone.page_errors
    assert agent.csp_problems() == [] and phone.csp_problems() == []
    screenshot(page, "messenger-inbox")
    screenshot(phone.page, "messenger-phone")


def test_an_x_mention_answered_publicly_live(agent, phone):
    page, number, name = agent.page, unique_phone(), "Reda Alami"
    as_customer(phone.page, "x", number, name)
    phone.page.click('.x-tabs button[data-tab="posts"]')
    phone.page.fill(".phone-composer textarea", "toujours pas d'eau à Maârif ?")
    phone.page.click(".phone-send")
    expect(phone.page.locator(".tweet.is-mine", has_text="toujours pas d'eau")).to_be_visible()

    pane = open_conversation(page, name)
    expect(pane.locator(".msg-in .text")).to_have_text("@InboxSandbox toujours pas d'eau à Maârif ?")
    expect(pane.locator(".pane-thread")).to_contain_text("Mentions")
    expect(pane.locator('[data-mode="public_reply"]')).to_have_attribute("aria-checked", "true")
    expect(pane.locator(".reply-target")).to_contain_text("toujours pas d'eau")
    expect(pane.locator('[data-mode="direct"]')).to_have_count(0)

    reply_in(pane, "Bonjour, le réseau est rétabli depuis 14 h.")
    expect(pane.locator(".msg-out .msg-label", has_text="Public reply")).to_be_visible()
    tweet = phone.page.locator(".tweet.by-account", has_text="le réseau est rétabli")
    expect(tweet).to_be_visible()
    expect(tweet.locator(".tweet-context")).to_contain_text(f"Replying to @client{number[-8:]}")
    expect(pane.locator(".msg-out [data-status=sent]")).to_be_visible()
    assert not agent.page_errors and not phone.page_errors
    screenshot(page, "x-mention-inbox")
    screenshot(phone.page, "x-mention-phone")


def test_a_page_comment_answered_publicly_then_privately_once(agent, phone):
    page, number, name = agent.page, unique_phone(), "Khadija Tazi"
    as_customer(phone.page, "page", number, name)
    expect(phone.page.locator(".fb-post")).to_contain_text("Travaux")
    phone.page.fill(".phone-composer textarea", "La coupure concerne aussi Bourgogne ?")
    phone.page.click(".phone-send")
    mine = phone.page.locator(".fb-comment.is-mine", has_text="Bourgogne")
    expect(mine).to_be_visible()

    pane = open_conversation(page, name)
    # The post's link; its text too once the service fetches it (a comment's webhook carries none).
    expect(pane.locator(".pane-thread-label")).to_have_text("Post")
    expect(pane.locator(".pane-thread-link")).to_have_attribute("href", re.compile(r"/sandbox#page$"))
    expect(pane.locator('.msg-in[data-type="comment"] .text')).to_have_text("La coupure concerne aussi Bourgogne ?")
    expect(pane.locator(".channel-large")).to_have_attribute("data-channel-kind", "facebook")
    expect(pane.locator('[data-mode="public_reply"]')).to_have_attribute("aria-checked", "true")

    reply_in(pane, "Non, Bourgogne n'est pas concerné.")
    page_reply = phone.page.locator(".fb-comment.by-page", has_text="Bourgogne n'est pas concerné")
    expect(page_reply).to_be_visible()

    pane.locator('[data-mode="private_reply"]').click()
    pane.locator('.msg-in [data-action="reply"]').click()  # answer this comment, chosen explicitly
    expect(pane.locator(".reply-target")).to_contain_text("Bourgogne")
    reply_in(pane, "Pouvez-vous nous donner votre CIL en privé ?")
    expect(pane.locator(".composer-refusal")).to_contain_text("already had its private reply")
    expect(pane.locator(".composer-text")).to_be_hidden()  # refused before the agent types
    expect(pane.locator(".msg-in .msg-flag")).to_contain_text("Answered privately")
    expect(
        pane.locator(".msg-out", has_text="votre CIL").locator('[data-status="delivered"], [data-status="read"]')
    ).to_be_visible()

    phone.page.click('.channel-switch button[data-channel="messenger"]')
    private = phone.page.locator(".private-reply", has_text="votre CIL en privé")
    expect(private).to_be_visible()
    expect(private.locator(".quote")).to_have_text("La coupure concerne aussi Bourgogne ?")

    pane.locator('[data-mode="public_reply"]').click()  # public replies stay possible
    expect(pane.locator(".composer-text")).to_be_visible()
    assert not agent.page_errors and not phone.page_errors
    screenshot(page, "page-comment-inbox")


def test_comment_edits_removals_and_hiding_show_live(agent, phone):
    page, number, name = agent.page, unique_phone(), "Hamza Idrissi"
    as_customer(phone.page, "page", number, name)
    phone.page.fill(".phone-composer textarea", "Coupure demain matin ?")
    phone.page.click(".phone-send")
    comment = phone.page.locator(".fb-comment.is-mine", has_text="Coupure demain matin ?")
    expect(comment).to_be_visible()
    pane = open_conversation(page, name)
    bubble = pane.locator('.msg-in[data-type="comment"]')
    expect(bubble.locator(".text")).to_have_text("Coupure demain matin ?")

    comment.get_by_role("button", name="Edit").click()
    phone.page.fill(".phone-composer textarea", "Coupure jeudi matin ?")
    phone.page.click(".phone-send")
    expect(bubble.locator(".text")).to_have_text("Coupure jeudi matin ?")  # live
    bubble.locator(".meta-edited").click()
    expect(bubble.locator(".msg-history")).to_contain_text("Coupure demain matin ?")

    bubble.locator('[data-action="hide"]').click()
    expect(bubble.locator(".msg-label", has_text="Hidden")).to_be_visible()
    expect(phone.page.locator(".fb-comment.is-mine .fb-hidden")).to_have_text("Hidden by the Page")
    bubble.locator('[data-action="hide"]').click()
    expect(bubble.locator('[data-action="hide"]')).to_have_text("Hide")

    screenshot(phone.page, "page-phone")
    phone.page.once("dialog", lambda dialog: dialog.accept())
    phone.page.locator(".fb-comment.is-mine").get_by_role("button", name="Delete").click()
    expect(pane.locator(".msg-removed .msg-note")).to_have_text("Deleted by the author")
    expect(pane.locator(".composer-refusal")).to_contain_text("nothing to answer")
    assert not agent.page_errors and not phone.page_errors


def test_one_customer_on_two_channels_is_merged_from_the_contact_panel(agent, phone):
    page, number = agent.page, unique_phone()
    as_customer(phone.page, "whatsapp", number, "Salma Bennani")
    phone.page.fill(".phone-composer textarea", "Bonjour sur WhatsApp")
    phone.page.click(".phone-send")
    as_customer(phone.page, "x", number, "salma.b")
    phone.page.fill(".phone-composer textarea", "Bonjour sur X")
    phone.page.click(".phone-send")
    expect(phone.page.locator('.from-me [data-status="sent"]')).to_have_count(1)

    pane = open_conversation(page, "salma.b")
    pane.locator(".contact-toggle").click()
    panel = pane.locator(".contact-panel")
    expect(panel.locator(".contact-identity")).to_have_count(1)
    panel.get_by_role("button", name="Edit").click()
    panel.locator("input[name=phone]").fill("+" + number)
    panel.get_by_role("button", name="Save").click()
    expect(panel.locator(".contact-notice")).to_have_text("Saved.")
    suggestion = panel.locator(".contact-suggestion", has_text="Salma Bennani")
    expect(suggestion.locator(".contact-reasons")).to_have_text("same phone")

    suggestion.get_by_role("button", name="Merge…").click()
    expect(suggestion.locator(".contact-confirm")).to_contain_text("cannot be undone")
    suggestion.get_by_role("button", name="Merge", exact=True).click()
    expect(panel.locator(".contact-notice")).to_contain_text("merged into this contact")
    expect(panel.locator(".contact-identity")).to_have_count(2)
    expect(panel.locator('.contact-identity[data-channel="whatsapp"]')).to_be_visible()
    expect(panel.locator(".contact-conversation")).to_have_count(2)
    screenshot(page, "contact-panel")
    panel.locator(".contact-conversation:not([disabled])").click()
    expect(page.locator(".tab")).to_have_count(2)  # the WhatsApp conversation opened from the panel
    assert not agent.page_errors


def test_html_in_comments_and_tweets_is_shown_as_text(agent, phone):
    page, number = agent.page, unique_phone()
    as_customer(phone.page, "page", number, XSS)
    phone.page.fill(".phone-composer textarea", XSS)
    phone.page.click(".phone-send")
    expect(phone.page.locator(".fb-comment.is-mine .fb-text")).to_have_text(XSS)
    pane = open_conversation(page, XSS)
    expect(pane.locator('.msg-in[data-type="comment"] .text')).to_have_text(XSS)
    expect(pane.locator(".reply-target")).to_contain_text(XSS)

    as_customer(phone.page, "x", number, XSS)
    phone.page.click('.x-tabs button[data-tab="posts"]')
    phone.page.fill(".phone-composer textarea", XSS)
    phone.page.click(".phone-send")
    expect(phone.page.locator(".tweet.is-mine .tweet-text")).to_have_text(f"@InboxSandbox {XSS}")
    expect(page.locator(".conv-item", has_text=XSS)).to_have_count(2)
    page.wait_for_timeout(300)  # an injected <img> would fail to load and run its handler by now

    for watched in (agent, phone):
        assert watched.page.evaluate("typeof window.__xss") == "undefined"
        assert watched.page.locator("img[src='x']").count() == 0
        assert watched.csp_problems() == []
        assert watched.page_errors == []


def test_messenger_after_seven_days_is_refused_before_typing(agent, service):
    page, number = agent.page, unique_phone()
    eight_days_ago = int((time.time() - 8 * 24 * 3600) * 1000)
    post_messenger(
        service,
        {
            "sender": {"id": psid(number)},
            "recipient": {"id": PAGE_ID},
            "timestamp": eight_days_ago,
            "message": {"mid": mid(), "text": "Message d'il y a huit jours"},
        },
    )
    conversation_item(page, psid(number)).click()
    pane = page.locator(".pane").first
    expect(pane.locator(".msg-in .text")).to_have_text("Message d'il y a huit jours")
    expect(pane.locator(".composer-refusal")).to_contain_text("More than 7 days")
    expect(pane.locator(".composer-text")).to_be_hidden()
    assert not agent.page_errors
