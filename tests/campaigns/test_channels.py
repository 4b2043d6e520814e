"""Campaigns on Messenger and X through the API and the RQ jobs, against a faked Graph API and X API: the
24-hour window and message tags, people without an identity on the account, X's daily cap, the platforms'
final errors per recipient and their rate limits."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest
import responses

from tests.conftest import GRAPH, PAGE_ID, X_API
from tests.inbox.test_api import assert_error

MESSENGER_URL = f"{GRAPH}/{PAGE_ID}/messages"
DM_URL = re.compile(re.escape(X_API) + r"/2/dm_conversations/with/(\d+)/messages")


class FakePlatforms:
    """The Send API and X's DM endpoint: they record each send's body and answer scripted errors first."""

    def __init__(self, mock):
        self.messenger = {}  # PSID -> the request body
        self.dms = {}  # X user id -> the request body
        self.errors = {}  # recipient -> list of (status, body, headers) to answer first
        mock.add_callback(responses.POST, MESSENGER_URL, callback=self.graph)
        mock.add_callback(responses.POST, DM_URL, callback=self.x)

    def _scripted(self, to):
        queued = self.errors.get(to)
        if queued:
            status, body, headers = queued.pop(0)
            return status, headers, json.dumps(body)
        return None

    def graph(self, request):
        body = json.loads(request.body)
        to = body["recipient"]["id"]
        if answer := self._scripted(to):
            return answer
        self.messenger[to] = body
        return 200, {}, json.dumps({"recipient_id": to, "message_id": f"m_{to}"})

    def x(self, request):
        to = DM_URL.match(request.url).group(1)
        if answer := self._scripted(to):
            return answer
        self.dms[to] = json.loads(request.body)
        event = f"18{to[-6:]}"
        return 200, {}, json.dumps({"data": {"dm_conversation_id": f"1-{to}", "dm_event_id": event}})


@pytest.fixture
def platforms():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakePlatforms(mock)


def person(db, account, external_id, *, cil=None, phone=None, wrote_ago=None):
    """A contact known on `account` by `external_id` (a PSID, an X id), who last wrote `wrote_ago` ago."""
    from inbox.db import utcnow
    from inbox.models import Contact, ContactIdentity, Conversation

    contact = Contact(name=f"Client {external_id}", cil=cil, phone=phone)
    db.add(contact)
    db.flush()
    if external_id is None:
        db.commit()
        return contact
    identity = ContactIdentity(contact_id=contact.id, account_id=account.id, external_id=external_id)
    db.add(identity)
    db.flush()
    last = utcnow() - wrote_ago if wrote_ago is not None else None
    db.add(Conversation(account_id=account.id, contact_id=contact.id, identity_id=identity.id, last_inbound_at=last))
    db.commit()
    return contact


def create(client, users, account, **fields):
    body = {"name": "Coupure programmée", "account_id": account.id, "text": "Bonjour {{ prenom }}", **fields}
    return client.post("/api/v1/campaigns", json=body, headers=users.headers("marketing"))


def run_campaign(client, users, run_jobs, account, **fields) -> dict:
    """Create, let the audience job read it, start, let the send jobs run; the campaign and its recipients."""
    response = create(client, users, account, **fields)
    assert response.status_code == 202, response.get_data(as_text=True)
    campaign_id = response.get_json()["id"]
    run_jobs()
    started = client.post(f"/api/v1/campaigns/{campaign_id}/start", headers=users.headers("marketing"))
    assert started.status_code == 200, started.get_data(as_text=True)
    run_jobs()
    campaign = client.get(f"/api/v1/campaigns/{campaign_id}", headers=users.headers("marketing")).get_json()
    rows = client.get(f"/api/v1/campaigns/{campaign_id}/recipients", headers=users.headers("marketing"))
    campaign["recipients"] = {r["address"]: r for r in rows.get_json()["items"]}
    return campaign


MESSENGER_CSV = (
    "cil;phone;prenom\n"
    "C-IN;;Amina\n"  # wrote 2 hours ago: inside the window
    "C-OUT;;Youssef\n"  # wrote 3 days ago: outside
    "C-NONE;;Khadija\n"  # a customer the Page has never heard from
    ";0612345699;Said\n"  # found by phone, wrote an hour ago
    ";0612345698;Nadia\n"  # a phone no contact of the Page has
)


@pytest.fixture
def messenger_people(db, facebook_account, whatsapp_account):
    person(db, facebook_account, "7100000000000001", cil="C-IN", wrote_ago=timedelta(hours=2))
    person(db, facebook_account, "7100000000000002", cil="C-OUT", wrote_ago=timedelta(days=3))
    person(db, whatsapp_account, "212612345677", cil="C-NONE", wrote_ago=timedelta(hours=1))  # WhatsApp only
    person(db, facebook_account, "7100000000000004", phone="212612345699", wrote_ago=timedelta(hours=1))
    db.rollback()


def test_a_messenger_campaign_with_a_tag_reaches_people_outside_the_window_with_it(
    client, users, facebook_account, messenger_people, run_jobs, platforms
):
    campaign = run_campaign(
        client, users, run_jobs, facebook_account, tag="CONFIRMED_EVENT_UPDATE", audience={"csv": MESSENGER_CSV}
    )
    assert campaign["channel"] == "facebook" and campaign["tag"] == "CONFIRMED_EVENT_UPDATE"
    assert campaign["status"] == "done"
    sent = platforms.messenger
    assert set(sent) == {"7100000000000001", "7100000000000002", "7100000000000004"}
    assert sent["7100000000000001"]["messaging_type"] == "UPDATE" and "tag" not in sent["7100000000000001"]
    assert sent["7100000000000004"]["messaging_type"] == "UPDATE"
    assert sent["7100000000000002"]["messaging_type"] == "MESSAGE_TAG"
    assert sent["7100000000000002"]["tag"] == "CONFIRMED_EVENT_UPDATE"
    assert sent["7100000000000002"]["message"]["text"] == "Bonjour Youssef"
    rows = campaign["recipients"]
    assert rows["7100000000000001"]["state"] == "sent" and rows["7100000000000001"]["external_id"]
    assert (rows["cil:C-NONE"]["state"], rows["cil:C-NONE"]["reason"]) == ("skipped", "no Messenger identity")
    assert (rows["phone:212612345698"]["state"], rows["phone:212612345698"]["reason"]) == (
        "skipped",
        "no Messenger identity",
    )
    assert campaign["counts"]["sent"] == 3 and campaign["counts"]["skipped"] == 2
    assert campaign["audience_report"]["skipped"] == 2 and campaign["audience_report"]["bad"] == 0


def test_without_a_tag_people_outside_the_window_are_skipped_with_the_reason(
    client, users, facebook_account, messenger_people, run_jobs, platforms
):
    campaign = run_campaign(client, users, run_jobs, facebook_account, audience={"csv": MESSENGER_CSV})
    assert set(platforms.messenger) == {"7100000000000001", "7100000000000004"}
    assert {body["messaging_type"] for body in platforms.messenger.values()} == {"UPDATE"}
    outside = campaign["recipients"]["7100000000000002"]
    assert (outside["state"], outside["reason"]) == ("skipped", "outside the 24-hour window, no tag")
    assert campaign["status"] == "done" and campaign["counts"]["failed"] == 0
    assert campaign["counts"]["skipped"] == 3
    french = {**users.headers("marketing"), "Accept-Language": "fr"}  # stored in English, shown in French
    shown = client.get(f"/api/v1/campaigns/{campaign['id']}/recipients", headers=french).get_json()["items"]
    reasons = {row["address"]: row["reason"] for row in shown}
    assert reasons["7100000000000002"] == "hors de la fenêtre de 24 heures, sans étiquette"
    assert reasons["cil:C-NONE"] == "aucune identité Messenger"


def test_directory_filters_on_messenger_take_the_page_s_psids(client, users, db, facebook_account, run_jobs, platforms):
    person(db, facebook_account, "7100000000000011", cil="Z-1", wrote_ago=timedelta(minutes=30))
    person(db, facebook_account, "7100000000000012", cil="Z-2", wrote_ago=None)  # never wrote: no window
    person(db, None, None, cil="Z-3")  # no identity at all: not in a filtered audience
    db.rollback()
    campaign = run_campaign(
        client, users, run_jobs, facebook_account, audience={"filters": {"cil_prefix": "Z-"}}, tag="ACCOUNT_UPDATE"
    )
    assert platforms.messenger["7100000000000011"]["messaging_type"] == "UPDATE"
    assert platforms.messenger["7100000000000012"]["tag"] == "ACCOUNT_UPDATE"
    assert campaign["counts"]["total"] == 2 and campaign["counts"]["sent"] == 2


@pytest.mark.parametrize(
    "fields, code",
    [
        ({"tag": "PROMOTION"}, "bad_tag"),
        ({"tag": "HUMAN_AGENT"}, "bad_tag"),  # for a person answering, never a bulk message
        ({"tag": 7}, "bad_tag"),
        ({"text": None, "template": {"name": "facture", "language": "fr", "parameters": []}}, "bad_template"),
        ({"rate_per_second": 31}, "bad_rate"),  # above the Page's default cap of 30 per second
    ],
)
def test_a_bad_messenger_campaign_is_refused_and_nothing_is_kept(client, users, db, facebook_account, fields, code):
    from sqlalchemy import func, select

    from inbox.models import Campaign

    body = {"name": "x", "account_id": facebook_account.id, "text": "Bonjour", "audience": {"csv": MESSENGER_CSV}}
    body = {key: value for key, value in {**body, **fields}.items() if value is not None}
    assert_error(client.post("/api/v1/campaigns", json=body, headers=users.headers("marketing")), 422, code)
    db.rollback()
    assert db.scalar(select(func.count(Campaign.id))) == 0


def test_a_tag_is_refused_on_whatsapp(client, users, whatsapp_account):
    audience = {"csv": "phone;prenom\n0612345601;A\n"}
    response = create(client, users, whatsapp_account, tag="ACCOUNT_UPDATE", audience=audience)
    assert_error(response, 422, "bad_tag")


def test_messenger_final_errors_fail_their_recipient_and_a_rate_limit_slows_down(
    client, users, db, facebook_account, run_jobs, platforms
):
    for psid in ("7100000000000021", "7100000000000022", "7100000000000023", "7100000000000024"):
        person(db, facebook_account, psid, cil=f"E-{psid[-1]}", wrote_ago=timedelta(hours=1))
    db.rollback()
    blocked = {"error": {"message": "(#551) This person isn't available right now.", "code": 551, "type": "x"}}
    window = {
        "error": {
            "message": "(#10) This message is sent outside of allowed window.",
            "code": 10,
            "error_subcode": 2018278,
            "type": "OAuthException",
        }
    }
    rate = {"error": {"message": "(#613) Calls to this api have exceeded the rate limit.", "code": 613, "type": "x"}}
    platforms.errors = {
        "7100000000000021": [(400, blocked, {})],
        "7100000000000022": [(400, window, {})],
        "7100000000000023": [(400, rate, {}), (400, rate, {})],
    }
    campaign = run_campaign(client, users, run_jobs, facebook_account, audience={"filters": {"cil_prefix": "E-"}})
    rows = campaign["recipients"]
    assert (rows["7100000000000021"]["state"], rows["7100000000000021"]["error_code"]) == ("failed", "551")
    assert (rows["7100000000000022"]["state"], rows["7100000000000022"]["error_code"]) == ("failed", "10")
    assert rows["7100000000000023"]["state"] == "sent"  # after two rate-limit answers
    assert set(platforms.messenger) == {"7100000000000023", "7100000000000024"}
    assert campaign["outcomes"]["failed_by_reason"] == {"551": 1, "10": 1}
    assert campaign["status"] == "done"


def set_limits(app, account, *options) -> str:
    result = app.test_cli_runner().invoke(args=["campaign-limits", str(account.id), *options])
    assert result.exit_code == 0, result.output
    return result.output


def test_an_x_campaign_stops_at_the_account_s_daily_cap_and_waits_for_the_next_day(
    app, client, users, db, twitter_account, run_jobs, platforms
):
    assert set_limits(app, twitter_account).strip().endswith("0.166667 per second, daily cap 12000")  # X's defaults
    assert "50 per second, daily cap 2" in set_limits(app, twitter_account, "--rate", "50", "--daily-cap", "2")
    for x_id in ("1423456789012340001", "1423456789012340002", "1423456789012340003"):
        person(db, twitter_account, x_id, cil=f"X-{x_id[-1]}", wrote_ago=timedelta(days=30))
    db.rollback()
    campaign = run_campaign(client, users, run_jobs, twitter_account, audience={"filters": {"cil_prefix": "X-"}})
    assert set(platforms.dms) == {"1423456789012340001", "1423456789012340002"}
    assert platforms.dms["1423456789012340001"] == {"text": "Bonjour Client"}
    waiting = campaign["recipients"]["1423456789012340003"]
    assert waiting["state"] == "pending" and "cap of 2 sends in 24 hours" in waiting["reason"]
    assert campaign["status"] == "running" and campaign["counts"]["failed"] == 0

    # A second campaign on the same account waits too: the cap is the account's, not the campaign's.
    person(db, twitter_account, "1423456789012340009", cil="Y-9", wrote_ago=timedelta(days=1))
    db.rollback()
    other = run_campaign(client, users, run_jobs, twitter_account, audience={"filters": {"cil_prefix": "Y-"}})
    assert other["recipients"]["1423456789012340009"]["state"] == "pending" and len(platforms.dms) == 2

    # The next day (the oldest send of the window is 24 hours old, the deferred rows due): a worker starting
    # then gives the running campaigns their loops again, and the rest goes, once each.
    from campaigns.sending import resume_running
    from inbox import broker
    from inbox.models import CampaignRecipient

    with app.app_context():
        key, connection = f"campaigns:daily:{twitter_account.id}", broker.connection()
        for member, score in connection.zrange(key, 0, -1, withscores=True):
            connection.zadd(key, {member: score - 24 * 3600 * 1000})
        db.query(CampaignRecipient).update({"not_before": None})
        db.commit()
        assert resume_running() == 2
    run_jobs()
    assert set(platforms.dms) == {f"142345678901234000{n}" for n in (1, 2, 3, 9)}
    assert len(platforms.dms) == 4


def test_x_final_errors_fail_their_recipient_and_a_429_slows_down(
    app, client, users, db, twitter_account, run_jobs, platforms
):
    set_limits(app, twitter_account, "--rate", "50")
    for x_id in ("1423456789012340031", "1423456789012340032", "1423456789012340033"):
        person(db, twitter_account, x_id, cil=f"F-{x_id[-1]}", wrote_ago=timedelta(days=2))
    db.rollback()
    cannot = {"errors": [{"code": 349, "message": "You cannot send messages to this user."}]}
    limited = {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429}
    platforms.errors = {
        "1423456789012340031": [(403, cannot, {})],
        "1423456789012340032": [(429, limited, {"x-rate-limit-reset": str(int(time.time()))})],
    }
    campaign = run_campaign(client, users, run_jobs, twitter_account, audience={"filters": {"cil_prefix": "F-"}})
    rows = campaign["recipients"]
    assert (rows["1423456789012340031"]["state"], rows["1423456789012340031"]["error_code"]) == ("failed", "349")
    assert rows["1423456789012340032"]["state"] == "sent" and rows["1423456789012340033"]["state"] == "sent"
    assert set(platforms.dms) == {"1423456789012340032", "1423456789012340033"}
    assert campaign["outcomes"]["failed_by_reason"] == {"349": 1} and campaign["status"] == "done"


def test_an_x_campaign_without_x_identities_skips_them(client, users, db, twitter_account, run_jobs, platforms):
    person(db, twitter_account, "1423456789012340041", cil="G-1", wrote_ago=timedelta(days=1))
    person(db, None, None, cil="G-2")
    db.rollback()
    campaign = run_campaign(
        client, users, run_jobs, twitter_account, audience={"csv": "cil;prenom\nG-1;Ali\nG-2;Hind\nG-3;Omar\n"}
    )
    assert list(platforms.dms) == ["1423456789012340041"] and campaign["status"] == "done"
    assert campaign["recipients"]["cil:G-2"]["reason"] == "no X identity"
    assert campaign["recipients"]["cil:G-3"]["reason"] == "no X identity"
