"""The send loop's claim: one statement that also skips people who said stop, taken in the write turn on a
SQLite file."""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import event

from tests.campaigns.test_campaigns import control, graph, prepared  # noqa: F401 (graph: the fixture)


def _running_sender(client, users, run_jobs):
    from campaigns import sending
    from inbox.db import session
    from inbox.models import Campaign

    campaign = prepared(client, users, run_jobs)
    session().get(Campaign, campaign["id"]).status = "running"
    session().commit()
    return sending.Sender.load(session().get(Campaign, campaign["id"]))


def test_the_claim_skips_an_opted_out_person_with_the_reason_and_claims_the_next(
    app, client, users, whatsapp_account, run_jobs
):
    with app.app_context():
        _skips_and_claims_the_next(client, users, run_jobs)


def _skips_and_claims_the_next(client, users, run_jobs):
    from campaigns import sending
    from inbox.db import session
    from inbox.models import CampaignRecipient, OptOut

    db = session()
    sender = _running_sender(client, users, run_jobs)
    db.add(OptOut(platform="whatsapp", address="212612345601", word="STOP"))
    db.commit()
    statements = []
    engine = db.get_bind()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        with engine.connect() as connection:
            claimed, running = sending._claim_next(connection, sender, None)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert running and claimed.address == "212612345602"
    claims = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    assert len(claims) == 2 and not [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    db.expire_all()
    skipped = db.query(CampaignRecipient).filter_by(address="212612345601").one()
    assert (skipped.state, skipped.reason, skipped.attempts) == ("skipped", "opted out", 1)
    taken = db.query(CampaignRecipient).filter_by(address="212612345602").one()
    assert (taken.state, taken.reason) == ("sending", None)


def test_every_transaction_of_the_send_loop_is_in_the_write_turn(
    app, client, users, whatsapp_account, run_jobs, graph, monkeypatch  # noqa: F811 (the fixture)
):
    from campaigns import sending
    from inbox.db import READING

    campaign = prepared(client, users, run_jobs)
    control(client, users, campaign["id"], "start")
    engine = app.extensions["db_engine"]
    log, depth = [], [0]
    real_turn = sending.write_turn

    @contextlib.contextmanager
    def recording_turn(bind):
        with real_turn(bind):
            depth[0] += 1
            try:
                yield
            finally:
                depth[0] -= 1

    def on_begin(connection):
        if not connection.get_execution_options().get(READING):  # a reading session takes no write lock
            log.append(depth[0])

    monkeypatch.setattr(sending, "write_turn", recording_turn)
    event.listen(engine, "begin", on_begin)
    try:
        with app.app_context():
            sending.send_some(campaign["id"])
    finally:
        event.remove(engine, "begin", on_begin)
    assert sum(graph.sent.values()) >= 2
    assert log and all(log), log  # every writing BEGIN (IMMEDIATE on SQLite) of the loop came inside a turn
    database = engine.url.database
    if engine.dialect.name == "sqlite":
        from pathlib import Path

        assert Path(f"{database}.write-turn").exists()


def test_the_previous_send_is_told_with_the_next_take_in_one_round_trip(app):
    import time

    from campaigns import ratelimit
    from inbox import broker

    with app.app_context():
        assert ratelimit.take(1, "212600000001", 1000, 60).kind == "go"  # the first person's send in flight
        assert ratelimit.pair_wait(1, "212600000001") > 6000  # held for the whole send (60 s)
        second = int(time.time())
        previous = ratelimit.Sent(1, "212600000001", 7, second)
        assert ratelimit.take(1, "212600000002", 1000, 60, previous).kind == "go"
        assert 0 < ratelimit.pair_wait(1, "212600000001") <= 6000  # six seconds from now, as `sent` does
        assert int(broker.connection().get(f"campaigns:sent:7:{second}")) == 1
        assert ratelimit.take(1, "212600000001", 1000, 60).kind == "pair"  # the pair rule still holds
        ratelimit.flush(ratelimit.Sent(1, "212600000002", 7, second))
        assert 0 < ratelimit.pair_wait(1, "212600000002") <= 6000
        assert int(broker.connection().get(f"campaigns:sent:7:{second}")) == 2


@pytest.mark.parametrize("config_overrides", [{"CAMPAIGN_SENDERS": 12, "SEND_MAX_RETRIES": 2}])
def test_start_queues_the_campaigns_send_loops_in_one_round_trip(
    app, client, users, whatsapp_account, run_jobs, monkeypatch
):
    import redis
    import rq

    from inbox import broker

    campaign = prepared(client, users, run_jobs)
    writes = []  # what each round trip to Redis sends (a pipeline sends all its commands at once)
    real_send = redis.connection.AbstractConnection.send_packed_command
    monkeypatch.setattr(
        redis.connection.AbstractConnection,
        "send_packed_command",
        lambda self, command, *args, **kwargs: writes.append(command) or real_send(self, command, *args, **kwargs),
    )
    assert control(client, users, campaign["id"], "start").status_code == 200
    monkeypatch.undo()
    with app.app_context():
        connection = broker.connection()
        queued = [rq.job.Job.fetch(i, connection=connection) for i in broker.queue().get_job_ids()]
    loops = [job for job in queued if job.func_name == "campaigns.sending.send_some"]
    assert len(loops) == 12 and {job.args for job in loops} == {(campaign["id"],)}
    assert {(job.retries_left, job.timeout) for job in loops} == {(2, app.config["JOB_TIMEOUT"])}
    carrying_jobs = [w for w in writes if b"send_some" in (w if isinstance(w, bytes) else b"".join(w))]
    assert len(carrying_jobs) == 1
