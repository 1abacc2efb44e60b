"""Structured logs: one JSON object per line, for the cluster's log collector.

Chosen per process by the YAML ``LOGGING`` config (``formatter: ${LOG_FORMAT:plain}``; the manifests
set ``LOG_FORMAT=json``). A record's ``request_id``, ``service`` and the other ``extra=`` fields listed
in ``FIELDS`` are carried over, so a request can be followed from the gateway's access line onward.
"""

import json
import logging
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
