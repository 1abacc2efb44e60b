"""Group commit: concurrent single submissions of one caller are stored together, as one batch.

A plate reader's agent posts every read on its own, many at once. Each ``create_alert`` worker queues
its submission under its caller; when no group of that caller is being stored, the worker leads: it
stores everything queued (its own submission and whatever arrived meanwhile) in one call of the batch
path, answers the others, and hands the lead to the first submission that queued while it stored. At
idle a group is one submission and waits for nothing; under load the groups grow by themselves. Every
submission is answered only after its group is durable, or with its group's error.
"""

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar

from eventlet.event import Event
from nameko.containers import WorkerContext
from nameko.extensions import DependencyProvider

from casewire.errors import Unavailable

_LEAD = object()  # what a queued submission is woken with when it is to store the next group
Submission = TypeVar("Submission")
Result = TypeVar("Result")


def caller_of(context: dict | None) -> tuple:
    """Whose submissions may be stored together: the same person, agency and unit (what a stored
    alert records of its submitter); each keeps its own request id."""
    context = context or {}
    actor = context.get("actor") or {}
    return actor.get("id"), actor.get("agency"), context.get("unit")


@dataclass
class _Queued:
    item: object
    done: Event = field(default_factory=Event)


class Groups:
    """The queues of a container's workers' submissions, by caller."""

    def __init__(self):
        self.queues: dict[Hashable, list[_Queued]] = {}
        self.leading: set[Hashable] = set()

    def submit(self, key: Hashable, item: Submission, store: Callable[[list[Submission]], list[Result]]) -> Result:
        """``item``'s result of ``store(items)``, called once for the group ``item`` joins (``store``
        returns one result per item, in order). Raises what ``store`` raised for the group."""
        queued = _Queued(item)
        self.queues.setdefault(key, []).append(queued)
        if key in self.leading:
            woken = queued.done.wait()
            if woken is not _LEAD:
                return _unwrap(woken)
        else:
            self.leading.add(key)
        group = self.queues.pop(key)
        killed = None
        try:
            outcomes = [(True, result) for result in store([member.item for member in group])]
        except Exception as exc:  # every member of the group is answered with it
            outcomes = [(False, exc)] * len(group)
        except BaseException as exc:  # this worker is killed: the others learn it was not stored
            killed, outcomes = exc, [(False, Unavailable("the group was not stored"))] * len(group)
        waiting = self.queues.get(key)
        if waiting:
            waiting[0].done.send(_LEAD)  # the next group forms while this one is answered
        else:
            self.leading.discard(key)
        mine = None
        for member, outcome in zip(group, outcomes, strict=True):
            if member is queued:
                mine = outcome
            else:
                member.done.send(outcome)
        if killed is not None:
            raise killed
        return _unwrap(mine)


class GroupCommit(DependencyProvider):
    """One :class:`Groups` per container, shared by its workers."""

    def setup(self) -> None:
        self.groups = Groups()

    def get_dependency(self, worker_ctx: WorkerContext) -> Groups:
        return self.groups


def _unwrap(outcome: tuple[bool, Result | BaseException]) -> Result:
    ok, value = outcome
    if not ok:
        raise value
    return value
