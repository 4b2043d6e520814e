"""The sandbox phone's file route: plain media plays inline, anything else downloads, never runs as the site."""

from __future__ import annotations

import json

import pytest

from inbox import broker, media


@pytest.fixture
def config_overrides():
    return {"SANDBOX": True}


def _phone_file(app, media_id: str, body: bytes, mime_type: str, filename: str) -> None:
    with app.app_context():
        path, sha, size = media.store(iter([body]), 1024 * 1024)
        record = {"path": path, "mime_type": mime_type, "sha256": sha, "size": size, "filename": filename}
        broker.connection().set(f"sandbox:media:{media_id}", json.dumps(record))


def test_html_is_downloaded_not_rendered(app, client):
    _phone_file(app, "1000000000000001", b"<script>alert(1)</script>", "text/html", "page.html")

    response = client.get("/sandbox/api/files/1000000000000001")

    assert response.status_code == 200
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_an_image_is_shown_inline(app, client):
    _phone_file(app, "1000000000000002", b"\x89PNG\r\n\x1a\n", "image/png", "photo.png")

    response = client.get("/sandbox/api/files/1000000000000002")

    assert response.mimetype == "image/png"
    assert "attachment" not in response.headers.get("Content-Disposition", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
