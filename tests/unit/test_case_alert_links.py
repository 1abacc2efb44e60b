"""C19 at the cases service's edge: intake is told that a case names an alert before the case stores
the link, so the retention sweep never deletes a read a case holds; a read the sweep deleted before it
was told (its deadline passed as it was being linked or promoted) is no link at all (404), and no case
is left naming it. The cases service alone, with ``worker_factory``: intake answers as it does when
the alert is gone (``link_case`` changes nothing, ``mark_promoted`` raises NotFound), a race no test
can time through the services. The hand-off itself, over the real intake, is
tests/integration/test_retention_links.py and tests/e2e/test_retention.py."""

from datetime import UTC, datetime

import pytest
from nameko.testing.services import worker_factory

from casewire.errors import NotFound
from services.cases.service import CasesService

NOW = datetime(2026, 6, 1, tzinfo=UTC)
DANA = {"actor": {"id": "dana", "agency": "NH0000000", "roles": ["detective"]}, "unit": "narcotics"}
READ = {"id": "a1", "source": "alpr", "status": "new", "agency": "NH0000000", "payload": {"plate": "ABC1234"}}
CASE = {
    "_id": "c1",
    "title": "Catalytic converter thefts",
    "status": "open",
    "classification": "investigative",
    "unit": "narcotics",
    "agency": "NH0000000",
    "assignees": [],
    "alerts": [],
    "alert_ids": [],
    "version": 1,
    "opened_at": NOW,
    "updated_at": NOW,
}


@pytest.fixture
def service():
    service = worker_factory(CasesService, now=lambda: NOW)
    service.intake_rpc.get_alert.return_value = READ
    service.store.find_promoted.return_value = None
    service.store.get.return_value = CASE
    service.oversight.active_holds.return_value = {}
    service.store.update.return_value = {**CASE, "alert_ids": ["a1"], "version": 2}
    service.store.insert.side_effect = lambda case: {"_id": "c2", **case}
    return service


def swept_meanwhile(service) -> None:
    """Intake no longer holds the read when it is told of the case."""
    service.intake_rpc.link_case.return_value = 0
    service.intake_rpc.mark_promoted.side_effect = NotFound("alert a1 not found")


def test_C19_a_read_the_sweep_deleted_as_it_was_promoted_leaves_no_new_case(service):
    swept_meanwhile(service)
    with pytest.raises(NotFound):
        service.promote_alert("a1", {"title": "From the read", "unit": "narcotics"}, DANA)
    service.store.insert.assert_not_called()


@pytest.mark.parametrize("link", ["link_alert", "promote_alert"])
def test_C19_a_read_the_sweep_deleted_as_it_was_linked_is_no_link(service, link):
    swept_meanwhile(service)
    with pytest.raises(NotFound):
        if link == "link_alert":
            service.link_alert("c1", {"alert_id": "a1", "reason": "near the scene"}, DANA)
        else:
            service.promote_alert("a1", {"case_id": "c1"}, DANA)
    service.store.update.assert_not_called()


def test_C19_intake_is_told_before_a_promotion_stores_its_new_case(service):
    told = []
    service.intake_rpc.link_case.side_effect = lambda *args: told.append(service.store.insert.call_count) or 1
    case = service.promote_alert("a1", {"title": "From the read", "unit": "narcotics"}, DANA)
    assert told == [0]  # before the case was stored
    assert service.intake_rpc.link_case.call_args.args[:3] == (["a1"], case["id"], True)
