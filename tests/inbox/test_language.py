"""The language detector, measured on a labelled set of short customer messages written by someone who never
saw the detector (tests/data/language/README.md), and a few units."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from inbox.language import detect
from tests.conftest import DATA

EXPECTED = {
    "fr": ("fr", "Latn"),
    "en": ("en", "Latn"),
    "ar": ("ar", "Arab"),
    "darija": ("ary", "Arab"),
    "darija_latin": ("ary", "Latn"),
}
TARGET = 0.90


def measure() -> dict[str, tuple[int, int]]:
    """(right, total) per label of the labelled set."""
    right, total = Counter(), Counter()
    with (DATA / "language" / "messages.csv").open(encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream):
            found = detect(row["text"])
            total[row["label"]] += 1
            right[row["label"]] += (found.language, found.script) == EXPECTED[row["label"]]
    return {label: (right[label], total[label]) for label in EXPECTED}


def test_accuracy_per_language_on_the_labelled_set():
    results = measure()
    assert sum(total for _, total in results.values()) >= 300
    for label, (right, total) in results.items():
        print(f"{label:13} {right}/{total} = {right / total:.1%}")
        assert right / total >= TARGET, label


@pytest.mark.parametrize(
    "text, language, script",
    [
        ("Bonjour, ma facture est très élevée", "fr", "Latn"),
        ("3afak bghit n3ref chhal khassni nkhalas", "ary", "Latn"),
        ("الضو مقطوع عندنا من الصباح", "ary", "Arab"),
        ("أرجو منكم إصلاح العطب في أقرب وقت", "ar", "Arab"),
        ("Hello, my meter reading is wrong", "en", "Latn"),
    ],
)
def test_typical_messages(text, language, script):
    found = detect(text)
    assert (found.language, found.script) == (language, script)


@pytest.mark.parametrize("text", ["", None, "0612345678", "👍👍", "350 !"])
def test_no_letters_no_language(text):
    assert detect(text).language is None


def test_a_clear_message_sets_the_conversation_language_and_a_bare_ok_does_not(
    client, users, post_webhook, whatsapp_account
):
    import json

    from tests.conftest import fixture_bytes

    def customer_writes(text, n):
        body = json.loads(fixture_bytes("whatsapp/text.json"))
        message = body["entry"][0]["changes"][0]["value"]["messages"][0]
        message["text"]["body"], message["id"] = text, f"wamid.lang{n}"
        assert post_webhook(json.dumps(body).encode()).status_code == 200
        return client.get("/api/v1/conversations", headers=users.headers("agent")).get_json()["items"][0]

    assert customer_writes("salam 3afak l facture dyali jat ghalya bzaf", 1)["language"] == "ary"
    assert customer_writes("ok merci", 2)["language"] == "ary"  # too short to change it
    conversation = customer_writes("Bonjour, je voudrais payer ma facture en ligne", 3)
    assert conversation["language"] == "fr" and conversation["contact"]["language"] == "ary"  # the first one stays
