"""Normalizers: the same thing seen twice gives the same key; nothing is guessed."""

import pytest

from services.entities.identity import (
    NotAnIdentifier,
    address_ref,
    named_ref,
    normalize_address,
    normalize_email,
    normalize_handle,
    normalize_phone,
    normalize_plate,
    normalize_state,
    normalize_vin,
    person_ref,
    vehicle_ref,
)


@pytest.mark.parametrize("raw", ["ABC1234", "abc1234", "ABC 1234", "abc-1234", " AbC-12 34 ", "ABC.1234", "abc\t1234"])
def test_plate_spellings_normalize_to_one_key(raw):
    assert normalize_plate(raw) == "ABC1234"


def test_plate_with_o_typed_for_zero_is_not_folded():
    assert normalize_plate("ABCO234") != normalize_plate("ABC0234")
    assert vehicle_ref("ABCO234", "TX")["key"] != vehicle_ref("ABC0234", "TX")["key"]


@pytest.mark.parametrize("raw", ["", "   ", "AB#12", "A" * 11, None])
def test_not_a_plate(raw):
    with pytest.raises(NotAnIdentifier):
        normalize_plate(raw)


def test_plate_is_keyed_with_its_state_and_flagged_without_one():
    assert vehicle_ref("abc-1234", "tx")["key"] == "TX:ABC1234"
    assert vehicle_ref("abc-1234", " tx ")["ambiguous"] is False
    stateless = vehicle_ref("abc-1234", None)
    assert stateless["key"] == "??:ABC1234" and stateless["ambiguous"] is True
    assert vehicle_ref("abc-1234", "")["key"] == "??:ABC1234"


def test_a_state_must_look_like_one():
    assert normalize_state("la") == "LA"
    with pytest.raises(NotAnIdentifier):
        normalize_state("T1")


def test_vin_check_digit():
    assert normalize_vin("1m8gdm9axkp042788") == "1M8GDM9AXKP042788"
    assert normalize_vin("1M8 GDM9A-XKP042788") == "1M8GDM9AXKP042788"
    with pytest.raises(NotAnIdentifier):
        normalize_vin("1M8GDM9A1KP042788")  # wrong check digit
    with pytest.raises(NotAnIdentifier):
        normalize_vin("1M8GDM9AXKP04278")  # 16 characters
    with pytest.raises(NotAnIdentifier):
        normalize_vin("1M8GDM9AXKPO42788")  # O is never in a VIN


def test_a_vehicle_by_vin_and_a_plate_with_its_vin_as_an_alias():
    assert vehicle_ref(None, None, "1m8gdm9axkp042788")["key"] == "VIN:1M8GDM9AXKP042788"
    with_vin = vehicle_ref("ABC123", "TX", "1M8GDM9AXKP042788")
    assert with_vin["key"] == "TX:ABC123" and with_vin["aliases"] == ["VIN:1M8GDM9AXKP042788"]
    bad_vin = vehicle_ref("ABC123", "TX", "1M8GDM9A1KP042788")
    assert bad_vin["aliases"] == [] and "vin" not in bad_vin["attributes"]
    with pytest.raises(NotAnIdentifier):
        vehicle_ref(None, None, "1M8GDM9A1KP042788")
    with pytest.raises(NotAnIdentifier):
        vehicle_ref(None, None, None)


@pytest.mark.parametrize(
    "raw,region,expected",
    [
        ("(713) 555-0100", "US", "+17135550100"),
        ("713.555.0100", "US", "+17135550100"),
        ("1-713-555-0100", "US", "+17135550100"),
        ("+1 713 555 0100 ext. 12", "US", "+17135550100"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("0044 20 7946 0958", "DE", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("0171 1234567", "DE", "+491711234567"),
    ],
)
def test_phones_become_e164(raw, region, expected):
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize("raw", ["call me", "", "555-0100", "+1 000 000 0000", "12"])
def test_not_a_phone(raw):
    with pytest.raises(NotAnIdentifier):
        normalize_phone(raw, "US")


def test_a_national_number_depends_on_the_default_region():
    assert normalize_phone("020 7946 0958", "GB") != normalize_phone("0171 1234567", "DE")
    with pytest.raises(NotAnIdentifier):
        normalize_phone("020 7946 0958", "US")


@pytest.mark.parametrize("raw", [" Someone@Example.COM ", "mailto:someone@example.com", "SOMEONE@example.com"])
def test_emails_are_lower_cased(raw):
    assert normalize_email(raw) == "someone@example.com"


@pytest.mark.parametrize("raw", ["someone", "someone@", "@example.com", "some one@example.com", "a@b"])
def test_not_an_email(raw):
    with pytest.raises(NotAnIdentifier):
        normalize_email(raw)


@pytest.mark.parametrize(
    "platform,handle,expected",
    [
        ("Instagram", "@Blue_Ghost", "instagram:blue_ghost"),
        ("IG", "blue_ghost", "instagram:blue_ghost"),
        ("instagram", "https://www.instagram.com/Blue_Ghost/", "instagram:blue_ghost"),
        ("", "instagram.com/blue_ghost", "instagram:blue_ghost"),
        ("Twitter", "@Ghost", "x:ghost"),
        ("X", "@Ghost", "x:ghost"),
        ("facebook", "John.Smith.77", "facebook:johnsmith77"),
        ("TikTok", "@ghost.rider", "tiktok:ghost.rider"),
        ("telegram", "Ghost_Rider", "telegram:ghost_rider"),
    ],
)
def test_handles_follow_their_platform(platform, handle, expected):
    assert normalize_handle(platform, handle) == expected


@pytest.mark.parametrize(
    "platform,handle",
    [("x", "this_is_far_too_long_for_x"), ("instagram", "no spaces"), ("x", "dots.not.allowed"), ("", "ghost")],
)
def test_not_a_handle(platform, handle):
    with pytest.raises(NotAnIdentifier):
        normalize_handle(platform, handle)


def test_a_person_by_external_id_keeps_every_other_identifier_as_an_alias():
    ref = person_ref("John  Doe", "1990-04-01", ncic_number="w123", state_id="tx99", subject_id="v-7")
    assert ref["key"] == "ncic_number:W123"
    assert ref["aliases"] == ["state_id:TX99", "subject_id:V-7", "name:JOHN DOE|1990-04-01"]
    assert ref["ambiguous"] is False and ref["attributes"]["dob"] == "1990-04-01"


def test_a_person_by_name_and_date_of_birth():
    assert person_ref("john doe", "1990-04-01")["key"] == person_ref("JOHN  DOE.", "1990-04-01")["key"]
    assert person_ref("john doe", "1990-04-01")["key"] != person_ref("john doe", "1991-04-01")["key"]


def test_a_name_alone_is_ambiguous_and_keyed_per_mention_and_nothing_at_all_is_refused():
    ref = person_ref("John Doe", mention="a1")
    assert ref["key"] == "name:JOHN DOE|?|a1" and ref["ambiguous"] is True
    assert person_ref("JOHN DOE.", mention="a1")["key"] == ref["key"]  # one record naming him twice
    assert person_ref("John Doe", mention="a2")["key"] != ref["key"]  # another record: maybe another John Doe
    with pytest.raises(NotAnIdentifier):
        person_ref("John Doe")
    with pytest.raises(NotAnIdentifier):
        person_ref(None, "1990-04-01")
    with pytest.raises(NotAnIdentifier):
        person_ref("John Doe", "April")


def test_addresses_are_normalized_and_geocoded_when_coordinates_come_with_them():
    assert normalize_address("2400 Rusk Street, Houston") == normalize_address("2400 RUSK ST. houston")
    assert normalize_address("100 North Main Avenue, Apt. 4") == "100 N MAIN AVE APT 4"
    ref = address_ref("2400 Rusk Street", 29.75, -95.36)
    assert ref["key"] == "2400 RUSK ST" and ref["attributes"] == {"lat": 29.75, "lon": -95.36}
    assert address_ref("2400 Rusk Street")["attributes"] == {}
    with pytest.raises(NotAnIdentifier):
        address_ref("2400 Rusk Street", 29.75, None)
    with pytest.raises(NotAnIdentifier):
        address_ref(" ,. ")


def test_weapons_by_serial_number_or_description():
    assert named_ref("weapon", "Glock 19", serial_number="abc-123")["key"] == "SERIAL:ABC-123"
    assert named_ref("organization", "East End Crew")["key"] == "EAST END CREW"
    with pytest.raises(NotAnIdentifier):
        named_ref("weapon", None)
