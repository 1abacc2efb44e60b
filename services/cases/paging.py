"""The export search rebuilds its cases index from: every case, paged in id order."""

from casewire.rpc import rpc
from services.cases import casefile
from services.cases.worker import ERRORS, CaseWorker

MAX_PAGE = 5000


class PagingEntrypoints(CaseWorker):
    """Read-only paging for other stores (search's ``reindex`` and ``check``); no caller, no audit:
    it answers on the internal bus only, as ``intake.export_alerts`` and ``entities.export_entities`` do."""

    @rpc(expected_exceptions=ERRORS)
    def export_cases(self, after: str | None = None, limit: int = 500) -> dict:
        """A page of every case in id order, as ``case_updated`` payloads (without ``change``).

        ``export_cases(None, 500)`` → ``{"items": [{"case_id", "title", ..., "version"}], "next": <last
        id, or None at the end>, "total": <about how many, on the first page>}``; pass ``next`` back as
        ``after``. A case being purged (C16) is already left out.
        """
        limit = max(1, min(int(limit), MAX_PAGE))
        page = self.store.export(after, limit)
        items = [casefile.case_event(case, None) for case in page]
        answer = {"items": items, "next": page[-1]["_id"] if len(page) == limit else None}
        if after is None:
            answer["total"] = self.store.count()
        return answer
