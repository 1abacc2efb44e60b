"""Errors as ``application/problem+json`` (RFC 9457), from one table of exception → kind of problem.

Each kind of problem has a stable ``type`` URI and one title in words (docs/problems.md, one anchor
per kind); ``errors`` names the fields at fault. A status no kind covers answers ``about:blank`` with
the HTTP status phrase as its title, as RFC 9457 provides.

Every problem names its request (``request_id``, also the ``X-Request-Id`` header). A 503, or a 500 the
table does not name, says nothing else: what failed, and how, can hold internal documents or exception
text, so it goes to the log under the request id and the caller gets a fixed message.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, g, has_request_context, jsonify
from flask_smorest import Api
from marshmallow import INCLUDE, Schema, fields
from werkzeug.exceptions import HTTPException

from casewire.errors import (
    CasewireError,
    Conflict,
    CorruptedFile,
    Forbidden,
    InvalidInput,
    NotFound,
    PurposeRequired,
    Unavailable,
)
from gateway.purpose import purpose_errors

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPES = "https://casewire.io/problems/"
UNAVAILABLE_DETAIL = (
    "a service this request needs is unavailable; try again later, quoting the request id if it persists"
)
FAILED = "the request failed; quote its request id to the operators"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Kind:
    """A kind of problem: ``type`` is ``PROBLEM_TYPES`` + ``slug``, the anchor in docs/problems.md."""

    slug: str
    status: int
    title: str

    @property
    def type(self) -> str:
        return PROBLEM_TYPES + self.slug


BAD_REQUEST = Kind("bad-request", 400, "Bad request")
PURPOSE_REQUIRED = Kind("purpose-required", 400, "Purpose of use required")
UNAUTHORIZED = Kind("unauthorized", 401, "Not signed in")
FORBIDDEN = Kind("forbidden", 403, "Not permitted")
NOT_FOUND = Kind("not-found", 404, "Not found")
METHOD_NOT_ALLOWED = Kind("method-not-allowed", 405, "Method not allowed")
CONFLICT = Kind("conflict", 409, "Conflicts with the record's state")
CONTENT_TOO_LARGE = Kind("content-too-large", 413, "Content too large")
UNSUPPORTED_MEDIA_TYPE = Kind("unsupported-media-type", 415, "Unsupported media type")
INVALID_INPUT = Kind("invalid-input", 422, "Invalid input")
TOO_MANY_REQUESTS = Kind("too-many-requests", 429, "Too many requests")
INTERNAL_ERROR = Kind("internal-error", 500, "Internal error")
STORED_FILE_CORRUPTED = Kind("stored-file-corrupted", 500, "Stored file corrupted")
UNAVAILABLE = Kind("unavailable", 503, "Service unavailable")

KINDS = (
    BAD_REQUEST,
    PURPOSE_REQUIRED,
    UNAUTHORIZED,
    FORBIDDEN,
    NOT_FOUND,
    METHOD_NOT_ALLOWED,
    CONFLICT,
    CONTENT_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    INVALID_INPUT,
    TOO_MANY_REQUESTS,
    INTERNAL_ERROR,
    STORED_FILE_CORRUPTED,
    UNAVAILABLE,
)
BY_STATUS = {kind.status: kind for kind in reversed(KINDS)}  # a status's first kind is its general one


def _own_errors(exc: CasewireError) -> dict | None:
    return exc.errors or None


def _missing_purpose(exc: CasewireError) -> dict:
    """A service refused for C9 (it knows the record is intelligence): the fields the request lacks,
    named as the gateway's own refusal names them."""
    return purpose_errors()


@dataclass(frozen=True)
class Raised:
    """How the gateway answers an error a service raised on purpose: its kind, and the ``errors`` member."""

    kind: Kind
    errors: Callable[[CasewireError], dict | None] = _own_errors


# The one table: every error of casewire/errors.py a view can meet, raised by a service across RPC or
# by the gateway itself, and the problem it answers. Unavailable (503) says nothing of what failed.
RAISED: dict[type[CasewireError], Raised] = {
    InvalidInput: Raised(INVALID_INPUT),
    NotFound: Raised(NOT_FOUND),
    Conflict: Raised(CONFLICT),
    Forbidden: Raised(FORBIDDEN),
    PurposeRequired: Raised(PURPOSE_REQUIRED, _missing_purpose),
    CorruptedFile: Raised(STORED_FILE_CORRUPTED),
    Unavailable: Raised(UNAVAILABLE),
}


class ProblemSchema(Schema):
    """An error (RFC 9457): every 4xx and 5xx answer of the API; extension members may follow."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(
        required=True,
        metadata={
            "format": "uri",
            "description": "what kind of problem: a stable URI, documented in docs/problems.md",
            "example": NOT_FOUND.type,
        },
    )
    title = fields.String(required=True, metadata={"description": "the kind's title", "example": NOT_FOUND.title})
    status = fields.Integer(required=True, metadata={"example": 404})
    detail = fields.String(required=True, metadata={"example": "no alert 7f3c2a"})
    errors = fields.Dict(
        metadata={
            "description": "field path → messages (nested for nested fields)",
            "example": {"payload": {"plate": ["Missing data for required field."]}},
        }
    )
    request_id = fields.String(metadata={"description": "the request's id (`X-Request-Id`), as in the log"})


def example(kind: Kind, detail: str, errors: dict | None = None) -> dict:
    """A problem body of ``kind``, for the OpenAPI document."""
    body = {"type": kind.type, "title": kind.title, "status": kind.status, "detail": detail}
    return {**body, "errors": errors} if errors else body


class ProblemApi(Api):
    """flask-smorest documents its error responses (``default``, 422) as its own JSON error; the
    gateway answers ``application/problem+json`` (:func:`problem`), so the OpenAPI says that."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        self.DEFAULT_RESPONSE_CONTENT_TYPE = PROBLEM_JSON  # only while the error responses are registered
        try:
            super()._register_responses()
        finally:
            del self.DEFAULT_RESPONSE_CONTENT_TYPE


class Problem(Exception):
    """Raised in views for a problem response with a chosen status.

    ``title`` is a :class:`Kind`; a plain string stands for the status's general kind.
    """

    def __init__(
        self,
        status: int,
        title: "Kind | str",
        detail: str | None = None,
        errors: dict | None = None,
        headers: dict | None = None,
    ):
        super().__init__(detail or str(title))
        self.status, self.title, self.detail, self.errors = status, title, detail, errors
        self.headers = headers or {}


def problem(
    status: int, title: "Kind | str", detail: str | None = None, errors: dict | None = None, headers: dict | None = None
) -> Response:
    kind = title if isinstance(title, Kind) else BY_STATUS.get(status)
    kind_type, kind_title = (kind.type, kind.title) if kind else ("about:blank", str(title))
    body = {"type": kind_type, "title": kind_title, "status": status, "detail": detail or kind_title}
    if errors:
        body["errors"] = errors
    if has_request_context() and g.get("request_id"):
        body["request_id"] = g.request_id
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    response.headers.update(headers or {})
    return response


def answer(exc: CasewireError) -> Response:
    """The problem ``RAISED`` maps ``exc`` to (the entry of its nearest class)."""
    raised = next(RAISED[cls] for cls in type(exc).__mro__ if cls in RAISED)
    if raised.kind is UNAVAILABLE:
        log.warning("503: %s", exc.message, extra={"request_id": g.get("request_id")})
        g.failure_reason = getattr(exc, "reason", "unavailable")  # for the request's ``failed`` audit event
        return problem(503, UNAVAILABLE, UNAVAILABLE_DETAIL)
    return problem(raised.kind.status, raised.kind, exc.message, raised.errors(exc))


def register(app: Flask) -> None:
    @app.errorhandler(Problem)
    def handle_problem(exc: Problem) -> Response:
        return problem(exc.status, exc.title, exc.detail, exc.errors, exc.headers)

    for exc_type in RAISED:
        app.register_error_handler(exc_type, answer)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception) -> Response:
        log.error("500: %s", type(exc).__name__, exc_info=exc, extra={"request_id": g.get("request_id")})
        return problem(500, INTERNAL_ERROR, FAILED)

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException) -> Response:
        # flask-smorest/webargs put validation messages on the exception's ``data``.
        messages = (getattr(exc, "data", None) or {}).get("messages")
        if exc.code == 422 and isinstance(messages, dict):
            messages = messages.get("json", messages.get("query", messages))
        if exc.code == 400 and not messages:
            return problem(400, BAD_REQUEST, exc.description)
        return problem(exc.code or 500, exc.name, exc.description, messages or None)
