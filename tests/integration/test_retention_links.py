"""C19 through the real hand-offs: an ALPR read linked to a case in the cases service is kept by
intake's retention sweep past its deadline, and goes once the case lets go of it (an unlink, or the
purge of the case it was promoted into).

Intake runs with a New Hampshire profile of a few seconds and a sweep every second, so the real
timers do the work. Each read is taken as it happens and linked well inside its profile; the test
waits for the sweep to judge it (:func:`swept`), never for a fixed time.
"""

import uuid
from datetime import UTC, datetime

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.audit.service import AuditService
from services.cases.service import CasesService
from services.entities.service import EntitiesService
from services.intake.service import IntakeService
from tests.integration.test_cases import PURPOSE, ci_fields, ctx
from tests.polling import eventually

NH = "NH0000000"
DANA = ctx(agency=NH, **PURPOSE)
PAT = ctx("pat", ("purge_authority",), unit="records", agency=NH, **PURPOSE)
LONG_AGO = "2026-01-05T22:14:00Z"  # a read taken then is due as soon as it is stored
PROFILE = "4s"  # long enough to link a read before it is due, short enough to wait for


@pytest.fixture
def rpc(container_factory, config_for, base_config):
    for service_cls in (CasesService, EntitiesService, AuditService):
        container_factory(service_cls, config_for(service_cls.name)).start()
    intake = {**config_for("intake"), "ALPR_RETENTION_PROFILES": {"NH": PROFILE}, "ALPR_PURGE_SECONDS": "1"}
    container_factory(IntakeService, intake).start()
    with ClusterRpcProxy(base_config, timeout=30) as proxy:
        yield proxy


def reads(rpc, count: int, at: str | None = None) -> list[dict]:
    """``count`` reads taken ``at`` (now by default), stored in one batch: one deadline for all of them."""
    at = at or datetime.now(UTC).isoformat()
    bodies = [
        {
            "source": "alpr",
            "source_system": "flock",
            "source_event_id": uuid.uuid4().hex,
            "occurred_at": at,
            "location": {"lat": 43.2, "lon": -71.5},
            "payload": {"plate": f"N{uuid.uuid4().hex[:6].upper()}", "camera_id": f"cam-{uuid.uuid4().hex[:6]}"},
        }
        for _ in range(count)
    ]
    results = rpc.intake.create_alerts(bodies, DANA)["results"]
    return [rpc.intake.get_alert(result["id"]) for result in results]


def gone(rpc, alert_id: str) -> bool:
    return alert_id not in {item["alert_id"] for item in rpc.intake.export_alerts(None, 5000)["items"]}


def swept(rpc, witness: str) -> None:
    """Wait until every read of ``witness``'s batch was judged by a sweep past their deadline.

    ``witness``, a read nothing keeps, is deleted by a sweep past the deadline; a read stored after that,
    already due, can only be found by a later pass over the slots, once its batch was judged whole.
    """
    eventually(lambda: gone(rpc, witness), timeout=30)
    [later] = reads(rpc, 1, at=LONG_AGO)
    eventually(lambda: gone(rpc, later["id"]), timeout=30)


def test_C19_a_read_linked_through_the_cases_service_is_kept_until_the_case_lets_go_of_it(rpc):
    case = rpc.cases.create_case({"title": "Catalytic converter thefts", "unit": "narcotics"}, DANA)
    linked, alone = reads(rpc, 2)
    rpc.cases.link_alert(case["id"], {"alert_id": linked["id"], "reason": "seen near the scene"}, DANA)
    swept(rpc, alone["id"])
    assert not gone(rpc, linked["id"])
    assert rpc.cases.get_case(case["id"], DANA)["alert_ids"] == [linked["id"]]

    rpc.cases.unlink_alert(case["id"], linked["id"], {"reason": "another vehicle"}, DANA)
    eventually(lambda: gone(rpc, linked["id"]), timeout=30)


def test_C19_a_read_promoted_into_a_case_is_deleted_once_the_case_is_purged(rpc):
    """Promotion marks the read ``promoted`` and names the case; the purge of that case (C16, by the purge
    authority) leaves the status as it was, and the read must still go at its deadline."""
    promoted, alone = reads(rpc, 2)
    case = rpc.cases.promote_alert(promoted["id"], ci_fields(unit="narcotics"), DANA)
    assert rpc.intake.get_alert(promoted["id"])["status"] == "promoted"
    swept(rpc, alone["id"])
    assert not gone(rpc, promoted["id"])

    rpc.cases.purge_case(case["id"], {"reason": "the predicate did not hold up"}, PAT)
    eventually(lambda: gone(rpc, promoted["id"]), timeout=30)
