"""Agent replies through the API, sent by the RQ job to a faked Graph API: bodies, retries, failures, files."""

from __future__ import annotations

import io
import json
import struct
import zlib

import pytest
import requests
import responses

from tests.conftest import GRAPH, PHONE_NUMBER_ID, fixture_bytes, fixture_json, recent

MESSAGES_URL = f"{GRAPH}/{PHONE_NUMBER_ID}/messages"
MEDIA_URL = f"{GRAPH}/{PHONE_NUMBER_ID}/media"
CUSTOMER = "212612345678"  # the sender of whatsapp/text.json
SEND_RESPONSE = fixture_json("whatsapp/api/send_response.json")
WAMID = SEND_RESPONSE["messages"][0]["id"]
UPLOADED_MEDIA_ID = "1479537139650973"


def tiny_png() -> bytes:
    """A real 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + (chunk(b"IEND", b""))
    )


def graph_error(name: str, status: int = 400) -> dict:
    """A Graph API error answer from tests/data/whatsapp/api."""
    return {"status": status, "json": fixture_json(f"whatsapp/api/{name}")}


OK = {"status": 200, "json": SEND_RESPONSE}


@pytest.fixture
def graph():
    """The faked Graph API; every HTTP call of the test goes through it."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def conversation(client, post_webhook, whatsapp_account, users):
    """The conversation opened by the customer's text message (as the API shows it)."""
    assert post_webhook(recent(fixture_bytes("whatsapp/text.json"))).status_code == 200
    [item] = client.get("/api/v1/conversations", headers=users.headers("agent")).get_json()["items"]
    return item


def answers(graph, url: str, *replies: dict, method: str = responses.POST) -> None:
    """Register replies in order; the last one repeats."""
    for reply in replies:
        if isinstance(reply.get("body"), Exception):
            graph.add(method, url, body=reply["body"])
        else:
            graph.add(method, url, **reply)


def calls_to(graph, url: str) -> list:
    return [c for c in graph.calls if c.request.url.split("?")[0] == url]


def send_text(client, users, conversation_id: int, **body):
    return client.post(f"/api/v1/conversations/{conversation_id}/messages", json=body, headers=users.headers("agent"))


def message(client, users, conversation_id: int, message_id: int) -> dict:
    items = client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=users.headers("agent")).get_json()
    return next(m for m in items["items"] if m["id"] == message_id)


def test_text_reply_is_queued_then_sent_with_the_exact_body(client, users, conversation, graph, run_jobs):
    answers(graph, MESSAGES_URL, OK)

    response = send_text(client, users, conversation["id"], text="  Bonjour, votre commande arrive demain ✅  ")

    assert response.status_code == 202
    queued = response.get_json()
    assert queued["status"] == "queued"
    assert queued["direction"] == "out"
    assert queued["external_id"] is None
    assert queued["author"]["type"] == "user"
    assert len(graph.calls) == 0  # nothing leaves the web request: the job sends

    run_jobs()

    [call] = calls_to(graph, MESSAGES_URL)
    assert call.request.headers["Authorization"] == "Bearer test-token"
    assert json.loads(call.request.body) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        "type": "text",
        "text": {"preview_url": False, "body": "Bonjour, votre commande arrive demain ✅"},
    }
    sent = message(client, users, conversation["id"], queued["id"])
    assert sent["status"] == "sent"
    assert sent["external_id"] == WAMID
    assert sent["error"] is None
    assert sent["sent_at"] is not None


def test_reply_to_an_inbound_message_quotes_its_wamid(client, users, conversation, graph, run_jobs):
    answers(graph, MESSAGES_URL, OK)
    inbound = client.get(
        f"/api/v1/conversations/{conversation['id']}/messages", headers=users.headers("agent")
    ).get_json()["items"][0]

    response = send_text(client, users, conversation["id"], text="Bien noté", reply_to=inbound["id"])
    assert response.status_code == 202
    run_jobs()

    [call] = calls_to(graph, MESSAGES_URL)
    body = json.loads(call.request.body)
    assert body["context"] == {"message_id": inbound["external_id"]}
    assert body["text"]["body"] == "Bien noté"
    assert body["to"] == CUSTOMER


@pytest.mark.parametrize("reply_to", [999999, "abc", -1])
def test_reply_to_must_be_a_message_of_the_conversation(client, users, conversation, reply_to):
    response = send_text(client, users, conversation["id"], text="Bien noté", reply_to=reply_to)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "bad_reply_to"


TRANSIENT = {
    "130429 rate limit": graph_error("error_130429_rate_limit.json"),
    "131056 pair rate limit": graph_error("error_131056_pair_rate_limit.json"),
    "HTTP 500 with an HTML page": {"status": 500, "body": "<html>Internal error</html>", "content_type": "text/html"},
    "HTTP 503 with a Graph error": {"status": 503, "json": {"error": {"code": 2, "message": "Service unavailable"}}},
    "connect timeout": {"body": requests.exceptions.ConnectTimeout("connect timed out")},
    "read timeout": {"body": requests.exceptions.ReadTimeout("read timed out")},
    "connection refused": {"body": requests.exceptions.ConnectionError("connection refused")},
}


@pytest.mark.parametrize("failure", sorted(TRANSIENT))
def test_transient_failure_is_retried_then_sent(failure, client, users, conversation, graph, run_jobs):
    answers(graph, MESSAGES_URL, TRANSIENT[failure], OK)

    queued = send_text(client, users, conversation["id"], text="Salam").get_json()
    run_jobs()

    assert len(calls_to(graph, MESSAGES_URL)) == 2
    sent = message(client, users, conversation["id"], queued["id"])
    assert sent["status"] == "sent"
    assert sent["external_id"] == WAMID
    assert sent["error"] is None


FINAL = {
    # failure -> (expected error code, words the agent's sentence must contain)
    "131047 re-engagement": (graph_error("error_131047_reengagement_sync.json"), "131047", "24 hours"),
    "invalid parameter": (
        {"status": 400, "json": {"error": {"code": 100, "message": "(#100) Invalid parameter"}}},
        "100",
        "invalid",
    ),
    "expired token": (
        {"status": 401, "json": {"error": {"code": 190, "message": "Error validating access token"}}},
        "190",
        "token",
    ),
    "HTTP 404 without a Graph body": ({"status": 404, "body": "not found"}, "http_404", "404"),
    "unknown code": (
        {"status": 400, "json": {"error": {"code": 131009, "error_data": {"details": "Parameter value is not valid"}}}},
        "131009",
        "Parameter value is not valid",
    ),
}


@pytest.mark.parametrize("failure", sorted(FINAL))
def test_final_failure_is_not_retried_and_explained(failure, client, users, conversation, graph, run_jobs):
    reply, code, words = FINAL[failure]
    answers(graph, MESSAGES_URL, reply, OK)

    queued = send_text(client, users, conversation["id"], text="Salam").get_json()
    run_jobs()

    assert len(calls_to(graph, MESSAGES_URL)) == 1
    failed = message(client, users, conversation["id"], queued["id"])
    assert failed["status"] == "failed"
    assert failed["external_id"] is None
    assert failed["error"]["code"] == code
    assert words.lower() in failed["error"]["message"].lower()


def test_131047_says_what_the_agent_can_do(client, users, conversation, graph, run_jobs):
    answers(graph, MESSAGES_URL, graph_error("error_131047_reengagement_sync.json"))
    queued = send_text(client, users, conversation["id"], text="Salam").get_json()
    run_jobs()
    error = message(client, users, conversation["id"], queued["id"])["error"]
    assert error["code"] == "131047"
    assert "template" in error["message"]  # the way out: an approved template


def test_after_the_last_retry_the_message_fails_with_its_reason(app, client, users, conversation, graph, run_jobs):
    answers(graph, MESSAGES_URL, graph_error("error_130429_rate_limit.json"))

    queued = send_text(client, users, conversation["id"], text="Salam").get_json()
    run_jobs()

    assert len(calls_to(graph, MESSAGES_URL)) == 1 + app.config["SEND_MAX_RETRIES"]
    failed = message(client, users, conversation["id"], queued["id"])
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "130429"
    assert "rate" in failed["error"]["message"]


def test_timeouts_until_the_last_retry_fail_with_a_reason(app, client, users, conversation, graph, run_jobs):
    answers(graph, MESSAGES_URL, {"body": requests.exceptions.ReadTimeout("read timed out")})
    queued = send_text(client, users, conversation["id"], text="Salam").get_json()
    run_jobs()
    assert len(calls_to(graph, MESSAGES_URL)) == 1 + app.config["SEND_MAX_RETRIES"]
    failed = message(client, users, conversation["id"], queued["id"])
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "timeout"
    assert failed["error"]["message"]


def test_the_platform_call_has_a_timeout(app, client, users, conversation, graph, run_jobs):
    seen = []

    def reply(request):
        seen.append(request.req_kwargs.get("timeout"))
        return 200, {}, json.dumps(SEND_RESPONSE)

    graph.add_callback(responses.POST, MESSAGES_URL, callback=reply)
    send_text(client, users, conversation["id"], text="Salam")
    run_jobs()
    assert seen == [app.config["HTTP_TIMEOUT"]]


def test_a_file_is_uploaded_then_sent_by_its_media_id(client, users, conversation, graph, run_jobs):
    png = tiny_png()
    answers(graph, MEDIA_URL, {"status": 200, "json": {"id": UPLOADED_MEDIA_ID}})
    answers(graph, MESSAGES_URL, OK)

    response = client.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        data={"text": "صورة الفاتورة", "file": (io.BytesIO(png), "facture.png", "image/png")},
        content_type="multipart/form-data",
        headers=users.headers("agent"),
    )

    assert response.status_code == 202, response.get_data(as_text=True)
    queued = response.get_json()
    assert queued["type"] == "image"
    assert queued["status"] == "queued"
    [attachment] = queued["attachments"]
    assert attachment["mime_type"] == "image/png"
    assert attachment["filename"] == "facture.png"
    assert attachment["size"] == len(png)

    run_jobs()

    assert [c.request.url for c in graph.calls] == [MEDIA_URL, MESSAGES_URL]
    upload = graph.calls[0].request
    assert upload.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert upload.headers["Authorization"] == "Bearer test-token"
    body = upload.body if isinstance(upload.body, bytes) else upload.body.read()
    assert png in body
    assert b'name="messaging_product"\r\n\r\nwhatsapp' in body
    assert b'filename="facture.png"' in body
    assert b"Content-Type: image/png" in body
    assert json.loads(graph.calls[1].request.body) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        "type": "image",
        "image": {"id": UPLOADED_MEDIA_ID, "caption": "صورة الفاتورة"},
    }
    sent = message(client, users, conversation["id"], queued["id"])
    assert sent["status"] == "sent"
    assert sent["external_id"] == WAMID


def test_a_pdf_is_sent_as_a_document_with_its_filename(client, users, conversation, graph, run_jobs):
    answers(graph, MEDIA_URL, {"status": 200, "json": {"id": UPLOADED_MEDIA_ID}})
    answers(graph, MESSAGES_URL, OK)
    response = client.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        data={"file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "Facture octobre.pdf", "application/pdf")},
        content_type="multipart/form-data",
        headers=users.headers("agent"),
    )
    assert response.status_code == 202
    assert response.get_json()["type"] == "document"
    run_jobs()
    assert json.loads(graph.calls[1].request.body)["document"] == {
        "id": UPLOADED_MEDIA_ID,
        "filename": "Facture octobre.pdf",
    }


def test_a_refused_upload_fails_the_message_with_the_platform_reason(client, users, conversation, graph, run_jobs):
    refused = {"error": {"code": 131053, "message": "Media upload error", "error_data": {"details": "bad file"}}}
    answers(graph, MEDIA_URL, {"status": 400, "json": refused})
    response = client.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        data={"file": (io.BytesIO(tiny_png()), "a.png", "image/png")},
        content_type="multipart/form-data",
        headers=users.headers("agent"),
    )
    run_jobs()
    failed = message(client, users, conversation["id"], response.get_json()["id"])
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "131053"
    assert calls_to(graph, MESSAGES_URL) == []


@pytest.mark.parametrize(
    "filename, mime",
    [("page.html", "text/html"), ("setup.exe", "application/x-msdownload"), ("image.svg", "image/svg+xml")],
)
def test_unsupported_file_types_are_415(client, users, conversation, filename, mime):
    response = client.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        data={"file": (io.BytesIO(b"<html></html>"), filename, mime)},
        content_type="multipart/form-data",
        headers=users.headers("agent"),
    )
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_file"


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"text": ""}, 422, "empty_message"),
        ({"text": "   \n "}, 422, "empty_message"),
        ({}, 422, "empty_message"),
        ({"text": "x" * 4097}, 422, "text_too_long"),
        ({"text": "x" * 4096}, 202, None),
    ],
    ids=["empty", "blank", "no text", "4097 chars", "4096 chars"],
)
def test_text_checks(client, users, conversation, body, status, code):
    response = send_text(client, users, conversation["id"], **body)
    assert response.status_code == status
    if code:
        assert response.get_json()["error"]["code"] == code


def test_nothing_is_stored_for_a_refused_reply(client, users, conversation):
    send_text(client, users, conversation["id"], text="x" * 5000)
    items = client.get(f"/api/v1/conversations/{conversation['id']}/messages", headers=users.headers("agent"))
    assert [m["direction"] for m in items.get_json()["items"]] == ["in"]


def test_sending_to_an_unknown_conversation_is_404(client, users, whatsapp_account):
    response = send_text(client, users, 424242, text="Salam")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_first_response_is_the_first_agent_reply_that_went_out(client, users, conversation, graph, run_jobs):
    answers(graph, MESSAGES_URL, graph_error("error_131047_reengagement_sync.json"), OK)
    assert conversation["first_response_at"] is None
    assert conversation["first_response_due_at"] is not None

    send_text(client, users, conversation["id"], text="first, refused by WhatsApp")
    run_jobs()
    after_failure = client.get(f"/api/v1/conversations/{conversation['id']}", headers=users.headers("agent"))
    assert after_failure.get_json()["first_response_at"] is None  # the customer got nothing yet

    second = send_text(client, users, conversation["id"], text="second, delivered").get_json()
    run_jobs()
    answered = client.get(f"/api/v1/conversations/{conversation['id']}", headers=users.headers("agent")).get_json()
    assert answered["first_response_at"] == second["created_at"]

    third = send_text(client, users, conversation["id"], text="third")
    assert third.status_code == 202
    run_jobs()
    again = client.get(f"/api/v1/conversations/{conversation['id']}", headers=users.headers("agent")).get_json()
    assert again["first_response_at"] == answered["first_response_at"]


def test_the_agent_who_replies_takes_an_unassigned_conversation(client, users, conversation, graph):
    answers(graph, MESSAGES_URL, OK)
    send_text(client, users, conversation["id"], text="Salam")
    got = client.get(f"/api/v1/conversations/{conversation['id']}", headers=users.headers("agent")).get_json()
    assert got["assignee"]["id"] == users.by_role["agent"].id


def test_a_job_run_twice_sends_once(app, client, users, conversation, graph, run_jobs):
    from inbox.sending import send_message

    answers(graph, MESSAGES_URL, OK)
    queued = send_text(client, users, conversation["id"], text="Salam").get_json()
    run_jobs()
    with app.app_context():
        send_message(queued["id"])
    assert len(calls_to(graph, MESSAGES_URL)) == 1
