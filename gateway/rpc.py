"""Calling the services: one nameko cluster proxy per gateway thread, started on first use."""

import logging
import threading

from flask import g, has_request_context
from nameko.standalone.rpc import ClusterRpcProxy

from casewire.errors import CasewireError, Unavailable

log = logging.getLogger(__name__)


class Rpc:
    """``rpc.call("intake", "get_alert", alert_id)``.

    A service's own errors (NotFound, InvalidInput...) arrive as themselves through nameko's
    remote-error registry; anything else (broker down, timeout, a crash) becomes Unavailable.
    """

    def __init__(self, app=None):
        self._local = threading.local()
        if app is not None:
            self.init_app(app)

    def init_app(self, app) -> None:
        self.config = {"AMQP_URI": app.config["AMQP_URI"]}
        self.timeout = float(app.config.get("RPC_TIMEOUT", 30))
        app.extensions["rpc"] = self

    def call(self, service: str, method: str, *args, **kwargs):
        try:
            return getattr(getattr(self._proxy(), service), method)(*args, **kwargs)
        except CasewireError:
            raise
        except Exception as exc:  # nameko's and kombu's failures share no base class
            self._reset()
            request_id = g.get("request_id") if has_request_context() else None
            log.warning("%s.%s did not answer: %r", service, method, exc, extra={"request_id": request_id})
            raise Unavailable(f"the {service} service did not answer") from exc

    def probe(self, service: str, method: str, timeout: float) -> dict:
        """One call on a fresh short-timeout proxy, for readiness checks."""
        with ClusterRpcProxy(self.config, timeout=timeout) as proxy:
            return getattr(getattr(proxy, service), method)()

    def _proxy(self):
        if getattr(self._local, "proxy", None) is None:
            cluster = ClusterRpcProxy(self.config, timeout=self.timeout)
            self._local.proxy = cluster.start()
            self._local.cluster = cluster
        return self._local.proxy

    def _reset(self) -> None:
        cluster = getattr(self._local, "cluster", None)
        self._local.proxy = self._local.cluster = None
        if cluster is not None:
            try:
                cluster.stop()
            except Exception:  # the connection is already broken; there is nothing to close
                pass
