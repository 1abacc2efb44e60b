"""The cases service's entrypoints."""

from marshmallow import ValidationError
from nameko.rpc import rpc

from casewire.clock import Clock
from casewire.errors import EXPECTED, InvalidInput
from casewire.mongo import MongoStore
from services.cases.dependencies import CaseStore
from services.cases.schemas import CaseIn, CaseOut


class CasesService:
    name = "cases"

    store = MongoStore(CaseStore)
    now = Clock()

    @rpc(expected_exceptions=EXPECTED)
    def create_case(self, fields: dict, context: dict) -> dict:
        """Open an investigative case, e.g. ``{"title": "Armed robbery, Main St", "unit": "robbery"}``."""
        try:
            case = CaseIn().load(fields)
        except ValidationError as exc:
            raise InvalidInput("the case is invalid", exc.messages) from exc
        actor = context.get("actor") or {}
        assignee = case.pop("assignee", None)
        case.update(
            status="open",
            record_class=case["classification"],
            assignees=[assignee] if assignee else [],
            agency=actor.get("agency"),
            opened_at=self.now(),
            opened_by=actor.get("id"),
        )
        return CaseOut().dump(self.store.insert(case))

    @rpc(expected_exceptions=EXPECTED)
    def get_case(self, case_id: str) -> dict:
        return CaseOut().dump(self.store.get(case_id))

    @rpc
    def health(self) -> dict:
        """Whether MongoDB answers."""
        return {"mongodb": self.store.ping()}
