"""The cases service: case files, their links and contents, review, export and webhooks.

The entrypoints live in groups (workflow, linking, content, release, notify); this class gives them
their dependencies.
"""

from nameko.dependency_providers import Config
from nameko.events import EventDispatcher
from nameko.rpc import RpcProxy, rpc

from casewire.audit import AuditLog
from casewire.clock import Clock
from casewire.mongo import MongoStore
from services.cases.content import ContentEntrypoints
from services.cases.dependencies import CaseStore, ContentStore, WebhookStore
from services.cases.linking import LinkEntrypoints
from services.cases.notify import WebhookEntrypoints
from services.cases.release import ReleaseEntrypoints
from services.cases.workflow import WorkflowEntrypoints


class CasesService(WorkflowEntrypoints, LinkEntrypoints, ContentEntrypoints, ReleaseEntrypoints, WebhookEntrypoints):
    name = "cases"

    store = MongoStore(CaseStore)
    contents = MongoStore(ContentStore)
    hooks = MongoStore(WebhookStore)
    dispatch = EventDispatcher()
    audit = AuditLog()
    now = Clock()
    config = Config()
    entities_rpc = RpcProxy("entities")
    intake_rpc = RpcProxy("intake")

    @rpc
    def health(self) -> dict:
        """Whether MongoDB answers."""
        return {"mongodb": self.store.ping()}
