"""The one place that reads the environment."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_CREDENTIALS = (
    "WHATSAPP_TOKEN",
    "WHATSAPP_PHONE_NUMBER_ID",
    "WHATSAPP_APP_SECRET",
    "FACEBOOK_PAGE_TOKEN",
    "FACEBOOK_APP_SECRET",
    "TWITTER_CONSUMER_SECRET",
    "TWITTER_ACCESS_TOKEN",
)


def _flag(value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(instance: Path) -> str:
    """Return SECRET_KEY from the environment, or one generated once and kept in instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    """Settings of one running service; tests pass overrides to create_app()."""

    def __init__(self, **overrides):
        load_dotenv(ROOT / ".env")
        env = os.environ
        instance = Path(env.get("INSTANCE_DIR", ROOT / "instance"))
        self.INSTANCE_DIR = str(instance)
        self.HOST = env.get("HOST", "127.0.0.1")
        self.PORT = int(env.get("PORT", "5000"))
        self.PUBLIC_URL = env.get("PUBLIC_URL", f"http://127.0.0.1:{self.PORT}")
        self.DATABASE_URL = env.get("DATABASE_URL", f"sqlite:///{instance / 'inbox.db'}")
        self.REDIS_URL = env.get("REDIS_URL") or None
        self.ADMIN_EMAIL = env.get("ADMIN_EMAIL", "admin@example.com")
        self.ADMIN_PASSWORD = env.get("ADMIN_PASSWORD") or None
        self.TIMEZONE = env.get("TIMEZONE", "Africa/Casablanca")
        self.MEDIA_DIR = env.get("MEDIA_DIR", str(instance / "media"))
        self.GRAPH_API_URL = env.get("GRAPH_API_URL", "https://graph.facebook.com/v21.0").rstrip("/")
        self.TWITTER_API_URL = env.get("TWITTER_API_URL", "https://api.twitter.com").rstrip("/")
        for name in (
            "WHATSAPP_TOKEN",
            "WHATSAPP_PHONE_NUMBER_ID",
            "WHATSAPP_APP_SECRET",
            "WHATSAPP_VERIFY_TOKEN",
            "WHATSAPP_BUSINESS_ACCOUNT_ID",
            "FACEBOOK_PAGE_ID",
            "FACEBOOK_PAGE_TOKEN",
            "FACEBOOK_APP_SECRET",
            "FACEBOOK_VERIFY_TOKEN",
            "TWITTER_CONSUMER_KEY",
            "TWITTER_CONSUMER_SECRET",
            "TWITTER_ACCESS_TOKEN",
            "TWITTER_ACCESS_TOKEN_SECRET",
            "TWITTER_USER_ID",
        ):
            setattr(self, name, env.get(name) or None)
        has_credentials = any(env.get(name) for name in PLATFORM_CREDENTIALS)
        sandbox = _flag(env.get("SANDBOX"))
        self.SANDBOX = (not has_credentials) if sandbox is None else sandbox
        self.HAS_PLATFORM_CREDENTIALS = has_credentials
        # Webhook bodies above 5 MiB are refused with 413 (CONTRACT.md); uploads by agents go up to
        # WhatsApp's largest media size, 100 MB for documents.
        self.WEBHOOK_MAX_BYTES = 5 * 1024 * 1024
        self.MAX_CONTENT_LENGTH = 100 * 1024 * 1024
        self.MEDIA_MAX_BYTES = int(env.get("MEDIA_MAX_BYTES", 100 * 1024 * 1024))
        self.HTTP_TIMEOUT = float(env.get("HTTP_TIMEOUT", "20"))
        self.SEND_MAX_RETRIES = int(env.get("SEND_MAX_RETRIES", "5"))
        self.RETRY_BASE_SECONDS = float(env.get("RETRY_BASE_SECONDS", "2"))
        self.JOB_TIMEOUT = int(env.get("JOB_TIMEOUT", "120"))
        self.FIRST_RESPONSE_MINUTES = int(env.get("FIRST_RESPONSE_MINUTES", "15"))
        # The commitments (inbox/sla.py), in business minutes: the next answer after a customer writes again,
        # and no wait longer than one business day (600 minutes of the contract's 10:00-20:00); warnings go
        # out this many minutes before a due time.
        self.NEXT_RESPONSE_MINUTES = int(env.get("NEXT_RESPONSE_MINUTES", "15"))
        self.ANSWER_WITHIN_MINUTES = int(env.get("ANSWER_WITHIN_MINUTES", "600"))
        # Campaign sends per second per number: Meta's default throughput is 80/s (up to 1,000 when raised).
        self.CAMPAIGN_MAX_RATE = float(env.get("CAMPAIGN_MAX_RATE", "80"))
        # Send loops per campaign (RQ jobs). A loop has one send in flight at a time, so that a worker killed
        # mid-send leaves at most one interrupted row: it sends about 1 / (platform latency) per second, and the
        # loops run at once only with as many RQ workers (README "Campaigns": 6 for 80/s at Meta's ~50 ms).
        self.CAMPAIGN_SENDERS = int(env.get("CAMPAIGN_SENDERS", "2"))
        # A send still claimed after this long is marked interrupted (its worker died): longer than any send
        # can last, an upload and a send within HTTP_TIMEOUT each, plus the wait for a busy database.
        self.CAMPAIGN_STALE_SECONDS = float(env.get("CAMPAIGN_STALE_SECONDS", 2 * self.HTTP_TIMEOUT + 30))
        self.SLA_AT_RISK_MINUTES = int(env.get("SLA_AT_RISK_MINUTES", "5"))
        # What a breach does besides warning supervisors: off, or requeue (inbox/sla.py, move_breached).
        self.SLA_BREACH_MOVE = env.get("SLA_BREACH_MOVE", "off").strip().lower()
        # An agent away for longer than this gives their conversations back to the queue (inbox/assignment.py).
        self.AWAY_GRACE_MINUTES = int(env.get("AWAY_GRACE_MINUTES", "10"))
        self.LOGIN_RATE_LIMIT = env.get("LOGIN_RATE_LIMIT", "10 per minute")
        self.SOCKETIO_MESSAGE_QUEUE = _flag(env.get("SOCKETIO_MESSAGE_QUEUE"))
        # inline: a webhook is parsed and ingested before its 200; deferred: the signed body is stored as
        # received and an RQ job ingests it (bench/README.md compares the two).
        self.INTAKE_MODE = env.get("INTAKE_MODE", "deferred").strip().lower()
        # Self-service on channels that can show choices (WhatsApp): the menu, the meter-reading flow and the
        # out-of-hours answer (inbox/selfservice.py). SELF_SERVICE=0 turns all three off.
        self.SELF_SERVICE = _flag(env.get("SELF_SERVICE", "1"))
        self.TESTING = False
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = self.PUBLIC_URL.startswith("https://")
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.WTF_CSRF_CHECK_DEFAULT = False  # checked in before_request, skipped for bearer tokens
        self.WTF_CSRF_TIME_LIMIT = None
        for key, value in overrides.items():
            setattr(self, key, value)
        if not getattr(self, "SECRET_KEY", None):
            self.SECRET_KEY = _secret_key(Path(self.INSTANCE_DIR))

    def check(self) -> None:
        """Refuse settings that cannot run safely together."""
        if self.SLA_BREACH_MOVE not in ("off", "requeue"):
            raise RuntimeError(f"SLA_BREACH_MOVE must be off or requeue, not {self.SLA_BREACH_MOVE!r}.")
        if self.INTAKE_MODE not in ("inline", "deferred"):
            raise RuntimeError(f"INTAKE_MODE must be inline or deferred, not {self.INTAKE_MODE!r}.")
        if self.SANDBOX and self.HAS_PLATFORM_CREDENTIALS:
            raise RuntimeError(
                "SANDBOX=1 with real platform credentials set: the sandbox would fake a live channel. "
                "Unset SANDBOX or the credentials."
            )
