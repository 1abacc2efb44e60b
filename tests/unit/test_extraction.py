"""Extraction: every source schema's mentions become entity refs; unkeyable mentions are skipped."""

from services.entities.extraction import extract


def keys(alert, region="US"):
    return [(ref["type"], ref["key"]) for ref in extract(alert, region)]


def test_alpr_gives_the_vehicle_with_its_details():
    alert = {
        "source": "alpr",
        "location": {"lat": 29.7, "lon": -95.3, "address": "2400 Rusk St"},
        "payload": {
            "plate": "kgt-4471",
            "plate_state": "tx",
            "camera_id": "c1",
            "vehicle": {"make": "Nissan", "model": "Altima", "color": "grey", "vin": "1M8GDM9AXKP042788"},
        },
    }
    (ref,) = extract(alert)
    assert (ref["type"], ref["key"]) == ("vehicle", "TX:KGT4471")
    assert ref["attributes"]["make"] == "Nissan" and ref["aliases"] == ["VIN:1M8GDM9AXKP042788"]


def test_alpr_without_a_state_is_ambiguous():
    (ref,) = extract({"source": "alpr", "payload": {"plate": "KGT4471", "camera_id": "c1"}})
    assert ref["key"] == "??:KGT4471" and ref["ambiguous"] is True


def test_face_gives_the_candidate_person():
    alert = {"source": "face", "payload": {"candidate": {"name": "John Doe", "dob": "1990-04-01", "subject_id": "S9"}}}
    assert keys(alert) == [("person", "subject_id:S9")]
    assert extract(alert)[0]["aliases"] == ["name:JOHN DOE|1990-04-01"]


def test_social_gives_the_handle():
    alert = {"source": "social", "payload": {"platform": "Instagram", "handle": "@EastEnd_Grey_Ghost"}}
    assert keys(alert) == [("social_account", "instagram:eastend_grey_ghost")]


def test_gunshot_names_nothing():
    assert keys({"source": "gunshot", "location": {"lat": 1, "lon": 2}, "payload": {"rounds": 3}}) == []


def test_tip_gives_every_subject_and_skips_what_cannot_be_keyed():
    tip = {
        "source": "tip",
        "payload": {
            "narrative": "n",
            "subjects": [
                {"type": "vehicle", "plate": "ABC123", "plate_state": "TX"},
                {"type": "phone", "number": "(713) 555-0100"},
                {"type": "social_account", "platform": "x", "handle": "ghost"},
                {"type": "person", "name": "Jane Roe", "dob": "1985-02-03"},
                {"type": "email", "address": "Ghost@Example.com"},
                {"type": "phone", "number": "not a phone"},
                {"type": "vehicle", "plate": "abc 123", "plate_state": "TX"},
            ],
        },
    }
    assert keys(tip) == [
        ("vehicle", "TX:ABC123"),
        ("phone", "+17135550100"),
        ("social_account", "x:ghost"),
        ("person", "name:JANE ROE|1985-02-03"),
        ("email", "ghost@example.com"),
    ]


def test_phones_use_the_configured_default_region():
    tip = {"source": "tip", "payload": {"narrative": "n", "subjects": [{"type": "phone", "number": "020 7946 0958"}]}}
    assert keys(tip, "GB") == [("phone", "+442079460958")]
    assert keys(tip, "US") == []


def test_cad_gives_its_subjects_and_the_call_address():
    cad = {
        "source": "cad",
        "location": {"lat": 29.75, "lon": -95.36, "address": "2400 Rusk Street"},
        "payload": {
            "incident_number": "24-001",
            "subjects": [{"type": "person", "name": "Jane Roe", "state_id": "tx123"}],
        },
    }
    assert keys(cad) == [("address", "2400 RUSK ST"), ("person", "state_id:TX123")]
    assert extract(cad)[0]["attributes"] == {"lat": 29.75, "lon": -95.36}


def test_database_hit_gives_its_subject():
    hit = {
        "source": "database",
        "payload": {
            "system": "NCIC",
            "hit_type": "wanted",
            "subject": {"type": "person", "name": "John Doe", "ncic_number": "W123"},
        },
    }
    assert keys(hit) == [("person", "ncic_number:W123")]
    vehicle_hit = {"source": "database", "payload": {"system": "NCIC", "hit_type": "stolen", "subject": {}}}
    assert keys(vehicle_hit) == []
