"""The yardstick: a Flask app whose one route only checks the WhatsApp signature and answers 200.

Served by gunicorn with the project's gunicorn.conf.py, exactly as wsgi:app is, so that the ratio
inbox / bare measures what the inbox does beyond HTTP, Flask and the HMAC.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from flask import Flask, request

app = Flask(__name__)
_SECRET = os.environ.get("BENCH_APP_SECRET", "bench-app-secret").encode()


@app.post("/webhooks/whatsapp")
def receive():
    """Answer 200 to a delivery signed with the app secret, 401 otherwise."""
    body = request.get_data()
    expected = "sha256=" + hmac.new(_SECRET, body, hashlib.sha256).hexdigest()
    given = request.headers.get("X-Hub-Signature-256", "")
    if not hmac.compare_digest(expected.encode(), given.strip().encode()):
        return {"error": {"code": "bad_signature", "message": "Missing or wrong signature."}}, 401
    return {"status": "ok"}
