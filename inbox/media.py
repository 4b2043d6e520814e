"""Files: content-addressed storage under MEDIA_DIR, the download job for inbound media, and file checks."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from connectors import get_connector
from connectors.base import N_, SendError
from inbox import jobs
from inbox.channels import account_settings
from inbox.db import session
from inbox.errors import Refusal
from inbox.models import Attachment, Conversation, Message

log = logging.getLogger(__name__)
# Types the platforms carry (WhatsApp's supported media list); anything else is refused or kept as a download.
INLINE_TYPES = {
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "audio/aac",
    "audio/mp4",
    "audio/mpeg",
    "audio/amr",
    "audio/ogg",
    "audio/opus",
    "video/mp4",
    "video/3gpp",
}
UPLOAD_TYPES = INLINE_TYPES | {
    "application/pdf",
    "text/plain",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
UPLOAD_LIMITS = {"image": 5 * 1024 * 1024, "video": 16 * 1024 * 1024, "audio": 16 * 1024 * 1024}


TOO_LARGE = N_("the file is larger than %(size)s MiB")


class FileRejected(Refusal):
    """A file that is too large or of a type that is not accepted; `status` and `code` for the API's answer."""

    def __init__(self, message: str, /, status: int = 413, code: str = "file_too_large", **params):
        super().__init__(message, **params)
        self.status, self.code = status, code


UNSUPPORTED = N_("Files of type %(mime)s cannot be sent.")


@dataclass(frozen=True)
class Upload:
    """A file received from a person, stored under MEDIA_DIR."""

    mime_type: str
    filename: str
    path: str
    sha256: str
    size: int

    @property
    def kind(self) -> str:
        """The message type it makes: image, video, audio or document."""
        kind = self.mime_type.split("/")[0]
        return kind if kind in ("image", "video", "audio") else "document"


def receive(upload) -> Upload:
    """Store a file sent in a request (a werkzeug FileStorage) if the platforms take its type and size."""
    mime = base_type(upload.mimetype)
    if mime not in UPLOAD_TYPES:
        raise FileRejected(UNSUPPORTED, status=415, code="unsupported_file", mime=mime)
    limit = UPLOAD_LIMITS.get(mime.split("/")[0], current_app.config["MEDIA_MAX_BYTES"])
    path, sha, size = store(iter(lambda: upload.stream.read(64 * 1024), b""), limit)
    return Upload(mime, Path(upload.filename or "file").name[:300], path, sha, size)


def base_type(mime_type: str | None) -> str:
    """`audio/ogg; codecs=opus` -> `audio/ogg`."""
    return (mime_type or "application/octet-stream").split(";")[0].strip().lower()


def store(chunks, max_bytes: int, check=None) -> tuple[str, str, int]:
    """Write chunks under MEDIA_DIR named by their sha256; returns (relative path, sha256 hex, size).

    `check(sha256_hex)` may raise to refuse the file before it takes its place (nothing is kept then)."""
    root = Path(current_app.config["MEDIA_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with tempfile.NamedTemporaryFile(dir=root, delete=False, prefix=".part-") as part:
        try:
            for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise FileRejected(TOO_LARGE, size=max_bytes // (1024 * 1024))
                digest.update(chunk)
                part.write(chunk)
            if check is not None:
                check(digest.hexdigest())
        except BaseException:
            part.close()
            os.unlink(part.name)
            raise
    sha = digest.hexdigest()
    relative = os.path.join(sha[:2], sha)
    (root / sha[:2]).mkdir(exist_ok=True)
    os.replace(part.name, root / relative)
    return relative, sha, size


def media_root() -> Path:
    """The folder of the stored files (MEDIA_DIR)."""
    return Path(current_app.config["MEDIA_DIR"])


def absolute_path(attachment: Attachment) -> Path:
    """Where an attachment's bytes are."""
    return media_root() / attachment.path


def schedule_fetches(attachment_ids: list[int]) -> None:
    """Queue one download job per inbound attachment."""
    for attachment_id in attachment_ids:
        jobs.enqueue(fetch_attachment, attachment_id)


def _platform_digest_matches(expected: str | None, sha_hex: str) -> bool:
    # WhatsApp webhooks give the sha256 in base64; media look-ups have been seen with hex (fixtures README A.4).
    if not expected:
        return True
    if expected.lower() == sha_hex:
        return True
    try:
        return base64.b64decode(expected, validate=True).hex() == sha_hex
    except ValueError:
        return True  # an unknown notation proves nothing either way


def _check_digest(expected: str | None):
    def check(sha_hex: str) -> None:
        if not _platform_digest_matches(expected, sha_hex):
            raise SendError("checksum", "the downloaded file does not match its checksum", retryable=True)

    return check


def fetch_attachment(attachment_id: int) -> None:
    """RQ job: download an inbound file, check it, store it; retried, then marked failed."""
    db = session()
    attachment = db.get(Attachment, attachment_id)
    if attachment is None or attachment.state == "ready":
        return
    message = db.get(Message, attachment.message_id)
    conversation = db.get(Conversation, message.conversation_id)
    account = conversation.account
    connector, settings = get_connector(account.platform), account_settings(account)
    announced, expected, media_ref = attachment.mime_type, attachment.platform_sha256, attachment.media_ref
    attachment.attempts += 1
    # Keep the attempt count, and hold no transaction during the download: on SQLite an open transaction
    # holds the database's write lock (db.py), and a large file must not stop webhooks from being stored.
    db.commit()
    fetched = None
    try:
        fetched = connector.fetch_media(settings, media_ref)
        mime = base_type(fetched.mime_type or announced)
        if announced and mime.split("/")[0] != base_type(announced).split("/")[0]:
            raise FileRejected(N_("announced as %(announced)s but served as %(mime)s"), announced=announced, mime=mime)
        limit = current_app.config["MEDIA_MAX_BYTES"]
        if fetched.declared_size and fetched.declared_size > limit:
            raise FileRejected(TOO_LARGE, size=limit // (1024 * 1024))
        path, sha, size = store(fetched.chunks, limit, check=_check_digest(expected))
    except FileRejected as rejected:
        _finish(attachment, message, conversation, error=str(rejected))
        return
    except SendError as error:
        if error.retryable and jobs.retries_left() > 0:
            raise
        _finish(attachment, message, conversation, error=error.message)
        return
    except Exception as exc:
        if jobs.retries_left() > 0:
            raise
        _finish(attachment, message, conversation, error=f"the file could not be stored ({type(exc).__name__})")
        raise
    finally:
        if fetched is not None and fetched.close is not None:
            fetched.close()
    attachment.path, attachment.sha256, attachment.size = path, sha, size
    attachment.mime_type = attachment.mime_type or mime
    _finish(attachment, message, conversation, error=None)


def _finish(attachment: Attachment, message: Message, conversation: Conversation, error: str | None) -> None:
    from inbox.realtime import message_event

    attachment.state = "failed" if error else "ready"
    attachment.error = error
    session().commit()
    message_event("message.updated", message, conversation)
    session().commit()  # end the read the event's serialisation opened
