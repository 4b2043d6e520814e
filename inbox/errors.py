"""JSON errors in the contract's shape: {"error": {"code", "message"}}."""

from __future__ import annotations

from flask import jsonify, request
from werkzeug.exceptions import HTTPException

from connectors.base import N_
from inbox.i18n import in_api_language


class ApiError(Exception):
    """An error answered to an API client: a status, a code that never changes with the language, and an English
    sentence (the msgid `make translations` gathers) whose `%(name)s` params are filled in after translation."""

    def __init__(self, status: int, code: str, message, /, **params):  # a param may be called status too
        super().__init__(message % params if params else str(message))
        self.status = status
        self.code = code
        self.msgid = message
        self.params = params

    @property
    def message(self) -> str:
        """The sentence in the language the client stated, English when it stated none."""
        return in_api_language(self.msgid, **self.params)


class Refusal(ValueError):
    """A value the domain refuses: an English sentence (marked N_) and its params; `str()` is the English text
    (for logs and stored reasons), `message` the reader's language, `api_error()` the API's answer."""

    def __init__(self, message: str, /, **params):
        super().__init__(message % params if params else message)
        self.msgid = message
        self.params = params

    @property
    def message(self) -> str:
        """The sentence in the language the client stated, English when it stated none."""
        return in_api_language(self.msgid, **self.params)

    def api_error(self, status: int, code: str) -> ApiError:
        """This refusal as an ApiError, translated when it is answered."""
        return ApiError(status, code, self.msgid, **self.params)


SERVER_FAILED = N_("The server failed; the error is logged.")
# One whole sentence per thing, so that each language can give its noun its gender.
NOT_FOUND = {
    "anomaly": N_("No anomaly %(id)s."),
    "attachment": N_("No attachment %(id)s."),
    "campaign": N_("No campaign %(id)s."),
    "canned reply": N_("No canned reply %(id)s."),
    "case": N_("No case %(id)s."),
    "catalogue item": N_("No catalogue item %(id)s."),
    "channel account": N_("No channel account %(id)s."),
    "contact": N_("No contact %(id)s."),
    "conversation": N_("No conversation %(id)s."),
    "customer": N_("No customer %(id)s."),
    "holiday": N_("No holiday %(id)s."),
    "message": N_("No message %(id)s."),
    "proposal": N_("No proposal %(id)s."),
    "stop word": N_("No stop word %(id)s."),
    "team": N_("No team %(id)s."),
    "user": N_("No user %(id)s."),
}


def get_or_404(model, row_id: int, noun: str):
    """The row of `model` with this id in the request's session, or a 404 ApiError naming it."""
    from inbox.db import session

    row = session().get(model, row_id)
    if row is None:
        raise ApiError(404, "not_found", NOT_FOUND.get(noun, N_("No %(noun)s %(id)s.")), noun=noun, id=row_id)
    return row


def json_body() -> dict:
    """The request's JSON object, or a 400 ApiError when the body is not one."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "The body must be a JSON object.")
    return body


def error_response(status: int, code: str, message: str):
    """A JSON error response."""
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/webhooks/", "/healthz", "/sandbox/api", "/sandbox/graph", "/sandbox/x/"))


# Werkzeug's own sentences for the errors it raises by itself, in our words so that they can be translated.
HTTP_SENTENCES = {
    400: N_("The request could not be understood."),
    404: N_("There is nothing at this address."),
    405: N_("This address does not take this method."),
    413: N_("The request is too large."),
    415: N_("This content type is not accepted here."),
}


def _http_description(error: HTTPException) -> str:
    """A description given where the error was raised is kept; werkzeug's default one is said in the client's
    language."""
    sentence = HTTP_SENTENCES.get(error.code or 0)
    if sentence is None or error.description != type(error).description:
        return error.description or error.name
    return in_api_language(sentence)


def init_app(app) -> None:
    """JSON errors under the API and webhook paths; pages keep Flask's HTML errors."""

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        return error_response(error.status, error.code, error.message)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if not _wants_json():
            return error
        code = (error.name or "error").lower().replace(" ", "_")
        return error_response(error.code or 500, code, _http_description(error))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return error_response(500, "internal_error", in_api_language(SERVER_FAILED))
        return "Internal error", 500
