"""What the gateway exports for operators: Prometheus metrics at ``/metrics`` and one access log line
per request (method, path, status, duration and request id; never the query string or a token)."""

import logging
import time

from flask import Flask, Response, g, has_request_context, request
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from casewire.logs import JsonFormatter

REQUESTS = Counter(
    "casewire_gateway_requests_total", "HTTP requests answered, by route and status", ["method", "route", "status"]
)
LATENCY = Histogram(
    "casewire_gateway_request_duration_seconds",
    "Time to answer an HTTP request, by route",
    ["method", "route"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
access_log = logging.getLogger("casewire.access")


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every log record made while answering it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = g.get("request_id") if has_request_context() else None
        return True


def configure_logging(log_format: str, level: str) -> None:
    """``LOG_FORMAT=json``: JSON lines on stderr for the gateway's own loggers (once per process)."""
    root = logging.getLogger()
    if log_format != "json" or any(getattr(h, "casewire", False) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    handler.casewire = True
    root.addHandler(handler)
    root.setLevel(level)


def init_app(app: Flask) -> None:
    configure_logging(str(app.config.get("LOG_FORMAT", "plain")), str(app.config.get("LOG_LEVEL", "INFO")))

    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def observe(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule else "unmatched"
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        LATENCY.labels(request.method, route).observe(elapsed)
        access_log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 1),
                "remote_addr": request.remote_addr,
                "request_id": g.get("request_id"),
            },
        )
        return response

    @app.route("/metrics")
    def metrics() -> Response:
        """Prometheus metrics (scraped inside the cluster; the Ingress does not route here)."""
        return Response(generate_latest(), content_type=CONTENT_TYPE_LATEST)

    metrics.casewire_public = True
