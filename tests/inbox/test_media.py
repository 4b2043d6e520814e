"""Inbound files: downloaded by a job from the faked Graph API, checked, stored, and served to logged-in users."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import pytest
import requests
import responses

from tests.conftest import GRAPH, PASSWORD, PHONE_NUMBER_ID, fixture_json
from tests.inbox.test_sending import tiny_png

LOOKASIDE = fixture_json("whatsapp/api/media_url_response.json")["url"]
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
# fixture -> the bytes served for it and the type the file server gives
FILES = {
    "image_with_caption.json": (tiny_png(), "image/png"),
    "document_pdf.json": (PDF, "application/pdf"),
    "audio_voice_ogg.json": (b"OggS\x00\x02" + b"\x00" * 64, "audio/ogg"),
    "video.json": (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64, "video/mp4"),
}


def inbound(name: str, content: bytes, sha256: str | None = None) -> tuple[bytes, dict]:
    """A media fixture whose sha256 is the base64 sha256 of `content` (as WhatsApp sends it)."""
    payload = fixture_json(f"whatsapp/{name}")
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    media = message[message["type"]]
    media["sha256"] = sha256 or base64.b64encode(hashlib.sha256(content).digest()).decode()
    return json.dumps(payload).encode(), media


def lookup_answer(media: dict, content: bytes) -> dict:
    answer = fixture_json("whatsapp/api/media_url_response.json")
    answer.update(
        id=media["id"],
        mime_type=media["mime_type"],
        sha256=hashlib.sha256(content).hexdigest(),
        file_size=len(content),
    )
    return answer


@pytest.fixture
def graph():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def serve(graph, media: dict, content: bytes, content_type: str) -> None:
    """The media look-up, then the file behind its short-lived URL."""
    graph.add(responses.GET, f"{GRAPH}/{media['id']}", json=lookup_answer(media, content))
    graph.add(responses.GET, LOOKASIDE, body=content, content_type=content_type)


def calls_to(graph, url: str) -> list:
    return [c for c in graph.calls if c.request.url.split("?")[0] == url.split("?")[0]]


def attachments(client, users) -> list[dict]:
    found = []
    for conversation in client.get("/api/v1/conversations", headers=users.headers("agent")).get_json()["items"]:
        url = f"/api/v1/conversations/{conversation['id']}/messages"
        for message in client.get(url, headers=users.headers("agent")).get_json()["items"]:
            found += message["attachments"]
    return found


def stored_files(app) -> list[Path]:
    root = Path(app.config["MEDIA_DIR"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def log_in(client, email: str = "agent@example.com", password: str = PASSWORD):
    """Log in through the form, with the CSRF token the login page gives."""
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf[_-]token"\s+(?:value|content)="([^"]+)"', page)
    assert match, "the login page carries a CSRF token"
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": match.group(1)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


@pytest.mark.parametrize("name", sorted(FILES))
def test_an_inbound_file_is_downloaded_checked_and_stored(
    name, app, client, users, post_webhook, whatsapp_account, graph, run_jobs
):
    content, served_type = FILES[name]
    body, media = inbound(name, content)
    serve(graph, media, content, served_type)

    assert post_webhook(body).status_code == 200
    [pending] = attachments(client, users)
    assert pending["state"] == "pending"
    assert pending["url"] is None

    run_jobs()

    lookup, download = graph.calls
    assert lookup.request.url.split("?")[0] == f"{GRAPH}/{media['id']}"
    assert lookup.request.headers["Authorization"] == "Bearer test-token"
    assert f"phone_number_id={PHONE_NUMBER_ID}" in lookup.request.url
    assert download.request.url == LOOKASIDE
    assert download.request.headers["Authorization"] == "Bearer test-token"  # a bare GET gets nothing (A.4)
    [ready] = attachments(client, users)
    sha = hashlib.sha256(content).hexdigest()
    assert ready["state"] == "ready"
    assert ready["sha256"] == sha
    assert ready["size"] == len(content)
    assert ready["mime_type"] == media["mime_type"]
    assert ready["error"] is None
    assert ready["url"] == f"/media/{ready['id']}"
    [path] = stored_files(app)
    assert path.read_bytes() == content
    assert path.name == sha


def test_a_stored_file_is_served_to_logged_in_users_only(
    app, client, users, post_webhook, whatsapp_account, graph, run_jobs
):
    content = tiny_png()
    body, media = inbound("image_with_caption.json", content)
    serve(graph, media, content, "image/png")
    post_webhook(body)
    run_jobs()
    [attachment] = attachments(client, users)

    anonymous = client.get(attachment["url"])
    assert anonymous.status_code in (302, 401)
    assert content not in anonymous.get_data()
    if anonymous.status_code == 302:
        assert "/login" in anonymous.headers["Location"]

    log_in(client)
    served = client.get(attachment["url"])
    assert served.status_code == 200
    assert served.get_data() == content
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.mimetype == "image/jpeg"  # as announced; the file server's word is only checked
    assert not served.headers.get("Content-Disposition", "inline").startswith("attachment")


def test_a_bearer_token_does_not_open_the_files(client, users, post_webhook, whatsapp_account, graph, run_jobs):
    content = tiny_png()
    body, media = inbound("image_with_caption.json", content)
    serve(graph, media, content, "image/png")
    post_webhook(body)
    run_jobs()
    [attachment] = attachments(client, users)
    assert content not in client.get(attachment["url"], headers=users.headers("agent")).get_data()


def test_a_pdf_is_served_as_a_download(client, users, post_webhook, whatsapp_account, graph, run_jobs):
    body, media = inbound("document_pdf.json", PDF)
    serve(graph, media, PDF, "application/pdf")
    post_webhook(body)
    run_jobs()
    [attachment] = attachments(client, users)
    log_in(client)
    served = client.get(attachment["url"])
    assert served.status_code == 200
    assert served.get_data() == PDF
    assert served.headers["Content-Disposition"].startswith("attachment")
    assert "Facture_Octobre_2025.pdf" in served.headers["Content-Disposition"]
    assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_the_marketing_role_gets_no_files(client, users, post_webhook, whatsapp_account, graph, run_jobs):
    content = tiny_png()
    body, media = inbound("image_with_caption.json", content)
    serve(graph, media, content, "image/png")
    post_webhook(body)
    run_jobs()
    [attachment] = attachments(client, users)
    log_in(client, "marketing@example.com")
    assert client.get(attachment["url"]).status_code == 404


@pytest.mark.parametrize("broken", ["lookup", "download"])
def test_a_failing_download_is_retried_then_failed_then_fetched_again_on_request(
    broken, app, client, users, post_webhook, whatsapp_account, graph, run_jobs
):
    content = tiny_png()
    body, media = inbound("image_with_caption.json", content)
    lookup_url = f"{GRAPH}/{media['id']}"
    if broken == "lookup":
        graph.add(responses.GET, lookup_url, status=500, json={"error": {"code": 1, "message": "An unknown error"}})
    else:
        graph.add(responses.GET, lookup_url, json=lookup_answer(media, content))
        graph.add(responses.GET, LOOKASIDE, status=500, body="oops")
    post_webhook(body)

    run_jobs()

    broken_url = lookup_url if broken == "lookup" else LOOKASIDE
    assert len(calls_to(graph, broken_url)) == 1 + app.config["SEND_MAX_RETRIES"]
    [failed] = attachments(client, users)
    assert failed["state"] == "failed"
    assert failed["error"]
    assert failed["url"] is None
    assert stored_files(app) == []

    graph.reset()
    serve(graph, media, content, "image/png")
    response = client.post(f"/api/v1/attachments/{failed['id']}/retry", headers=users.headers("agent"))
    assert response.status_code == 202
    assert response.get_json()["state"] == "pending"
    run_jobs()
    [ready] = attachments(client, users)
    assert ready["state"] == "ready"
    assert ready["error"] is None
    assert ready["sha256"] == hashlib.sha256(content).hexdigest()


def test_a_timeout_while_downloading_is_retried(client, users, post_webhook, whatsapp_account, graph, run_jobs):
    content = tiny_png()
    body, media = inbound("image_with_caption.json", content)
    graph.add(responses.GET, f"{GRAPH}/{media['id']}", json=lookup_answer(media, content))
    graph.add(responses.GET, LOOKASIDE, body=requests.exceptions.ReadTimeout("slow"))
    graph.add(responses.GET, LOOKASIDE, body=content, content_type="image/png")
    post_webhook(body)
    run_jobs()
    [ready] = attachments(client, users)
    assert ready["state"] == "ready"
    assert len(calls_to(graph, LOOKASIDE)) == 2


def test_retry_is_refused_for_a_ready_file(client, users, post_webhook, whatsapp_account, graph, run_jobs):
    content = tiny_png()
    body, media = inbound("image_with_caption.json", content)
    serve(graph, media, content, "image/png")
    post_webhook(body)
    run_jobs()
    [ready] = attachments(client, users)
    response = client.post(f"/api/v1/attachments/{ready['id']}/retry", headers=users.headers("agent"))
    assert response.status_code == 409
    assert client.post("/api/v1/attachments/99999/retry", headers=users.headers("agent")).status_code == 404
    refused = client.post(f"/api/v1/attachments/{ready['id']}/retry", headers=users.headers("marketing"))
    assert refused.status_code == 403


def test_a_checksum_mismatch_ends_failed_and_keeps_nothing(
    app, client, users, post_webhook, whatsapp_account, graph, run_jobs
):
    content = tiny_png()
    body, media = inbound("image_with_caption.json", content)
    tampered = content + b"tampered"
    graph.add(responses.GET, f"{GRAPH}/{media['id']}", json=lookup_answer(media, content))
    graph.add(responses.GET, LOOKASIDE, body=tampered, content_type="image/png")
    post_webhook(body)

    run_jobs()

    [failed] = attachments(client, users)
    assert failed["state"] == "failed"
    assert "checksum" in failed["error"]
    assert failed["sha256"] is None
    assert stored_files(app) == []


def test_a_type_mismatch_ends_failed_at_once(app, client, users, post_webhook, whatsapp_account, graph, run_jobs):
    html = b"<html><script>alert(1)</script></html>"
    body, media = inbound("image_with_caption.json", html)
    graph.add(responses.GET, f"{GRAPH}/{media['id']}", json=lookup_answer(media, html))  # the look-up says jpeg
    graph.add(responses.GET, LOOKASIDE, body=html, content_type="text/html; charset=utf-8")
    post_webhook(body)

    run_jobs()

    [failed] = attachments(client, users)
    assert failed["state"] == "failed"
    assert "text/html" in failed["error"]
    assert len(calls_to(graph, LOOKASIDE)) == 1  # nothing to gain by asking again
    assert stored_files(app) == []


def test_a_file_announced_larger_than_the_limit_is_refused(
    app, client, users, post_webhook, whatsapp_account, graph, run_jobs
):
    app.config["MEDIA_MAX_BYTES"] = 1024
    content = tiny_png() + b"\x00" * 2048
    body, media = inbound("image_with_caption.json", content)
    serve(graph, media, content, "image/png")
    post_webhook(body)
    run_jobs()
    [failed] = attachments(client, users)
    assert failed["state"] == "failed"
    assert "larger" in failed["error"]
    assert stored_files(app) == []


def test_ready_and_failed_are_announced(app, client, users, post_webhook, whatsapp_account, graph, run_jobs):
    from inbox.realtime import socketio

    content = tiny_png()
    body, media = inbound("image_with_caption.json", content)
    serve(graph, media, content, "image/png")
    listener = socketio.test_client(app, auth={"token": users.tokens["agent"]})
    post_webhook(body)
    listener.get_received()
    run_jobs()
    updates = [e["args"][0] for e in listener.get_received() if e["name"] == "message.updated"]
    assert [u["message"]["attachments"][0]["state"] for u in updates] == ["ready"]
    listener.disconnect()
