"""Every X fixture through the parser, the CRC answer and the webhook signature (fixtures README B)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from connectors import get_connector
from tests.conftest import DATA, fixture_bytes, fixture_json

CONSUMER_SECRET = "test_consumer_secret_AtlasShop_0123456789"  # the fixtures README B test secret
ACCOUNT = "1587234567890123456"
YOUSSEF = "1423456789012345678"
HEADER = "x-twitter-webhooks-signature"

# file -> (type, text, attachment media refs)
FIXTURES = {
    "dm_text_incoming.json": (
        "text",
        "Salam, ma commande #7781 n'est pas encore arrivée 😕 واش ممكن تشوفو ليا؟",
        [],
    ),
    "dm_with_media.json": (
        "image",
        "Voici la photo du colis abîmé",
        ["https://ton.twimg.com/1.1/ton/data/dm/1854123999988887777/1854123990011223344/k3Jp9Lq2.jpg"],
    ),
    "tweet_create_mention.json": ("mention", "@AtlasShopMA toujours pas de réponse pour ma commande #7781 😤", []),
}


def parse(payload):
    return get_connector("twitter").parse(payload)


def test_every_fixture_is_covered():
    files = {p.name for p in (DATA / "twitter").glob("*.json")}
    assert files - {"crc_get_query.json", "crc_expected_response.json"} == set(FIXTURES)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture(name):
    type_, text, media = FIXTURES[name]
    raw = fixture_json(f"twitter/{name}")
    [event] = parse(raw)
    assert (event.kind, event.type, event.direction, event.text) == ("message", type_, "in", text)
    assert [a.media_ref for a in event.attachments] == media
    assert (event.channel, event.account_ref, event.sender_ref) == ("twitter", ACCOUNT, YOUSSEF)
    assert (event.sender_name, event.sender_handle) == ("Youssef El Amrani", "youssef_amr")
    assert event.author_label is None


def test_dm_ids_and_times():
    [event] = parse(fixture_json("twitter/dm_text_incoming.json"))
    assert event.external_id == "1854123456789012345"
    assert event.sent_at == datetime.fromtimestamp(1761905400.123, UTC)  # created_timestamp: a string of ms
    assert event.thread_ref is None


def test_dm_photo_is_an_image_without_its_tco_link():
    [event] = parse(fixture_json("twitter/dm_with_media.json"))
    assert event.attachments[0].mime_type == "image/jpeg"
    assert "t.co" not in event.text


def test_dm_gif_and_video_take_the_best_mp4():
    payload = fixture_json("twitter/dm_with_media.json")
    media = payload["direct_message_events"][0]["message_create"]["message_data"]["attachment"]["media"]
    media["type"] = "animated_gif"
    media["video_info"] = {
        "variants": [
            {"bitrate": 0, "content_type": "video/mp4", "url": "https://video.twimg.com/dm_gif/1/a.mp4"},
            {"content_type": "application/x-mpegURL", "url": "https://video.twimg.com/dm_gif/1/a.m3u8"},
        ]
    }
    [gif] = parse(payload)
    assert (gif.type, gif.data["animated"]) == ("video", True)
    gif_mp4 = "https://video.twimg.com/dm_gif/1/a.mp4"
    assert [(a.media_ref, a.mime_type) for a in gif.attachments] == [(gif_mp4, "video/mp4")]
    media["type"] = "video"
    media["video_info"]["variants"] += [
        {"bitrate": 832000, "content_type": "video/mp4", "url": "https://video.twimg.com/dm_video/1/hd.mp4"},
        {"bitrate": 256000, "content_type": "video/mp4", "url": "https://video.twimg.com/dm_video/1/sd.mp4"},
    ]
    [video] = parse(payload)
    assert video.type == "video"
    assert video.attachments[0].media_ref == "https://video.twimg.com/dm_video/1/hd.mp4"


def test_our_own_dm_is_outbound_to_the_other_party():
    payload = fixture_json("twitter/dm_text_incoming.json")
    create = payload["direct_message_events"][0]["message_create"]
    create["sender_id"], create["target"]["recipient_id"] = ACCOUNT, YOUSSEF
    create["source_app_id"] = "268278"
    [event] = parse(payload)
    assert (event.direction, event.sender_ref, event.author_label) == ("out", YOUSSEF, "X app")
    assert event.sender_name == "Youssef El Amrani"
    assert event.data["source_app_id"] == "268278"


def test_mention_reads_id_str_opens_a_thread_per_author_and_keeps_its_reply():
    payload = fixture_json("twitter/tweet_create_mention.json")
    tweet = payload["tweet_create_events"][0]
    tweet["id"] = 1854125000011112200  # what a 2^53 float would make of it: never used
    tweet["in_reply_to_status_id_str"] = "1854120000000000001"
    tweet["timestamp_ms"] = int(tweet["timestamp_ms"])  # an integer in some events (fixtures README E)
    [event] = parse(payload)
    assert event.external_id == "1854125000011112222"
    assert event.reply_to == "1854120000000000001"
    assert event.thread_ref == f"mentions:{YOUSSEF}"
    assert event.thread["url"] == "https://x.com/youssef_amr"
    assert event.data["url"] == "https://x.com/youssef_amr/status/1854125000011112222"
    assert event.sent_at == datetime.fromtimestamp(1761905640.123, UTC)


def test_long_mention_uses_the_full_text_and_its_photos():
    payload = fixture_json("twitter/tweet_create_mention.json")
    tweet = payload["tweet_create_events"][0]
    tweet["truncated"] = True
    tweet["extended_tweet"] = {
        "full_text": "@AtlasShopMA voici le colis https://t.co/abc",
        "extended_entities": {
            "media": [{"type": "photo", "url": "https://t.co/abc", "media_url_https": "https://pbs.twimg.com/m/1.png"}]
        },
    }
    [event] = parse(payload)
    assert event.text == "@AtlasShopMA voici le colis"
    assert [(a.media_ref, a.mime_type) for a in event.attachments] == [("https://pbs.twimg.com/m/1.png", "image/png")]
    assert event.type == "mention"


def test_own_tweets_and_retweets_are_ignored():
    payload = fixture_json("twitter/tweet_create_mention.json")
    own = copy.deepcopy(payload)
    own["tweet_create_events"][0]["user"]["id_str"] = ACCOUNT
    assert parse(own) == []
    retweet = copy.deepcopy(payload)
    retweet["tweet_create_events"][0]["retweeted_status"] = {"id_str": "1", "user": {"id_str": ACCOUNT}}
    assert parse(retweet) == []


@pytest.mark.parametrize(
    "key",
    [
        "favorite_events",
        "follow_events",
        "direct_message_indicate_typing_events",
        "direct_message_mark_read_events",
        "tweet_delete_events",
        "user_event",
    ],
)
def test_other_activity_is_ignored_without_error(key):
    value = {"revoke": {"source": {"user_id": YOUSSEF}}} if key == "user_event" else [{"id": "1", "timestamp_ms": 1}]
    assert parse({"for_user_id": ACCOUNT, key: value}) == []


def test_unknown_shapes_are_unrouted_never_raised():
    [unknown] = parse({"for_user_id": ACCOUNT, "hologram_events": [{}]})
    assert (unknown.kind, unknown.account_ref) == ("unrouted", ACCOUNT)
    assert "hologram_events" in unknown.text
    [no_account] = parse({"direct_message_events": []})
    assert no_account.kind == "unrouted" and no_account.account_ref is None
    [broken] = parse({"for_user_id": ACCOUNT, "direct_message_events": [{"type": "message_create", "id": "1"}]})
    assert broken.kind == "unrouted"
    [no_id] = parse({"for_user_id": ACCOUNT, "tweet_create_events": [{"user": {"id_str": YOUSSEF}, "text": "x"}]})
    assert no_id.kind == "unrouted"


def test_batch_of_dms_and_mentions():
    payload = fixture_json("twitter/dm_text_incoming.json")
    payload["direct_message_events"] += fixture_json("twitter/dm_with_media.json")["direct_message_events"]
    payload["tweet_create_events"] = fixture_json("twitter/tweet_create_mention.json")["tweet_create_events"]
    assert [e.type for e in parse(payload)] == ["text", "image", "mention"]


# --- CRC and signature (fixtures README B) -----------------------------------------------------------------------


def test_crc_answers_the_test_vector():
    connector = get_connector("twitter")
    status, body, mimetype = connector.challenge(fixture_json("twitter/crc_get_query.json"), [None, CONSUMER_SECRET])
    assert (status, mimetype) == (200, "application/json")
    assert json.loads(body) == fixture_json("twitter/crc_expected_response.json")
    assert connector.challenge({}, [CONSUMER_SECRET])[0] == 403
    assert connector.challenge(fixture_json("twitter/crc_get_query.json"), [])[0] == 403
    assert connector.CHALLENGE_SECRET == "app_secret"


@pytest.mark.parametrize(
    "body, expected",
    [
        (fixture_bytes("twitter/dm_text_incoming.json"), "sha256=A1ASxx50TX3Jzh/TTkH9YAIsK/Kelyyu8MdQ7MiyIgo="),
        (
            b'{"for_user_id":"1587234567890123456","favorite_events":[]}',
            "sha256=TAsm1fec3hxt68qHtwSHWFB7YcW6yVfZPQhrHKOwzY8=",
        ),
    ],
)
def test_signature_vectors(body, expected):
    connector = get_connector("twitter")
    assert connector.verify({HEADER: expected}, body, ["other", CONSUMER_SECRET])
    assert not connector.verify({HEADER: "sha256=" + "A" * 43 + "="}, body, [CONSUMER_SECRET])
    assert not connector.verify({}, body, [CONSUMER_SECRET])
    assert not connector.verify({HEADER: expected}, body + b" ", [CONSUMER_SECRET])
    assert not connector.verify({HEADER: expected}, body, [])
