"""The campaign views that only read (lists, counts, exports) and the progress count of the send loops hold no
write lock on SQLite, so that sends and webhook intake go on meanwhile; on PostgreSQL they are read-only."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import event, insert, select

from tests.campaigns.test_campaigns import control, graph, prepared  # noqa: F401 (graph: the fixture)


def _lock_free_during(app, marker: str, call) -> list[bool]:
    """Run `call`; each time it executes a statement containing `marker`, try to take SQLite's write lock from
    another connection without waiting. Returns whether each try got it."""
    engine = app.extensions["db_engine"]
    tries = []

    def probe(_connection, _cursor, statement, *_args):
        if marker in statement:
            other = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                tries.append(True)
            except sqlite3.OperationalError:  # database is locked
                tries.append(False)
            finally:
                other.close()

    event.listen(engine, "before_cursor_execute", probe)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", probe)
    return tries


@pytest.fixture
def sqlite_only(app):
    if app.extensions["db_engine"].dialect.name != "sqlite":
        pytest.skip("SQLite's single write lock")


@pytest.mark.parametrize(
    ("path", "marker"),
    [
        ("/api/v1/campaigns/{id}", "delivery_receipts"),  # the outcomes, counted while the page watches
        ("/api/v1/campaigns", "delivery_receipts"),  # every campaign's counts
        ("/api/v1/campaigns/{id}/export?format=csv", "campaign_recipients.id >"),  # the rows, page after page
        ("/api/v1/campaigns/{id}/export?format=xlsx", "campaign_recipients.id >"),
        ("/api/v1/campaigns/{id}/recipients", "campaign_recipients.id >"),
    ],
)
def test_a_reading_view_leaves_the_write_lock_free(
    app, client, users, whatsapp_account, run_jobs, graph, sqlite_only, path, marker  # noqa: F811
):
    campaign = prepared(client, users, run_jobs)
    answers = []
    url = path.format(id=campaign["id"])
    tries = _lock_free_during(app, marker, lambda: answers.append(client.get(url, headers=users.headers("marketing"))))
    assert answers[0].status_code == 200
    assert tries and all(tries), tries


def test_the_progress_count_of_the_send_loops_leaves_the_write_lock_free(
    app, client, users, whatsapp_account, run_jobs, graph, sqlite_only  # noqa: F811
):
    from campaigns import sending

    campaign = prepared(client, users, run_jobs)
    with app.app_context():
        tries = _lock_free_during(app, "GROUP BY", lambda: sending.announce_progress(campaign["id"], force=True))
    assert tries and all(tries), tries


def test_a_reading_session_refuses_to_write_on_postgresql(app, whatsapp_account):
    from sqlalchemy.exc import DBAPIError

    from inbox.db import reading, session
    from inbox.models import OptOut

    if app.extensions["db_engine"].dialect.name != "postgresql":
        pytest.skip("PostgreSQL's read-only transactions")
    with app.app_context(), reading():
        with pytest.raises(DBAPIError, match="read-only"):
            session().execute(insert(OptOut).values(platform="whatsapp", address="212600000009", word="STOP"))


def test_reading_gives_back_the_session_the_context_had(app, whatsapp_account):
    from inbox.db import READING, reading, session
    from inbox.models import ChannelAccount

    with app.app_context():
        writer = session()
        with reading():
            reader = session()
            assert reader is not writer and reader.get_bind().get_execution_options().get(READING)
            assert reader.scalar(select(ChannelAccount.id)) == whatsapp_account.id
        assert session() is writer and not writer.get_bind().get_execution_options().get(READING)


def test_a_token_used_on_a_reading_view_records_its_last_use(app, client, users, whatsapp_account):
    from inbox.db import session
    from inbox.models import ApiToken, User

    response = client.get("/api/v1/campaigns", headers=users.headers("marketing"))
    assert response.status_code == 200
    with app.app_context():
        used = session().scalar(
            select(ApiToken.last_used_at).join(User, ApiToken.user_id == User.id).where(User.role == "marketing")
        )
    assert used is not None
