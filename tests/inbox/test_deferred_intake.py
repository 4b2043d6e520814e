"""INTAKE_MODE=deferred: a signed delivery is kept as received before its 200, and a drain job ingests it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from inbox.config import Config
from tests.conftest import fixture_bytes, meta_signature


@pytest.fixture
def config_overrides():
    return {"INTAKE_MODE": "deferred"}


def count(db, model) -> int:
    try:
        return db.scalar(select(func.count()).select_from(model))
    finally:
        db.rollback()


def test_a_delivery_is_kept_then_ingested_by_the_drain(client, users, post_webhook, whatsapp_account, run_jobs, db):
    from inbox.models import InboundDelivery, Message

    response = post_webhook(fixture_bytes("whatsapp/text.json"))

    assert response.status_code == 200
    assert response.get_json()["status"] == "stored"
    assert count(db, InboundDelivery) == 1
    assert count(db, Message) == 0
    run_jobs()
    assert count(db, Message) == 1
    conversations = client.get("/api/v1/conversations", headers=users.headers("agent")).get_json()["items"]
    assert len(conversations) == 1
    pending = db.scalars(select(InboundDelivery).where(InboundDelivery.processed_at.is_(None))).all()
    db.rollback()
    assert pending == []


def test_one_drain_job_for_a_burst(app, post_webhook, whatsapp_account, run_jobs, db):
    from inbox import broker
    from inbox.models import Message

    body = fixture_bytes("whatsapp/text.json")
    for n in range(5):
        assert post_webhook(body.replace(b"wamid.HBgM", f"wamid.{n}HBgM".encode())).status_code == 200

    with app.app_context():
        assert broker.queue().count == 1
    run_jobs()
    assert count(db, Message) == 5


def test_a_delivery_sent_twice_is_one_message(post_webhook, whatsapp_account, run_jobs, db):
    from inbox.models import InboundDelivery, Message

    body = fixture_bytes("whatsapp/text.json")
    assert post_webhook(body).status_code == 200
    assert post_webhook(body).status_code == 200
    run_jobs()

    assert count(db, InboundDelivery) == 2
    assert count(db, Message) == 1


@pytest.mark.parametrize(
    ("body", "signature", "status"),
    [
        (fixture_bytes("whatsapp/text.json"), None, 401),
        (fixture_bytes("whatsapp/text.json"), "sha256=" + "0" * 64, 401),
        (b"not json", "sign", 400),
        (b"[1, 2]", "sign", 400),
    ],
)
def test_refused_deliveries_are_not_kept(post_webhook, whatsapp_account, db, body, signature, status):
    from inbox.models import InboundDelivery

    assert post_webhook(body, signature=signature).status_code == status
    assert count(db, InboundDelivery) == 0


def test_a_delivery_whose_job_was_lost_is_taken_by_the_next_drain(app, post_webhook, whatsapp_account, run_jobs, db):
    from inbox import broker, intake
    from inbox.models import Message

    body = fixture_bytes("whatsapp/text.json")
    with app.app_context():
        broker.connection().set(intake.DRAIN_FLAG, "1")  # as if a drain were queued, but none is
    assert post_webhook(body).status_code == 200
    run_jobs()
    assert count(db, Message) == 0  # nothing queued: still kept, pending

    with app.app_context():
        broker.connection().delete(intake.DRAIN_FLAG)
    assert post_webhook(body.replace(b"wamid.HBgM", b"wamid.2HBgM")).status_code == 200
    run_jobs()
    assert count(db, Message) == 2


def test_a_delivery_that_fails_does_not_hold_up_the_others(app, post_webhook, whatsapp_account, db, monkeypatch):
    from inbox import intake
    from inbox.models import InboundDelivery, Message

    body = fixture_bytes("whatsapp/text.json")
    post_webhook(body.replace(b"wamid.HBgM", b"wamid.1HBgM"))
    post_webhook(body.replace(b"wamid.HBgM", b"wamid.2HBgM"))
    real = intake.ingest_payload
    calls = []

    def failing_first(platform, payload):
        calls.append(payload)
        if len(calls) == 1:
            raise RuntimeError("a bug met by the first delivery")
        return real(platform, payload)

    monkeypatch.setattr(intake, "ingest_payload", failing_first)
    with app.app_context():
        assert intake.process_pending() == 1
    assert count(db, Message) == 1
    assert count(db, InboundDelivery) == 2
    with app.app_context():
        assert intake.process_pending() == 1  # the failed one is retried by the next drain
    assert count(db, Message) == 2


def test_a_new_account_is_verified_at_once_despite_the_cached_secrets(post_webhook, whatsapp_account, db):
    from inbox.models import ChannelAccount

    body = fixture_bytes("whatsapp/text.json")
    assert post_webhook(body).status_code == 200  # the secrets are cached from here on
    db.add(ChannelAccount(platform="whatsapp", external_id="200000000000002", name="Second",
                          secrets={"app_secret": "second-secret"}))
    db.commit()

    assert post_webhook(body, signature=meta_signature(body, "second-secret")).status_code == 200
    assert post_webhook(body, signature=meta_signature(body, "not-a-secret")).status_code == 401


def test_an_unknown_intake_mode_is_refused():
    with pytest.raises(RuntimeError, match="INTAKE_MODE"):
        Config(INTAKE_MODE="sometimes", SANDBOX=False, HAS_PLATFORM_CREDENTIALS=False, SECRET_KEY="x").check()
