"""``casewire probe <service>``: an exec probe that checks the pod it runs in, for Kubernetes and compose.

Each service process writes a heartbeat file (``casewire.monitor.Monitor``): every few seconds it runs
its own ``health`` entrypoint in a worker of its own pool and records the answer with whether its
broker consumers are connected, e.g. ``{"at": 1764042000.5, "health": {"mongodb": true, "rabbitmq":
true}}``. The file lives in ``HEARTBEAT_DIR`` (default ``/tmp``, the pod's own emptyDir), so the probe
sees only its own process, never a sibling replica answering on the shared ``rpc-<service>`` queue.
A fresh heartbeat proves the event loop turns and a worker can run; a hung process stops writing and
its file goes stale. Readiness needs a fresh heartbeat and every backend up, RabbitMQ included;
liveness (``live=True``) needs only a fresh heartbeat, so a database or broker outage takes pods out
of rotation without restarting them all (kombu reconnects on its own).
"""

import json
import os
import tempfile
import time
from pathlib import Path

SERVICES = ("intake", "entities", "search", "cases", "audit")
HEARTBEAT_DIR_KEY = "HEARTBEAT_DIR"
DEFAULT_MAX_AGE = 60.0


def heartbeat_dir() -> Path:
    """Where heartbeats go when the service config names no ``HEARTBEAT_DIR``: the environment's, else /tmp."""
    return Path(os.environ.get(HEARTBEAT_DIR_KEY) or tempfile.gettempdir())


def heartbeat_path(directory: Path, service: str) -> Path:
    return Path(directory) / f"casewire-{service}.heartbeat"


def write_heartbeat(path: Path, health: dict, error: str | None = None) -> None:
    """Replace the heartbeat atomically, so a probe never reads half a file."""
    entry = {"at": time.time(), "health": health, "error": error}
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    try:
        with os.fdopen(handle, "w") as file:
            file.write(json.dumps(entry))
        os.replace(partial, path)
    except BaseException:
        os.unlink(partial)
        raise


def probe(path: Path, service: str, max_age: float = DEFAULT_MAX_AGE, live: bool = False) -> tuple[bool, str]:
    """``(healthy, why)`` for the process that writes ``path``."""
    try:
        entry = json.loads(Path(path).read_text())
    except FileNotFoundError:
        return False, f"{service}: no heartbeat at {path} (not started, or stopped)"
    except (OSError, ValueError) as exc:
        return False, f"{service}: unreadable heartbeat at {path} ({exc})"
    age = time.time() - entry["at"]
    if age > max_age:
        return False, f"{service}: heartbeat {age:.0f}s old (limit {max_age:.0f}s): the process is hung"
    if live:
        return True, f"{service}: alive ({age:.0f}s ago)"
    if entry.get("error"):
        return False, f"{service}: its health check failed: {entry['error']}"
    down = sorted(name for name, ok in entry["health"].items() if not ok)
    if down:
        return False, f"{service}: alive, but {', '.join(down)} did not answer"
    return True, f"{service}: ok {entry['health']} ({age:.0f}s ago)"
