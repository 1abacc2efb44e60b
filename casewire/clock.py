"""An injectable clock: time-driven rules are tested by moving it, never by waiting."""

from collections.abc import Callable
from datetime import UTC, datetime

from nameko.containers import WorkerContext
from nameko.extensions import DependencyProvider


def utcnow() -> datetime:
    return datetime.now(UTC)


class Clock(DependencyProvider):
    """Gives workers a callable returning the current UTC time; tests replace it."""

    def get_dependency(self, worker_ctx: WorkerContext) -> Callable[[], datetime]:
        return utcnow
