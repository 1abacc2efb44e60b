"""Errors as ``application/problem+json`` (RFC 9457), from one table of exception → status.

Every problem names its request (``request_id``, also the ``X-Request-Id`` header). A 503 or a 500 says
nothing else: what failed, and how, can hold internal documents or exception text, so it goes to the
log under the request id and the caller gets a fixed message.
"""

import logging

from flask import Flask, g, has_request_context, jsonify
from flask_smorest import Api
from marshmallow import INCLUDE, Schema, fields
from werkzeug.exceptions import HTTPException

from casewire.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable

STATUS = {InvalidInput: 422, NotFound: 404, Conflict: 409, Forbidden: 403}
PROBLEM_JSON = "application/problem+json"
UNAVAILABLE = "a service this request needs is unavailable; try again later, quoting the request id if it persists"
FAILED = "the request failed; quote its request id to the operators"
log = logging.getLogger(__name__)


class ProblemSchema(Schema):
    """An error (RFC 9457): every 4xx and 5xx answer of the API; extension members may follow."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(required=True, metadata={"example": "about:blank"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(metadata={"description": "field path → messages"})
    request_id = fields.String(metadata={"description": "the request's id (`X-Request-Id`), as in the log"})


class ProblemApi(Api):
    """flask-smorest documents its error responses (``default``, 422) as its own JSON error; the
    gateway answers ``application/problem+json`` (:func:`problem`), so the OpenAPI says that."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self):
        self.DEFAULT_RESPONSE_CONTENT_TYPE = PROBLEM_JSON  # only while the error responses are registered
        try:
            super()._register_responses()
        finally:
            del self.DEFAULT_RESPONSE_CONTENT_TYPE


class Problem(Exception):
    """Raised in views for a problem response with a chosen status."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        errors: dict | None = None,
        headers: dict | None = None,
    ):
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.errors = status, title, detail, errors
        self.headers = headers or {}


def problem(status: int, title: str, detail: str | None = None, errors: dict | None = None, headers=None):
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail or title}
    if errors:
        body["errors"] = errors
    if has_request_context() and g.get("request_id"):
        body["request_id"] = g.request_id
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    response.headers.update(headers or {})
    return response


def register(app: Flask) -> None:
    @app.errorhandler(Problem)
    def handle_problem(exc: Problem):
        return problem(exc.status, exc.title, exc.detail, exc.errors, exc.headers)

    for exc_type, status in STATUS.items():
        app.register_error_handler(
            exc_type, lambda exc, status=status: problem(status, type(exc).__name__, exc.message, exc.errors or None)
        )

    @app.errorhandler(Unavailable)
    def handle_unavailable(exc: Unavailable):
        log.warning("503: %s", exc.message, extra={"request_id": g.get("request_id")})
        g.failure_reason = getattr(exc, "reason", "unavailable")  # for the request's ``failed`` audit event
        return problem(503, "Service Unavailable", UNAVAILABLE)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        log.error("500: %s", type(exc).__name__, exc_info=exc, extra={"request_id": g.get("request_id")})
        return problem(500, "Internal Server Error", FAILED)

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException):
        # flask-smorest/webargs put validation messages on the exception's ``data``.
        messages = (getattr(exc, "data", None) or {}).get("messages")
        if exc.code == 422 and isinstance(messages, dict):
            messages = messages.get("json", messages.get("query", messages))
        if exc.code == 400 and not messages:
            return problem(400, "Bad Request", exc.description)
        return problem(exc.code or 500, exc.name, exc.description, messages or None)
