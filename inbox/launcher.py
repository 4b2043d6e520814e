"""`make run`: the database, the first admin, an embedded Redis if needed, the web and worker processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from inbox import create_app
from inbox.broker import resolve_url
from inbox.cli import initialise
from inbox.config import ROOT, Config


def _start(command: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, env=env)


def main() -> int:
    """Prepare everything, start web and worker, and stop them all on SIGTERM or Ctrl-C."""
    stopping = []

    def stop(signum, _frame):
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    config = Config()
    config.check()
    env = dict(os.environ)
    env["REDIS_URL"] = resolve_url(config)  # one embedded Redis, shared by every child process
    os.environ["REDIS_URL"] = env["REDIS_URL"]
    app = create_app(Config())
    with app.app_context():
        generated = initialise()
    if stopping:
        return 0
    bind = f"{config.HOST}:{config.PORT}"
    children = [
        _start(
            [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"), "-b", bind, "wsgi:app"], env
        ),
        _start([sys.executable, "-m", "inbox.worker"], env),
    ]
    print(f"\nInbox running at {config.PUBLIC_URL}/", flush=True)
    if generated:
        print(f"Log in as {config.ADMIN_EMAIL} with password: {generated}  (shown once)", flush=True)
    else:
        print(f"Log in as {config.ADMIN_EMAIL} (password from ADMIN_PASSWORD or set at first start)", flush=True)
    if config.SANDBOX:
        print(f"Sandbox customer phone: {config.PUBLIC_URL}/sandbox", flush=True)

    status = 0
    while not stopping:
        if any(child.poll() is not None for child in children):
            print("a service process stopped; shutting down", file=sys.stderr, flush=True)
            status = 1
            break
        time.sleep(0.5)
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
    return status


if __name__ == "__main__":
    sys.exit(main())
