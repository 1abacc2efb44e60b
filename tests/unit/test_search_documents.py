"""The search service's pure parts: documents, phone parsing, cursors, patterns and filters."""

import pytest
from marshmallow import ValidationError

from services.search import queries
from services.search.documents import alert_document, entity_document
from services.search.plates import is_valid_pattern, match_kind, plate_query
from services.search.schemas import load_filters


@pytest.mark.parametrize(
    "written", ["(713) 555-0199", "713.555.0199", "+1 713 555 0199", "7135550199", "call 713-555-0199 tonight"]
)
def test_phones_in_any_format_become_e164(written):
    assert queries.phones_in(written, "US") == ["+17135550199"]


def test_words_are_not_phones():
    assert queries.phones_in("grey altima", "US") == []


def test_a_cursor_round_trips_and_a_forged_one_is_refused():
    values = [1.5, "alert", "abc"]
    assert queries.decode_cursor(queries.encode_cursor(values)) == values
    for forged in ("not base64!", queries.encode_cursor([1]), queries.encode_cursor({"a": 1})):
        with pytest.raises(ValueError):
            queries.decode_cursor(forged)


@pytest.mark.parametrize("pattern,ok", [("AB?12*", True), ("kgt-4471", True), ("*", False), ("AB%1", False)])
def test_plate_patterns(pattern, ok):
    assert is_valid_pattern(pattern) is ok


def test_wildcards_choose_a_wildcard_query_without_fuzziness():
    clauses = plate_query("AB?12*", "tx")["bool"]
    assert [list(c["constant_score"]["filter"]) for c in clauses["should"]] == [["wildcard"], ["wildcard"]]
    assert {"terms": {"plate_state": ["TX", "??"]}} in clauses["filter"]  # reads without a state may be TX's
    assert [match_kind(s) for s in (111, 11, 1)] == ["exact", "folded", "fuzzy"]


def test_an_alert_document_holds_its_words_but_not_its_links():
    document = alert_document(
        {
            "alert_id": "a1",
            "source": "tip",
            "source_system": "crime-stoppers",
            "occurred_at": "2026-04-02T15:30:00+00:00",
            "received_at": "2026-04-02T15:31:00+00:00",
            "location": {"lat": 29.7, "lon": -95.3, "address": "Navigation Blvd"},
            "payload": {"narrative": "grey Altima", "subjects": [{"name": "Jon"}], "post_url": "https://x.invalid"},
            "priority": "normal",
            "status": "new",
            "notes": "called back",
            "agency": "TX0000000",
        }
    )
    assert document["text"] == "grey Altima\nJon\nNavigation Blvd" and document["notes"] == "called back"
    assert (document["kind"], document["rid"], document["version"]) == ("alert", "a1", 1)
    assert document["location"] == {"lat": 29.7, "lon": -95.3}


@pytest.mark.parametrize(
    "entity,fields",
    [
        ({"type": "vehicle", "key": "TX:KGT4471"}, {"plate": ["KGT4471"], "plate_state": ["TX"]}),
        (
            {"type": "vehicle", "key": "TX:KGT4471", "aliases": ["??:KGT4471", "LA:ABC123", "VIN:1HGCM82633A004352"]},
            {"plate": ["KGT4471", "ABC123", "1HGCM82633A004352"], "plate_state": ["TX", "??", "LA"]},
        ),
        ({"type": "vehicle", "key": "VIN:1HGCM82633A004352"}, {"plate": ["1HGCM82633A004352"], "plate_state": []}),
        ({"type": "phone", "key": "+17135550199"}, {"phone": "+17135550199"}),
        ({"type": "social_account", "key": "instagram:ghost"}, {"platform": "instagram", "handle": "ghost"}),
        ({"type": "person", "key": "name:JON|?", "aliases": ["Johnny"]}, {"name": "Jon Johnny"}),
    ],
)
def test_entity_documents_by_type(entity, fields):
    document = entity_document({"id": "e1", "display": "Jon" if entity["type"] == "person" else "x", **entity})
    assert {key: document[key] for key in fields} == fields


def test_filters_are_checked():
    assert load_filters({"since": "2026-01-01T00:00:00Z"})["since"] == "2026-01-01T00:00:00+00:00"
    with pytest.raises(ValidationError) as error:
        load_filters({"types": ["person"], "near": {"lat": 91, "lon": 0, "km": 1}, "limit": 0})
    assert {"types", "near", "limit"} <= set(error.value.messages)
    with pytest.raises(ValidationError):
        load_filters({"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"})


def test_search_times_reach_elasticsearch_in_utc_whatever_offset_they_came_with():
    filters = load_filters({"since": "0300-09-01T11:27:51-01:37", "until": "4838-12-10T07:25:00-20:56"})
    assert (filters["since"], filters["until"]) == ("0300-09-01T13:04:51+00:00", "4838-12-11T04:21:00+00:00")
    with pytest.raises(ValidationError) as error:
        load_filters({"since": "0001-01-01T00:00:00+05:00"})
    assert "since" in error.value.messages
