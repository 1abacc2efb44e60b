"""``casewire probe <service>``: an exec probe for a nameko service, for Kubernetes and compose.

The probe calls the service's ``health`` RPC over RabbitMQ with a short timeout. An answer proves the
broker connection, the service's RPC consumer and a free worker; the answer's values say whether the
service's own backends (MongoDB, Elasticsearch) answer. Readiness needs all of that; liveness
(``live=True``) needs only an answer, so a database outage takes pods out of rotation without
restarting them all.
"""

import signal
from pathlib import Path

from casewire.config import load_config

SERVICES = ("intake", "entities", "search", "cases", "audit")
SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"


def service_amqp_uri(service: str) -> str:
    """The broker URI the service itself uses: its config file, interpolated from the environment."""
    return load_config(SERVICES_DIR / service / "config.yaml")["AMQP_URI"]


def _give_up(signum, frame):
    raise TimeoutError("no answer in time")


def probe(amqp_uri: str, service: str, timeout: float, live: bool = False) -> tuple[bool, str]:
    """``(healthy, why)`` for one service; never waits much longer than ``timeout`` seconds."""
    from nameko.standalone.rpc import ClusterRpcProxy

    previous = signal.signal(signal.SIGALRM, _give_up)
    signal.alarm(max(1, int(timeout * 2)))  # a hard stop, should connecting to the broker hang
    try:
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=timeout) as proxy:
            answer = getattr(proxy, service).health()
    except Exception as exc:  # broker down, no consumer, timeout: all mean "not healthy"
        return False, f"{service}: no answer ({type(exc).__name__}: {exc})"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    down = sorted(name for name, ok in answer.items() if not ok)
    if down and not live:
        return False, f"{service}: answered, but {', '.join(down)} did not"
    return True, f"{service}: ok {answer}"
