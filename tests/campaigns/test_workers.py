"""Campaigns sent by real RQ worker processes (`flask worker`) to a fake Graph API that is a real HTTP server:
a worker SIGKILLed mid-campaign never makes anyone receive two messages."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text

from bench.fake_graph import FakeGraph
from tests.campaigns.test_campaigns import control, create

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake_graph():
    server = FakeGraph(latency=0.01).start()
    yield server
    server.stop()


def _worker(app, graph_url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "REDIS_URL": app.config["REDIS_URL"],
        "SECRET_KEY": "test-secret-key",
        "GRAPH_API_URL": graph_url,
        "CAMPAIGN_STALE_SECONDS": "2",
        "SANDBOX": "0",
        "SOCKETIO_MESSAGE_QUEUE": "0",
    }
    flask = str(Path(sys.executable).with_name("flask"))
    return subprocess.Popen(
        [flask, "--app", "wsgi", "worker"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _states(db, campaign_id: int) -> Counter:
    db.rollback()
    rows = db.execute(
        text("SELECT state, count(*) FROM campaign_recipients WHERE campaign_id = :c GROUP BY state"),
        {"c": campaign_id},
    )
    counts = Counter(dict(rows.all()))
    db.rollback()  # on SQLite the session holds the write lock from its first statement: free it for the workers
    return counts


@pytest.mark.parametrize("kill_at", [0.1, 0.5, 0.9])
def test_a_worker_killed_mid_campaign_sends_nobody_twice(
    kill_at, app, client, db, users, whatsapp_account, run_jobs, fake_graph
):
    count = 40
    csv = "phone;prenom\n" + "".join(f"06123456{i:02d};P{i}\n" for i in range(count))
    response = create(client, users, audience={"csv": csv}, text="Bonjour {{ prenom }}", rate_per_second=20)
    assert response.status_code == 202, response.get_data(as_text=True)
    campaign_id = response.get_json()["id"]
    run_jobs()  # the audience, in this process
    assert control(client, users, campaign_id, "start").status_code == 200
    worker = _worker(app, fake_graph.url)
    try:
        deadline = time.monotonic() + 40
        while fake_graph.count() < kill_at * count and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        worker = _worker(app, fake_graph.url)
        while time.monotonic() < deadline + 20:
            states = _states(db, campaign_id)
            if not states["pending"] and not states["sending"]:
                break
            time.sleep(0.2)
    finally:
        worker.kill()
        worker.wait()
    received = Counter(to for _, to in fake_graph.snapshot())
    assert received and max(received.values()) == 1  # nobody received two messages
    states = _states(db, campaign_id)
    assert states["pending"] == states["sending"] == 0
    assert states["interrupted"] <= 1 and states["sent"] + states["interrupted"] == count
    assert states["sent"] <= len(received) <= states["sent"] + states["interrupted"]


def test_two_workers_never_exceed_the_cap_nor_the_pair_rule(
    app, client, db, users, whatsapp_account, run_jobs, fake_graph
):
    from bench.fake_graph import windows
    from campaigns.ratelimit import PAIR_SECONDS

    count, cap = 40, 20
    csv = "phone;prenom\n" + "".join(f"06123457{i:02d};P{i}\n" for i in range(count))
    ids = []
    for _ in range(2):  # two campaigns to the same people on the same number: the pair rule comes into play
        response = create(client, users, audience={"csv": csv}, text="Bonjour {{ prenom }}", rate_per_second=cap)
        assert response.status_code == 202, response.get_data(as_text=True)
        ids.append(response.get_json()["id"])
    run_jobs()
    for campaign_id in ids:
        assert control(client, users, campaign_id, "start").status_code == 200
    workers = [_worker(app, fake_graph.url) for _ in range(2)]
    try:
        deadline = time.monotonic() + 55
        while fake_graph.count() < 2 * count and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
    arrivals = fake_graph.snapshot()
    assert len(arrivals) == 2 * count
    assert windows([moment for moment, _ in arrivals]) <= cap
    by_person: dict[str, list[float]] = {}
    for moment, to in arrivals:
        by_person.setdefault(to, []).append(moment)
    assert all(len(times) == 2 and abs(times[1] - times[0]) >= PAIR_SECONDS for times in by_person.values())
