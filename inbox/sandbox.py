"""The sandbox: a customer's phone that posts signed webhooks on the real routes, and a fake Graph API
that records what the service sends, serves the phone's files and reports sent, delivered and read."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from pathlib import Path

import requests
from flask import Blueprint, abort, current_app, jsonify, render_template, request, send_file
from sqlalchemy import select

from inbox import broker, jobs, media
from inbox.channels import SANDBOX_WHATSAPP_ID
from inbox.db import session
from inbox.errors import ApiError
from inbox.models import ChannelAccount

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")
graph_bp = Blueprint("sandbox_graph", __name__, url_prefix="/sandbox/graph/v21.0")
DEFAULT_PHONE = "212600000001"
OUTBOX_LENGTH = 500


def _account() -> ChannelAccount:
    account = session().scalars(select(ChannelAccount).where(ChannelAccount.external_id == SANDBOX_WHATSAPP_ID)).first()
    if account is None:
        abort(404)
    return account


def _wamid() -> str:
    return "wamid.SBX" + base64.urlsafe_b64encode(secrets.token_bytes(18)).decode().rstrip("=")


def _post_webhook(payload: dict, app_secret: str) -> requests.Response:
    """Send a payload to the service's real webhook route, signed as Meta signs it."""
    body = json.dumps(payload, ensure_ascii=True).replace("/", "\\/").encode()
    signature = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return requests.post(
        f"{current_app.config['PUBLIC_URL']}/webhooks/whatsapp",
        data=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
        timeout=10,
    )


def _envelope(value: dict) -> dict:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "212500000000", "phone_number_id": SANDBOX_WHATSAPP_ID},
        **value,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "100000000000000", "changes": [{"value": value, "field": "messages"}]}],
    }


def _phone_arg(value: str | None) -> str:
    phone = (value or DEFAULT_PHONE).lstrip("+").replace(" ", "")
    if not phone.isdigit() or not 8 <= len(phone) <= 15:
        raise ApiError(422, "bad_phone", "The phone number must be 8 to 15 digits.")
    return phone


@bp.get("")
def phone():
    """The customer's phone."""
    return render_template("sandbox/phone.html")


def _store_phone_file(upload) -> dict:
    mime = media.base_type(upload.mimetype)
    path, sha, size = media.store(iter(lambda: upload.stream.read(64 * 1024), b""), 16 * 1024 * 1024)
    media_id = str(secrets.randbelow(10**15) + 10**15)
    record = {
        "path": path,
        "mime_type": mime,
        "sha256": sha,
        "size": size,
        "filename": Path(upload.filename or "file").name,
    }
    broker.connection().set(f"sandbox:media:{media_id}", json.dumps(record), ex=7 * 24 * 3600)
    kind = mime.split("/")[0] if mime.split("/")[0] in ("image", "video", "audio") else "document"
    content = {"id": media_id, "mime_type": mime, "sha256": base64.b64encode(bytes.fromhex(sha)).decode()}
    if kind == "document":
        content["filename"] = record["filename"]
    return {"type": kind, kind: content}


@bp.post("/api/messages")
def customer_writes():
    """The phone sends a text or a file (with a caption) to the service as a signed webhook."""
    account = _account()
    form = request.form if request.form or request.files else (request.get_json(silent=True) or {})
    phone_number = _phone_arg(form.get("phone"))
    name = (form.get("name") or "Sandbox customer")[:100]
    text = (form.get("text") or "").strip()
    message = {"from": phone_number, "id": _wamid(), "timestamp": str(int(time.time()))}
    if "file" in request.files:
        message.update(_store_phone_file(request.files["file"]))
        kind = message["type"]
        if text and kind != "audio":
            message[kind]["caption"] = text
    elif text:
        message.update(type="text", text={"body": text})
    else:
        raise ApiError(422, "empty_message", "Type a message or attach a file.")
    payload = _envelope({"contacts": [{"profile": {"name": name}, "wa_id": phone_number}], "messages": [message]})
    session().commit()
    response = _post_webhook(payload, account.secrets["app_secret"])
    return jsonify({"id": message["id"], "webhook_status": response.status_code}), 201


@bp.get("/api/messages")
def phone_inbox():
    """What the service sent to this phone, oldest first."""
    phone_number = _phone_arg(request.args.get("phone"))
    raw = broker.connection().lrange(f"sandbox:outbox:{phone_number}", 0, -1)
    return jsonify({"items": [json.loads(item) for item in raw]})


@bp.post("/api/read")
def phone_reads():
    """The phone has shown these messages: report them read, as WhatsApp does."""
    account = _account()
    body = request.get_json(silent=True) or {}
    phone_number = _phone_arg(body.get("phone"))
    ids = [str(i) for i in body.get("ids") or [] if str(i).startswith("wamid.")]
    session().commit()
    for wamid in ids:
        _post_webhook(_status_payload(wamid, phone_number, "read"), account.secrets["app_secret"])
    return jsonify({"read": len(ids)})


def _status_payload(wamid: str, phone_number: str, status: str) -> dict:
    return _envelope(
        {
            "statuses": [
                {"id": wamid, "status": status, "timestamp": str(int(time.time())), "recipient_id": phone_number}
            ]
        }
    )


def report_delivery(wamid: str, phone_number: str) -> None:
    """RQ job: the fake platform reports `sent` then `delivered` for a message it took."""
    account = _account()
    session().commit()
    for status in ("sent", "delivered"):
        response = _post_webhook(_status_payload(wamid, phone_number, status), account.secrets["app_secret"])
        response.raise_for_status()


def _check_token(account: ChannelAccount) -> None:
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), account.secrets["token"].encode()):
        raise ApiError(401, "OAuthException", "Invalid OAuth access token.")


@graph_bp.post("/<phone_number_id>/messages")
def graph_send(phone_number_id: str):
    """Fake Graph API: take a message, keep it for the phone, answer like the Cloud API."""
    account = _account()
    _check_token(account)
    body = request.get_json(silent=True) or {}
    to = str(body.get("to", "")).lstrip("+")
    if phone_number_id != account.external_id or not to.isdigit():
        return jsonify({"error": {"message": "(#100) Invalid parameter", "type": "OAuthException", "code": 100}}), 400
    wamid = _wamid()
    record = {"id": wamid, "type": body.get("type"), "body": body, "received_at": time.time()}
    connection = broker.connection()
    connection.rpush(f"sandbox:outbox:{to}", json.dumps(record))
    connection.ltrim(f"sandbox:outbox:{to}", -OUTBOX_LENGTH, -1)
    session().commit()
    jobs.enqueue(report_delivery, wamid, to, retries=3)
    return jsonify(
        {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}], "messages": [{"id": wamid}]}
    )


@graph_bp.post("/<phone_number_id>/media")
def graph_upload(phone_number_id: str):
    """Fake Graph API: take an upload, answer its media id."""
    _check_token(_account())
    session().commit()
    if "file" not in request.files:
        return jsonify({"error": {"message": "(#100) file is required", "code": 100}}), 400
    stored = _store_phone_file(request.files["file"])
    return jsonify({"id": stored[stored["type"]]["id"]})


def _media_record(media_id: str) -> dict:
    raw = broker.connection().get(f"sandbox:media:{media_id}")
    if raw is None:
        raise ApiError(404, "not_found", "Unknown media id.")
    return json.loads(raw)


@graph_bp.get("/<media_id>")
def graph_media_url(media_id: str):
    """Fake Graph API: a media id's download URL."""
    _check_token(_account())
    session().commit()
    record = _media_record(media_id)
    return jsonify(
        {
            "messaging_product": "whatsapp",
            "id": media_id,
            "mime_type": record["mime_type"],
            "sha256": record["sha256"],
            "file_size": record["size"],
            "url": f"{current_app.config['PUBLIC_URL']}/sandbox/graph/v21.0/download/{media_id}",
        }
    )


@graph_bp.get("/download/<media_id>")
def graph_media_download(media_id: str):
    """Fake Graph API: the file itself, with the token as Meta requires."""
    _check_token(_account())
    session().commit()
    record = _media_record(media_id)
    return send_file(Path(current_app.config["MEDIA_DIR"]) / record["path"], mimetype=record["mime_type"])


@bp.get("/api/files/<media_id>")
def phone_file(media_id: str):
    """A file the service sent to the phone, for the phone to show."""
    record = _media_record(media_id)
    # Served from the inbox's own origin, so only plain media plays inline: an HTML or JavaScript file would
    # otherwise run as 'self' and pass the pages' Content-Security-Policy (same rule as /media/<id>).
    inline = record["mime_type"] in media.INLINE_TYPES
    response = send_file(
        Path(current_app.config["MEDIA_DIR"]) / record["path"],
        mimetype=record["mime_type"] if inline else "application/octet-stream",
        as_attachment=not inline,
        download_name=record.get("filename") or f"file-{media_id}",
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
