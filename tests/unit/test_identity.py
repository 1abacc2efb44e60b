"""Normalizers: the same thing seen twice gives the same key; nothing is guessed."""

import pytest

from services.entities.identity import (
    NotAnIdentifier,
    extract,
    normalize_email,
    normalize_handle,
    normalize_phone,
    normalize_plate,
    normalize_vin,
    vehicle_ref,
)


@pytest.mark.parametrize("raw", ["ABC1234", "abc1234", "ABC 1234", "abc-1234", " AbC-12 34 ", "ABC.1234"])
def test_plate_spellings_normalize_to_one_key(raw):
    assert normalize_plate(raw) == "ABC1234"


def test_plate_with_o_typed_for_zero_is_not_folded():
    assert normalize_plate("ABCO234") != normalize_plate("ABC0234")


@pytest.mark.parametrize("raw", ["", "   ", "AB#12", "A" * 11])
def test_not_a_plate(raw):
    with pytest.raises(NotAnIdentifier):
        normalize_plate(raw)


def test_plate_is_keyed_with_its_state_and_flagged_without_one():
    assert vehicle_ref("abc-1234", "tx")["key"] == "TX:ABC1234"
    stateless = vehicle_ref("abc-1234", None)
    assert stateless["key"] == "??:ABC1234" and stateless["ambiguous"] is True


def test_vin_check_digit():
    assert normalize_vin("1m8gdm9axkp042788") == "1M8GDM9AXKP042788"
    with pytest.raises(NotAnIdentifier):
        normalize_vin("1M8GDM9A1KP042788")  # wrong check digit
    with pytest.raises(NotAnIdentifier):
        normalize_vin("1M8GDM9AXKP04278")  # 16 characters


@pytest.mark.parametrize(
    "raw,expected",
    [("(713) 555-0100", "+17135550100"), ("713.555.0100", "+17135550100"), ("+44 20 7946 0958", "+442079460958")],
)
def test_phones_become_e164(raw, expected):
    assert normalize_phone(raw, "US") == expected


def test_not_a_phone():
    with pytest.raises(NotAnIdentifier):
        normalize_phone("call me", "US")


def test_email_and_handle_are_lower_cased():
    assert normalize_email(" Someone@Example.COM ") == "someone@example.com"
    assert normalize_handle("Instagram", "@Blue_Ghost") == "instagram:blue_ghost"


def test_extract_from_each_source():
    alpr = {"source": "alpr", "payload": {"plate": "abc 123", "plate_state": "TX", "camera_id": "c1"}}
    assert [(e["type"], e["key"]) for e in extract(alpr)] == [("vehicle", "TX:ABC123")]
    social = {"source": "social", "payload": {"platform": "X", "handle": "@Ghost"}}
    assert [(e["type"], e["key"]) for e in extract(social)] == [("social_account", "x:ghost")]
    tip = {
        "source": "tip",
        "payload": {
            "narrative": "n",
            "subjects": [
                {"type": "vehicle", "plate": "ABC123", "plate_state": "TX"},
                {"type": "phone", "number": "(713) 555-0100"},
                {"type": "social_account", "platform": "x", "handle": "ghost"},
                {"type": "phone", "number": "not a phone"},
            ],
        },
    }
    assert [(e["type"], e["key"]) for e in extract(tip)] == [
        ("vehicle", "TX:ABC123"),
        ("phone", "+17135550100"),
        ("social_account", "x:ghost"),
    ]
