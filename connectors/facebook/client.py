"""Messenger Send API and Page comment actions through the Graph API, and Messenger's reply windows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from connectors.base import (
    DIRECT,
    N_,
    PRIVATE_REPLY,
    PUBLIC_REPLY,
    AccountSettings,
    FetchedMedia,
    OutboundMessage,
    SendError,
    SendResult,
    download,
)

STANDARD_WINDOW = timedelta(hours=24)  # RESPONSE: within 24 h of the customer's last message (README C.2)
HUMAN_AGENT_WINDOW = timedelta(days=7)  # MESSAGE_TAG + HUMAN_AGENT: a human reply up to 7 days (README C.2)
PRIVATE_REPLY_WINDOW = timedelta(days=7)  # a private reply answers a comment at most 7 days old
OUTSIDE_WINDOW = N_(
    "More than 7 days have passed since the customer last wrote: Messenger no longer lets the Page reply. "
    "The conversation can continue when the customer writes again."
)
PRIVATE_REPLY_TOO_LATE = N_("This comment is more than 7 days old: Facebook no longer allows a private reply to it.")
NOTHING_TO_SEND = N_("There is nothing to send.")
NO_COMMENT = N_("A reply to a comment needs the comment it answers.")
NO_FILES_ON_COMMENTS = N_("Files cannot be sent in a reply to a comment.")
TIMEOUT = N_("Facebook did not answer in time")
UNREACHABLE = N_("Facebook could not be reached")
# Graph error codes (README C.2): these are final, whatever the HTTP status.
FINAL_CODES = {"10", "100", "190", "200", "230", "368", "551", "10900", "10903"}
RETRYABLE_CODES = {"1", "2", "4", "17", "32", "613"}
REASONS = {
    "10": N_("The Page is not allowed to do this (#10)."),
    "100": N_("Facebook rejected the request as invalid."),
    "190": N_("The Page access token is invalid or expired: an administrator must renew it."),
    "200": N_("The Page token lacks a permission this needs: an administrator must reconnect the Page."),
    "230": N_("The Page token lacks the pages_messaging permission: an administrator must reconnect the Page."),
    "368": N_("Facebook has blocked this action for now as possibly abusive."),
    "551": N_("This person isn't available right now: Messenger will not deliver to them."),
    "613": N_("Facebook's sending rate for this Page was exceeded."),
    "10900": N_("This comment already has its private reply: Facebook allows only one."),
    "10903": N_("This person can't be answered on this comment any more: it may have been deleted."),
}
# The sentences a failed send may start with, by code: the inbox translates them where an agent reads them.
ANSWERED_HTTP = N_("Facebook answered HTTP %(status)s")
NO_TAG = N_("outside the 24-hour window, no tag")
FAILURES = {
    **{code: (reason,) for code, reason in REASONS.items()},
    "*": (ANSWERED_HTTP, NO_TAG),  # any code (it is in the sentence), or none (a campaign's skipped row)
    "10": (REASONS["10"], OUTSIDE_WINDOW),
    "outside_window": (OUTSIDE_WINDOW,),
    "empty": (NOTHING_TO_SEND,),
    "no_comment": (NO_COMMENT,),
    "unsupported": (NO_FILES_ON_COMMENTS,),
    "timeout": (TIMEOUT,),
    "connection": (UNREACHABLE,),
}
WINDOW_SUBCODES = {"2018065", "2018278"}
# Rate limits (Graph error reference: 4 app, 17 user, 32 Page, 613 calls): the Page's sends slow down.
RATE_LIMIT_CODES = {"4", "17", "32", "613"}
# The tags a campaign may declare to reach people outside the 24-hour window (README C.2). HUMAN_AGENT is
# left out: it is for a person answering, never for a bulk message.
CAMPAIGN_TAGS = ("ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE")
ATTACHMENT_TYPES = {"image": "image", "video": "video", "audio": "audio"}


def messaging_type_for(last_inbound_at: datetime | None, now: datetime) -> tuple[str, str | None]:
    """(messaging_type, tag) for a reply now; raises SendError("outside_window") after 7 days."""
    if last_inbound_at is None:  # nothing known: let Messenger decide
        return "RESPONSE", None
    age = _aware(now) - _aware(last_inbound_at)
    if age <= STANDARD_WINDOW:
        return "RESPONSE", None
    if age <= HUMAN_AGENT_WINDOW:
        return "MESSAGE_TAG", "HUMAN_AGENT"
    raise SendError("outside_window", OUTSIDE_WINDOW, retryable=False)


def campaign_messaging_type(last_inbound_at: datetime | None, now: datetime, tag: str | None) -> tuple[str, str | None]:
    """(messaging_type, tag) for a campaign message: UPDATE (sent first, not an answer) inside the 24-hour
    window, MESSAGE_TAG with the campaign's tag outside it; raises SendError("outside_window") without a tag."""
    if last_inbound_at is not None and _aware(now) - _aware(last_inbound_at) <= STANDARD_WINDOW:
        return "UPDATE", None
    if tag in CAMPAIGN_TAGS:
        return "MESSAGE_TAG", tag
    raise SendError("outside_window", NO_TAG, retryable=False)


def campaign_refusal(last_inbound_at: datetime | None, now: datetime, tag: str | None) -> str | None:
    """Why a campaign message cannot go to this person now, or None."""
    try:
        campaign_messaging_type(last_inbound_at, now, tag)
    except SendError as refusal:
        return refusal.message
    return None


def reply_refusal(last_inbound_at: datetime | None, now: datetime, mode: str = DIRECT) -> str | None:
    """The sentence to show before the agent types when a reply in `mode` is no longer allowed, else None."""
    if last_inbound_at is None or mode == PUBLIC_REPLY:
        return None
    if mode == PRIVATE_REPLY:
        too_late = _aware(now) - _aware(last_inbound_at) > PRIVATE_REPLY_WINDOW
        return PRIVATE_REPLY_TOO_LATE if too_late else None
    try:
        messaging_type_for(last_inbound_at, now)
    except SendError as refusal:
        return refusal.message
    return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def send(account: AccountSettings, message: OutboundMessage) -> SendResult:
    """Send by mode: a Messenger message, a public reply to a comment, or a private reply; raises SendError."""
    if message.mode == PUBLIC_REPLY:
        return reply_publicly(account, _comment_id(message), message.text or "")
    if message.mode == PRIVATE_REPLY:
        return reply_privately(account, _comment_id(message), message.text or "", ref=message.ref)
    if message.mode != DIRECT:
        raise SendError("unsupported", f"Facebook cannot send a {message.mode!r} reply.", retryable=False)
    if message.proactive:
        messaging_type, tag = campaign_messaging_type(message.last_inbound_at, datetime.now(UTC), message.tag)
    else:
        messaging_type, tag = messaging_type_for(message.last_inbound_at, datetime.now(UTC))
    envelope: dict[str, Any] = {"recipient": {"id": message.to}, "messaging_type": messaging_type}
    if tag:
        envelope["tag"] = tag
    ids = []
    if message.file is not None:  # Messenger has no captions: the file first, then the text
        ids.append(_send_file(account, envelope, message))
    if message.text:
        ids.append(_post_message(account, json=_text(envelope, message)))
    if not ids:
        raise SendError("empty", NOTHING_TO_SEND, retryable=False)
    return SendResult(external_id=ids[0], other_external_ids=tuple(ids[1:]))


def _comment_id(message: OutboundMessage) -> str:
    if not message.reply_to:
        raise SendError("no_comment", NO_COMMENT, retryable=False)
    if message.file is not None:
        raise SendError("unsupported", NO_FILES_ON_COMMENTS, retryable=False)
    return message.reply_to


def _text(envelope: dict[str, Any], message: OutboundMessage) -> dict[str, Any]:
    body: dict[str, Any] = {"text": message.text}
    if message.ref:
        body["metadata"] = message.ref  # comes back in the echo (InboundEvent.client_ref)
    return {**envelope, "message": body}


def _send_file(account: AccountSettings, envelope: dict[str, Any], message: OutboundMessage) -> str:
    """Upload the file with the message as multipart `filedata` (Send API attachment upload)."""
    file = message.file
    kind = ATTACHMENT_TYPES.get(file.mime_type.split("/")[0], "file")
    body: dict[str, Any] = {"attachment": {"type": kind, "payload": {"is_reusable": True}}}
    if message.ref:
        body["metadata"] = message.ref
    form = {key: json.dumps(value) if isinstance(value, dict) else value for key, value in envelope.items()}
    form["message"] = json.dumps(body)
    with open(file.path, "rb") as handle:
        files = {"filedata": (file.filename, handle, file.mime_type)}
        return _post_message(account, data=form, files=files)


def reply_publicly(account: AccountSettings, comment_id: str, text: str) -> SendResult:
    """Answer a comment publicly, under it: POST /{comment_id}/comments; the result is the new comment's id."""
    answer = _graph(account, "POST", f"{comment_id}/comments", json={"message": text})
    if not answer.get("id"):
        raise SendError("bad_answer", "Facebook's answer carried no comment id", retryable=False)
    return SendResult(external_id=str(answer["id"]))


def reply_privately(account: AccountSettings, comment_id: str, text: str, ref: str | None = None) -> SendResult:
    """Answer a comment with its one private Messenger reply: recipient {"comment_id"} on /{page_id}/messages."""
    body: dict[str, Any] = {"text": text}
    if ref:
        body["metadata"] = ref
    payload = {"recipient": {"comment_id": comment_id}, "message": body}
    return SendResult(external_id=_post_message(account, json=payload))


def hide_comment(account: AccountSettings, comment_id: str, hidden: bool = True) -> None:
    """Hide a comment from everyone but its author and their friends (or show it again): POST /{comment_id}."""
    _graph(account, "POST", comment_id, json={"is_hidden": hidden})


def fetch_post(account: AccountSettings, post_id: str) -> dict[str, Any]:
    """A post's text and link, to show above its comments: {"id", "url", "text"}."""
    answer = _graph(account, "GET", post_id, params={"fields": "message,permalink_url"})
    found = {"id": post_id, "url": answer.get("permalink_url"), "text": answer.get("message")}
    return {k: v for k, v in found.items() if v}


def fetch_media(account: AccountSettings, url: str) -> FetchedMedia:
    """Stream an attachment from its CDN URL: a plain GET without the token (README A.5), public hosts only."""
    return download(account, url)


def _post_message(account: AccountSettings, **body) -> str:
    """POST /{page_id}/messages; the new message's mid."""
    answer = _graph(account, "POST", f"{account.external_id}/messages", **body)
    if not answer.get("message_id"):
        raise SendError("bad_answer", "Facebook's answer carried no message id", retryable=False)
    return str(answer["message_id"])


def _graph(account: AccountSettings, method: str, path: str, **kwargs) -> dict[str, Any]:
    """One Graph API call with the Page token; any error becomes a SendError."""
    headers = {"Authorization": f"Bearer {account.secrets.get('token')}"}
    try:
        response = requests.request(
            method, f"{account.api_base_url}/{path}", headers=headers, timeout=account.timeout, **kwargs
        )
    except requests.Timeout as exc:
        raise SendError("timeout", TIMEOUT, retryable=True) from exc
    except requests.RequestException as exc:
        raise SendError("connection", UNREACHABLE, retryable=True) from exc
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict) or "error" in body:
        raise error_from(response.status_code, body, response.headers.get("Retry-After"))
    return body


def error_from(status: int, body: Any, retry_after: str | None = None) -> SendError:
    """A Graph error envelope (README C.1, C.2) as a SendError with a sentence an agent understands."""
    error = body.get("error") if isinstance(body, dict) else None
    wait = float(retry_after) if retry_after and retry_after.isdigit() else None
    if not isinstance(error, dict):
        retryable = status == 429 or status >= 500
        reason = ANSWERED_HTTP % {"status": status}
        return SendError(f"http_{status}", reason, retryable=retryable, retry_after=wait)
    code = str(error.get("code", f"http_{status}"))
    message = str(error.get("message") or "")
    if code == "10" and ("window" in message.lower() or str(error.get("error_subcode")) in WINDOW_SUBCODES):
        reason = OUTSIDE_WINDOW  # branch on code 10 plus the message, not on the subcode alone (README C.2)
    elif code in REASONS and code not in ("10", "100"):
        reason = REASONS[code]
    else:
        reason = (REASONS.get(code) or f"Facebook refused the request ({code}).") + (f" {message}" if message else "")
    if code in FINAL_CODES:
        retryable = False
    else:
        retryable = code in RETRYABLE_CODES or bool(error.get("is_transient")) or status == 429 or status >= 500
    limited = code in RATE_LIMIT_CODES or status == 429
    return SendError(code, reason, retryable=retryable, retry_after=wait, rate_limited=limited)
