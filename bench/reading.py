"""Do the campaign views that only read hold up the writers? On a SQLite file, while a marketer lists the
campaigns, opens one or exports it, another connection writes (as a send loop or the webhook intake does:
BEGIN IMMEDIATE, one UPDATE, COMMIT, every 10 ms), and its wait for the write lock is timed; the same writer
alone is the baseline.

`python -m bench.reading [--recipients 100000] [--campaigns 5]`: that many campaigns of that many recipients,
all sent, each with a delivered receipt and every other one a read receipt; prints a table, exits 0.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import text

from bench import campaigns as bench_campaigns
from bench.run import Database, bench_redis, log, seed_account

SENT = text("UPDATE campaign_recipients SET state = 'sent', external_id = 'wamid.' || id, sent_at = CURRENT_TIMESTAMP")
RECEIPTS = text(
    "INSERT INTO delivery_receipts (account_id, external_id, status, occurred_at, created_at) "
    "SELECT account_id, external_id, :status, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM campaign_recipients "
    "WHERE id % :every = 0"
)
WRITER_SECONDS = 1.0  # the writer goes on this long after the view has answered


def seed(api, app, recipients: int, campaigns: int) -> list[int]:
    """Campaigns read from CSVs as the API and the audience job do, then marked sent with their receipts."""
    from campaigns import sending
    from inbox.db import session

    ids = []
    with app.app_context():
        for number in range(campaigns):
            body = {"name": f"reading {number}", "channel": "whatsapp", "text": "Bonjour {{ prenom }}",
                    "audience": {"csv": bench_campaigns.audience_csv(recipients)}}
            ids.append(api.post("/api/v1/campaigns", body)["id"])
            sending.prepare_audience(ids[-1])
        db = session()
        db.execute(SENT)
        db.execute(RECEIPTS, {"status": "delivered", "every": 1})
        db.execute(RECEIPTS, {"status": "read", "every": 2})
        db.commit()
    return ids


def writer_waits(database: str, stop: threading.Event) -> list[float]:
    """Write every 10 ms until `stop`; the seconds each write waited for the lock."""
    connection = sqlite3.connect(database, timeout=60, isolation_level=None)
    waits = []
    try:
        while not stop.is_set():
            started = time.monotonic()
            connection.execute("BEGIN IMMEDIATE")
            waits.append(time.monotonic() - started)
            connection.execute("UPDATE campaigns SET name = name WHERE id = 1")
            connection.execute("COMMIT")
            time.sleep(0.01)
    finally:
        connection.close()
    return waits


def measure(api, database: str, path: str | None) -> dict:
    """The writer's waits while `path` is read through the API (None: the writer alone)."""
    stop, result = threading.Event(), {}
    thread = threading.Thread(target=lambda: result.setdefault("waits", writer_waits(database, stop)))
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    status = api.client.get(path, headers=api.headers).status_code if path else None
    took = time.monotonic() - started if path else 0.0
    time.sleep(WRITER_SECONDS)
    stop.set()
    thread.join()
    waits = sorted(result["waits"])
    return {"status": status, "view_ms": round(took * 1000), "writes": len(waits),
            "wait_max_ms": round(waits[-1] * 1000, 1), "wait_p50_ms": round(waits[len(waits) // 2] * 1000, 2)}


def main(argv: list[str] | None = None) -> int:
    """Seed, then time the writer beside each view."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--campaigns", type=int, default=5)
    settings = parser.parse_args(argv)
    workroot = Path(tempfile.mkdtemp(prefix="inbox-bench-reading-"))
    redis_url, embedded = bench_redis(workroot)
    try:
        database = Database("sqlite", workroot, "", "reading")
        seed_account(database.url, redis_url, workroot)
        app = bench_campaigns.make_app(database.url, redis_url, workroot, 80, 1)
        bench_campaigns.seed_admin(app)
        api = bench_campaigns.Api(app)
        log(f"seeding {settings.campaigns} campaigns of {settings.recipients} recipients")
        ids = seed(api, app, settings.recipients, settings.campaigns)
        views = {
            "writer alone": None,
            "campaign list": "/api/v1/campaigns",
            "one campaign": f"/api/v1/campaigns/{ids[0]}",
            "export csv": f"/api/v1/campaigns/{ids[0]}/export?format=csv",
            "export xlsx": f"/api/v1/campaigns/{ids[0]}/export?format=xlsx",
        }
        file = str(workroot / "inbox.db")
        print(f"{'view':14} {'view ms':>8} {'writes':>7} {'wait p50 ms':>12} {'wait max ms':>12}")
        for name, path in views.items():
            row = measure(api, file, path)
            print(f"{name:14} {row['view_ms']:>8} {row['writes']:>7} {row['wait_p50_ms']:>12} {row['wait_max_ms']:>12}")
    finally:
        if embedded is not None:
            embedded.shutdown()
        shutil.rmtree(workroot, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
