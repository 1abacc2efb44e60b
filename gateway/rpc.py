"""Calling the services: one nameko cluster proxy per gateway thread, started on first use."""

import logging
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask, g, has_request_context
from nameko.containers import WorkerContext
from nameko.exceptions import RemoteError, RpcTimeout
from nameko.rpc import ServiceProxy
from nameko.standalone.rpc import ClusterProxy, ClusterRpcProxy, SingleThreadedReplyListener, StandaloneProxyBase

from casewire.errors import CasewireError, Unavailable

log = logging.getLogger(__name__)


class NoAnswer(Unavailable):
    """A service call that gave no answer, and why (``reason``, recorded in the request's audit event):

    - ``no_answer``: nothing came back within ``RPC_TIMEOUT``; the request expired at the broker, so it
      was not done unless the service had already started it (then the service's own audit event, with
      the same request id, records what it did);
    - ``service_error``: the service failed unexpectedly while doing it;
    - ``unreachable``: the request could not be sent (the broker is down): nothing was done.
    """

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def _reason(exc: Exception) -> str:
    if isinstance(exc, RpcTimeout):
        return "no_answer"
    return "service_error" if isinstance(exc, RemoteError) else "unreachable"


class _ExpiringClusterProxy(ClusterProxy):
    def __init__(self, worker_ctx: WorkerContext, reply_listener: SingleThreadedReplyListener, expiration: float):
        super().__init__(worker_ctx, reply_listener)
        self._expiration = expiration

    def __getattr__(self, name: str) -> ServiceProxy:
        if name not in self._proxies:
            self._proxies[name] = ServiceProxy(
                self._worker_ctx, name, self._reply_listener, expiration=self._expiration
            )
        return self._proxies[name]


class ExpiringRpcProxy(StandaloneProxyBase):
    """nameko's ``ClusterRpcProxy`` whose requests carry a per-message TTL (AMQP ``expiration``) equal
    to the time the caller waits for the answer: RabbitMQ drops a request still queued when nobody waits
    for it any more (a service down or restarting), so it is never done after its caller was told 503."""

    def __init__(self, config: dict, timeout: float):
        super().__init__(config, timeout=timeout)
        self._proxy = _ExpiringClusterProxy(self._worker_ctx, self._reply_listener, timeout)


class Rpc:
    """``rpc.call("intake", "get_alert", alert_id)``.

    A service's own errors (NotFound, InvalidInput...) arrive as themselves through nameko's
    remote-error registry; anything else (broker down, timeout, a crash) becomes Unavailable. A request
    expires at the broker when the gateway stops waiting for it (:class:`ExpiringRpcProxy`).
    """

    def __init__(self, app: Flask | None = None):
        self._local = threading.local()
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        self.config = {"AMQP_URI": app.config["AMQP_URI"]}
        self.timeout = float(app.config.get("RPC_TIMEOUT", 30))
        app.extensions["rpc"] = self

    def call(self, service: str, method: str, *args, **kwargs) -> Any:  # the service's answer, as JSON
        return self.send(service, method, *args, **kwargs)()

    def send(self, service: str, method: str, *args, **kwargs) -> Callable[[], Any]:
        """Send a call now, wait for its answer later: ``answer = rpc.send(...)``, then ``answer()`` (which
        raises as :meth:`call` does). Calls sent before waiting for any are served side by side; wait for
        every call sent, so that no answer is left on the thread's reply queue."""
        proxy = lambda: getattr(getattr(self._proxy(), service), method)  # noqa: E731
        sent = self._answering(service, method, lambda: proxy().call_async(*args, **kwargs))
        return lambda: self._answering(service, method, sent.result)

    def _answering(self, service: str, method: str, step: Callable[[], Any]) -> Any:
        try:
            return step()
        except CasewireError:
            raise
        except Exception as exc:  # nameko's and kombu's failures share no base class
            self._reset()
            request_id = g.get("request_id") if has_request_context() else None
            log.warning("%s.%s did not answer: %r", service, method, exc, extra={"request_id": request_id})
            raise NoAnswer(f"the {service} service did not answer", _reason(exc)) from exc

    def probe(self, service: str, method: str, timeout: float) -> dict:
        """One call on a fresh short-timeout proxy, for readiness checks."""
        with ClusterRpcProxy(self.config, timeout=timeout) as proxy:
            return getattr(getattr(proxy, service), method)()

    def _proxy(self) -> ClusterProxy:
        if getattr(self._local, "proxy", None) is None:
            cluster = ExpiringRpcProxy(self.config, self.timeout)
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
