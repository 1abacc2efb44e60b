"""The cases service: case files, their links and contents, review, export and webhooks.

The entrypoints live in groups (workflow, linking, content, release, notify, purge, oversight); this
class gives them their dependencies.
"""

from nameko.dependency_providers import Config
from nameko.events import EventDispatcher
from nameko.rpc import RpcProxy

from casewire.audit import AuditLog
from casewire.clock import Clock
from casewire.mongo import MongoStore
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
from services.cases.dependencies import CaseStore, ContentStore, OversightStore, WebhookStore


# Modules, not classes, are imported: ``nameko run`` takes every class with entrypoints in this module
# for a service.
class CasesService(
    workflow.WorkflowEntrypoints,
    linking.LinkEntrypoints,
    content.ContentEntrypoints,
    dissemination.DisseminationEntrypoints,
    notify.WebhookEntrypoints,
    outcomes.OutcomeEntrypoints,
    holds_and_purges.HoldAndPurgeEntrypoints,
    oversight.OversightEntrypoints,
    paging.PagingEntrypoints,
    outbox.OutboxEntrypoints,
):
    name = "cases"

    store = MongoStore(CaseStore)
    contents = MongoStore(ContentStore)
    hooks = MongoStore(WebhookStore)
    oversight = MongoStore(OversightStore)
    dispatch = EventDispatcher()
    audit = AuditLog()
    now = Clock()
    config = Config()
    monitor = Monitor()
    entities_rpc = RpcProxy("entities")
    intake_rpc = RpcProxy("intake")
    audit_rpc = RpcProxy("audit")

    @rpc
    def health(self) -> dict:
        """Whether MongoDB answers."""
        return {"mongodb": self.store.ping()}
