"""A campaign's optional file or image: attached to a draft through the API, uploaded to WhatsApp once for the
whole campaign, then sent by its media id with each person's text as the caption; refused where it cannot go."""

from __future__ import annotations

import io
import json

import pytest
import responses

from tests.campaigns.test_campaigns import control, create, prepared
from tests.conftest import GRAPH, PHONE_NUMBER_ID
from tests.inbox.test_api import assert_error

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 200


class FakeMedia:
    """The Graph API's media upload and message send: what was uploaded and what each person was sent."""

    def __init__(self, mock):
        self.uploads = []
        self.sent = {}
        mock.add_callback(responses.POST, f"{GRAPH}/{PHONE_NUMBER_ID}/media", callback=self.upload)
        mock.add_callback(responses.POST, f"{GRAPH}/{PHONE_NUMBER_ID}/messages", callback=self.send)

    def upload(self, request):
        self.uploads.append(request.body)
        return 200, {}, json.dumps({"id": f"media-{len(self.uploads)}"})

    def send(self, request):
        body = json.loads(request.body)
        self.sent[body["to"]] = body
        return 200, {}, json.dumps({"messaging_product": "whatsapp", "messages": [{"id": f"wamid.{body['to']}"}]})


@pytest.fixture
def platform():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeMedia(mock)


def put_file(client, users, campaign_id, data=PNG, name="coupure.png", mime="image/png", role="marketing"):
    return client.put(
        f"/api/v1/campaigns/{campaign_id}/file",
        data={"file": (io.BytesIO(data), name, mime)},
        headers=users.headers(role),
        content_type="multipart/form-data",
    )


def test_the_image_is_uploaded_once_and_sent_to_everyone_with_their_caption(
    client, users, whatsapp_account, run_jobs, platform
):
    campaign = prepared(client, users, run_jobs)
    attached = put_file(client, users, campaign["id"])
    assert attached.status_code == 200, attached.get_data(as_text=True)
    assert attached.get_json()["file"] == {"filename": "coupure.png", "mime_type": "image/png", "size": len(PNG)}

    control(client, users, campaign["id"], "start")
    run_jobs()

    assert len(platform.uploads) == 1 and b"coupure.png" in platform.uploads[0]
    assert sorted(platform.sent) == ["212612345601", "212612345602"]
    amina = platform.sent["212612345601"]
    assert amina["type"] == "image"
    assert amina["image"] == {"id": "media-1", "caption": "Bonjour Amina, votre facture de 350 DH est disponible."}
    assert platform.sent["212612345602"]["image"]["caption"].startswith("Bonjour Youssef")


def test_a_file_is_removed_from_a_draft_and_the_text_goes_alone(client, users, whatsapp_account, run_jobs, platform):
    campaign = prepared(client, users, run_jobs)
    put_file(client, users, campaign["id"], data=b"%PDF-1.4 facture", name="facture.pdf", mime="application/pdf")
    removed = client.delete(f"/api/v1/campaigns/{campaign['id']}/file", headers=users.headers("marketing"))
    assert removed.status_code == 200 and removed.get_json()["file"] is None
    control(client, users, campaign["id"], "start")
    run_jobs()
    assert platform.uploads == [] and platform.sent["212612345601"]["type"] == "text"


def test_files_that_cannot_go_are_refused_and_nothing_changes(
    app, client, users, whatsapp_account, facebook_account, run_jobs, platform
):
    campaign = prepared(client, users, run_jobs)
    assert_error(put_file(client, users, campaign["id"], b"<svg/>", "x.svg", "image/svg+xml"), 415, "unsupported_file")
    big = b"\x89PNG" + b"\0" * (5 * 1024 * 1024)
    assert_error(put_file(client, users, campaign["id"], big), 413, "file_too_large")
    no_file = client.put(
        f"/api/v1/campaigns/{campaign['id']}/file", data={}, headers=users.headers("marketing"),
        content_type="multipart/form-data",
    )
    assert_error(no_file, 400, "no_file")
    shown = client.get(f"/api/v1/campaigns/{campaign['id']}", headers=users.headers("marketing")).get_json()
    assert shown["file"] is None

    long_text = prepared(client, users, run_jobs, text="{{ prenom }} " + "x" * 1100)
    assert_error(put_file(client, users, long_text["id"]), 422, "text_too_long")  # a caption: 1,024 at most

    text, account = "Bonjour {{ prenom }}", facebook_account.id
    on_messenger = create(client, users, channel=None, account_id=account, text=text, audience={"filters": {}})
    assert on_messenger.status_code == 202, on_messenger.get_data(as_text=True)
    assert_error(put_file(client, users, on_messenger.get_json()["id"]), 422, "file_not_allowed")

    control(client, users, campaign["id"], "start")
    assert_error(put_file(client, users, campaign["id"]), 409, "bad_state")
    assert_error(put_file(client, users, 999), 404, "not_found")


@pytest.mark.parametrize("role", ["agent", "supervisor", "reviewer"])
def test_only_marketing_and_admins_attach_files(role, client, users, whatsapp_account, run_jobs, platform):
    campaign = prepared(client, users, run_jobs)
    assert_error(put_file(client, users, campaign["id"], role=role), 403, "forbidden")
    assert put_file(client, users, campaign["id"], role="admin").status_code == 200
