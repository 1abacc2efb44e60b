"""The cases service: case files, their links and contents, review, export and webhooks.

Its entrypoints live in groups, one module each, listed below. Every group extends
:class:`~services.cases.worker.CaseWorker`, which declares the service's dependencies once.
"""

from casewire.monitor import Monitor
from casewire.rpc import rpc
from services.cases import (
    content,
    dissemination,
    holds_and_purges,
    linking,
    notify,
    outbox,
    outcomes,
    oversight,
    paging,
    workflow,
)


# Modules, not classes, are imported: ``nameko run`` takes every class with entrypoints in this module
# for a service.
class CasesService(
    workflow.WorkflowEntrypoints,  # open, read, list, edit and review cases (C2-C5, C13, C14)
    linking.LinkEntrypoints,  # alerts and entities linked, promotions, merges, related records, timeline
    content.ContentEntrypoints,  # notes, reports, interviews, tasks, evidence and custody, attachments
    dissemination.DisseminationEntrypoints,  # disseminations and the case file's export (C10)
    notify.WebhookEntrypoints,  # webhooks and their deliveries
    outcomes.OutcomeEntrypoints,  # dispositions and outcome metrics
    holds_and_purges.HoldAndPurgeEntrypoints,  # review queue, legal holds, purges (C15-C17)
    oversight.OversightEntrypoints,  # restricted hits, notifications, the compliance report (C6, C11, C27)
    paging.PagingEntrypoints,  # every case, page by page, for search's reindex and check
    outbox.OutboxEntrypoints,  # case_updated announced again until the broker confirms it
):
    name = "cases"

    monitor = Monitor()  # this process's heartbeat, metrics and request ids (casewire/monitor.py)

    @rpc
    def health(self) -> dict:
        """Whether MongoDB answers."""
        return {"mongodb": self.store.ping()}
