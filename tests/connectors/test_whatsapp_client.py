"""WhatsApp Cloud API calls (heyoo behind a timed facade): request bodies, uploads, downloads, error handling."""

from __future__ import annotations

import json
import threading
from email.parser import BytesParser
from email.policy import HTTP

import heyoo
import pytest
import requests
import responses

from connectors.base import AccountSettings, OutboundFile, OutboundMessage, SendError
from connectors.whatsapp import client
from tests.conftest import GRAPH, PHONE_NUMBER_ID, fixture_json

MESSAGES_URL = f"{GRAPH}/{PHONE_NUMBER_ID}/messages"
MEDIA_URL = f"{GRAPH}/{PHONE_NUMBER_ID}/media"
ACCOUNT = AccountSettings(external_id=PHONE_NUMBER_ID, secrets={"token": "test-token"}, api_base_url=GRAPH, timeout=7)
SEND_RESPONSE = fixture_json("whatsapp/api/send_response.json")
WAMID = SEND_RESPONSE["messages"][0]["id"]
LOOKUP = fixture_json("whatsapp/api/media_url_response.json")


@pytest.fixture
def graph():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def sent_json(call) -> dict:
    return json.loads(call.request.body)


def multipart(call) -> dict:
    """The form fields of a multipart request: name -> (filename, content type, bytes)."""
    head = f"Content-Type: {call.request.headers['Content-Type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + call.request.body)
    return {
        part.get_param("name", header="content-disposition"): (
            part.get_filename(),
            part.get_content_type(),
            part.get_payload(decode=True),
        )
        for part in message.iter_parts()
    }


def stored_file(tmp_path, content: bytes, mime: str, filename: str) -> OutboundFile:
    # Stored files are named by their sha256, with no extension (inbox/media.py).
    path = tmp_path / "ab" / ("ab" + "0" * 62)
    path.parent.mkdir()
    path.write_bytes(content)
    return OutboundFile(path=str(path), mime_type=mime, filename=filename)


# --- request bodies (fixtures README C.1) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fixture, message",
    [
        (
            "send_text_request.json",
            OutboundMessage(
                to="212612345678",
                text="Merci Youssef ! Votre commande #7781 est en route 🚚 — الطلبية ديالك فالطريق",
            ),
        ),
        (
            "send_text_reply_with_context_request.json",
            OutboundMessage(
                to="212698765432",
                text="Bien noté, l'adresse est mise à jour ✅",
                reply_to="wamid.HBgMMjEyNjk4NzY1NDMyFQIAEhggQzNENEU1RjZBN0I4QzlEMEUxRjJBM0I0QzVENkU3RjgA",
            ),
        ),
    ],
)
def test_text_bodies_match_the_documented_requests(fixture, message, graph):
    graph.add(responses.POST, MESSAGES_URL, json=SEND_RESPONSE)

    result = client.send(ACCOUNT, message)

    assert result.external_id == WAMID
    expected = fixture_json(f"whatsapp/api/{fixture}")
    expected["text"].setdefault("preview_url", False)  # we always say it: links in replies are not previewed
    [call] = graph.calls
    assert sent_json(call) == expected
    assert call.request.headers["Authorization"] == "Bearer test-token"
    assert call.request.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "mime, filename, text, kind, expected_media",
    [
        ("image/png", "photo.png", "صورة الفاتورة", "image", {"caption": "صورة الفاتورة"}),
        ("video/mp4", "clip.mp4", "La vidéo", "video", {"caption": "La vidéo"}),
        ("audio/ogg", "voice.ogg", "ignored", "audio", {}),  # audio takes no caption
        (
            "application/pdf",
            "Facture.pdf",
            "La facture",
            "document",
            {"caption": "La facture", "filename": "Facture.pdf"},
        ),
        ("text/plain", "notes.txt", None, "document", {"filename": "notes.txt"}),
    ],
)
def test_a_file_is_uploaded_then_sent_by_id(mime, filename, text, kind, expected_media, graph, tmp_path):
    content = b"\x89PNG-not-really" + filename.encode()
    graph.add(responses.POST, MEDIA_URL, json={"id": "1479537139650973"})
    graph.add(responses.POST, MESSAGES_URL, json=SEND_RESPONSE)
    file = stored_file(tmp_path, content, mime, filename)

    client.send(ACCOUNT, OutboundMessage(to="212612345678", text=text, file=file))

    upload, send = graph.calls
    assert upload.request.url == MEDIA_URL
    assert upload.request.headers["Authorization"] == "Bearer test-token"
    fields = multipart(upload)
    assert fields["file"] == (filename, mime, content)  # the name the agent gave, never the server's path
    assert fields["messaging_product"][2] == b"whatsapp"
    assert fields["type"][2] == mime.encode()
    assert str(tmp_path) not in upload.request.body.decode("latin-1")
    assert sent_json(send) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "212612345678",
        "type": kind,
        kind: {"id": "1479537139650973", **expected_media},
    }


def test_a_refused_upload_keeps_metas_code(graph, tmp_path):
    error = {"error": {"code": 131053, "message": "Media upload error", "error_data": {"details": "Unsupported"}}}
    graph.add(responses.POST, MEDIA_URL, status=400, json=error)
    file = stored_file(tmp_path, b"x", "image/png", "a.png")
    with pytest.raises(SendError) as raised:
        client.send(ACCOUNT, OutboundMessage(to="212612345678", file=file))
    assert raised.value.code == "131053"
    assert not raised.value.retryable
    assert len(graph.calls) == 1


def test_an_upload_answer_without_an_id_is_retryable(graph, tmp_path):
    graph.add(responses.POST, MEDIA_URL, json={})
    with pytest.raises(SendError) as raised:
        client.send(ACCOUNT, OutboundMessage(to="1", file=stored_file(tmp_path, b"x", "image/png", "a.png")))
    assert raised.value.retryable


# --- errors ---------------------------------------------------------------------------------------------------------

ERRORS = [
    # (answer, expected code, retryable)
    ({"status": 400, "json": fixture_json("whatsapp/api/error_130429_rate_limit.json")}, "130429", True),
    ({"status": 400, "json": fixture_json("whatsapp/api/error_131056_pair_rate_limit.json")}, "131056", True),
    ({"status": 400, "json": fixture_json("whatsapp/api/error_131047_reengagement_sync.json")}, "131047", False),
    ({"status": 400, "json": {"error": {"code": 131057, "message": "Account in maintenance"}}}, "131057", True),
    ({"status": 400, "json": {"error": {"code": 131000, "message": "Something went wrong"}}}, "131000", True),
    ({"status": 400, "json": {"error": {"code": 100, "message": "Invalid parameter"}}}, "100", False),
    ({"status": 401, "json": {"error": {"code": 190, "message": "Invalid OAuth access token"}}}, "190", False),
    ({"status": 403, "json": {"error": {"code": 200, "message": "Permissions error"}}}, "200", False),
    ({"status": 429, "json": {"error": {"code": 4, "message": "Application request limit reached"}}}, "4", True),
    ({"status": 500, "body": "<html>Internal Server Error</html>"}, "http_500", True),
    ({"status": 502, "body": ""}, "http_502", True),
    ({"status": 404, "body": "Not Found"}, "http_404", False),
    ({"status": 200, "json": {"messages": []}}, "bad_answer", False),
    ({"body": requests.exceptions.ConnectTimeout("connect")}, "timeout", True),
    ({"body": requests.exceptions.ReadTimeout("read")}, "timeout", True),
    ({"body": requests.exceptions.ConnectionError("refused")}, "connection", True),
]


@pytest.mark.parametrize("answer, code, retryable", ERRORS, ids=[f"{e[1]}-{n}" for n, e in enumerate(ERRORS)])
def test_errors_are_classified(answer, code, retryable, graph):
    graph.add(responses.POST, MESSAGES_URL, **answer)
    with pytest.raises(SendError) as raised:
        client.send(ACCOUNT, OutboundMessage(to="212612345678", text="Salam"))
    assert raised.value.code == code
    assert raised.value.retryable is retryable
    assert raised.value.message  # always a sentence


def test_131047_is_explained_for_an_agent(graph):
    graph.add(
        responses.POST, MESSAGES_URL, status=400, json=fixture_json("whatsapp/api/error_131047_reengagement_sync.json")
    )
    with pytest.raises(SendError) as raised:
        client.send(ACCOUNT, OutboundMessage(to="212612345678", text="Salam"))
    assert "24 hours" in raised.value.message
    assert "template" in raised.value.message


def test_retry_after_is_read(graph):
    graph.add(
        responses.POST,
        MESSAGES_URL,
        status=429,
        json={"error": {"code": 130429, "message": "Rate limit hit"}},
        headers={"Retry-After": "30"},
    )
    with pytest.raises(SendError) as raised:
        client.send(ACCOUNT, OutboundMessage(to="1", text="Salam"))
    assert raised.value.retry_after == 30


# --- the timed facade -----------------------------------------------------------------------------------------------


def test_heyoo_goes_through_the_timed_facade():
    assert heyoo.requests is client._http


def test_every_call_has_the_accounts_timeout(graph, tmp_path):
    seen = []

    def reply(body):
        def callback(request):
            seen.append((request.url, request.req_kwargs.get("timeout")))
            return 200, {}, json.dumps(body)

        return callback

    graph.add_callback(responses.POST, MEDIA_URL, callback=reply({"id": "1"}))
    graph.add_callback(responses.POST, MESSAGES_URL, callback=reply(SEND_RESPONSE))
    client.send(ACCOUNT, OutboundMessage(to="1", file=stored_file(tmp_path, b"x", "image/png", "a.png")))
    assert seen == [(MEDIA_URL, 7), (MESSAGES_URL, 7)]


def test_the_last_response_is_kept_per_thread(graph):
    # Two workers' threads sending at once must each read their own answer's status.
    barrier = threading.Barrier(2)
    results = {}

    def callback(request):
        barrier.wait(timeout=10)  # both requests are in flight together
        if json.loads(request.body)["to"] == "fails":
            return 400, {}, json.dumps(fixture_json("whatsapp/api/error_131047_reengagement_sync.json"))
        return 200, {}, json.dumps(SEND_RESPONSE)

    graph.add_callback(responses.POST, MESSAGES_URL, callback=callback)

    def send(to):
        try:
            results[to] = client.send(ACCOUNT, OutboundMessage(to=to, text="Salam")).external_id
        except SendError as error:
            results[to] = error.code

    threads = [threading.Thread(target=send, args=(to,)) for to in ("fails", "works")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert results == {"fails": "131047", "works": WAMID}


# --- media downloads (fixtures README A.4) ------------------------------------------------------------------------


def test_fetch_media_looks_up_then_downloads_with_the_token(graph):
    content = b"\xff\xd8\xff\xe0 jpeg bytes"
    graph.add(responses.GET, f"{GRAPH}/1908647269898587", json=LOOKUP)
    graph.add(responses.GET, LOOKUP["url"], body=content, content_type="image/jpeg")

    fetched = client.fetch_media(ACCOUNT, "1908647269898587")

    assert b"".join(fetched.chunks) == content
    fetched.close()
    assert fetched.mime_type == "image/jpeg"
    assert fetched.declared_size == LOOKUP["file_size"]
    lookup, download = graph.calls
    assert lookup.request.url == f"{GRAPH}/1908647269898587?phone_number_id={PHONE_NUMBER_ID}"
    assert lookup.request.headers["Authorization"] == "Bearer test-token"
    assert download.request.headers["Authorization"] == "Bearer test-token"
    assert lookup.request.req_kwargs["timeout"] == 7
    assert download.request.req_kwargs["timeout"] == 7


@pytest.mark.parametrize(
    "served, expected",
    [
        ("image/png", "image/png"),  # what the file server says wins...
        ("text/html; charset=utf-8", "text/html; charset=utf-8"),  # ...so that a disguised page is caught
        ("application/octet-stream", "image/jpeg"),  # a generic type says nothing: the look-up's word
        (None, "image/jpeg"),
    ],
)
def test_the_served_type_is_reported(served, expected, graph):
    graph.add(responses.GET, f"{GRAPH}/1908647269898587", json=LOOKUP)
    graph.add(responses.GET, LOOKUP["url"], body=b"x", content_type=served)
    assert client.fetch_media(ACCOUNT, "1908647269898587").mime_type == expected


def test_file_size_as_a_string_is_read(graph):
    graph.add(responses.GET, f"{GRAPH}/1", json={**LOOKUP, "file_size": "303833"})
    graph.add(responses.GET, LOOKUP["url"], body=b"x", content_type="image/jpeg")
    assert client.fetch_media(ACCOUNT, "1").declared_size == 303833


@pytest.mark.parametrize(
    "lookup, download, code, retryable",
    [
        ({"status": 500, "json": {"error": {"code": 1, "message": "unknown"}}}, None, "1", True),
        ({"status": 400, "json": {"error": {"code": 100, "message": "media id not found"}}}, None, "100", False),
        ({"status": 200, "json": {"id": "1"}}, None, "bad_answer", True),  # no url
        ({"status": 200, "json": LOOKUP}, {"status": 500, "body": "oops"}, "http_500", True),
        ({"status": 200, "json": LOOKUP}, {"status": 404, "body": "expired"}, "http_404", False),
        ({"status": 200, "json": LOOKUP}, {"body": requests.exceptions.ReadTimeout("slow")}, "connection", True),
        ({"body": requests.exceptions.ConnectTimeout("slow")}, None, "connection", True),
    ],
)
def test_download_failures(lookup, download, code, retryable, graph):
    graph.add(responses.GET, f"{GRAPH}/1", **lookup)
    if download:
        graph.add(responses.GET, LOOKUP["url"], **download)
    with pytest.raises(SendError) as raised:
        client.fetch_media(ACCOUNT, "1")
    assert raised.value.code == code
    assert raised.value.retryable is retryable


MENU = {
    "body": "Que souhaitez-vous faire ?",
    "button": "Choisir",
    "options": [
        {"id": "menu:information", "title": "Information", "description": "Une question sur nos services"},
        {"id": "menu:claim", "title": "Réclamation"},
        {"id": "menu:meter", "title": "Relevé de compteur"},
        {"id": "menu:agent", "title": "Parler à un conseiller, tout de suite s'il vous plaît"},
    ],
}


def test_four_choices_go_as_a_list_in_metas_documented_shape(graph):
    graph.add(responses.POST, MESSAGES_URL, json=SEND_RESPONSE)

    result = client.send_interactive(ACCOUNT, "212612345678", MENU)

    assert result.external_id == WAMID
    body = sent_json(graph.calls[0])
    assert body["type"] == "interactive" and body["to"] == "212612345678"
    assert body["interactive"] == {
        "type": "list",
        "body": {"text": "Que souhaitez-vous faire ?"},
        "action": {
            "button": "Choisir",
            "sections": [
                {
                    "rows": [
                        {
                            "id": "menu:information",
                            "title": "Information",
                            "description": "Une question sur nos services",
                        },
                        {"id": "menu:claim", "title": "Réclamation"},
                        {"id": "menu:meter", "title": "Relevé de compteur"},
                        {"id": "menu:agent", "title": "Parler à un conseiller,"},  # cut to Meta's 24 characters
                    ]
                }
            ],
        },
    }


def test_up_to_three_choices_go_as_reply_buttons(graph):
    graph.add(responses.POST, MESSAGES_URL, json=SEND_RESPONSE)
    choices = {
        "body": "Quel compteur ?",
        "options": [
            {"id": "meter:water", "title": "Eau"},
            {"id": "meter:electricity", "title": "Électricité et gaz naturel"},
        ],
    }

    client.send(ACCOUNT, OutboundMessage(to="212612345678", choices=choices))

    assert sent_json(graph.calls[0])["interactive"] == {
        "type": "button",
        "body": {"text": "Quel compteur ?"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "meter:water", "title": "Eau"}},
                {"type": "reply", "reply": {"id": "meter:electricity", "title": "Électricité et gaz n"}},  # 20
            ]
        },
    }
