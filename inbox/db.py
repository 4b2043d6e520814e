"""Engine, the session of the current app context, and portable idempotent inserts."""

from __future__ import annotations

import contextlib
import fcntl
import os
from datetime import UTC, datetime
from functools import wraps

from flask import current_app, g
from sqlalchemy import DateTime, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator


class Base(DeclarativeBase):
    """Declarative base of every model."""


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current instant, timezone-aware."""
    return datetime.now(UTC)


READING = "inbox_reading"  # an execution option: this connection only reads (see `reading`)


def make_engine(url: str, sqlite_begin: str = "BEGIN IMMEDIATE") -> Engine:
    """Create the engine; SQLite gets WAL, a busy timeout and (by default) serialised write transactions."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _configure_sqlite(engine, sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _configure_sqlite(engine: Engine, begin: str) -> None:
    # pysqlite's own transaction handling begins lazily and deferred, so two writers that read first
    # can both decide to insert; BEGIN IMMEDIATE takes the write lock up front (SQLAlchemy docs,
    # "Serializable isolation / Savepoints / Transactional DDL" for pysqlite). A store whose writers never
    # read before they write (the intake spool) may begin deferred, so that its readers take no lock.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN" if connection.get_execution_options().get(READING) else begin)


@contextlib.contextmanager
def write_turn(engine):
    """On a SQLite file: hold this process's turn at the write lock (a lock file beside the database).

    Writers (the intake's group commit, the worker's ingestion, the campaign send loops) queue for the file
    lock, and the kernel wakes the next one the moment it is released, instead of all polling SQLite's write
    lock (its busy handler sleeps up to 100 ms between tries and so leaves the lock idle). Elsewhere it does
    nothing."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    descriptor = os.open(f"{database}.write-turn", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # one open file per holder: threads exclude each other too
        yield
    finally:
        os.close(descriptor)  # releases the lock


def init_app(app) -> None:
    """Attach an engine and a session factory to the app; sessions close with the app context."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)
    reader = engine.execution_options(**{READING: True, "postgresql_readonly": True})
    app.extensions["db_reader_sessionmaker"] = sessionmaker(bind=reader, expire_on_commit=False)

    @app.teardown_appcontext
    def _close_session(_exc):
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def session() -> Session:
    """The session of the current app context (views and jobs commit it; services never do)."""
    if "db_session" not in g:
        maker = "db_reader_sessionmaker" if g.get("db_reading") else "db_sessionmaker"
        g.db_session = current_app.extensions[maker]()
    return g.db_session


@contextlib.contextmanager
def reading():
    """Within it, `session()` only reads: its transaction begins deferred on SQLite, a snapshot of the WAL that
    holds no write lock, so that sends and webhook intake go on while it counts or exports; on PostgreSQL it is
    read-only, so that a write slipped into it fails loudly. The reading session is closed at the end and the
    session the context had is given back."""
    outer, was_reading = g.pop("db_session", None), g.get("db_reading", False)
    g.db_reading = True
    try:
        yield
    finally:
        g.db_reading = was_reading
        reader = g.pop("db_session", None)
        if reader is not None:
            reader.close()
        if outer is not None:
            g.db_session = outer


def is_reading() -> bool:
    """Whether `session()` is, here, a session that only reads (inside `reading()`)."""
    return bool(g.get("db_reading"))


def reading_only(view):
    """Decorate a view that only reads (above the role check, so that the user is loaded by the reading session
    too): the whole view runs in `reading()`."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        with reading():
            return view(*args, **kwargs)

    return wrapper


_INSERTS: dict = {}


def insert_ignoring_conflicts(model, conflict_columns: tuple[str, ...], returning=None):
    """An INSERT that does nothing when a unique key already exists; built once per dialect, its values go
    with execute() so that SQLAlchemy compiles it once rather than on every row."""
    dialect = session().get_bind().dialect.name
    key = (dialect, model, conflict_columns, returning)
    if key not in _INSERTS:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(model).on_conflict_do_nothing(index_elements=list(conflict_columns))
        _INSERTS[key] = statement.returning(returning) if returning is not None else statement
    return _INSERTS[key]
