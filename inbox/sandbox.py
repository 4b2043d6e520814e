"""The sandbox: a customer's phone that writes on WhatsApp, Messenger, under the Page's post and on X, each as a
signed webhook on the real routes; and fake platform APIs (Graph for WhatsApp and Facebook, X) that record what the
service sends, show it on the phone and report back as the platforms do (statuses, watermarks, echoes).

Nothing here is mounted when SANDBOX=0 (inbox/__init__.py). The phone's state lives in Redis for a week."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import mimetypes
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import requests
from flask import Blueprint, abort, current_app, jsonify, render_template, request, send_file
from sqlalchemy import select

from inbox import broker, jobs, media
from inbox.channels import SANDBOX_FACEBOOK_ID, SANDBOX_TWITTER_ID, SANDBOX_WHATSAPP_BUSINESS_ID, SANDBOX_WHATSAPP_ID
from inbox.db import session
from inbox.errors import ApiError
from inbox.models import ChannelAccount

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")
graph_bp = Blueprint("sandbox_graph", __name__, url_prefix="/sandbox/graph/v21.0")
x_bp = Blueprint("sandbox_x", __name__, url_prefix="/sandbox/x")
DEFAULT_PHONE = "212600000001"
OUTBOX_LENGTH = 500
KEEP_SECONDS = 7 * 24 * 3600
SANDBOX_IDS = {"whatsapp": SANDBOX_WHATSAPP_ID, "facebook": SANDBOX_FACEBOOK_ID, "twitter": SANDBOX_TWITTER_ID}
# The Page's one post, for the phone to comment on (post_id = <page id>_<post object id>, fixtures README E).
POST_OBJECT_ID = "900000000000001"
POST_ID = f"{SANDBOX_FACEBOOK_ID}_{POST_OBJECT_ID}"
POST_TEXT = (
    "Travaux sur le réseau d'eau potable à Maârif ce jeudi, de 9 h à 13 h : la distribution sera coupée dans "
    "le quartier. Vos questions en commentaire 👇"
)
PAGE_NAME = "Service client (sandbox)"
MESSENGER_APP_ID = 1517776400000001  # the app that "sent" our own messages, as echoes carry it (an integer)
X_ACCOUNT_HANDLE = "InboxSandbox"
X_APP_ID = "26000001"
MESSENGER_ATTACHMENT_TYPES = ("image", "video", "audio")
MESSAGING_TYPES = ("RESPONSE", "UPDATE", "MESSAGE_TAG")
# The fake business account's templates, as the Business Management API lists them (one pending: never listed
# as approved, and one with an image header the inbox cannot fill).
SANDBOX_TEMPLATES = [
    {"name": "relance_reclamation", "language": "fr", "category": "UTILITY", "status": "APPROVED",
     "components": [{"type": "BODY", "text": "Bonjour {{1}}, votre réclamation {{2}} est en cours de traitement. "
                     "Répondez à ce message pour reprendre la conversation.",
                     "example": {"body_text": [["Salma", "2026-000123"]]}}]},
    {"name": "relance_reclamation", "language": "ar", "category": "UTILITY", "status": "APPROVED",
     "components": [{"type": "BODY", "text": "مرحباً {{1}}، شكايتكم رقم {{2}} قيد المعالجة. أجيبوا على هذه الرسالة "
                     "لمواصلة المحادثة.", "example": {"body_text": [["سلمى", "2026-000123"]]}}]},
    {"name": "reprise_conversation", "language": "fr", "category": "UTILITY", "status": "APPROVED",
     "components": [{"type": "BODY", "text": "Bonjour, nous revenons vers vous au sujet de votre demande. "
                     "Répondez à ce message pour poursuivre."}]},
    {"name": "follow_up", "language": "en", "category": "UTILITY", "status": "APPROVED",
     "components": [{"type": "BODY", "text": "Hello {{1}}, we are following up on your request. Reply to continue."}]},
    {"name": "facture_disponible", "language": "fr", "category": "UTILITY", "status": "APPROVED",
     "components": [{"type": "HEADER", "format": "IMAGE"},
                    {"type": "BODY", "text": "Votre facture {{1}} est disponible."}]},
    {"name": "nouvelle_offre", "language": "fr", "category": "MARKETING", "status": "PENDING",
     "components": [{"type": "BODY", "text": "Découvrez la facture électronique."}]},
]


# ---- shared helpers ------------------------------------------------------------------------------------------


def _account(platform: str = "whatsapp") -> ChannelAccount:
    found = session().scalars(
        select(ChannelAccount).where(
            ChannelAccount.platform == platform, ChannelAccount.external_id == SANDBOX_IDS[platform]
        )
    )
    account = found.first()
    if account is None:
        abort(404)
    return account


def _secrets(platform: str) -> dict:
    """The sandbox account's secrets; the read ends at once (on SQLite it holds the write lock, db.py), since
    what follows calls the service's own routes."""
    secrets_ = dict(_account(platform).secrets or {})
    session().commit()
    return secrets_


def _now_ms() -> int:
    return int(time.time() * 1000)


def _digits(length: int) -> str:
    return str(secrets.randbelow(9 * 10 ** (length - 1)) + 10 ** (length - 1))


def _wamid() -> str:
    return "wamid.SBX" + base64.urlsafe_b64encode(secrets.token_bytes(18)).decode().rstrip("=")


def _mid() -> str:
    # m_ followed by about 86 base64url characters, as Messenger's (fixtures README E).
    return "m_" + base64.urlsafe_b64encode(secrets.token_bytes(64)).decode().rstrip("=")[:86]


def _post_webhook(payload: dict, app_secret: str, platform: str = "whatsapp") -> requests.Response:
    """Send a payload to the service's real webhook route, signed as the platform signs it."""
    if platform == "twitter":
        body = json.dumps(payload, ensure_ascii=False).encode()
        digest = hmac.new(app_secret.encode(), body, hashlib.sha256).digest()
        headers = {"x-twitter-webhooks-signature": "sha256=" + base64.b64encode(digest).decode()}
    else:  # Meta escapes non-ASCII and "/" on the wire (fixtures README A.1)
        body = json.dumps(payload, ensure_ascii=True).replace("/", "\\/").encode()
        headers = {"X-Hub-Signature-256": "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()}
    return requests.post(
        f"{current_app.config['PUBLIC_URL']}/webhooks/{platform}",
        data=body,
        headers={"Content-Type": "application/json", **headers},
        timeout=10,
    )


def deliver(platform: str, payloads: list[dict]) -> None:
    """RQ job: the fake platform posts what it reports on its own (echoes, the Page's comments), in order."""
    app_secret = _secrets(platform)["app_secret"]
    for payload in payloads:
        _post_webhook(payload, app_secret, platform).raise_for_status()


def _phone_arg(value: str | None) -> str:
    phone = (value or DEFAULT_PHONE).lstrip("+").replace(" ", "")
    if not phone.isdigit() or not 8 <= len(phone) <= 15:
        raise ApiError(422, "bad_phone", "The phone number must be 8 to 15 digits.")
    return phone


def _form() -> dict:
    return request.form if request.form or request.files else (request.get_json(silent=True) or {})


def _name_arg(form) -> str:
    return (form.get("name") or "").strip()[:100] or "Sandbox customer"


def _text_arg(form) -> str:
    return (form.get("text") or "").strip()


def _reply_arg(form) -> dict | None:
    """A tapped choice, as the Cloud API reports it: a button_reply or a list_reply with its id and title."""
    reply_id = str(form.get("reply_id") or "").strip()
    if not reply_id:
        return None
    kind = "list_reply" if form.get("reply_kind") == "list" else "button_reply"
    title = str(form.get("reply_title") or "").strip()[:24] or reply_id
    return {"type": kind, kind: {"id": reply_id[:200], "title": title}}


# The customer's ids on each platform, derived from the phone number the phone plays.
def psid_of(phone: str) -> str:
    """The customer's Messenger PSID (16 digits)."""
    return f"7{int(phone):015d}"


def commenter_of(phone: str) -> str:
    """The customer's id in the Page's feed; not their PSID, as on Facebook."""
    return f"8{int(phone):015d}"


def x_user_of(phone: str) -> str:
    """The customer's X user id (19 digits)."""
    return f"14{int(phone):017d}"


def x_handle_of(phone: str) -> str:
    return f"client{phone[-8:]}"


def _remember(phone: str, name: str) -> None:
    """Who each platform id is, for the fake APIs to show what the service sends on the right phone."""
    record = json.dumps({"phone": phone, "name": name})
    broker.connection().hset(
        "sandbox:personas", mapping={psid_of(phone): record, commenter_of(phone): record, x_user_of(phone): record}
    )


def _persona(platform_id: str) -> dict | None:
    raw = broker.connection().hget("sandbox:personas", platform_id)
    return json.loads(raw) if raw else None


def _push(key: str, record: dict) -> None:
    connection = broker.connection()
    connection.rpush(key, json.dumps(record))
    connection.ltrim(key, -OUTBOX_LENGTH, -1)
    connection.expire(key, KEEP_SECONDS)


def _list(key: str) -> list[dict]:
    return [json.loads(item) for item in broker.connection().lrange(key, 0, -1)]


def _file_url(media_id: str, filename: str | None = None) -> str:
    base = f"{current_app.config['PUBLIC_URL']}/sandbox/api/files/{media_id}"
    return f"{base}/{filename}" if filename else base


def _store_file(upload, filename: str | None = None) -> tuple[str, dict]:
    """Keep an uploaded file for a week; returns its media id and record."""
    mime = media.base_type(upload.mimetype)
    if mime == "application/octet-stream":  # tweepy uploads without a type: X goes by the file itself
        mime = mimetypes.guess_type(upload.filename or "")[0] or mime
    path, sha, size = media.store(iter(lambda: upload.stream.read(64 * 1024), b""), 16 * 1024 * 1024)
    media_id = _digits(16)
    record = {
        "path": path,
        "mime_type": mime,
        "sha256": sha,
        "size": size,
        "filename": Path(filename or upload.filename or "file").name,
    }
    broker.connection().set(f"sandbox:media:{media_id}", json.dumps(record), ex=KEEP_SECONDS)
    return media_id, record


def _media_record(media_id: str) -> dict:
    raw = broker.connection().get(f"sandbox:media:{media_id}")
    if raw is None:
        raise ApiError(404, "not_found", "Unknown media id.")
    return json.loads(raw)


def _file_json(media_id: str, record: dict) -> dict:
    """A file as the phone shows it."""
    return {
        "id": media_id,
        "url": f"/sandbox/api/files/{media_id}",
        "mime_type": record["mime_type"],
        "filename": record.get("filename"),
        "size": record.get("size"),
    }


def _kind(mime: str) -> str:
    major = mime.split("/")[0]
    return major if major in ("image", "video", "audio") else "document"


@bp.get("")
def phone():
    """The customer's phone."""
    return render_template("sandbox/phone.html")


@bp.get("/api/files/<media_id>")
@bp.get("/api/files/<media_id>/<path:filename>")
def phone_file(media_id: str, filename: str | None = None):
    """A file kept by the sandbox (sent to or by the phone), for the phone and the service to fetch."""
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


# ---- WhatsApp ------------------------------------------------------------------------------------------------


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


def _whatsapp_media(upload) -> dict:
    media_id, record = _store_file(upload)
    mime = record["mime_type"]
    kind = _kind(mime)
    content = {"id": media_id, "mime_type": mime, "sha256": base64.b64encode(bytes.fromhex(record["sha256"])).decode()}
    if kind == "document":
        content["filename"] = record["filename"]
    return {"type": kind, kind: content}


@bp.post("/api/messages")
def customer_writes():
    """The phone sends a text or a file (with a caption) to the service as a signed WhatsApp webhook."""
    app_secret = _secrets("whatsapp")["app_secret"]
    form = _form()
    phone_number = _phone_arg(form.get("phone"))
    text = _text_arg(form)
    message = {"from": phone_number, "id": _wamid(), "timestamp": str(int(time.time()))}
    reply = _reply_arg(form)
    if reply is not None:  # a tap on one of the service's buttons or list rows
        message.update(type="interactive", interactive=reply)
    elif "file" in request.files:
        message.update(_whatsapp_media(request.files["file"]))
        kind = message["type"]
        if text and kind != "audio":
            message[kind]["caption"] = text
    elif text:
        message.update(type="text", text={"body": text})
    else:
        raise ApiError(422, "empty_message", "Type a message or attach a file.")
    contacts = [{"profile": {"name": _name_arg(form)}, "wa_id": phone_number}]
    response = _post_webhook(_envelope({"contacts": contacts, "messages": [message]}), app_secret)
    return jsonify({"id": message["id"], "webhook_status": response.status_code}), 201


@bp.get("/api/messages")
def phone_inbox():
    """What the service sent to this phone on WhatsApp, oldest first."""
    return jsonify({"items": _list(f"sandbox:outbox:{_phone_arg(request.args.get('phone'))}")})


@bp.post("/api/read")
def phone_reads():
    """The phone has shown these WhatsApp messages: report them read, as WhatsApp does."""
    app_secret = _secrets("whatsapp")["app_secret"]
    body = request.get_json(silent=True) or {}
    phone_number = _phone_arg(body.get("phone"))
    ids = [str(i) for i in body.get("ids") or [] if str(i).startswith("wamid.")]
    for wamid in ids:
        _post_webhook(_status_payload(wamid, phone_number, "read"), app_secret)
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
    app_secret = _secrets("whatsapp")["app_secret"]
    for status in ("sent", "delivered"):
        _post_webhook(_status_payload(wamid, phone_number, status), app_secret).raise_for_status()


# ---- Messenger (the phone's side) ----------------------------------------------------------------------------


def _messenger_payload(*events: dict) -> dict:
    """A Messenger delivery: object "page", entry.id the Page, times in integer milliseconds (fixtures README E)."""
    return {"object": "page", "entry": [{"time": _now_ms(), "id": SANDBOX_FACEBOOK_ID, "messaging": list(events)}]}


def _messenger_attachment(upload) -> tuple[dict, dict]:
    """(the webhook's attachment, the phone's record) of a file the customer sends on Messenger."""
    media_id, record = _store_file(upload)
    kind = _kind(record["mime_type"])
    kind = "file" if kind == "document" else kind
    # CDN addresses end with the file's name, which is all a "file" attachment tells of it (fixtures README A.5).
    url = _file_url(media_id, record["filename"])
    return {"type": kind, "payload": {"url": url}}, _file_json(media_id, record)


@bp.post("/api/messenger")
def customer_writes_messenger():
    """The phone sends a Messenger message (text, or a file then its text, as Messenger does) as signed webhooks."""
    app_secret = _secrets("facebook")["app_secret"]
    form = _form()
    phone_number, name, text = _phone_arg(form.get("phone")), _name_arg(form), _text_arg(form)
    if not text and "file" not in request.files:
        raise ApiError(422, "empty_message", "Type a message or attach a file.")
    _remember(phone_number, name)
    psid = psid_of(phone_number)
    sent, status = [], 200
    parts = []
    if "file" in request.files:
        attachment, shown = _messenger_attachment(request.files["file"])
        parts.append(({"attachments": [attachment]}, {"file": shown}))
    if text:
        parts.append(({"text": text}, {"text": text}))
    for content, shown in parts:
        mid = _mid()
        event = {
            "sender": {"id": psid},
            "recipient": {"id": SANDBOX_FACEBOOK_ID},
            "timestamp": _now_ms(),
            "message": {"mid": mid, **content},
        }
        status = _post_webhook(_messenger_payload(event), app_secret, "facebook").status_code
        record = {"id": mid, "from": "customer", "at": time.time(), "status": "sent" if status == 200 else "failed"}
        if status != 200:
            record["error"] = f"The webhook answered {status}."
        _push(f"sandbox:messenger:{phone_number}", {**record, **shown})
        sent.append(mid)
    return jsonify({"ids": sent, "webhook_status": status}), 201


@bp.get("/api/messenger")
def messenger_chat():
    """The phone's Messenger chat with the Page, both ways, oldest first."""
    return jsonify({"items": _list(f"sandbox:messenger:{_phone_arg(request.args.get('phone'))}")})


@bp.post("/api/messenger/read")
def messenger_reads():
    """The phone has shown the Page's messages: a read watermark, as Messenger reports it (README E)."""
    app_secret = _secrets("facebook")["app_secret"]
    body = request.get_json(silent=True) or {}
    phone_number = _phone_arg(body.get("phone"))
    event = {
        "sender": {"id": psid_of(phone_number)},
        "recipient": {"id": SANDBOX_FACEBOOK_ID},
        "timestamp": _now_ms(),
        "read": {"watermark": _now_ms()},
    }
    response = _post_webhook(_messenger_payload(event), app_secret, "facebook")
    return jsonify({"webhook_status": response.status_code})


def messenger_delivered(psid: str, mids: list[str]) -> None:
    """RQ job: Messenger reports the messages delivered, by mid and with a watermark (no timestamp, README E)."""
    app_secret = _secrets("facebook")["app_secret"]
    event = {
        "sender": {"id": psid},
        "recipient": {"id": SANDBOX_FACEBOOK_ID},
        "delivery": {"mids": mids, "watermark": _now_ms()},
    }
    _post_webhook(_messenger_payload(event), app_secret, "facebook").raise_for_status()


# ---- the Page's post and its comments (the phone's side) ---------------------------------------------------


def _post_url() -> str:
    return f"{current_app.config['PUBLIC_URL']}/sandbox#page"


def _post_created_time() -> int:
    connection = broker.connection()
    connection.set("sandbox:page:post_time", int(time.time()), nx=True)
    return int(connection.get("sandbox:page:post_time"))


def _post_object() -> dict:
    """The `post` object of a comment change (fixtures README E); updated_time is an ISO string with +0000."""
    updated = datetime.fromtimestamp(_post_created_time(), UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
    return {
        "status_type": "mobile_status_update",
        "is_published": True,
        "updated_time": updated,
        "permalink_url": _post_url(),
        "promotion_status": "inactive",
        "id": POST_ID,
    }


def _feed_payload(value: dict) -> dict:
    """A Page feed delivery: times in integer seconds (fixtures README E)."""
    entry = {"id": SANDBOX_FACEBOOK_ID, "time": int(time.time()), "changes": [{"value": value, "field": "feed"}]}
    return {"entry": [entry], "object": "page"}


def _comment_value(comment: dict, verb: str) -> dict:
    value = {"from": comment["from"]}
    if verb != "remove":
        value["post"] = _post_object()
        value["message"] = comment["message"]
    value.update(
        post_id=POST_ID,
        comment_id=comment["id"],
        created_time=int(time.time()),
        item="comment",
        parent_id=comment["parent_id"],
        verb=verb,
    )
    if comment.get("photo") and verb != "remove":
        value["photo"] = comment["photo"]
    return value


def _comments() -> dict[str, dict]:
    raw = broker.connection().hgetall("sandbox:page:comments")
    return {key.decode(): json.loads(value) for key, value in raw.items()}


def _comment(comment_id: str) -> dict | None:
    raw = broker.connection().hget("sandbox:page:comments", comment_id)
    return json.loads(raw) if raw else None


def _save_comment(comment: dict) -> None:
    connection = broker.connection()
    connection.hset("sandbox:page:comments", comment["id"], json.dumps(comment))
    connection.expire("sandbox:page:comments", KEEP_SECONDS)


def _own_comment(comment_id: str, phone_number: str) -> dict:
    comment = _comment(comment_id)
    if comment is None or comment.get("removed"):
        raise ApiError(404, "not_found", "No such comment.")
    if comment.get("phone") != phone_number:
        raise ApiError(403, "not_yours", "Only the comment's author can change it.")
    return comment


@bp.get("/api/page")
def page_view():
    """The Page's post and its comments as this phone sees them (others' hidden comments are not shown)."""
    phone_number = _phone_arg(request.args.get("phone"))
    shown = []
    for comment in sorted(_comments().values(), key=lambda c: (c["created_time"], c["id"])):
        mine = comment.get("phone") == phone_number
        if comment.get("removed") or (comment.get("hidden") and not mine):
            continue
        visible = {key: value for key, value in comment.items() if key != "phone"}
        shown.append({**visible, "mine": mine, "by_page": comment["from"]["id"] == SANDBOX_FACEBOOK_ID})
    post = {
        "id": POST_ID,
        "page": PAGE_NAME,
        "text": POST_TEXT,
        "created_time": _post_created_time(),
        "url": _post_url(),
    }
    return jsonify({"post": post, "comments": shown})


@bp.post("/api/page/comments")
def customer_comments():
    """The phone comments on the post, or replies to a comment, as a signed feed webhook."""
    app_secret = _secrets("facebook")["app_secret"]
    form = _form()
    phone_number, name, text = _phone_arg(form.get("phone")), _name_arg(form), _text_arg(form)
    parent_id = (form.get("parent_id") or "").strip() or POST_ID
    if parent_id != POST_ID:
        parent = _comment(parent_id)
        if parent is None or parent.get("removed"):
            raise ApiError(404, "not_found", "That comment no longer exists.")
    if not text and "file" not in request.files:
        raise ApiError(422, "empty_message", "Write a comment or attach a photo.")
    _remember(phone_number, name)
    comment = {
        "id": f"{POST_OBJECT_ID}_{_digits(15)}",
        "parent_id": parent_id,
        "from": {"id": commenter_of(phone_number), "name": name},
        "phone": phone_number,
        "message": text,
        "created_time": int(time.time()),
    }
    if "file" in request.files:
        if not media.base_type(request.files["file"].mimetype).startswith("image/"):
            raise ApiError(415, "not_a_photo", "Comments take photos only.")
        media_id, record = _store_file(request.files["file"])
        comment["photo"] = _file_url(media_id, record["filename"])
        comment["file"] = _file_json(media_id, record)
    response = _post_webhook(_feed_payload(_comment_value(comment, "add")), app_secret, "facebook")
    _save_comment(comment)
    return jsonify({"id": comment["id"], "webhook_status": response.status_code}), 201


@bp.patch("/api/page/comments/<comment_id>")
def customer_edits_comment(comment_id: str):
    """The phone edits its comment: a feed change with verb "edited" and the new text."""
    app_secret = _secrets("facebook")["app_secret"]
    form = _form()
    comment = _own_comment(comment_id, _phone_arg(form.get("phone")))
    text = _text_arg(form)
    if not text:
        raise ApiError(422, "empty_message", "A comment cannot be emptied; delete it instead.")
    comment["history"] = [*comment.get("history", []), comment["message"]]
    comment["message"] = text
    response = _post_webhook(_feed_payload(_comment_value(comment, "edited")), app_secret, "facebook")
    _save_comment(comment)
    return jsonify({"id": comment_id, "webhook_status": response.status_code})


@bp.delete("/api/page/comments/<comment_id>")
def customer_removes_comment(comment_id: str):
    """The phone deletes its comment: a feed change with verb "remove"."""
    app_secret = _secrets("facebook")["app_secret"]
    comment = _own_comment(comment_id, _phone_arg(request.args.get("phone")))
    comment["removed"] = True
    response = _post_webhook(_feed_payload(_comment_value(comment, "remove")), app_secret, "facebook")
    _save_comment(comment)
    return jsonify({"id": comment_id, "webhook_status": response.status_code})


# ---- X (the phone's side) ------------------------------------------------------------------------------------


def _x_user(user_id: str, name: str, handle: str) -> dict:
    return {
        "id": user_id,
        "created_timestamp": "1631012345678",
        "name": name,
        "screen_name": handle,
        "protected": False,
        "verified": False,
        "followers_count": 12,
        "friends_count": 40,
        "statuses_count": 120,
        "profile_image_url_https": "https://pbs.twimg.com/profile_images/0/default_normal.png",
    }


def _x_account_user(name: str) -> dict:
    return _x_user(SANDBOX_TWITTER_ID, name, X_ACCOUNT_HANDLE)


def _x_customer(phone_number: str, name: str) -> dict:
    return _x_user(x_user_of(phone_number), name, x_handle_of(phone_number))


def _x_media(media_id: str, record: dict, short_url: str) -> dict:
    """A DM's attachment.media (fixtures twitter/dm_with_media.json); videos come as mp4 variants (README E)."""
    url = _file_url(media_id, record["filename"])
    found = {
        "id": int(media_id),
        "id_str": media_id,
        "media_url": url,
        "media_url_https": url,
        "url": short_url,
        "display_url": short_url.replace("https://t.co/", "pic.x.com/"),
        "expanded_url": short_url,
        "type": "photo",
        "sizes": {"large": {"w": 1024, "h": 1024, "resize": "fit"}},
    }
    if record["mime_type"].startswith("video/"):
        found["type"] = "video"
        found["video_info"] = {"variants": [{"bitrate": 832000, "content_type": "video/mp4", "url": url}]}
    return found


def _dm_event(event_id: str, sender: str, recipient: str, text: str, media: dict | None = None, app=False) -> dict:
    create = {"target": {"recipient_id": recipient}, "sender_id": sender}
    if app:
        create["source_app_id"] = X_APP_ID  # sent through our app, not typed in the X app (fixtures README B)
    data = {"text": text, "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []}}
    if media:
        data["text"] = f"{text} {media['url']}".strip()
        start = len(data["text"]) - len(media["url"])
        data["entities"]["urls"].append(
            {
                "url": media["url"],
                "expanded_url": media["expanded_url"],
                "display_url": media["display_url"],
                "indices": [start, len(data["text"])],
            }
        )
        data["attachment"] = {"type": "media", "media": {**media, "indices": [start, len(data["text"])]}}
    create["message_data"] = data
    return {"type": "message_create", "id": event_id, "created_timestamp": str(_now_ms()), "message_create": create}


@bp.post("/api/x/dms")
def customer_sends_dm():
    """The phone sends the account a Direct Message (text, or a photo or video with text) as a signed webhook."""
    app_secret = _secrets("twitter")["app_secret"]
    form = _form()
    phone_number, name, text = _phone_arg(form.get("phone")), _name_arg(form), _text_arg(form)
    if not text and "file" not in request.files:
        raise ApiError(422, "empty_message", "Type a message or attach a photo.")
    _remember(phone_number, name)
    shown_file = media_json = None
    if "file" in request.files:
        if not media.base_type(request.files["file"].mimetype).startswith(("image/", "video/")):
            raise ApiError(415, "not_media", "X Direct Messages take photos, GIFs and videos.")
        media_id, record = _store_file(request.files["file"])
        media_json = _x_media(media_id, record, f"https://t.co/{secrets.token_urlsafe(7)[:10]}")
        shown_file = _file_json(media_id, record)
    event_id = _digits(19)
    user = x_user_of(phone_number)
    payload = {
        "for_user_id": SANDBOX_TWITTER_ID,
        "direct_message_events": [_dm_event(event_id, user, SANDBOX_TWITTER_ID, text, media_json)],
        "users": {user: _x_customer(phone_number, name), SANDBOX_TWITTER_ID: _x_account_user(PAGE_NAME)},
    }
    status = _post_webhook(payload, app_secret, "twitter").status_code
    record = {"id": event_id, "from": "customer", "text": text, "file": shown_file, "at": time.time()}
    record["status"] = "sent" if status == 200 else "failed"
    _push(f"sandbox:x:dms:{phone_number}", record)
    return jsonify({"id": event_id, "webhook_status": status}), 201


def _tweets() -> dict[str, dict]:
    raw = broker.connection().hgetall("sandbox:x:tweets")
    return {key.decode(): json.loads(value) for key, value in raw.items()}


def _tweet(tweet_id: str) -> dict | None:
    raw = broker.connection().hget("sandbox:x:tweets", tweet_id)
    return json.loads(raw) if raw else None


def _save_tweet(tweet: dict) -> None:
    connection = broker.connection()
    connection.hset("sandbox:x:tweets", tweet["id"], json.dumps(tweet))
    connection.expire("sandbox:x:tweets", KEEP_SECONDS)


def _tweet_object(tweet_id: str, text: str, user: dict, reply_to: dict | None) -> dict:
    """A tweet_create_events item (fixtures twitter/tweet_create_mention.json): the numeric id above 2^53 next
    to id_str, timestamp_ms a string (README E)."""
    mention_at = text.find(f"@{X_ACCOUNT_HANDLE}")
    mentions = []
    if mention_at >= 0:
        mentions.append(
            {
                "screen_name": X_ACCOUNT_HANDLE,
                "name": PAGE_NAME,
                "id": int(SANDBOX_TWITTER_ID),
                "id_str": SANDBOX_TWITTER_ID,
                "indices": [mention_at, mention_at + len(X_ACCOUNT_HANDLE) + 1],
            }
        )
    return {
        "created_at": datetime.now(UTC).strftime("%a %b %d %H:%M:%S +0000 %Y"),
        "id": int(tweet_id),
        "id_str": tweet_id,
        "text": text,
        "source": '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
        "truncated": False,
        "in_reply_to_status_id": int(reply_to["id"]) if reply_to else None,
        "in_reply_to_status_id_str": reply_to["id"] if reply_to else None,
        "in_reply_to_user_id": int(reply_to["author"]["id"]) if reply_to else int(SANDBOX_TWITTER_ID),
        "in_reply_to_user_id_str": reply_to["author"]["id"] if reply_to else SANDBOX_TWITTER_ID,
        "in_reply_to_screen_name": reply_to["author"]["screen_name"] if reply_to else X_ACCOUNT_HANDLE,
        "user": _tweet_user(user),
        "geo": None,
        "coordinates": None,
        "place": None,
        "contributors": None,
        "is_quote_status": False,
        "quote_count": 0,
        "reply_count": 0,
        "retweet_count": 0,
        "favorite_count": 0,
        "entities": {"hashtags": [], "urls": [], "user_mentions": mentions, "symbols": []},
        "favorited": False,
        "retweeted": False,
        "filter_level": "low",
        "lang": "fr",
        "timestamp_ms": str(_now_ms()),
    }


def _tweet_user(user: dict) -> dict:
    """A v1.1 user object as tweets carry it: the numeric id next to id_str (fixtures README E)."""
    return {
        "id": int(user["id"]),
        "id_str": user["id"],
        "name": user["name"],
        "screen_name": user["screen_name"],
        "location": "Casablanca, Maroc",
        "url": None,
        "description": "",
        "translator_type": "none",
        "protected": False,
        "verified": False,
        "followers_count": user["followers_count"],
        "friends_count": user["friends_count"],
        "listed_count": 0,
        "favourites_count": 0,
        "statuses_count": user["statuses_count"],
        "created_at": "Tue Mar 07 10:55:12 +0000 2023",
        "utc_offset": None,
        "time_zone": None,
        "geo_enabled": False,
        "lang": None,
        "contributors_enabled": False,
        "is_translator": False,
        "profile_background_color": "F5F8FA",
        "profile_background_image_url": "",
        "profile_background_image_url_https": "",
        "profile_background_tile": False,
        "profile_link_color": "1DA1F2",
        "profile_sidebar_border_color": "C0DEED",
        "profile_sidebar_fill_color": "DDEEF6",
        "profile_text_color": "333333",
        "profile_use_background_image": True,
        "profile_image_url": user["profile_image_url_https"].replace("https://", "http://"),
        "profile_image_url_https": user["profile_image_url_https"],
        "default_profile": True,
        "default_profile_image": False,
        "following": None,
        "follow_request_sent": None,
        "notifications": None,
    }


@bp.post("/api/x/tweets")
def customer_tweets():
    """The phone mentions the account in a tweet, or replies to one of its tweets, as a signed webhook."""
    app_secret = _secrets("twitter")["app_secret"]
    form = _form()
    phone_number, name, text = _phone_arg(form.get("phone")), _name_arg(form), _text_arg(form)
    reply_to = None
    if form.get("in_reply_to"):
        reply_to = _tweet(str(form["in_reply_to"]))
        if reply_to is None:
            raise ApiError(404, "not_found", "That tweet no longer exists.")
    if not text:
        raise ApiError(422, "empty_message", "Write the tweet.")
    if f"@{X_ACCOUNT_HANDLE}".lower() not in text.lower():
        text = f"@{X_ACCOUNT_HANDLE} {text}"  # a mention is what the account hears about
    if len(text) > 280:
        raise ApiError(422, "too_long", "A tweet takes at most 280 characters.")
    _remember(phone_number, name)
    tweet_id = _digits(19)
    user = _x_customer(phone_number, name)
    payload = {
        "for_user_id": SANDBOX_TWITTER_ID,
        "user_has_blocked": False,
        "tweet_create_events": [_tweet_object(tweet_id, text, user, reply_to)],
    }
    status = _post_webhook(payload, app_secret, "twitter").status_code
    author = {"id": user["id"], "name": name, "screen_name": user["screen_name"]}
    tweet = {"id": tweet_id, "text": text, "author": author, "phone": phone_number, "at": time.time()}
    tweet.update(in_reply_to=reply_to["id"] if reply_to else None, status="sent" if status == 200 else "failed")
    _save_tweet(tweet)
    return jsonify({"id": tweet_id, "webhook_status": status}), 201


@bp.get("/api/x")
def x_view():
    """The phone's Direct Messages with the account, and the tweets between them (mentions and replies)."""
    phone_number = _phone_arg(request.args.get("phone"))
    tweets = _tweets()
    mine = {tw["id"] for tw in tweets.values() if tw.get("phone") == phone_number}
    # The account's replies to this customer's tweets, and to those replies, belong to the thread.
    thread = set(mine)
    for tweet in sorted(tweets.values(), key=lambda tw: tw["at"]):
        if tweet.get("in_reply_to") in thread:
            thread.add(tweet["id"])
    shown = [{**tweets[i], "mine": i in mine} for i in thread]
    shown.sort(key=lambda tw: (tw["at"], tw["id"]))
    account = {"id": SANDBOX_TWITTER_ID, "screen_name": X_ACCOUNT_HANDLE, "name": PAGE_NAME}
    me = {"id": x_user_of(phone_number), "screen_name": x_handle_of(phone_number)}
    return jsonify(
        {"account": account, "me": me, "dms": _list(f"sandbox:x:dms:{phone_number}"), "tweets": shown[-200:]}
    )


# ---- the fake Graph API (WhatsApp Cloud API and Facebook Page) ------------------------------------------------


def _check_token(account: ChannelAccount) -> None:
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    expected = (account.secrets or {}).get("token") or ""
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise ApiError(401, "OAuthException", "Invalid OAuth access token.")


def _graph_error(code: int, message: str, status: int = 400, subcode: int | None = None):
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "SBX" + secrets.token_hex(8)}
    if subcode:
        error["error_subcode"] = subcode
    return jsonify({"error": error}), status


def _graph_json_field(form, name: str):
    """A Send API field: JSON in a JSON body, a JSON string in a multipart one."""
    value = form.get(name)
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


@graph_bp.post("/<object_id>/messages")
def graph_send(object_id: str):
    """Fake Graph API: a WhatsApp number's Cloud API, or the Page's Send API (Messenger and private replies)."""
    if object_id == SANDBOX_FACEBOOK_ID:
        return _messenger_send()
    account = _account("whatsapp")
    _check_token(account)
    session().commit()
    body = request.get_json(silent=True) or {}
    to = str(body.get("to", "")).lstrip("+")
    if object_id != account.external_id or not to.isdigit():
        return _graph_error(100, "(#100) Invalid parameter")
    wamid = _wamid()
    shown = {"id": wamid, "type": body.get("type"), "body": body, "received_at": time.time()}
    if body.get("type") == "template":
        shown["text"] = _template_text(body.get("template") or {})
        if shown["text"] is None:
            return _graph_error(132001, "(#132001) Template name does not exist in the translation")
    _push(f"sandbox:outbox:{to}", shown)
    jobs.enqueue(report_delivery, wamid, to, retries=3)
    return jsonify(
        {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}], "messages": [{"id": wamid}]}
    )


def _messenger_send():
    """The Send API: POST /<page-id>/messages with the Page token, JSON or multipart with `filedata`."""
    _check_token(_account("facebook"))
    session().commit()
    form = request.form if request.form or request.files else (request.get_json(silent=True) or {})
    recipient = _graph_json_field(form, "recipient") or {}
    message = _graph_json_field(form, "message") or {}
    if not isinstance(recipient, dict) or not isinstance(message, dict):
        return _graph_error(100, "(#100) Param recipient and message must be JSON objects")
    if recipient.get("comment_id"):
        return _private_reply(str(recipient["comment_id"]), message)
    messaging_type = form.get("messaging_type")
    if messaging_type not in MESSAGING_TYPES or (messaging_type == "MESSAGE_TAG" and not form.get("tag")):
        return _graph_error(100, "(#100) messaging_type must be RESPONSE, UPDATE or MESSAGE_TAG with a tag")
    psid = str(recipient.get("id") or "")
    persona = _persona(psid)
    if persona is None:
        return _graph_error(100, "(#100) No matching user found", subcode=2018001)
    shown: dict = {}
    attachment = None
    if "filedata" in request.files:
        kind = (message.get("attachment") or {}).get("type") or "file"
        media_id, record = _store_file(request.files["filedata"])
        shown["file"] = _file_json(media_id, record)
        attachment = {"type": kind, "payload": {"url": _file_url(media_id, record["filename"])}}
    elif message.get("text"):
        shown["text"] = message["text"]
    else:
        return _graph_error(100, "(#100) The message must have text or an attachment")
    mid = _mid()
    shown.update(id=mid, at=time.time(), tag=form.get("tag"), messaging_type=messaging_type)
    _push(f"sandbox:messenger:{persona['phone']}", {"from": "page", **shown})
    _after_messenger_send(psid, mid, message, attachment)
    answer = {"recipient_id": psid, "message_id": mid}
    if attachment:
        answer["attachment_id"] = _digits(16)
    return jsonify(answer)


def _after_messenger_send(psid: str, mid: str, message: dict, attachment: dict | None) -> None:
    """Messenger echoes what the Page sent (with the request's metadata) and reports it delivered."""
    echo = {"mid": mid, "is_echo": True, "app_id": MESSENGER_APP_ID}
    if message.get("metadata"):
        echo["metadata"] = message["metadata"]
    if attachment:
        echo["attachments"] = [attachment]
    else:
        echo["text"] = message.get("text")
    event = {"sender": {"id": SANDBOX_FACEBOOK_ID}, "recipient": {"id": psid}, "timestamp": _now_ms(), "message": echo}
    jobs.enqueue(deliver, "facebook", [_messenger_payload(event)], retries=3)
    jobs.enqueue(messenger_delivered, psid, [mid], retries=3)


def _private_reply(comment_id: str, message: dict):
    """A private reply: one Messenger message to a comment's author, once per comment (README C.2)."""
    comment = _comment(comment_id)
    if comment is None or comment.get("removed") or comment["from"]["id"] == SANDBOX_FACEBOOK_ID:
        return _graph_error(10903, "(#10903) This user cant reply to this activity")
    if comment.get("private_replied"):
        return _graph_error(10900, "(#10900) Activity already replied to")
    if not message.get("text"):
        return _graph_error(100, "(#100) A private reply takes a text")
    phone_number = comment["phone"]
    psid = psid_of(phone_number)
    mid = _mid()
    replied = {"comment_id": comment_id, "text": comment["message"]}
    record = {"from": "page", "id": mid, "text": message["text"], "at": time.time(), "private_reply_to": replied}
    _push(f"sandbox:messenger:{phone_number}", record)
    comment["private_replied"] = True
    _save_comment(comment)
    _after_messenger_send(psid, mid, message, None)
    return jsonify({"recipient_id": psid, "message_id": mid})


@graph_bp.post("/<object_id>/comments")
def graph_comment(object_id: str):
    """Fake Graph API: the Page answers a comment publicly, under it."""
    _check_token(_account("facebook"))
    session().commit()
    parent = _comment(object_id)
    if parent is None or parent.get("removed"):
        return _graph_error(100, "(#100) Unsupported post request: the comment does not exist")
    text = (request.get_json(silent=True) or request.form).get("message")
    if not text:
        return _graph_error(100, "(#100) message is required")
    comment = {
        "id": f"{POST_OBJECT_ID}_{_digits(15)}",
        "parent_id": object_id,
        "from": {"id": SANDBOX_FACEBOOK_ID, "name": PAGE_NAME},
        "phone": None,
        "message": text,
        "created_time": int(time.time()),
    }
    _save_comment(comment)
    # The Page's own comment comes back in its feed too; the service must not loop on it (issue 3).
    jobs.enqueue(deliver, "facebook", [_feed_payload(_comment_value(comment, "add"))], retries=3)
    return jsonify({"id": comment["id"]})


@graph_bp.post("/<object_id>")
def graph_update(object_id: str):
    """Fake Graph API: hide a comment, or show it again ({"is_hidden": true|false})."""
    _check_token(_account("facebook"))
    session().commit()
    comment = _comment(object_id)
    body = request.get_json(silent=True) or request.form
    if comment is None or comment.get("removed"):
        return _graph_error(100, f"(#100) Object {object_id} does not exist")
    if "is_hidden" not in body:
        return _graph_error(100, "(#100) Only is_hidden can be changed here")
    hidden = body["is_hidden"] in (True, "true", "1", 1)
    comment["hidden"] = hidden
    _save_comment(comment)
    value = _comment_value(comment, "hide" if hidden else "unhide")
    jobs.enqueue(deliver, "facebook", [_feed_payload(value)], retries=3)
    return jsonify({"success": True})


@graph_bp.post("/<phone_number_id>/media")
def graph_upload(phone_number_id: str):
    """Fake Graph API: take a WhatsApp upload, answer its media id."""
    _check_token(_account("whatsapp"))
    session().commit()
    if "file" not in request.files:
        return _graph_error(100, "(#100) file is required")
    media_id, _record = _store_file(request.files["file"])
    return jsonify({"id": media_id})


@graph_bp.get("/<business_account_id>/message_templates")
def graph_templates(business_account_id: str):
    """Fake Business Management API: the business account's templates, every status, one page."""
    _check_token(_account("whatsapp"))
    session().commit()
    if business_account_id != SANDBOX_WHATSAPP_BUSINESS_ID:
        return _graph_error(100, "(#100) Unknown business account")
    return jsonify({"data": SANDBOX_TEMPLATES, "paging": {"cursors": {"before": "MAZDZD", "after": "MjQZD"}}})


def _template_text(template: dict) -> str | None:
    """The text a template send makes on the customer's phone, its values in place."""
    for known in SANDBOX_TEMPLATES:
        if known["name"] == template.get("name") and known["language"] == (template.get("language") or {}).get("code"):
            body = next(c["text"] for c in known["components"] if c["type"] == "BODY")
            values = [p.get("text", "") for c in template.get("components") or () for p in c.get("parameters") or ()]
            for number, value in enumerate(values, start=1):
                body = body.replace(f"{{{{{number}}}}}", value)
            return body
    return None


@graph_bp.get("/<object_id>")
def graph_object(object_id: str):
    """Fake Graph API: the Page's post (message, permalink_url), a customer's profile (name, first_name, last_name)
    by PSID, or a WhatsApp media id's download URL."""
    if object_id == POST_ID:
        _check_token(_account("facebook"))
        session().commit()
        return jsonify({"id": POST_ID, "message": POST_TEXT, "permalink_url": _post_url()})
    persona = _persona(object_id) if object_id.startswith("7") else None
    if persona is not None:  # a PSID: the User Profile API (Messenger webhooks carry no name)
        _check_token(_account("facebook"))
        session().commit()
        first, _, last = persona["name"].partition(" ")
        return jsonify({"id": object_id, "name": persona["name"], "first_name": first, "last_name": last})
    _check_token(_account("whatsapp"))
    session().commit()
    record = _media_record(object_id)
    return jsonify(
        {
            "messaging_product": "whatsapp",
            "id": object_id,
            "mime_type": record["mime_type"],
            "sha256": record["sha256"],
            "file_size": record["size"],
            "url": f"{current_app.config['PUBLIC_URL']}/sandbox/graph/v21.0/download/{object_id}",
        }
    )


@graph_bp.get("/download/<media_id>")
def graph_media_download(media_id: str):
    """Fake Graph API: a WhatsApp file itself, with the token as Meta requires."""
    _check_token(_account("whatsapp"))
    session().commit()
    record = _media_record(media_id)
    return send_file(Path(current_app.config["MEDIA_DIR"]) / record["path"], mimetype=record["mime_type"])


# ---- the fake X API (what tweepy calls, routed to the account's api_base_url) --------------------------------


def _x_problem(status: int, title: str, detail: str):
    """An X API v2 error body."""
    return jsonify({"title": title, "detail": detail, "type": "about:blank", "status": status}), status


def _oauth_params(header: str) -> dict:
    params = {}
    for part in header.removeprefix("OAuth ").split(","):
        key, _, value = part.strip().partition("=")
        params[key] = unquote(value.strip('"'))
    return params


@x_bp.before_request
def _x_auth():
    """OAuth 1.0a user context, checked loosely: the header is there, for this app and this account's token."""
    header = request.headers.get("Authorization", "")
    secrets_ = _secrets("twitter")
    params = _oauth_params(header) if header.startswith("OAuth ") else {}
    if params.get("oauth_consumer_key") != secrets_.get("consumer_key") or params.get("oauth_token") != secrets_.get(
        "access_token"
    ):
        return _x_problem(401, "Unauthorized", "Unauthorized")
    return None


@x_bp.post("/2/dm_conversations/with/<participant_id>/messages")
def x_send_dm(participant_id: str):
    """Fake X API: a Direct Message from the account (README C.3); the account's DMs come back as events."""
    body = request.get_json(silent=True) or {}
    text, attachments = body.get("text"), body.get("attachments") or []
    if not text and not attachments:
        return _x_problem(400, "Invalid Request", "One of text or attachments is required.")
    persona = _persona(participant_id)
    if persona is None:
        return _x_problem(403, "Forbidden", "You are not permitted to send Direct Messages to this user.")
    shown_file = media_json = None
    if attachments:
        media_id = str(attachments[0].get("media_id"))
        record = _media_record(media_id)
        shown_file = _file_json(media_id, record)
        media_json = _x_media(media_id, record, f"https://t.co/{secrets.token_urlsafe(7)[:10]}")
    event_id = _digits(19)
    record = {"id": event_id, "from": "account", "text": text or "", "file": shown_file, "at": time.time()}
    _push(f"sandbox:x:dms:{persona['phone']}", record)
    low, high = sorted((SANDBOX_TWITTER_ID, participant_id), key=int)
    event = _dm_event(event_id, SANDBOX_TWITTER_ID, participant_id, text or "", media_json, app=True)
    payload = {
        "for_user_id": SANDBOX_TWITTER_ID,
        "direct_message_events": [event],
        "apps": {X_APP_ID: {"id": X_APP_ID, "name": "Inbox (sandbox)", "url": current_app.config["PUBLIC_URL"]}},
        "users": {
            SANDBOX_TWITTER_ID: _x_account_user(PAGE_NAME),
            participant_id: _x_customer(persona["phone"], persona["name"]),
        },
    }
    jobs.enqueue(deliver, "twitter", [payload], retries=3)
    return jsonify({"data": {"dm_conversation_id": f"{low}-{high}", "dm_event_id": event_id}}), 201


@x_bp.post("/2/tweets")
def x_create_tweet():
    """Fake X API: the account tweets, here a public reply (reply.in_reply_to_tweet_id); echoed as an event."""
    body = request.get_json(silent=True) or {}
    text = body.get("text") or ""
    reply_to_id = str((body.get("reply") or {}).get("in_reply_to_tweet_id") or "")
    media_ids = (body.get("media") or {}).get("media_ids") or []
    if not text and not media_ids:
        return _x_problem(400, "Invalid Request", "One of text or media is required.")
    if len(text) > 280:
        return _x_problem(400, "Invalid Request", "The text of the Tweet is too long.")
    reply_to = _tweet(reply_to_id) if reply_to_id else None
    if reply_to_id and reply_to is None:
        return _x_problem(403, "Forbidden", "You attempted to reply to a Tweet that is deleted or not visible to you.")
    tweet_id = _digits(19)
    author = {"id": SANDBOX_TWITTER_ID, "name": PAGE_NAME, "screen_name": X_ACCOUNT_HANDLE}
    tweet = {"id": tweet_id, "text": text, "author": author, "phone": None, "at": time.time(), "by_account": True}
    tweet["in_reply_to"] = reply_to_id or None
    if media_ids:
        record = _media_record(str(media_ids[0]))
        tweet["file"] = _file_json(str(media_ids[0]), record)
    _save_tweet(tweet)
    user = _x_account_user(PAGE_NAME)
    payload = {
        "for_user_id": SANDBOX_TWITTER_ID,
        "tweet_create_events": [_tweet_object(tweet_id, text, user, reply_to)],
    }
    jobs.enqueue(deliver, "twitter", [payload], retries=3)
    return jsonify({"data": {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}}), 201


@x_bp.put("/2/tweets/<tweet_id>/hidden")
def x_hide_reply(tweet_id: str):
    """Fake X API: hide a reply to the account's tweets, or show it again."""
    tweet = _tweet(tweet_id)
    if tweet is None:
        return _x_problem(404, "Not Found Error", "Could not find the tweet.")
    tweet["hidden"] = bool((request.get_json(silent=True) or {}).get("hidden"))
    _save_tweet(tweet)
    return jsonify({"data": {"hidden": tweet["hidden"]}})


def _upload_answer(media_id: str, record: dict | None = None) -> dict:
    answer = {"media_id": int(media_id), "media_id_string": media_id, "expires_after_secs": 86400}
    if record:
        answer["size"] = record["size"]
        if record["mime_type"].startswith("image/"):
            answer["image"] = {"image_type": record["mime_type"], "w": 0, "h": 0}
    return answer


def _chunks_path(media_id: str) -> Path:
    folder = Path(current_app.config["MEDIA_DIR"]) / "sandbox-uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{int(media_id)}.part"


@x_bp.post("/1.1/media/upload.json")
def x_upload():
    """Fake X API: v1.1 media/upload, simple (multipart `media`) or chunked (INIT, APPEND, FINALIZE), as tweepy's
    simple_upload and chunked_upload send them."""
    command = request.form.get("command") or request.args.get("command")
    connection = broker.connection()
    if command is None:
        if "media" not in request.files:
            return _x_problem(400, "Invalid Request", "media is required.")
        media_id, record = _store_file(request.files["media"])
        return jsonify(_upload_answer(media_id, record))
    if command == "INIT":
        media_id = _digits(19)
        pending = {"mime_type": request.form.get("media_type") or "application/octet-stream"}
        connection.set(f"sandbox:x:upload:{media_id}", json.dumps(pending), ex=24 * 3600)
        _chunks_path(media_id).write_bytes(b"")
        return jsonify(_upload_answer(media_id)), 202
    media_id = request.form.get("media_id") or ""
    pending = connection.get(f"sandbox:x:upload:{media_id}") if media_id.isdigit() else None
    if pending is None:
        return _x_problem(400, "Invalid Request", "Unknown media_id.")
    if command == "APPEND":
        with _chunks_path(media_id).open("ab") as part:
            part.write(request.files["media"].read())
        return "", 204
    if command == "FINALIZE":
        path = _chunks_path(media_id)
        with path.open("rb") as handle:
            stored, sha, size = media.store(iter(lambda: handle.read(64 * 1024), b""), 512 * 1024 * 1024)
        path.unlink()
        mime = json.loads(pending)["mime_type"]
        extension = mime.split("/")[-1]
        record = {"path": stored, "mime_type": mime, "sha256": sha, "size": size, "filename": f"{media_id}.{extension}"}
        connection.set(f"sandbox:media:{media_id}", json.dumps(record), ex=KEEP_SECONDS)
        connection.delete(f"sandbox:x:upload:{media_id}")
        return jsonify(_upload_answer(media_id, record)), 201
    return _x_problem(400, "Invalid Request", f"Unknown command {command}.")


@x_bp.get("/1.1/media/upload.json")
def x_upload_status():
    """Fake X API: an upload's processing state (always done)."""
    media_id = request.args.get("media_id") or ""
    record = _media_record(media_id)
    return jsonify(
        {**_upload_answer(media_id, record), "processing_info": {"state": "succeeded", "progress_percent": 100}}
    )
