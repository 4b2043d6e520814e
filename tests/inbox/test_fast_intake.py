"""The WSGI fast path for POST /webhooks/<platform> (deferred intake) answers exactly as the Flask route does."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import func, select
from werkzeug.test import Client

from tests.conftest import fixture_bytes, kept_deliveries, signed_post


@pytest.fixture
def config_overrides():
    return {"INTAKE_MODE": "deferred"}


@pytest.fixture
def flask_only(app):
    """A client on the stack behind the fast path: what every delivery went through before it."""
    return Client(app.wsgi_app.wsgi_app, app.response_class)


def count(db, model) -> int:
    try:
        return db.scalar(select(func.count()).select_from(model))
    finally:
        db.rollback()


def with_id(n: int) -> bytes:
    return fixture_bytes("whatsapp/text.json").replace(b"wamid.HBgM", f"wamid.fast{n}HBgM".encode())


def answer(response) -> tuple:
    return response.status_code, response.get_data(), sorted(response.headers.items())


def unknown_account(n: int) -> bytes:
    payload = json.loads(with_id(n))
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999999999999999"
    return json.dumps(payload).encode()


CASES = {
    "signed": (lambda n: with_id(n), "sign", 200),
    "wrong signature": (lambda n: with_id(n), "sha256=" + "0" * 64, 401),
    "missing signature": (lambda n: with_id(n), None, 401),
    "not json": (lambda n: b"this is not json", "sign", 400),
    "a json list": (lambda n: b"[1, 2]", "sign", 400),
    "oversized": (lambda n: b"{" + b" " * (5 * 1024 * 1024) + b"}", "sign", 413),
    "unknown account": (unknown_account, "sign", 200),
}


@pytest.mark.parametrize("case", CASES)
def test_the_fast_path_answers_as_the_flask_route(case, client, flask_only, whatsapp_account, db):
    make, signature, status = CASES[case]
    db.rollback()

    fast = signed_post(client, make(1), signature=signature)
    before = signed_post(flask_only, make(2), signature=signature)

    assert fast.status_code == status
    assert answer(fast) == answer(before)
    assert fast.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert fast.headers["X-Content-Type-Options"] == "nosniff"
    assert fast.headers["X-Frame-Options"] == "DENY"
    assert fast.mimetype == "application/json"


def test_error_bodies_are_the_contract_s(client, whatsapp_account):
    assert signed_post(client, with_id(1), signature=None).get_json() == {
        "error": {"code": "bad_signature", "message": "Missing or wrong signature."}
    }
    assert signed_post(client, b"nope").get_json()["error"]["code"] == "not_json"
    assert (
        signed_post(client, b"{" + b" " * (5 * 1024 * 1024) + b"}").get_json()["error"]["code"] == "payload_too_large"
    )
    assert signed_post(client, with_id(1)).get_json() == {"status": "stored"}


def test_a_signed_delivery_never_reaches_flask(app, client, whatsapp_account, db, monkeypatch):

    def refuse(environ, start_response):
        raise AssertionError(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} went to Flask")

    monkeypatch.setattr(app.wsgi_app, "wsgi_app", refuse)
    response = signed_post(client, with_id(1))
    assert response.status_code == 200
    assert kept_deliveries(app) == 1
    with pytest.raises(AssertionError, match="GET /webhooks/whatsapp went to Flask"):
        client.get("/webhooks/whatsapp")
    with pytest.raises(AssertionError, match="went to Flask"):
        signed_post(client, with_id(2), platform="nosuchplatform")


def test_the_verification_get_and_unknown_platforms_are_flask_s(client, flask_only, whatsapp_account):
    query = json.loads(fixture_bytes("whatsapp/verification_get_query.json"))
    right = client.get("/webhooks/whatsapp", query_string=query)
    assert right.status_code == 200 and right.get_data(as_text=True) == query["hub.challenge"]
    assert answer(right) == answer(flask_only.get("/webhooks/whatsapp", query_string=query))
    wrong = dict(query, **{"hub.verify_token": "nope"})
    assert client.get("/webhooks/whatsapp", query_string=wrong).status_code == 403
    assert signed_post(client, with_id(1), platform="nosuchplatform").status_code == 404


def test_concurrent_deliveries_are_each_stored_once_and_become_messages(app, whatsapp_account, run_jobs, db):
    from inbox.models import Message

    db.rollback()
    statuses, start = [], threading.Barrier(50)

    def deliver(n: int) -> None:
        client = app.test_client()
        start.wait()
        statuses.append(signed_post(client, with_id(n)).status_code)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 50
    assert kept_deliveries(app) == 50
    run_jobs()
    assert count(db, Message) == 50
    ids = db.scalars(select(Message.external_id)).all()
    db.rollback()
    sent = [json.loads(with_id(n))["entry"][0]["changes"][0]["value"]["messages"][0]["id"] for n in range(50)]
    assert sorted(ids) == sorted(sent)


def test_a_failure_while_storing_answers_500_and_keeps_nothing(app, client, whatsapp_account, db, monkeypatch):
    from inbox import intake

    def broken(self, rows):
        raise RuntimeError("disk full")

    monkeypatch.setattr(intake.GroupCommit, "_insert", broken)
    response = signed_post(client, with_id(1))

    assert response.status_code == 500
    assert response.get_json() == {
        "error": {"code": "internal_error", "message": "The server failed; the error is logged."}
    }
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert kept_deliveries(app) == 0


def test_sqlite_writers_take_turns_through_the_lock_file(app, tmp_path):
    from sqlalchemy import create_engine

    from inbox.intake import write_turn

    engine = create_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    order, holding = [], threading.Event()

    def second() -> None:
        holding.wait()
        with write_turn(engine):
            order.append("second")

    thread = threading.Thread(target=second)
    with write_turn(engine):
        thread.start()
        holding.set()
        thread.join(0.3)  # the other holder cannot get in while this one holds the turn
        order.append("first")
    thread.join(5)
    assert order == ["first", "second"]
    assert (tmp_path / "turns.db.write-turn").exists()
