"""JSON errors in the contract's shape: {"error": {"code", "message"}}."""

from __future__ import annotations

from flask import jsonify, request
from werkzeug.exceptions import HTTPException


class ApiError(Exception):
    """An error answered to an API client with a status, a code and a sentence."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def get_or_404(model, row_id: int, noun: str):
    """The row of `model` with this id in the request's session, or a 404 ApiError naming it."""
    from inbox.db import session

    row = session().get(model, row_id)
    if row is None:
        raise ApiError(404, "not_found", f"No {noun} {row_id}.")
    return row


def error_response(status: int, code: str, message: str):
    """A JSON error response."""
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/webhooks/", "/healthz", "/sandbox/api", "/sandbox/graph", "/sandbox/x/"))


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
        return error_response(error.code or 500, code, error.description or error.name)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return error_response(500, "internal_error", "The server failed; the error is logged.")
        return "Internal error", 500
