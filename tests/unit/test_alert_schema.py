"""The alert contract: required fields per source, every bad field named, vendor extras kept."""

import json

import bson
import pytest
from marshmallow import ValidationError

from casewire.alerts import load_alert

BASE = {
    "source_system": "vendor",
    "source_event_id": "e-1",
    "occurred_at": "2026-01-05T22:14:00Z",
    "location": {"lat": 29.76, "lon": -95.36},
}

VALID = {
    "alpr": {"plate": "ABC1234", "camera_id": "cam-1"},
    "face": {"candidate": {"name": "John Doe"}, "score": 91.5},
    "gunshot": {"rounds": 3},
    "social": {"platform": "x", "handle": "ghost"},
    "cad": {"incident_number": "2026-000123"},
    "database": {"system": "NCIC", "hit_type": "stolen_vehicle"},
    "tip": {"narrative": "A blue sedan keeps circling the school."},
}


@pytest.mark.parametrize("source", VALID)
def test_each_source_loads(source):
    alert = load_alert({**BASE, "source": source, "payload": VALID[source]})
    assert alert["source"] == source and alert["priority"] == "normal"


@pytest.mark.parametrize("source,field", [(s, f) for s, p in VALID.items() for f in p])
def test_each_required_payload_field_is_named_when_missing(source, field):
    payload = {k: v for k, v in VALID[source].items() if k != field}
    with pytest.raises(ValidationError) as error:
        load_alert({**BASE, "source": source, "payload": payload})
    assert field in error.value.messages["payload"]


ENVELOPE_REQUIRED = ["source", "source_system", "source_event_id", "occurred_at", "payload"]


@pytest.mark.parametrize("field", ENVELOPE_REQUIRED)
def test_each_required_field_is_named_when_missing(field):
    body = {**BASE, "source": "alpr", "payload": VALID["alpr"]}
    del body[field]
    with pytest.raises(ValidationError) as error:
        load_alert(body)
    assert field in error.value.messages


def test_location_is_required_for_sensors_but_not_tips():
    body = {k: v for k, v in BASE.items() if k != "location"}
    with pytest.raises(ValidationError) as error:
        load_alert({**body, "source": "alpr", "payload": VALID["alpr"]})
    assert "location" in error.value.messages
    assert load_alert({**body, "source": "tip", "payload": VALID["tip"]})["source"] == "tip"


def test_wrong_types_and_oversized_values_are_named():
    with pytest.raises(ValidationError) as error:
        load_alert(
            {**BASE, "source": "alpr", "occurred_at": "yesterday", "payload": {"plate": "X" * 50, "camera_id": 7}}
        )
    messages = error.value.messages
    assert set(messages) == {"occurred_at", "payload"}
    assert set(messages["payload"]) == {"plate", "camera_id"}


def test_naive_timestamps_are_refused():
    with pytest.raises(ValidationError) as error:
        load_alert({**BASE, "occurred_at": "2026-01-05T22:14:00", "source": "alpr", "payload": VALID["alpr"]})
    assert "occurred_at" in error.value.messages


def test_unknown_vendor_fields_are_kept_in_source_payload():
    alert = load_alert(
        {**BASE, "source": "alpr", "vendor_score": 3, "payload": {**VALID["alpr"], "ocr_box": [1, 2, 3, 4]}}
    )
    assert alert["source_payload"] == {"vendor_score": 3}
    assert alert["payload"]["source_payload"] == {"ocr_box": [1, 2, 3, 4]}


WRONG_TYPES = {
    "alpr": {"plate": 7, "camera_id": ["c"], "confidence": "high", "vehicle": "grey"},
    "face": {"candidate": "John", "score": "ninety"},
    "gunshot": {"rounds": "four", "sensor_ids": "s1"},
    "social": {"platform": 1, "handle": {"h": 1}, "post_url": "not a url"},
    "cad": {"incident_number": 12, "units": "u1"},
    "database": {"system": [], "hit_type": 3, "subject": {"type": "spaceship"}},
    "tip": {"narrative": 5, "subjects": "everyone"},
}
OVERSIZED = {
    "alpr": {"plate": "X" * 13, "camera_id": "c" * 201, "confidence": 101, "hotlist_reason": "r" * 501},
    "face": {"score": 100.5, "camera_id": "c" * 201},
    "gunshot": {"rounds": 1001, "sensor_ids": ["s"] * 101},
    "social": {"platform": "p" * 201, "handle": "h" * 201, "text": "t" * 20001},
    "cad": {"incident_number": "n" * 201, "narrative": "n" * 20001},
    "database": {"system": "s" * 201, "hit_type": "h" * 201},
    "tip": {"narrative": "n" * 20001, "subjects": [{"type": "person"}] * 51},
}


@pytest.mark.parametrize("source,field,value", [(s, f, v) for s, d in WRONG_TYPES.items() for f, v in d.items()])
def test_each_source_names_a_payload_field_of_the_wrong_type(source, field, value):
    with pytest.raises(ValidationError) as error:
        load_alert({**BASE, "source": source, "payload": {**VALID[source], field: value}})
    assert field in error.value.messages["payload"]


@pytest.mark.parametrize("source,field,value", [(s, f, v) for s, d in OVERSIZED.items() for f, v in d.items()])
def test_each_source_names_an_oversized_payload_value(source, field, value):
    with pytest.raises(ValidationError) as error:
        load_alert({**BASE, "source": source, "payload": {**VALID[source], field: value}})
    assert field in error.value.messages["payload"]


ENVELOPE_BAD = [("source", "drone"), ("source_system", "s" * 201), ("source_event_id", 5), ("priority", "urgent"),
                ("location", {"lat": 91, "lon": 0}), ("notes", "n" * 5001), ("payload", "plate")]  # fmt: skip


@pytest.mark.parametrize("field,value", ENVELOPE_BAD)
def test_envelope_fields_of_the_wrong_type_or_size_are_named(field, value):
    with pytest.raises(ValidationError) as error:
        load_alert({**BASE, "source": "alpr", "payload": VALID["alpr"], field: value})
    assert field in error.value.messages


@pytest.mark.parametrize(
    "extra",
    [{"grid": [[1, 2], [3, 4]]}, {"$where": "x"}, {"nested": {"a\x00b": 1}}, {"group": {"a.b": 1}}],
    ids=["nested arrays", "dollar key", "NUL in a key", "dot in a key"],
)
def test_what_the_store_would_refuse_is_422_not_a_503(extra):
    """Found by the fuzz run (tests/faults): FerretDB refused a vendor's nested arrays, answered 503."""
    body = {
        "source": "tip",
        "source_system": "tips",
        "source_event_id": "t-1",
        "occurred_at": "2026-01-05T22:14:00Z",
        "payload": {"text": "a grey Altima", "channel": "phone"},
        **extra,
    }
    with pytest.raises(ValidationError) as raised:
        load_alert(body)
    assert "_schema" in raised.value.messages


NESTED_EXTRAS = {
    "alpr vehicle": (
        "alpr",
        {"vehicle": {"make": "Nissan", "body_style": "sedan"}},
        {"vehicle": {"body_style": "sedan"}},
    ),
    "face candidate": (
        "face",
        {"candidate": {"name": "John Doe", "gallery": "state-dl"}},
        {"candidate": {"gallery": "state-dl"}},
    ),
    "cad subjects": (
        "cad",
        {"subjects": [{"type": "person", "name": "A"}, {"type": "person", "name": "B", "eyes": "brown"}]},
        {"subjects": {"1": {"eyes": "brown"}}},
    ),
    "database subject": (
        "database",
        {"subject": {"type": "vehicle", "plate": "XYZ987", "body_style": "suv"}},
        {"subject": {"body_style": "suv"}},
    ),
    "tip subjects": (
        "tip",
        {"subjects": [{"type": "phone", "number": "+17135550100", "carrier": "x"}]},
        {"subjects": {"0": {"carrier": "x"}}},
    ),
}


@pytest.mark.parametrize("source,extra,kept", NESTED_EXTRAS.values(), ids=list(NESTED_EXTRAS))
def test_unknown_nested_payload_fields_are_kept_under_their_path(source, extra, kept):
    alert = load_alert({**BASE, "source": source, "payload": {**VALID[source], **extra, "vendor_flag": 1}})
    assert alert["payload"]["source_payload"] == {**kept, "vendor_flag": 1}
    for field, value in extra.items():
        assert alert["payload"][field] != value  # the declared object holds only declared fields


def test_an_unknown_location_field_is_kept_in_the_alerts_source_payload():
    body = {**BASE, "location": {"lat": 29.76, "lon": -95.36, "heading": 182.5}, "source": "alpr"}
    alert = load_alert({**body, "payload": VALID["alpr"], "source_payload": {"location": {"fix": "gps"}}})
    assert alert["location"] == {"lat": 29.76, "lon": -95.36}
    assert alert["source_payload"] == {"location": {"fix": "gps", "heading": 182.5}}


@pytest.mark.parametrize("candidate", [{}, {"dob": "1990-01-01"}, {"name": " ", "state_id": "TX1"}])
def test_a_face_candidate_must_name_someone(candidate):
    with pytest.raises(ValidationError) as error:
        load_alert({**BASE, "source": "face", "payload": {**VALID["face"], "candidate": candidate}})
    assert "name" in error.value.messages["payload"]["candidate"]


def test_a_face_candidate_may_be_named_by_subject_id_alone():
    alert = load_alert({**BASE, "source": "face", "payload": {**VALID["face"], "candidate": {"subject_id": "g-1"}}})
    assert alert["payload"]["candidate"] == {"subject_id": "g-1"}


@pytest.mark.parametrize(
    "extra,where",
    [
        ({"serial": 2**64}, "serial"),
        ({"reads": [{"count": -(2**63) - 1}]}, "reads.0.count"),
        ({"tags": [["a"]]}, "tags.0"),
        ({"note": "a\x00b"}, "note"),
        ({"$where": 1}, "$where"),
    ],
    ids=["int-beyond-64-bits", "nested-int", "array-in-array", "nul", "dollar-key"],
)
def test_vendor_extras_a_mongodb_store_cannot_hold_are_named_and_refused(extra, where):
    with pytest.raises(ValidationError) as error:
        load_alert({**BASE, "source": "alpr", "payload": {**VALID["alpr"], **extra}})
    assert where in str(error.value.messages)


def test_vendor_extras_within_64_bits_are_kept():
    alert = load_alert({**BASE, "source": "alpr", "payload": {**VALID["alpr"], "serial": 2**63 - 1}})
    assert alert["payload"]["source_payload"]["serial"] == 2**63 - 1


DATED = {
    "face": {**VALID["face"], "candidate": {"name": "John Doe", "dob": "1990-02-03"}},
    "tip": {**VALID["tip"], "subjects": [{"type": "person", "name": "Ann Roe", "dob": "1990-02-03"}]},
    "cad": {**VALID["cad"], "subjects": [{"type": "person", "name": "Ann Roe", "dob": "1990-02-03"}]},
    "database": {**VALID["database"], "subject": {"type": "person", "name": "Ann Roe", "dob": "1990-02-03"}},
}


@pytest.mark.parametrize("source", DATED)
def test_a_date_of_birth_is_kept_as_the_date_and_the_alert_can_be_stored(source):
    """A valid face alert with a candidate's date of birth was answered 503: a ``datetime.date`` reached
    pymongo, which encodes datetimes only. The date is kept as its ISO text."""
    alert = load_alert({**BASE, "source": source, "payload": DATED[source]})
    bson.encode(alert)
    assert "1990-02-03" in json.dumps(alert["payload"], default=str) and "source_payload" not in alert["payload"]


def test_a_date_of_birth_that_is_no_date_is_named():
    candidate = {"name": "John Doe", "dob": "1990-02-30"}
    with pytest.raises(ValidationError) as error:
        load_alert({**BASE, "source": "face", "payload": {**VALID["face"], "candidate": candidate}})
    assert "dob" in error.value.messages["payload"]["candidate"]
