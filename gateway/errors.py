"""Errors as ``application/problem+json`` (RFC 9457), from one table of exception → status."""

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from casewire.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable

STATUS = {InvalidInput: 422, NotFound: 404, Conflict: 409, Forbidden: 403, Unavailable: 503}


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
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
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

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException):
        # flask-smorest/webargs put validation messages on the exception's ``data``.
        messages = (getattr(exc, "data", None) or {}).get("messages")
        if exc.code == 422 and isinstance(messages, dict):
            messages = messages.get("json", messages.get("query", messages))
        if exc.code == 400 and not messages:
            return problem(400, "Bad Request", exc.description)
        return problem(exc.code or 500, exc.name, exc.description, messages or None)
