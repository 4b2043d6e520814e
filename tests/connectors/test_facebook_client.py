"""Messenger sends, reply windows, comment actions, Graph errors, and the URL-safety rule for media downloads."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP

import pytest
import requests
import responses

from connectors import get_connector
from connectors.base import (
    PRIVATE_REPLY,
    PUBLIC_REPLY,
    AccountSettings,
    OutboundFile,
    OutboundMessage,
    SendError,
    check_fetch_url,
)
from connectors.facebook import client
from tests.conftest import GRAPH, fixture_json

PAGE = "581234567890123"
PSID_A, PSID_B = "24129351326671721", "7645218390012874"
COMMENT = "1122334455667788_998877665544332"
MESSAGES_URL = f"{GRAPH}/{PAGE}/messages"
ACCOUNT = AccountSettings(external_id=PAGE, secrets={"token": "page-token"}, api_base_url=GRAPH, timeout=5)
NOW = datetime.now(UTC)


def ago(**delta) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


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


# --- the reply windows (fixtures README C.2) ---------------------------------------------------------------------


def test_messaging_type_for_the_windows():
    assert client.messaging_type_for(NOW - timedelta(hours=23), NOW) == ("RESPONSE", None)
    assert client.messaging_type_for(NOW - timedelta(days=3), NOW) == ("MESSAGE_TAG", "HUMAN_AGENT")
    with pytest.raises(SendError) as refused:
        client.messaging_type_for(NOW - timedelta(days=8), NOW)
    assert refused.value.code == "outside_window"
    assert not refused.value.retryable
    naive = (NOW - timedelta(hours=23)).replace(tzinfo=None)  # SQLite gives naive UTC times back
    assert client.messaging_type_for(naive, NOW) == ("RESPONSE", None)
    assert client.messaging_type_for(None, NOW) == ("RESPONSE", None)


def test_refusal_is_known_before_the_agent_types():
    connector = get_connector("facebook")
    assert connector.reply_refusal(NOW - timedelta(hours=23), NOW) is None
    assert connector.reply_refusal(NOW - timedelta(days=3), NOW) is None
    assert "7 days" in connector.reply_refusal(NOW - timedelta(days=8), NOW)
    assert connector.reply_refusal(NOW - timedelta(days=30), NOW, PUBLIC_REPLY) is None
    assert connector.reply_refusal(NOW - timedelta(days=6), NOW, PRIVATE_REPLY) is None
    assert "private reply" in connector.reply_refusal(NOW - timedelta(days=8), NOW, PRIVATE_REPLY)


@responses.activate
def test_text_at_23_hours_goes_as_response():
    responses.post(MESSAGES_URL, json=fixture_json("messenger/api/send_response.json"))
    expected = fixture_json("messenger/api/send_text_response_request.json")
    message = OutboundMessage(to=PSID_A, text=expected["message"]["text"], last_inbound_at=ago(hours=23))
    result = get_connector("facebook").send(ACCOUNT, message)
    assert result.external_id == fixture_json("messenger/api/send_response.json")["message_id"]
    [call] = responses.calls
    assert sent_json(call) == expected
    assert call.request.headers["Authorization"] == "Bearer page-token"


@responses.activate
def test_text_at_3_days_goes_with_the_human_agent_tag():
    responses.post(MESSAGES_URL, json=fixture_json("messenger/api/send_response.json"))
    expected = fixture_json("messenger/api/send_message_tag_human_agent_request.json")
    message = OutboundMessage(to=PSID_B, text=expected["message"]["text"], last_inbound_at=ago(days=3))
    get_connector("facebook").send(ACCOUNT, message)
    assert sent_json(responses.calls[0]) == expected


@responses.activate
def test_text_at_8_days_is_refused_without_calling_facebook():
    with pytest.raises(SendError) as refused:
        get_connector("facebook").send(ACCOUNT, OutboundMessage(to=PSID_A, text="Bonjour", last_inbound_at=ago(days=8)))
    assert refused.value.code == "outside_window"
    assert len(responses.calls) == 0


@responses.activate
def test_our_reference_travels_as_metadata_for_the_echo():
    responses.post(MESSAGES_URL, json={"recipient_id": PSID_A, "message_id": "m_1"})
    get_connector("facebook").send(ACCOUNT, OutboundMessage(to=PSID_A, text="Salam", ref="inbox:42"))
    assert sent_json(responses.calls[0])["message"] == {"text": "Salam", "metadata": "inbox:42"}


@responses.activate
def test_file_is_uploaded_as_filedata_then_the_text_follows(tmp_path):
    responses.post(MESSAGES_URL, json={"recipient_id": PSID_A, "message_id": "m_file"})
    responses.post(MESSAGES_URL, json={"recipient_id": PSID_A, "message_id": "m_text"})
    path = tmp_path / "0a1b2c"
    path.write_bytes(b"\xff\xd8\xff jpeg bytes")
    file = OutboundFile(path=str(path), mime_type="image/jpeg", filename="tajine.jpg")
    message = OutboundMessage(to=PSID_A, text="Voici la photo", file=file, last_inbound_at=ago(hours=1))

    result = get_connector("facebook").send(ACCOUNT, message)

    assert (result.external_id, result.other_external_ids) == ("m_file", ("m_text",))
    first, second = responses.calls
    fields = multipart(first)
    expected = fixture_json("messenger/api/send_image_attachment_request.json")
    del expected["message"]["attachment"]["payload"]["url"]  # a local file goes as filedata, not by URL
    assert json.loads(fields["recipient"][2]) == expected["recipient"]
    assert fields["messaging_type"][2].decode() == expected["messaging_type"]
    assert json.loads(fields["message"][2]) == expected["message"]
    assert fields["filedata"] == ("tajine.jpg", "image/jpeg", path.read_bytes())
    assert sent_json(second)["message"] == {"text": "Voici la photo"}


@responses.activate
def test_other_files_go_as_file_attachments(tmp_path):
    responses.post(MESSAGES_URL, json={"recipient_id": PSID_A, "message_id": "m_pdf"})
    path = tmp_path / "f"
    path.write_bytes(b"%PDF-1.4")
    file = OutboundFile(path=str(path), mime_type="application/pdf", filename="facture.pdf")
    assert get_connector("facebook").send(ACCOUNT, OutboundMessage(to=PSID_A, file=file)).external_id == "m_pdf"
    assert json.loads(multipart(responses.calls[0])["message"][2])["attachment"]["type"] == "file"


# --- errors (fixtures README C.2) --------------------------------------------------------------------------------


@responses.activate
def test_outside_window_error_is_final_with_a_sentence():
    responses.post(MESSAGES_URL, status=400, json=fixture_json("messenger/api/error_outside_24h_window.json"))
    with pytest.raises(SendError) as error:
        get_connector("facebook").send(ACCOUNT, OutboundMessage(to=PSID_A, text="Bonjour"))
    assert error.value.code == "10"
    assert not error.value.retryable
    assert error.value.message == client.OUTSIDE_WINDOW


@pytest.mark.parametrize(
    "status, code, retryable",
    [
        (400, 551, False),
        (400, 10903, False),
        (403, 200, False),
        (403, 230, False),
        (401, 190, False),
        (400, 10900, False),
        (400, 613, True),
        (400, 4, True),
        (500, 2, True),
        (500, 1, True),
    ],
)
@responses.activate
def test_graph_error_codes(status, code, retryable):
    error = {"error": {"message": f"(#{code}) something", "type": "OAuthException", "code": code}}
    responses.post(MESSAGES_URL, status=status, json=error)
    with pytest.raises(SendError) as raised:
        get_connector("facebook").send(ACCOUNT, OutboundMessage(to=PSID_A, text="Bonjour"))
    assert (raised.value.code, raised.value.retryable) == (str(code), retryable)
    assert raised.value.message


@responses.activate
def test_transport_failures_are_retryable():
    responses.post(MESSAGES_URL, body=requests.Timeout())
    responses.post(MESSAGES_URL, status=502, body="<html>bad gateway</html>")
    responses.post(MESSAGES_URL, status=429, body="slow down", headers={"Retry-After": "30"})
    for code in ("timeout", "http_502", "http_429"):
        with pytest.raises(SendError) as raised:
            get_connector("facebook").send(ACCOUNT, OutboundMessage(to=PSID_A, text="Bonjour"))
        assert (raised.value.code, raised.value.retryable) == (code, True)
    assert raised.value.retry_after == 30


# --- Page comment actions ----------------------------------------------------------------------------------------


@responses.activate
def test_public_reply_goes_under_the_comment():
    responses.post(f"{GRAPH}/{COMMENT}/comments", json={"id": "1122334455667788_555"})
    message = OutboundMessage(to="ignored", text="Bonjour, 250 DH 🙂", reply_to=COMMENT, mode=PUBLIC_REPLY)
    assert get_connector("facebook").send(ACCOUNT, message).external_id == "1122334455667788_555"
    assert sent_json(responses.calls[0]) == {"message": "Bonjour, 250 DH 🙂"}
    assert responses.calls[0].request.headers["Authorization"] == "Bearer page-token"


@responses.activate
def test_private_reply_answers_the_comment_in_messenger():
    responses.post(MESSAGES_URL, json={"recipient_id": PSID_A, "message_id": "m_private"})
    message = OutboundMessage(to="ignored", text="Je vous écris en privé", reply_to=COMMENT, mode=PRIVATE_REPLY)
    assert get_connector("facebook").send(ACCOUNT, message).external_id == "m_private"
    assert sent_json(responses.calls[0]) == {
        "recipient": {"comment_id": COMMENT},
        "message": {"text": "Je vous écris en privé"},
    }


@responses.activate
def test_second_private_reply_is_refused_by_facebook():
    error = {"error": {"message": "(#10900) Activity already replied to", "type": "OAuthException", "code": 10900}}
    responses.post(MESSAGES_URL, status=400, json=error)
    with pytest.raises(SendError) as raised:
        client.reply_privately(ACCOUNT, COMMENT, "encore")
    assert not raised.value.retryable
    assert "only one" in raised.value.message


def test_comment_replies_need_the_comment_and_take_no_file():
    with pytest.raises(SendError):
        client.send(ACCOUNT, OutboundMessage(to="x", text="hi", mode=PUBLIC_REPLY))
    file = OutboundFile(path="/nonexistent", mime_type="image/png", filename="a.png")
    with pytest.raises(SendError):
        client.send(ACCOUNT, OutboundMessage(to="x", file=file, reply_to=COMMENT, mode=PRIVATE_REPLY))


@responses.activate
def test_hide_and_show_a_comment():
    responses.post(f"{GRAPH}/{COMMENT}", json={"success": True})
    responses.post(f"{GRAPH}/{COMMENT}", json={"success": True})
    connector = get_connector("facebook")
    connector.hide(ACCOUNT, COMMENT)
    connector.hide(ACCOUNT, COMMENT, hidden=False)
    assert [sent_json(c) for c in responses.calls] == [{"is_hidden": True}, {"is_hidden": False}]


@responses.activate
def test_thread_details_of_a_post():
    post = "581234567890123_1122334455667788"
    responses.get(
        f"{GRAPH}/{post}",
        json={"id": post, "message": "Tajine en argile", "permalink_url": "https://www.facebook.com/p/1"},
    )
    thread = get_connector("facebook").fetch_thread(ACCOUNT, post)
    assert thread == {"id": post, "text": "Tajine en argile", "url": "https://www.facebook.com/p/1"}
    assert responses.calls[0].request.params == {"fields": "message,permalink_url"}


# --- media downloads and the URL-safety rule (connectors/base.py) ------------------------------------------------

DNS = {"scontent.xx.fbcdn.net": "157.240.22.19", "evil.example": "10.1.2.3", "v6.example": "::1"}


@pytest.fixture
def fake_dns(monkeypatch):
    """socket.getaddrinfo answering from DNS (IP literals answer themselves); records the names asked."""
    asked = []

    def getaddrinfo(host, port, *args, **kwargs):
        asked.append(host)
        address = DNS.get(host, host)
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://10.0.0.1/x",
        "http://169.254.169.254/",
        "https://127.0.0.1/x",
        "https://10.0.0.1/x",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://evil.example/x",
        "https://v6.example/x",
        "http://scontent.xx.fbcdn.net/x.jpg",
        "file:///etc/passwd",
        "https://0.0.0.0/x",
    ],
)
def test_unsafe_urls_are_refused(url, fake_dns):
    with pytest.raises(SendError) as refused:
        check_fetch_url(url, ACCOUNT)
    assert refused.value.code == "unsafe_url"
    assert not refused.value.retryable


def test_public_https_and_the_api_hosts_are_accepted(fake_dns):
    check_fetch_url("https://scontent.xx.fbcdn.net/v/t1/x.jpg?oe=1", ACCOUNT)
    check_fetch_url(f"{GRAPH}/media/1", ACCOUNT)  # the API host is trusted without a look-up
    assert fake_dns == ["scontent.xx.fbcdn.net"]
    sandbox = AccountSettings(PAGE, {}, "http://127.0.0.1:5999/sandbox/graph/v21.0", allowed_hosts=("fake.local",))
    check_fetch_url("http://127.0.0.1:5999/sandbox/media/1", sandbox)
    check_fetch_url("http://fake.local:8080/file", sandbox)
    with pytest.raises(SendError):
        check_fetch_url("http://127.0.0.1:6379/", sandbox)  # same host, another port: not the API


@responses.activate
def test_fetch_media_streams_without_the_token(fake_dns):
    message = fixture_json("messenger/image.json")["entry"][0]["messaging"][0]["message"]
    url = message["attachments"][0]["payload"]["url"]
    responses.get(url, body=b"\xff\xd8 jpeg", headers={"Content-Type": "image/jpeg", "Content-Length": "7"})
    fetched = get_connector("facebook").fetch_media(ACCOUNT, url)
    assert b"".join(fetched.chunks) == b"\xff\xd8 jpeg"
    assert (fetched.mime_type, fetched.declared_size) == ("image/jpeg", 7)
    assert "Authorization" not in responses.calls[0].request.headers


@responses.activate
def test_redirects_are_checked_too(fake_dns):
    responses.get("https://scontent.xx.fbcdn.net/a.jpg", status=302, headers={"Location": "https://10.0.0.7/a.jpg"})
    with pytest.raises(SendError) as refused:
        client.fetch_media(ACCOUNT, "https://scontent.xx.fbcdn.net/a.jpg")
    assert refused.value.code == "unsafe_url"


@responses.activate
def test_expired_cdn_url_is_final_and_server_errors_retry(fake_dns):
    responses.get("https://scontent.xx.fbcdn.net/old.jpg", status=403)
    responses.get("https://scontent.xx.fbcdn.net/busy.jpg", status=503)
    with pytest.raises(SendError) as expired:
        client.fetch_media(ACCOUNT, "https://scontent.xx.fbcdn.net/old.jpg")
    assert not expired.value.retryable
    with pytest.raises(SendError) as busy:
        client.fetch_media(ACCOUNT, "https://scontent.xx.fbcdn.net/busy.jpg")
    assert busy.value.retryable
