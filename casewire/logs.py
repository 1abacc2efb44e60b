"""Structured logs: one JSON object per line, for the cluster's log collector.

Chosen per process by the YAML ``LOGGING`` config (``formatter: ${LOG_FORMAT:plain}``; the manifests
set ``LOG_FORMAT=json``). A record's ``request_id``, ``service`` and the other ``extra=`` fields listed
in ``FIELDS`` are carried over, so a request can be followed from the gateway's access line onward.
In the services, ``RequestIdFilter`` supplies ``request_id`` from the worker serving the request.
"""

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

FIELDS = ("service", "request_id", "method", "path", "status", "duration_ms", "remote_addr")


class JsonFormatter(logging.Formatter):
    """``{"time": "...Z", "level": "INFO", "logger": "...", "message": "...", "request_id": "..."}``"""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


# The request a service worker is serving: set by ``casewire.monitor.Monitor`` in ``worker_setup``
# (each nameko worker is its own greenlet, and greenlets have their own contextvars).
current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


class RequestIdFilter(logging.Filter):
    """Puts the request id of the worker that logs on each record that carries none."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id.get()
        return True


def add_request_id_filter() -> None:
    """Adds one ``RequestIdFilter`` to each handler of the root logger (those ``nameko run`` built from
    the service's ``LOGGING`` config), so no service config has to name it. Safe to call again."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(existing, RequestIdFilter) for existing in handler.filters):
            handler.addFilter(RequestIdFilter())
