"""The campaigns page over HTTP: marketing and admins only, marketing lands there and never on the inbox,
the page renders its accounts and script without inline script, and in the UI's languages."""

from __future__ import annotations

import re
import time

from tests.inbox.test_directory import login


def test_the_page_is_for_marketing_and_admins(app, users, whatsapp_account):
    anonymous = app.test_client()
    assert anonymous.get("/campaigns").status_code == 302
    for role, allowed in (
        ("marketing", True),
        ("admin", True),
        ("agent", False),
        ("supervisor", False),
        ("reviewer", False),
    ):
        browser = app.test_client()
        login(browser, f"{role}@example.com")
        page = browser.get("/campaigns?lang=en")
        assert page.status_code == (200 if allowed else 403), role
        if allowed:
            html = page.get_data(as_text=True)
            assert 'src="/static/campaigns.js"' in html and "New campaign" in html
            assert f'<option value="{whatsapp_account.id}" data-platform="whatsapp" data-max-rate="80"' in html
            assert re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html) is None  # CSP
            assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_the_page_offers_messenger_and_x_with_their_rates_and_the_messenger_tags(
    app, users, whatsapp_account, facebook_account, twitter_account
):
    browser = app.test_client()
    login(browser, "marketing@example.com")
    html = browser.get("/campaigns?lang=en").get_data(as_text=True)
    options = {m.group(1): m.group(0) for m in re.finditer(r'<option value="(\d+)" data-platform=[^>]*>', html)}
    messenger, x, whatsapp = (options[str(a.id)] for a in (facebook_account, twitter_account, whatsapp_account))
    assert list(options) == [str(a.id) for a in (whatsapp_account, facebook_account, twitter_account)]  # WhatsApp first
    tags = 'data-tags="ACCOUNT_UPDATE CONFIRMED_EVENT_UPDATE POST_PURCHASE_UPDATE"'
    assert 'data-platform="facebook" data-max-rate="30"' in messenger and tags in messenger
    assert 'data-templates=""' in messenger
    assert 'data-platform="twitter" data-max-rate="0.166667" data-tags=""' in x
    assert 'data-templates="yes"' in whatsapp and 'data-tags=""' in whatsapp
    assert '<select name="tag">' in html and '<option value="CONFIRMED_EVENT_UPDATE">' in html
    assert "HUMAN_AGENT" not in html and "responsibility is yours" in html


def test_marketing_lands_on_campaigns_and_never_on_the_inbox(app, users):
    from tests.conftest import PASSWORD

    browser = app.test_client()
    page = browser.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = browser.post("/login", data={"email": "marketing@example.com", "password": PASSWORD, "csrf_token": csrf})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/campaigns")
    inbox = browser.get("/")
    assert inbox.status_code == 302 and inbox.headers["Location"].endswith("/campaigns")
    agent = app.test_client()
    login(agent, "agent@example.com")
    assert agent.get("/").status_code == 200


def test_the_page_speaks_french_and_arabic_right_to_left(app, users):
    browser = app.test_client()
    login(browser, "marketing@example.com")
    french = browser.get("/campaigns?lang=fr").get_data(as_text=True)
    assert "Nouvelle campagne" in french and 'dir="ltr"' in french
    arabic = browser.get("/campaigns?lang=ar").get_data(as_text=True)
    assert 'dir="rtl"' in arabic and "حملة جديدة" in arabic


def test_campaign_progress_is_heard_by_marketing_and_admins_only(app, users):
    from flask_socketio import SocketIOTestClient

    from inbox.realtime import campaign_event, socketio

    listeners = {
        role: SocketIOTestClient(app, socketio, auth={"token": users.tokens[role]})
        for role in ("marketing", "admin", "supervisor", "agent")
    }
    with app.app_context():
        campaign_event("campaign.progress", {"campaign_id": 1, "counts": {}})
    heard = {role: [e["name"] for e in client.get_received()] for role, client in listeners.items()}
    assert heard == {"marketing": ["campaign.progress"], "admin": ["campaign.progress"], "supervisor": [], "agent": []}


def test_start_takes_a_local_time_chosen_after_the_preview_or_null_for_now(client, users, whatsapp_account, run_jobs):
    from tests.campaigns.test_campaigns import control, prepared

    campaign = prepared(client, users, run_jobs)
    url = f"/api/v1/campaigns/{campaign['id']}/start"
    later = client.post(url, json={"scheduled_at": "2999-01-01T10:00"}, headers=users.headers("marketing"))
    assert later.status_code == 200 and later.get_json()["status"] == "scheduled"
    assert later.get_json()["scheduled_at"].startswith("2999-01-01T10:00:00+")  # the service's local time
    assert control(client, users, campaign["id"], "pause").get_json()["status"] == "paused"

    other = prepared(client, users, run_jobs, scheduled_at="2999-01-01T10:00")
    past = client.post(
        f"/api/v1/campaigns/{other['id']}/start",
        json={"scheduled_at": "2000-01-01T10:00"},
        headers=users.headers("marketing"),
    )
    assert past.status_code == 422
    now = client.post(
        f"/api/v1/campaigns/{other['id']}/start", json={"scheduled_at": None}, headers=users.headers("marketing")
    )
    assert now.get_json()["status"] == "running" and now.get_json()["scheduled_at"] is None


def test_progress_from_the_send_loops_is_announced_at_most_once_a_second_per_campaign(app, monkeypatch):
    from campaigns import sending

    heard = []
    monkeypatch.setattr("inbox.realtime.campaign_event", lambda event, payload: heard.append(payload["campaign_id"]))
    with app.app_context():
        for _ in range(5):
            sending.announce_progress(7)
            sending.announce_progress(8)
        assert heard == [7, 8]
        sending.announce_progress(7, force=True)  # a change of status is always told
        assert heard == [7, 8, 7]
        time.sleep(sending.PROGRESS_SECONDS + 0.1)
        sending.announce_progress(7)
        assert heard == [7, 8, 7, 7]
