"""X sends through tweepy routed to TWITTER_API_URL: request bodies, OAuth signatures, errors, media."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import time
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import urlsplit

import pytest
import requests
import responses
from oauthlib.oauth1.rfc5849 import signature, utils

from connectors import get_connector
from connectors.base import PRIVATE_REPLY, PUBLIC_REPLY, AccountSettings, OutboundFile, OutboundMessage, SendError
from connectors.twitter import client
from tests.conftest import fixture_json

X = "https://x.test"
ACCOUNT_ID, YOUSSEF = "1587234567890123456", "1423456789012345678"
MENTION = "1854125000011112222"
SECRETS = {
    "consumer_key": "ck-test",
    "app_secret": "test_consumer_secret_AtlasShop_0123456789",
    "access_token": "at-test",
    "access_token_secret": "ats-test",
}
ACCOUNT = AccountSettings(external_id=ACCOUNT_ID, secrets=SECRETS, api_base_url=X, timeout=5)
DM_URL = f"{X}/2/dm_conversations/with/{YOUSSEF}/messages"


def signed_for_its_url(request) -> bool:
    """Whether the OAuth 1.0a HMAC-SHA1 signature of a request holds for the URL it was really sent to."""
    header = request.headers["Authorization"]
    header = header.decode() if isinstance(header, bytes) else header
    given = utils.unescape(dict(utils.parse_authorization_header(header))["oauth_signature"])
    params = signature.collect_parameters(
        uri_query=urlsplit(request.url).query, headers={"Authorization": header}, exclude_oauth_signature=True
    )
    base = signature.signature_base_string(
        request.method, signature.base_string_uri(request.url), signature.normalize_parameters(params)
    )
    key = f"{utils.escape(SECRETS['app_secret'])}&{utils.escape(SECRETS['access_token_secret'])}"
    expected = base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()).decode()
    return expected == given


def multipart(request) -> dict:
    content_type = request.headers["Content-Type"]
    content_type = content_type.decode() if isinstance(content_type, bytes) else content_type
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.body)
    return {p.get_param("name", header="content-disposition"): p.get_payload(decode=True) for p in message.iter_parts()}


@responses.activate
def test_dm_out_has_the_fixture_body_and_a_signature_for_the_configured_host():
    responses.post(DM_URL, json=fixture_json("twitter/api/dm_send_response.json"))
    expected = fixture_json("twitter/api/dm_send_request.json")
    result = get_connector("twitter").send(ACCOUNT, OutboundMessage(to=YOUSSEF, text=expected["text"]))
    assert result.external_id == "1854126111122223333"
    [call] = responses.calls
    assert json.loads(call.request.body) == expected
    assert call.request.headers["Authorization"].startswith(b"OAuth ")
    assert signed_for_its_url(call.request)  # signed again after the host was rewritten
    assert call.request.req_kwargs["timeout"] == 5


@responses.activate
def test_dm_with_a_file_uploads_it_first(tmp_path):
    media_id = "1854126000012345678"
    responses.post(f"{X}/1.1/media/upload.json", json={"media_id": int(media_id), "media_id_string": media_id})
    responses.post(DM_URL, json=fixture_json("twitter/api/dm_send_response.json"))
    path = tmp_path / "0f0f"
    path.write_bytes(b"%PDF-1.4 bon")
    expected = fixture_json("twitter/api/dm_send_with_media_request.json")
    file = OutboundFile(path=str(path), mime_type="image/png", filename="bon.png")
    get_connector("twitter").send(ACCOUNT, OutboundMessage(to=YOUSSEF, text=expected["text"], file=file))
    upload, dm = responses.calls
    fields = multipart(upload.request)
    assert fields["media"] == path.read_bytes()
    assert fields["media_category"] == b"dm_image"
    assert upload.request.req_kwargs["timeout"] == 5
    assert signed_for_its_url(upload.request)
    assert json.loads(dm.request.body) == expected


@responses.activate
def test_public_reply_answers_the_tweet():
    responses.post(f"{X}/2/tweets", json={"data": {"id": "1854127000000000001", "text": "…"}})
    message = OutboundMessage(to=YOUSSEF, text="@youssef_amr on regarde ça 🙏", reply_to=MENTION, mode=PUBLIC_REPLY)
    assert get_connector("twitter").send(ACCOUNT, message).external_id == "1854127000000000001"
    assert json.loads(responses.calls[0].request.body) == {
        "text": "@youssef_amr on regarde ça 🙏",
        "reply": {"in_reply_to_tweet_id": MENTION},
    }


def test_refused_before_any_call():
    with pytest.raises(SendError):
        client.send(ACCOUNT, OutboundMessage(to=YOUSSEF, text="x", mode=PUBLIC_REPLY))  # no tweet to answer
    with pytest.raises(SendError):
        client.send(ACCOUNT, OutboundMessage(to=YOUSSEF, text="x", reply_to=MENTION, mode=PRIVATE_REPLY))
    with pytest.raises(SendError):
        client.send(ACCOUNT, OutboundMessage(to=YOUSSEF))


@responses.activate
def test_429_is_retried_after_its_reset():
    reset = int(time.time()) + 120
    body = {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429}
    responses.post(DM_URL, status=429, json=body, headers={"x-rate-limit-reset": str(reset)})
    with pytest.raises(SendError) as raised:
        client.send(ACCOUNT, OutboundMessage(to=YOUSSEF, text="Bonjour"))
    assert (raised.value.code, raised.value.retryable) == ("429", True)
    assert 110 <= raised.value.retry_after <= 121


@responses.activate
def test_403_dm_not_allowed_is_final_with_a_sentence():
    body = {"detail": "You are not permitted to send this Direct Message", "title": "Forbidden", "status": 403}
    responses.post(DM_URL, status=403, json=body)
    with pytest.raises(SendError) as raised:
        client.send(ACCOUNT, OutboundMessage(to=YOUSSEF, text="Bonjour"))
    assert (raised.value.code, raised.value.retryable) == ("403", False)
    assert raised.value.message.startswith(client.DM_FORBIDDEN)


@pytest.mark.parametrize(
    "answer, code, retryable",
    [
        ({"status": 503, "json": {"title": "Service Unavailable"}}, "503", True),
        ({"body": requests.Timeout()}, "timeout", True),
        ({"body": requests.ConnectionError()}, "connection", True),
        ({"status": 401, "json": {"title": "Unauthorized"}}, "401", False),
        ({"status": 400, "json": {"errors": [{"message": "Invalid participant"}]}}, "400", False),
    ],
)
@responses.activate
def test_other_errors(answer, code, retryable):
    responses.post(DM_URL, **answer)
    with pytest.raises(SendError) as raised:
        client.send(ACCOUNT, OutboundMessage(to=YOUSSEF, text="Bonjour"))
    assert (raised.value.code, raised.value.retryable) == (code, retryable)


@responses.activate
def test_upload_timeout_is_retryable(tmp_path):
    responses.post(f"{X}/1.1/media/upload.json", body=requests.Timeout())
    path = tmp_path / "img"
    path.write_bytes(b"\x89PNG")
    file = OutboundFile(path=str(path), mime_type="image/png", filename="a.png")
    with pytest.raises(SendError) as raised:
        client.send(ACCOUNT, OutboundMessage(to=YOUSSEF, file=file))
    assert (raised.value.code, raised.value.retryable) == ("connection", True)


@pytest.mark.parametrize(
    "base, api_call, upload_call",
    [
        (
            "https://api.twitter.com",
            "https://api.twitter.com/2/tweets",
            "https://upload.twitter.com/1.1/media/upload.json",
        ),
        ("https://api.x.com", "https://api.x.com/2/tweets", "https://upload.twitter.com/1.1/media/upload.json"),
        ("http://127.0.0.1:5999/sandbox/x", "http://127.0.0.1:5999/sandbox/x/2/tweets", None),
    ],
)
@responses.activate
def test_routing_to_the_configured_base(base, api_call, upload_call, tmp_path):
    upload_call = upload_call or f"{base}/1.1/media/upload.json"
    responses.post(upload_call, json={"media_id": 7, "media_id_string": "7"})
    responses.post(api_call, json={"data": {"id": "9"}})
    path = tmp_path / "img"
    path.write_bytes(b"\x89PNG")
    account = AccountSettings(ACCOUNT_ID, SECRETS, base, timeout=3)
    file = OutboundFile(path=str(path), mime_type="image/png", filename="a.png")
    client.send(account, OutboundMessage(to=YOUSSEF, text="Merci", file=file, reply_to=MENTION, mode=PUBLIC_REPLY))
    upload, tweet = responses.calls
    assert multipart(upload.request)["media_category"] == b"tweet_image"
    assert json.loads(tweet.request.body)["media"] == {"media_ids": ["7"]}
    assert all(signed_for_its_url(c.request) and c.request.req_kwargs["timeout"] == 3 for c in responses.calls)


@responses.activate
def test_hide_a_reply():
    responses.put(f"{X}/2/tweets/{MENTION}/hidden", json={"data": {"hidden": True}})
    get_connector("twitter").hide(ACCOUNT, MENTION)
    assert json.loads(responses.calls[0].request.body) == {"hidden": True}


@pytest.fixture
def public_dns(monkeypatch):
    def getaddrinfo(host, port, *args, **kwargs):
        address = {"ton.twimg.com": "104.244.43.131"}.get(host, host)
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@responses.activate
def test_dm_media_is_fetched_with_the_user_context_signature(public_dns):
    url = "https://ton.twimg.com/1.1/ton/data/dm/1854123999988887777/1854123990011223344/k3Jp9Lq2.jpg"
    responses.get(url, body=b"\xff\xd8jpeg", headers={"Content-Type": "image/jpeg"})
    fetched = get_connector("twitter").fetch_media(ACCOUNT, url)
    assert b"".join(fetched.chunks) == b"\xff\xd8jpeg"
    assert fetched.mime_type == "image/jpeg"
    assert signed_for_its_url(responses.calls[0].request)


@responses.activate
def test_media_urls_follow_the_safety_rule(public_dns):
    for url in ("http://127.0.0.1/x", "http://10.0.0.1/x", "http://169.254.169.254/", "https://10.0.0.1/x"):
        with pytest.raises(SendError) as refused:
            client.fetch_media(ACCOUNT, url)
        assert refused.value.code == "unsafe_url"
    responses.get(f"{X}/media/1.jpg", body=b"fake")  # the API host (a test fake, the sandbox) is trusted
    assert b"".join(client.fetch_media(ACCOUNT, f"{X}/media/1.jpg").chunks) == b"fake"
