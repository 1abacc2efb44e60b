"""The outbox of ``case_updated``: a case whose announcement was never confirmed is announced again.

Every write of a case leaves a marker (``CaseStore``, "the outbox"), deleted once the event announcing
that state is confirmed. This timer finds markers older than ``OUTBOX_AGE`` and announces each case's
current state, which covers every change stored before it, so search never keeps a removed assignee,
an old unit or an old sensitivity.
"""

from datetime import timedelta

from nameko.timer import timer

from services.cases import casefile
from services.cases.worker import CaseWorker

OUTBOX_AGE = timedelta(seconds=10)  # a write's own announcement comes well within this
ABANDONED = timedelta(minutes=5)  # a marker whose write never landed (its request failed) is dropped then


class OutboxEntrypoints(CaseWorker):
    @timer(interval=5)
    def announce_unconfirmed(self) -> list[str]:
        """Announce again the cases whose ``case_updated`` was not confirmed; the ids announced."""
        now, markers_of = self._now(), {}
        for marker in self.store.unannounced(older_than=now - OUTBOX_AGE):
            markers_of.setdefault(marker["case_id"], []).append(marker)
        announced = []
        for case_id, markers in markers_of.items():
            case = self.store.find(case_id)
            landed = case["updated_at"] if case else None
            done = [m["_id"] for m in markers if (landed and m["at"] <= landed) or m["at"] < now - ABANDONED]
            if case is not None and done:
                if not self._announce({**case, "outbox_marker": None}, casefile.case_event(case, "republished")):
                    continue
                announced.append(case_id)
            self.store.drop_markers(done)
        return announced
