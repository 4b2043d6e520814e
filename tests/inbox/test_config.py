"""Settings: the sandbox is mounted only when asked, and never next to real credentials."""

from __future__ import annotations

import pytest

from inbox import create_app
from inbox.config import Config
from tests.conftest import make_config


def test_sandbox_with_real_credentials_refuses_to_start(monkeypatch, tmp_path):
    monkeypatch.setenv("WHATSAPP_TOKEN", "real-token")
    monkeypatch.setenv("SANDBOX", "1")
    with pytest.raises(RuntimeError, match="SANDBOX=1 with real platform credentials"):
        create_app(Config(INSTANCE_DIR=str(tmp_path)))


def test_sandbox_defaults_on_only_without_credentials(monkeypatch, tmp_path):
    monkeypatch.delenv("SANDBOX", raising=False)
    monkeypatch.delenv("WHATSAPP_TOKEN", raising=False)
    assert Config(INSTANCE_DIR=str(tmp_path)).SANDBOX is True
    monkeypatch.setenv("WHATSAPP_TOKEN", "real-token")
    assert Config(INSTANCE_DIR=str(tmp_path)).SANDBOX is False


def test_secret_key_is_generated_once_and_kept(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = Config(INSTANCE_DIR=str(tmp_path)).SECRET_KEY
    assert len(first) == 64
    assert Config(INSTANCE_DIR=str(tmp_path)).SECRET_KEY == first


def test_sandbox_is_not_mounted_when_off(client):
    assert client.get("/sandbox").status_code == 404
    assert client.post("/sandbox/graph/v21.0/100000000000001/messages", json={}).status_code == 404


def test_sandbox_is_mounted_when_on(database_url, redis_url, media_dir):
    app = create_app(make_config(database_url, redis_url, media_dir, SANDBOX=True))
    assert app.test_client().get("/sandbox").status_code == 200
    app.extensions["db_engine"].dispose()
