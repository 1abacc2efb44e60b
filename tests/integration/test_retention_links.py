"""C19 through the real hand-off: an ALPR read linked to a case in the cases service is kept by
intake's retention sweep past its deadline, and goes once the case lets go of it.

Intake runs with a New Hampshire profile of a few seconds and a sweep every second, so the real
timers do the work; a read nobody links, stored at the same moment, is the sign that a sweep ran.
"""

import uuid

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.audit.service import AuditService
from services.cases.service import CasesService
from services.entities.service import EntitiesService
from services.intake.service import IntakeService
from tests.polling import eventually

NH = "NH0000000"
DANA = {"actor": {"id": "dana", "agency": NH, "roles": ["detective"]}, "unit": "narcotics", "request_id": "r-1"}


@pytest.fixture
def rpc(container_factory, config_for, base_config):
    for service_cls in (CasesService, EntitiesService, AuditService):
        container_factory(service_cls, config_for(service_cls.name)).start()
    intake = {**config_for("intake"), "ALPR_RETENTION_PROFILES": {"NH": "4s"}, "ALPR_PURGE_SECONDS": "1"}
    container_factory(IntakeService, intake).start()
    with ClusterRpcProxy(base_config, timeout=30) as proxy:
        yield proxy


def read(rpc) -> dict:
    body = {
        "source": "alpr",
        "source_system": "flock",
        "source_event_id": uuid.uuid4().hex,
        "occurred_at": "2026-01-05T22:14:00Z",  # long past: due as soon as the sweep sees it
        "location": {"lat": 43.2, "lon": -71.5},
        "payload": {"plate": f"N{uuid.uuid4().hex[:6].upper()}", "camera_id": "cam-1"},
    }
    return rpc.intake.create_alert(body, DANA)["alert"]


def gone(rpc, alert_id: str) -> bool:
    return alert_id not in {item["alert_id"] for item in rpc.intake.export_alerts(None, 5000)["items"]}


def test_C19_a_read_linked_through_the_cases_service_is_kept_until_the_case_lets_go_of_it(rpc):
    case = rpc.cases.create_case({"title": "Catalytic converter thefts", "unit": "narcotics"}, DANA)
    linked, alone = read(rpc), read(rpc)
    rpc.cases.link_alert(case["id"], {"alert_id": linked["id"], "reason": "seen near the scene"}, DANA)
    eventually(lambda: gone(rpc, alone["id"]), timeout=30)  # a sweep ran after both were due
    assert not gone(rpc, linked["id"])
    assert rpc.cases.get_case(case["id"], DANA)["alert_ids"] == [linked["id"]]

    rpc.cases.unlink_alert(case["id"], linked["id"], {"reason": "another vehicle"}, DANA)
    eventually(lambda: gone(rpc, linked["id"]), timeout=30)
