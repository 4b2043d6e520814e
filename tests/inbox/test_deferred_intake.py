"""INTAKE_MODE=deferred: a signed delivery is kept as received before its 200, and a drain job ingests it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from inbox.config import Config
from tests.conftest import fixture_bytes, kept_deliveries, meta_signature


@pytest.fixture
def config_overrides():
    return {"INTAKE_MODE": "deferred"}


def count(db, model) -> int:
    try:
        return db.scalar(select(func.count()).select_from(model))
    finally:
        db.rollback()


def test_a_delivery_is_kept_then_ingested_by_the_drain(
    app, client, users, post_webhook, whatsapp_account, run_jobs, db
):
    from inbox.models import Message

    response = post_webhook(fixture_bytes("whatsapp/text.json"))

    assert response.status_code == 200
    assert response.get_json()["status"] == "stored"
    assert kept_deliveries(app) == 1
    assert count(db, Message) == 0
    run_jobs()
    assert count(db, Message) == 1
    conversations = client.get("/api/v1/conversations", headers=users.headers("agent")).get_json()["items"]
    assert len(conversations) == 1
    assert kept_deliveries(app, pending=True) == 0


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


def test_a_delivery_sent_twice_is_one_message(app, post_webhook, whatsapp_account, run_jobs, db):
    from inbox.models import Message

    body = fixture_bytes("whatsapp/text.json")
    assert post_webhook(body).status_code == 200
    assert post_webhook(body).status_code == 200
    run_jobs()

    assert kept_deliveries(app) == 2
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
def test_refused_deliveries_are_not_kept(app, post_webhook, whatsapp_account, db, body, signature, status):
    assert post_webhook(body, signature=signature).status_code == status
    assert kept_deliveries(app) == 0


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
    from inbox.models import Message

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
    assert kept_deliveries(app) == 2
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


# ---------------------------------------------------------------- the spool beside a SQLite database


@pytest.mark.parametrize(
    ("database_url", "spool"),
    [
        ("sqlite:////var/lib/inbox/inbox.db", "sqlite:////var/lib/inbox/inbox.intake.db"),
        ("sqlite:///instance/data", "sqlite:///instance/data.intake.db"),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("postgresql+psycopg://inbox:secret@db/inbox", None),
    ],
)
def test_only_a_sqlite_file_gets_a_spool(database_url, spool):
    from inbox.intake import spool_url

    assert spool_url(database_url) == spool


@pytest.fixture
def sqlite_only(app):
    from inbox.intake import is_spooled

    if not is_spooled(app):
        pytest.skip("the spool is for SQLite files; PostgreSQL keeps deliveries in its own table")


def test_an_acknowledgement_does_not_wait_for_the_database_s_write_lock(
    app, sqlite_only, post_webhook, whatsapp_account, run_jobs, db
):
    import sqlite3

    from sqlalchemy.engine import make_url

    from inbox.intake import write_turn
    from inbox.models import Message

    body = fixture_bytes("whatsapp/text.json")
    assert post_webhook(body).status_code == 200  # reads the app secrets, then cached (webhooks.SECRETS_TTL)
    # As the worker does during an ingestion: the database's write turn and its write lock, both held.
    holder = sqlite3.connect(make_url(app.config["DATABASE_URL"]).database, isolation_level=None)
    with write_turn(app.extensions["db_engine"]):
        holder.execute("BEGIN IMMEDIATE")
        try:
            response = post_webhook(body.replace(b"wamid.HBgM", b"wamid.2HBgM"))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    assert response.status_code == 200 and response.get_json()["status"] == "stored"
    assert kept_deliveries(app) == 2
    run_jobs()
    assert count(db, Message) == 2
    assert kept_deliveries(app, pending=True) == 0


def test_a_crash_between_the_two_commits_stores_nothing_twice(
    app, sqlite_only, post_webhook, whatsapp_account, db, monkeypatch
):
    from inbox import intake
    from inbox.models import Message

    assert post_webhook(fixture_bytes("whatsapp/text.json")).status_code == 200
    real_turn = intake.write_turn

    def crash_at_the_spool(engine):
        if engine is intake.spool_engine(app):  # the messages are committed; the mark never happens
            raise RuntimeError("killed between the two commits")
        return real_turn(engine)

    monkeypatch.setattr(intake, "write_turn", crash_at_the_spool)
    with app.app_context():
        assert intake.process_pending() == 0
    assert count(db, Message) == 1
    assert kept_deliveries(app, pending=True) == 1  # still pending: ingested again by the next drain
    monkeypatch.setattr(intake, "write_turn", real_turn)
    with app.app_context():
        assert intake.process_pending() == 1
    assert count(db, Message) == 1
    assert kept_deliveries(app, pending=True) == 0
