"""The alert contract and every vendor adapter through the real gateway and servers (issue #4, Done when).

The tables are the unit tests' (tests/unit/test_alert_schema.py, tests/unit/test_vendor_adapters.py):
a valid body is 201; each missing required field, wrong type and oversized value is a 422 problem
naming the field, and stores nothing: the valid body sent next under the same event id is a new
alert (201), not a repeat (200). Also here: unknown nested fields kept, and the list filters
``source``, ``since`` and ``until``.
"""

import copy
import uuid

import pytest

from tests.polling import eventually
from tests.unit import test_alert_schema as schema
from tests.unit import test_vendor_adapters as vendors

PROBLEM = "application/problem+json"


def _plate() -> str:
    """A plate no other test reads, so no valid body is folded into another as a near-duplicate."""
    return f"C{uuid.uuid4().hex[:6].upper()}"


def alert_body(source: str) -> dict:
    payload = copy.deepcopy(schema.VALID[source])
    if source == "alpr":
        payload["plate"] = _plate()
    return {**schema.BASE, "source": source, "source_event_id": uuid.uuid4().hex, "payload": payload}


def vendor_body(name: str) -> dict:
    return vendors.fresh(name)


def _refused_then_stored(gateway, path: str, bad: dict, valid: dict, field: str) -> None:
    refused = gateway.post(path, roles=("source",), json=bad)
    assert refused.status_code == 422, refused.text
    assert refused.headers["Content-Type"] == PROBLEM
    assert vendors._error_at(refused.json()["errors"], field), refused.json()
    stored = gateway.post(path, roles=("source",), json=valid)
    assert stored.status_code == 201, f"the refused body left something stored: {stored.text}"


# -- POST /api/v1/alerts -------------------------------------------------------------------------

PAYLOAD_CASES = (
    [(source, field, "missing", None) for source, payload in schema.VALID.items() for field in payload]
    + [(s, f, "wrong type", v) for s, d in schema.WRONG_TYPES.items() for f, v in d.items()]
    + [(s, f, "oversized", v) for s, d in schema.OVERSIZED.items() for f, v in d.items()]
)


@pytest.mark.parametrize("source", schema.VALID)
def test_a_valid_alert_of_each_source_is_stored(gateway, source):
    created = gateway.post("/api/v1/alerts", roles=("source",), json=alert_body(source))
    assert created.status_code == 201, created.text
    assert created.json()["source"] == source and created.json()["status"] == "new"


@pytest.mark.parametrize("source,field,kind,value", PAYLOAD_CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in PAYLOAD_CASES])
def test_a_bad_payload_field_is_named_and_nothing_is_stored(gateway, source, field, kind, value):
    valid = alert_body(source)
    bad = copy.deepcopy(valid)
    if kind == "missing":
        del bad["payload"][field]
    else:
        bad["payload"][field] = value
    _refused_then_stored(gateway, "/api/v1/alerts", bad, valid, f"payload.{field}")


ENVELOPE_CASES = [(field, "missing", None) for field in schema.ENVELOPE_REQUIRED] + [
    (field, "bad", value) for field, value in schema.ENVELOPE_BAD
]


@pytest.mark.parametrize("field,kind,value", ENVELOPE_CASES, ids=[f"{c[0]}-{c[1]}" for c in ENVELOPE_CASES])
def test_a_bad_envelope_field_is_named_and_nothing_is_stored(gateway, field, kind, value):
    valid = alert_body("alpr")
    bad = {key: item for key, item in valid.items() if key != field} if kind == "missing" else {**valid, field: value}
    _refused_then_stored(gateway, "/api/v1/alerts", bad, valid, field)


def test_unknown_nested_fields_are_stored_in_source_payload(gateway):
    body = alert_body("alpr")
    body["location"] = {**body["location"], "heading": 182.5}
    body["payload"]["vehicle"] = {"make": "Nissan", "body_style": "sedan"}
    created = gateway.post("/api/v1/alerts", roles=("source",), json=body)
    assert created.status_code == 201, created.text
    stored = gateway.get(f"/api/v1/alerts/{created.json()['id']}").json()
    assert stored["source_payload"] == {"location": {"heading": 182.5}}
    assert stored["payload"]["source_payload"] == {"vehicle": {"body_style": "sedan"}}
    assert stored["payload"]["vehicle"] == {"make": "Nissan"} and "heading" not in stored["location"]


# -- POST /api/v1/alerts/vendors/<format> --------------------------------------------------------

VENDOR_CASES = (
    [(vendor, path, "missing", None) for vendor, paths in vendors.REQUIRED.items() for path in paths]
    + [(v, p, "wrong type", x) for v, d in vendors.WRONG_TYPES.items() for p, x in d.items()]
    + [(v, p, "oversized", x) for v, d in vendors.OVERSIZED.items() for p, x in d.items()]
)


@pytest.mark.parametrize("vendor,path,kind,value", VENDOR_CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in VENDOR_CASES])
def test_a_bad_vendor_field_is_named_and_nothing_is_stored(gateway, vendor, path, kind, value):
    valid = vendor_body(vendor)
    bad = vendors._edit(valid, path, value, delete=kind == "missing")
    _refused_then_stored(gateway, f"/api/v1/alerts/vendors/{vendors.vendor_format(vendor)}", bad, valid, path)


def test_an_unknown_nested_vendor_field_is_stored_in_source_payload(gateway):
    body = vendor_body("flock")
    body["device"]["model"] = "Falcon LR"
    created = gateway.post("/api/v1/alerts/vendors/flock", roles=("source",), json=body)
    assert created.status_code == 201, created.text
    assert created.json()["source_payload"]["device"] == {"model": "Falcon LR"}


# -- GET /api/v1/alerts?source=&since=&until= -----------------------------------------------------


def test_lists_filter_by_source_and_by_received_time(gateway):
    first = gateway.post("/api/v1/alerts", json=alert_body("gunshot")).json()
    second = gateway.post("/api/v1/alerts", json=alert_body("tip")).json()
    assert first["received_at"] < second["received_at"]

    def listed(**params) -> list[str]:
        answer = gateway.get("/api/v1/alerts", params={"limit": 500, **params})
        assert answer.status_code == 200, answer.text
        return answer.json()["items"]

    eventually(lambda: second["id"] in [item["id"] for item in listed()])  # indexed (a second behind at most)
    gunshots = listed(source="gunshot", since=first["received_at"])
    assert [item["id"] for item in gunshots] == [first["id"]]
    assert {item["source"] for item in listed(source="tip")} == {"tip"}
    since = [item["id"] for item in listed(since=second["received_at"])]  # since: at or after
    assert second["id"] in since and first["id"] not in since
    until = [item["id"] for item in listed(until=second["received_at"])]  # until: before
    assert first["id"] in until and second["id"] not in until
    between = listed(since=first["received_at"], until=second["received_at"])
    assert [item["id"] for item in between] == [first["id"]]
    assert gateway.get("/api/v1/alerts", params={"source": "drone"}).status_code == 422
