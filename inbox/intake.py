"""From a verified delivery to stored messages, inline in the webhook request or later in a job.

INTAKE_MODE=inline parses and ingests inside the request. INTAKE_MODE=deferred keeps the signed body as
received (one row, committed before the 200, in a transaction shared with the deliveries arriving at the
same moment) and makes sure a drain job (`process_pending`) is queued; the drain ingests pending deliveries
oldest first, each in its own transaction.

On a SQLite file the kept deliveries live in a file of their own beside the database (the spool,
`inbox.db` -> `inbox.intake.db`): SQLite has one write lock per file, and the worker holds the database's
for each whole ingestion, so acknowledgements kept in the same file waited for it. Elsewhere (PostgreSQL,
in-memory SQLite) they stay in the database's `inbound_deliveries` table.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from pathlib import Path

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError

from connectors import get_connector
from inbox import broker, jobs, media, realtime, threads
from inbox.db import make_engine, session, utcnow, write_turn
from inbox.ingest import Outcome, ingest, keep_unparsed
from inbox.models import InboundDelivery
from inbox.sending import queue_send

log = logging.getLogger(__name__)
DRAIN_FLAG = "inbox:intake:drain-queued"
DRAIN_FLAG_SECONDS = 60  # a flag whose job was lost (Redis flushed, say) stops blocking after this
DRAIN_BUDGET_SECONDS = 10.0
KEEP_TIMEOUT_SECONDS = 30.0


def ingest_payload(platform: str, payload: dict) -> Outcome | None:
    """Parse and store a verified delivery in the caller's transaction; None when it was kept unparsed."""
    try:
        events = get_connector(platform).parse(payload)
    except Exception:  # a shape no parser foresaw is kept whole, never dropped
        log.exception("could not parse a %s delivery", platform)
        keep_unparsed(platform, "the delivery could not be parsed", payload)
        return None
    return ingest(platform, events)


def prepare_events(outcome: Outcome | None) -> list | None:
    """The realtime events of an outcome, serialised before the commit; None if that failed (announced later)."""
    if outcome is None:
        return []
    try:
        return realtime.prepare(outcome)
    except Exception:  # never let an event's serialisation cost the delivery
        log.exception("could not prepare the events of a delivery")
        return None


def after_commit(outcome: Outcome | None, events: list | None = None) -> None:
    """Queue the downloads and emit what changed, once the transaction is committed."""
    if outcome is None:
        return
    try:
        media.schedule_fetches(outcome.attachments_to_fetch)
        for message_id in outcome.messages_to_send:
            queue_send(message_id)
        for conversation_id in outcome.threads_to_fetch:
            jobs.enqueue(threads.fetch_thread, conversation_id)
    except Exception:  # stored; an agent can ask again for files, the thread shows its link meanwhile
        log.exception("could not queue the follow-ups of a delivery")
    if events is None:
        realtime.announce(outcome)
    else:
        realtime.publish(events)


def spool_url(database_url: str) -> str | None:
    """The spool of a SQLite database file (`inbox.db` -> `inbox.intake.db`); None for any other database."""
    url = make_url(database_url)
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return None
    path = Path(database)
    spool = path.with_name(f"{path.stem}.intake{path.suffix or '.db'}")
    return url.set(database=str(spool)).render_as_string(hide_password=False)


_SPOOL_LOCK = threading.Lock()


def spool_engine(app=None) -> Engine:
    """The engine that keeps deliveries: the spool file beside a SQLite database, else the database's own."""
    app = app or current_app._get_current_object()
    engine = app.extensions.get("intake_spool")
    if engine is not None:
        return engine
    with _SPOOL_LOCK:
        if "intake_spool" not in app.extensions:
            url = spool_url(app.config["DATABASE_URL"])
            if url is None:
                app.extensions["intake_spool"] = app.extensions["db_engine"]
            else:
                # Its only writers insert, or mark one row by id: nothing reads before writing, so it
                # begins deferred and the drain's reads never hold the lock the acknowledgements need.
                spool = make_engine(url, sqlite_begin="BEGIN")
                InboundDelivery.__table__.create(spool, checkfirst=True)  # a queue file, outside Alembic
                app.extensions["intake_spool"] = spool
    return app.extensions["intake_spool"]


def is_spooled(app=None) -> bool:
    """Whether kept deliveries live in a spool file rather than in the database."""
    app = app or current_app._get_current_object()
    return spool_engine(app) is not app.extensions["db_engine"]


_KEEP = InboundDelivery.__table__.insert()  # built once: parameters go with execute(), not into .values()


class GroupCommit:
    """Writes the deliveries kept by every request thread of a process in shared transactions.

    Each request hands its row to one writer thread and waits until the transaction holding it has
    committed, so a 200 still means durably stored. While the writer commits one batch the next requests
    queue up and go into the following one: at low rates a batch is one row, under load one commit (and
    one pool checkout) serves dozens of deliveries, and on SQLite request threads no longer take turns at
    the write lock."""

    MAX_BATCH = 500
    IDLE_SECONDS = 60.0  # the writer thread ends after this long without work; the next delivery restarts it

    def __init__(self, app):
        self.app = app
        self.engine = spool_engine(app)
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def write(self, row: dict, timeout: float) -> None:
        """Return once `row` is committed; raise what the transaction raised, or TimeoutError."""
        done, failure = threading.Event(), []
        self.queue.put((row, done, failure))
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="intake-group-commit", daemon=True)
                self.thread.start()
        if not done.wait(timeout):
            raise TimeoutError(f"the delivery was not committed within {timeout} s")
        if failure:
            raise failure[0]

    def _run(self) -> None:
        while True:
            try:
                batch = [self.queue.get(timeout=self.IDLE_SECONDS)]
            except queue.Empty:
                with self.lock:  # a writer that puts a row after this check starts a new thread
                    if self.queue.empty():
                        self.thread = None
                        return
                continue
            while len(batch) < self.MAX_BATCH:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._insert([row for row, _, _ in batch])
            except Exception as exc:  # every request of the batch answers 500; the platform sends it again
                log.exception("could not keep %d deliveries", len(batch))
                for _, _, failure in batch:
                    failure.append(exc)
            for _, done, _ in batch:
                done.set()
            if not batch[0][2]:
                with self.app.app_context():
                    schedule()  # once per committed batch, not once per delivery

    def _insert(self, rows: list[dict]) -> None:
        if self.engine.dialect.name != "sqlite":
            with self.engine.begin() as connection:
                connection.execute(_KEEP, rows)
            return
        # SQLite has one write lock per file, which the worker takes (in the spool: briefly, to mark a
        # delivery processed) between our commits. Its busy handler sleeps longer and longer (up to 100 ms)
        # between tries, and so misses the short gaps again and again; this thread asks every 0.5 ms instead.
        deadline = time.monotonic() + KEEP_TIMEOUT_SECONDS
        with write_turn(self.engine), self.engine.connect() as connection:
            dbapi = connection.connection.driver_connection  # PRAGMAs outside SQLAlchemy's (immediate) begin
            usual = dbapi.execute("PRAGMA busy_timeout").fetchone()[0]
            dbapi.execute("PRAGMA busy_timeout = 1")
            try:
                while True:
                    try:
                        with connection.begin():
                            connection.execute(_KEEP, rows)
                        return
                    except OperationalError as exc:
                        if "locked" not in str(exc) or time.monotonic() > deadline:
                            raise
                    time.sleep(0.0005)
            finally:
                dbapi.execute(f"PRAGMA busy_timeout = {int(usual)}")


def keep(platform: str, body: bytes) -> None:
    """Store a verified delivery as received and return once it is committed (in a shared transaction)."""
    writers = current_app.extensions.setdefault("intake_group_commit", {})
    writer = writers.get(os.getpid())  # one per process: a thread does not survive a fork
    if writer is None:
        writer = writers[os.getpid()] = GroupCommit(current_app._get_current_object())
    writer.write({"platform": platform, "body": body, "received_at": utcnow()}, KEEP_TIMEOUT_SECONDS)


def schedule() -> None:
    """After a commit of kept deliveries: make sure one drain job is queued.

    One SET NX per delivery rather than one job each (an RQ enqueue costs half a bare request); the drain
    clears the flag before it reads, so a delivery committed before the flag was seen is always read."""
    connection = broker.connection()
    try:
        if connection.set(DRAIN_FLAG, "1", nx=True, ex=DRAIN_FLAG_SECONDS):
            jobs.enqueue(process_pending)
    except Exception:  # kept and committed: the next delivery's drain, or the worker's start, takes it
        log.exception("could not queue the drain of kept deliveries")
        try:
            connection.delete(DRAIN_FLAG)
        except Exception:
            pass


def process_delivery(delivery_id: int) -> bool:
    """Ingest one kept delivery in a transaction of its own; False if it was already processed."""
    ingest_one = _ingest_spooled if is_spooled() else _ingest_delivery
    with write_turn(current_app.extensions["db_engine"]):
        processed, outcome, events = ingest_one(delivery_id)
    if processed:
        after_commit(outcome, events)  # outside the turn: the web process's next batch goes in meanwhile
    return processed


def _ingest_delivery(delivery_id: int):
    db = session()
    delivery = db.get(InboundDelivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.processed_at is not None:
        db.rollback()
        return False, None, None
    outcome = ingest_payload(delivery.platform, json.loads(delivery.body))
    delivery.processed_at = utcnow()
    events = prepare_events(outcome)
    db.commit()
    return True, outcome, events


_DELIVERY = InboundDelivery.__table__.c


def _ingest_spooled(delivery_id: int):
    # Two files, two transactions: the messages are committed, then the delivery is marked processed. The
    # write turn (held by the caller) keeps two workers from taking the same delivery; a crash between the
    # two commits ingests it again on the next drain, which stores nothing twice (ingestion is idempotent).
    spool = spool_engine()
    with spool.connect() as connection:
        row = connection.execute(
            select(_DELIVERY.platform, _DELIVERY.body, _DELIVERY.processed_at).where(_DELIVERY.id == delivery_id)
        ).first()
    if row is None or row.processed_at is not None:
        return False, None, None
    db = session()
    outcome = ingest_payload(row.platform, json.loads(row.body))
    events = prepare_events(outcome)
    db.commit()
    with write_turn(spool), spool.begin() as connection:
        connection.execute(update(InboundDelivery).where(_DELIVERY.id == delivery_id).values(processed_at=utcnow()))
    return True, outcome, events


def pending_ids(after: int, limit: int = 100) -> list[int]:
    """Ids of kept deliveries not yet ingested, oldest first, after `after`."""
    query = (
        select(_DELIVERY.id)
        .where(_DELIVERY.processed_at.is_(None), _DELIVERY.id > after)
        .order_by(_DELIVERY.id)
        .limit(limit)
    )
    with spool_engine().connect() as connection:
        return list(connection.scalars(query))


def process_pending(budget_seconds: float = DRAIN_BUDGET_SECONDS) -> int:
    """RQ job: ingest the pending deliveries oldest first, for up to `budget_seconds`; returns how many.

    A delivery that fails is logged and left pending for the next drain, so that it cannot hold up the ones
    behind it; a drain that runs out of time queues the next one (other jobs get their turn in between)."""
    broker.connection().delete(DRAIN_FLAG)
    db = session()
    deadline = time.monotonic() + budget_seconds
    done, after = 0, 0
    while time.monotonic() < deadline:
        ids = pending_ids(after)
        if not ids:
            return done
        for delivery_id in ids:
            after = delivery_id
            try:
                done += process_delivery(delivery_id)
            except Exception:
                db.rollback()
                log.exception("could not ingest kept delivery %s; left for the next drain", delivery_id)
            if time.monotonic() >= deadline:
                break
    jobs.enqueue(process_pending)
    return done
