"""WhatsApp Cloud API calls: sends through heyoo, media uploads and downloads."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import heyoo
import requests

from connectors.base import (
    N_,
    AccountSettings,
    FetchedMedia,
    OutboundFile,
    OutboundMessage,
    PlatformTemplate,
    SendError,
    SendResult,
)

# Codes Meta asks to retry after a pause (fixtures README, section C.1 and D).
RATE_LIMIT_CODES = {"130429", "131056"}  # the number's throughput, the pair rate (fixtures README D)
RETRYABLE_CODES = {"1", "2", "4", "80007", "130429", "131000", "131048", "131056", "131057", "133004"}
REASONS = {
    "131047": N_(
        "More than 24 hours have passed since the customer last wrote: "
        "only an approved WhatsApp template can be sent now."
    ),
    "131026": N_("WhatsApp could not deliver this message: the number may not use WhatsApp, or its app is too old."),
    "130429": N_("WhatsApp's sending rate for this number was exceeded."),
    "131056": N_("Too many messages were sent to this customer in a short time."),
    "131051": N_("WhatsApp does not support this type of message."),
    "131052": N_("WhatsApp could not download the file to send it."),
    "131053": N_("WhatsApp could not process the file: check its type and size."),
    "190": N_("The WhatsApp access token is invalid or expired: an administrator must renew it."),
    "100": N_("WhatsApp rejected the request as invalid."),
}
TIMEOUT = N_("WhatsApp did not answer in time")
UNREACHABLE = N_("WhatsApp could not be reached")
UPLOAD_REFUSED = N_("WhatsApp did not accept the file")
# The sentences a failed send may start with, by code: the inbox translates them where an agent reads them.
REFUSED = N_("WhatsApp refused the message (%(code)s)")
ANSWERED_HTTP = N_("WhatsApp answered HTTP %(status)s")
FAILURES = {
    **{code: (reason,) for code, reason in REASONS.items()},
    "*": (REFUSED, ANSWERED_HTTP),  # any code: it is in the sentence
    "timeout": (TIMEOUT,),
    "connection": (UNREACHABLE,),
    "upload": (UPLOAD_REFUSED,),
}
MEDIA_KINDS = {"image": "image", "video": "video", "audio": "audio"}
# Free-form messages only within 24 hours of the customer's last message; templates after (fixtures README).
CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)
TEMPLATE_FIELDS = "name,language,status,category,components,parameter_format"
TEMPLATE_PAGES = 20  # 100 a page: more than the 250 names x languages a business account may hold
POSITIONAL = re.compile(r"\{\{\s*(\d+)\s*\}\}")
ANY_PARAMETER = re.compile(r"\{\{.*?\}\}")


class _TimedRequests:
    """heyoo calls module-level requests.* with no timeout and hides HTTP statuses: this facade gives every
    call a timeout and keeps the last response of the calling thread for the status code.

    Each thread keeps one requests.Session, so its calls reuse a kept-alive connection to the Graph API
    instead of opening one (TCP, and TLS towards Meta) per message: a campaign's send loop makes thousands."""

    def __init__(self):
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False  # the environment is read once per host below, not on every call
            self._local.environment = {}
        return session

    def _environment(self, session: requests.Session, url: str) -> dict:
        # What requests reads from the environment for a URL (proxies, no_proxy, CA bundle): the same for
        # every call to a host, and reading it walks os.environ (~1 ms a call), so it is read once per host.
        host = urlsplit(url)[:2]
        known = self._local.environment.get(host)
        if known is None:
            session.trust_env = True
            try:
                known = session.merge_environment_settings(url, {}, None, None, None)
            finally:
                session.trust_env = False
            self._local.environment[host] = known
        return known

    def set_timeout(self, seconds: float) -> None:
        self._local.timeout = seconds

    def last_response(self) -> requests.Response | None:
        return getattr(self._local, "response", None)

    def _call(self, method: str, url: str, **kwargs) -> requests.Response:
        self._local.response = None
        kwargs.setdefault("timeout", getattr(self._local, "timeout", 20.0))
        session = self._session()
        for key, value in self._environment(session, url).items():
            if kwargs.get(key) is None:
                kwargs[key] = value
        try:
            response = session.request(method, url, **kwargs)
        finally:
            session.cookies.clear()  # nothing carried from one call to the next but the connection
        self._local.response = response
        return response

    def post(self, url, **kwargs):
        return self._call("POST", url, **kwargs)

    def get(self, url, **kwargs):
        return self._call("GET", url, **kwargs)

    def delete(self, url, **kwargs):
        return self._call("DELETE", url, **kwargs)


_http = _TimedRequests()
heyoo.requests = _http


def _client(account: AccountSettings) -> heyoo.WhatsApp:
    # heyoo hard-codes graph.facebook.com/v14.0: point it at the configured Graph API and version.
    client = heyoo.WhatsApp(token=account.secrets.get("token"), phone_number_id=account.external_id)
    client.base_url = account.api_base_url
    client.v15_base_url = account.api_base_url
    client.url = f"{account.api_base_url}/{account.external_id}/messages"
    _http.set_timeout(account.timeout)
    return client


def reason_for(code: str, details: str | None = None) -> str:
    """A sentence an agent understands for a platform error code."""
    if code in REASONS:
        return REASONS[code]
    return REFUSED % {"code": code} + (f": {details}" if details else ".")


def _error_from(response: requests.Response | None, body) -> SendError:
    status = response.status_code if response is not None else 0
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        retryable = status == 429 or status >= 500 or status == 0
        return SendError(f"http_{status}", ANSWERED_HTTP % {"status": status}, retryable=retryable)
    code = str(error.get("code", f"http_{status}"))
    details = (error.get("error_data") or {}).get("details") or error.get("message")
    retryable = code in RETRYABLE_CODES or status == 429 or status >= 500
    retry_after = response.headers.get("Retry-After") if response is not None else None
    return SendError(
        code,
        reason_for(code, details),
        retryable=retryable,
        retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
        rate_limited=code in RATE_LIMIT_CODES or status == 429,
    )


def _call(function, *args):
    """Run one heyoo call and turn its answer, whatever the HTTP status, into a body or a SendError."""
    try:
        body = function(*args)
    except requests.Timeout as exc:
        raise SendError("timeout", TIMEOUT, retryable=True) from exc
    except requests.ConnectionError as exc:
        raise SendError("connection", UNREACHABLE, retryable=True) from exc
    except ValueError as exc:  # heyoo calls .json() on any answer, HTML error pages included
        raise _error_from(_http.last_response(), None) from exc
    response = _http.last_response()
    if response is None or response.status_code != 200 or not isinstance(body, dict) or "error" in body:
        raise _error_from(response, body)
    return body


def _payload(message: OutboundMessage, media_id: str | None) -> dict:
    payload: dict = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": message.to}
    if message.reply_to:
        payload["context"] = {"message_id": message.reply_to}
    if message.template is not None:
        return {**payload, "type": "template", "template": _template(message.template)}
    if message.choices is not None:
        return {**payload, "type": "interactive", "interactive": interactive(message.choices)}
    if message.file is None:
        payload.update(type="text", text={"preview_url": False, "body": message.text or ""})
        return payload
    kind = MEDIA_KINDS.get(message.file.mime_type.split("/")[0], "document")
    media: dict = {"id": media_id}
    if message.text and kind != "audio":  # audio takes no caption
        media["caption"] = message.text
    if kind == "document":
        media["filename"] = message.file.filename
    payload.update(type=kind, **{kind: media})
    return payload


def _template(template) -> dict:
    """An approved template with its body parameters, in the order of its {{1}}, {{2}}... (Cloud API)."""
    body: dict = {"name": template["name"], "language": {"code": template["language"]}}
    parameters = [{"type": "text", "text": str(value)} for value in template.get("parameters") or ()]
    if parameters:
        body["components"] = [{"type": "body", "parameters": parameters}]
    return body


# Limits of interactive messages (Cloud API reference, "Interactive reply buttons" and "Interactive list").
MAX_BUTTONS, BUTTON_TITLE, LIST_ROWS, ROW_TITLE, ROW_DESCRIPTION, LIST_BUTTON, BODY = 3, 20, 10, 24, 72, 20, 1024


def interactive(choices) -> dict:
    """Reply buttons for up to three options, else a list behind a button; titles cut to Meta's limits."""
    body = {"text": _cut(choices["body"], BODY)}
    options = list(choices["options"])
    if len(options) <= MAX_BUTTONS:
        buttons = [
            {"type": "reply", "reply": {"id": option["id"], "title": _cut(option["title"], BUTTON_TITLE)}}
            for option in options
        ]
        return {"type": "button", "body": body, "action": {"buttons": buttons}}
    rows = []
    for option in options[:LIST_ROWS]:
        row = {"id": option["id"], "title": _cut(option["title"], ROW_TITLE)}
        if option.get("description"):
            row["description"] = _cut(option["description"], ROW_DESCRIPTION)
        rows.append(row)
    button = _cut(choices.get("button") or "Menu", LIST_BUTTON)
    return {"type": "list", "body": body, "action": {"button": button, "sections": [{"rows": rows}]}}


def _cut(text, limit: int) -> str:
    return str(text)[:limit].rstrip()


def send_interactive(account: AccountSettings, to: str, choices, ref: str | None = None) -> SendResult:
    """Send tappable choices (buttons or a list) to a number; raises SendError."""
    return send(account, OutboundMessage(to=to, choices=choices, ref=ref))


def _upload_media(client: heyoo.WhatsApp, file: OutboundFile) -> dict:
    """POST /<phone number id>/media as multipart, through the timed facade.

    Not heyoo's upload_media: it guesses the type from the path's extension (stored files are named by their
    sha256 and have none), sends the server's absolute path as the file name, leaves the file open, and
    answers None on any error so Meta's error code is lost."""
    with open(file.path, "rb") as handle:
        response = _http.post(
            f"{client.base_url}/{client.phone_number_id}/media",
            headers={"Authorization": client.headers["Authorization"]},
            data={"messaging_product": "whatsapp", "type": file.mime_type},
            files={"file": (file.filename, handle, file.mime_type)},
        )
    return response.json()


def upload(account: AccountSettings, file: OutboundFile) -> str:
    """Upload a file once; its media id serves many sends (Meta keeps it 30 days); raises SendError."""
    return _uploaded_id(_client(account), file)


def _uploaded_id(client: heyoo.WhatsApp, file: OutboundFile) -> str:
    media_id = _call(_upload_media, client, file).get("id")
    if not media_id:
        raise SendError("upload", UPLOAD_REFUSED, retryable=True)
    return media_id


def send(account: AccountSettings, message: OutboundMessage) -> SendResult:
    """Upload the file if any (unless it has the platform's id already), then send the message; raises SendError."""
    client = _client(account)
    media_id = None
    if message.file is not None:
        media_id = message.file.platform_id or _uploaded_id(client, message.file)
    body = _call(client.send_custom_json, _payload(message, media_id))
    try:
        return SendResult(external_id=body["messages"][0]["id"])
    except (KeyError, IndexError, TypeError) as exc:
        raise SendError("bad_answer", "WhatsApp's answer carried no message id", retryable=False) from exc


def fetch_media(account: AccountSettings, media_id: str) -> FetchedMedia:
    """Look up a media id's short-lived URL, then stream the file with the same token (A.4)."""
    headers = {"Authorization": f"Bearer {account.secrets.get('token')}"}
    try:
        lookup = requests.get(
            f"{account.api_base_url}/{media_id}",
            params={"phone_number_id": account.external_id},
            headers=headers,
            timeout=account.timeout,
        )
        if lookup.status_code != 200:
            raise _error_from(lookup, _json_or_none(lookup))
        info = lookup.json()
        download = requests.get(info["url"], headers=headers, timeout=account.timeout, stream=True)
    except requests.RequestException as exc:
        raise SendError("connection", f"media download failed: {type(exc).__name__}", retryable=True) from exc
    except (KeyError, ValueError) as exc:
        raise SendError("bad_answer", "WhatsApp's media answer carried no URL", retryable=True) from exc
    if download.status_code != 200:
        download.close()
        raise _error_from(download, None)
    size = info.get("file_size") or download.headers.get("Content-Length")
    return FetchedMedia(
        chunks=_chunks(download),
        mime_type=_served_type(download) or info.get("mime_type"),
        declared_size=int(size) if str(size or "").isdigit() else None,
        close=download.close,
    )


def _served_type(download: requests.Response) -> str | None:
    # What the file server says the bytes are, so that a file announced as an image but served as HTML is
    # caught; a generic octet-stream says nothing and leaves the word to the media look-up.
    served = (download.headers.get("Content-Type") or "").strip()
    return None if served.split(";")[0].strip().lower() in ("", "application/octet-stream") else served


def _chunks(download: requests.Response):
    """The body in pieces; a connection lost midway is a retryable SendError like any other."""
    try:
        yield from download.iter_content(64 * 1024)
    except requests.RequestException as exc:
        raise SendError("connection", f"media download failed: {type(exc).__name__}", retryable=True) from exc


def _json_or_none(response: requests.Response):
    try:
        return response.json()
    except ValueError:
        return None


def reply_refusal(last_inbound_at: datetime | None, now: datetime) -> str | None:
    """Why a free-form message would be refused now (the 24-hour window closed), or None."""
    if last_inbound_at is None:
        return None  # no customer message known: let the platform decide, as for Messenger
    if _aware(now) - _aware(last_inbound_at) > CUSTOMER_SERVICE_WINDOW:
        return REASONS["131047"]
    return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def list_templates(account: AccountSettings) -> list[PlatformTemplate]:
    """The business account's APPROVED templates, every page of them; raises SendError."""
    business_account = account.secrets.get("business_account_id")
    if not business_account:
        raise SendError(
            "not_configured", "No WhatsApp business account id is set (WHATSAPP_BUSINESS_ACCOUNT_ID).", retryable=False
        )
    url = f"{account.api_base_url}/{business_account}/message_templates"
    params: dict | None = {"fields": TEMPLATE_FIELDS, "limit": 100}
    headers = {"Authorization": f"Bearer {account.secrets.get('token')}"}
    found: list[PlatformTemplate] = []
    for _page in range(TEMPLATE_PAGES):
        body = _get_json(url, params, headers, account.timeout)
        found.extend(_template_of(raw) for raw in body.get("data") or () if _approved(raw))
        url, params = (body.get("paging") or {}).get("next"), None  # `next` carries every parameter
        if not url:
            break
    return found


def _get_json(url: str, params: dict | None, headers: dict, timeout: float) -> dict:
    try:
        response = requests.get(url, params=params, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        raise SendError("connection", UNREACHABLE, retryable=True) from exc
    body = _json_or_none(response)
    if response.status_code != 200 or not isinstance(body, dict):
        raise _error_from(response, body)
    return body


def _approved(raw) -> bool:
    return isinstance(raw, dict) and raw.get("status") == "APPROVED" and bool(raw.get("name"))


def _template_of(raw: dict) -> PlatformTemplate:
    components = {str(c.get("type", "")).upper(): c for c in raw.get("components") or () if isinstance(c, dict)}
    body = str((components.get("BODY") or {}).get("text") or "")
    numbers = {int(n) for n in POSITIONAL.findall(body)}
    examples = ((components.get("BODY") or {}).get("example") or {}).get("body_text") or [[]]
    return PlatformTemplate(
        name=str(raw["name"]),
        language=str(raw.get("language") or ""),
        category=str(raw.get("category") or "").lower(),
        body=body,
        parameters=max(numbers, default=0),
        examples=tuple(str(value) for value in (examples[0] if examples and isinstance(examples[0], list) else [])),
        unusable_reason=_unusable(raw, components, body),
    )


def _unusable(raw: dict, components: dict, body: str) -> str | None:
    """What the inbox cannot fill in: it sends body values only, as {{1}}, {{2}}..."""
    if raw.get("parameter_format") == "NAMED" or len(ANY_PARAMETER.findall(body)) != len(POSITIONAL.findall(body)):
        return "Its values are named: only numbered values ({{1}}, {{2}}...) can be filled in here."
    header = components.get("HEADER") or {}
    if str(header.get("format", "TEXT")).upper() != "TEXT":
        return "Its header is a file, which cannot be chosen here."
    if ANY_PARAMETER.search(str(header.get("text") or "")):
        return "Its header takes a value, which cannot be filled in here."
    for button in (components.get("BUTTONS") or {}).get("buttons") or ():
        if isinstance(button, dict) and ANY_PARAMETER.search(str(button.get("url") or "")):
            return "One of its buttons takes a value, which cannot be filled in here."
    return None
