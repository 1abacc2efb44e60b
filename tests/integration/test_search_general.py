"""General search against the real Elasticsearch: text, names, phones, handles, filters, access.

Search's own logic: documents are indexed by hand, as its event handlers index them, so each filter
meets exactly the document it is about. The requirement tests name their real-path siblings, which
make the records through the API (docs/testing.md, "Requirement tests that inject state")."""

import pytest

from casewire.alerts import FACE_NOTICE
from services.search import finder, indexing
from services.search.dependencies import SearchIndex
from tests.integration import search_data as data

REGION = "US"


@pytest.fixture(scope="module")
def index(es, run_id):
    search_index = SearchIndex(es, f"test-{run_id}-general")
    search_index.ensure_indices()
    return search_index


def run(index, q, who=None, limit=50, **filters):
    index.refresh()
    return finder.search(index, who or data.caller(), q, {"limit": limit, **filters}, REGION)


def ids(found):
    return [(item["type"], item["id"]) for item in found["items"]]


def put_alert(index, **kwargs):
    alert = data.alert(**kwargs)
    indexing.index_alert(index, alert)
    return alert


def put_case(index, **kwargs):
    case = data.case(**kwargs) if "classification" not in kwargs else kwargs
    indexing.index_case(index, case)
    return case


def put_entity(index, entity, the_alert=None):
    the_alert = the_alert or put_alert(index)
    indexing.index_resolutions(index, [data.resolution(the_alert, entity)])
    return entity


def test_full_text_over_narratives_notes_and_payload_with_highlights(index):
    word = data.tag(8).lower()
    tip = put_alert(index, source="tip", payload={"narrative": f"The guy drives a grey {word} with tinted windows"})
    noted = put_alert(index, notes=f"seen leaving toward the {word} lot")
    social = put_alert(index, source="social", payload={"platform": "x", "handle": "h", "text": f"#{word} tonight"})
    found = run(index, word)
    assert sorted(ids(found)) == sorted(("alert", a["alert_id"]) for a in (tip, noted, social))
    by_id = {item["id"]: item for item in found["items"]}
    assert f"<em>{word}</em>" in by_id[tip["alert_id"]]["highlights"]["text"][0]
    assert f"<em>{word}</em>" in by_id[noted["alert_id"]]["highlights"]["notes"][0]
    assert by_id[tip["alert_id"]]["summary"]["source"] == "tip"


def test_cases_match_title_and_summary(index):
    word = data.tag(8).lower()
    titled = put_case(index, title=f"Robbery at {word} pharmacy", unit="rtcc")
    summarized = put_case(index, title="Burglary", summary=f"Entry through the {word} door", unit="rtcc")
    found = run(index, word, types=["case"])
    assert sorted(ids(found)) == sorted([("case", titled["case_id"]), ("case", summarized["case_id"])])
    assert found["items"][0]["id"] == titled["case_id"]  # a title counts double


def test_person_names_match_with_fuzziness(index):
    last = data.tag(7).capitalize()
    person = put_entity(index, data.entity("person", f"name:JONATHAN {last.upper()}|?", f"Jonathan {last}"))
    misspelled = f"Jonathon {last[:-1]}{'a' if last[-1] != 'a' else 'e'}"
    assert ("entity", person["id"]) in ids(run(index, misspelled, types=["entity"]))
    assert ids(run(index, f"Bartholomew {last}", types=["entity"])) == []


@pytest.mark.parametrize(
    "written", ["(713) 555-{n}", "713.555.{n}", "+1 713 555 {n}", "713555{n}", "call me at 713-555-{n} tonight"]
)
def test_phones_in_any_format(index, written):
    number = f"{data.uid()[:4]}"
    digits = "".join(str(int(c, 16) % 10) for c in number)
    phone = put_entity(index, data.entity("phone", f"+1713555{digits}"))
    assert ids(run(index, written.format(n=digits), types=["entity"])) == [("entity", phone["id"])]


def test_handles_with_or_without_at_in_any_case(index):
    name = f"eastend_{data.tag(6).lower()}"
    account = put_entity(index, data.entity("social_account", f"instagram:{name}"))
    for written in (name, f"@{name}", f"@{name.upper()}"):
        assert ids(run(index, written, types=["entity"])) == [("entity", account["id"])]


def test_near_filters_alerts_by_distance_and_entities_by_their_sightings(index):
    word = data.tag(8).lower()
    here = put_alert(index, notes=word, location=(29.7499, -95.3584))
    far = put_alert(index, notes=word, location=(29.9, -95.6))
    person = data.entity("person", f"name:{word.upper()}|?", word)
    put_entity(index, person, here)
    near = {"lat": 29.75, "lon": -95.36, "km": 1}
    assert sorted(ids(run(index, word, near=near))) == sorted([("alert", here["alert_id"]), ("entity", person["id"])])
    assert ids(run(index, word, near={"lat": 29.9, "lon": -95.6, "km": 1})) == [("alert", far["alert_id"])]


def test_since_and_until_filter_alerts_cases_and_entities(index):
    word = data.tag(8).lower()
    january = put_alert(index, notes=word, at="2026-01-14T23:41:00+00:00")
    march = put_alert(index, notes=word, at="2026-03-18T03:02:00+00:00")
    case = put_case(index, title=word, unit="rtcc", updated_at="2026-03-20T00:00:00+00:00")
    person = put_entity(index, data.entity("person", f"name:{word.upper()}|?", word), january)
    spring = {"since": "2026-03-01T00:00:00+00:00", "until": "2026-04-01T00:00:00+00:00"}
    assert sorted(ids(run(index, word, **spring))) == sorted([("alert", march["alert_id"]), ("case", case["case_id"])])
    winter = run(index, word, until="2026-02-01T00:00:00+00:00")
    assert sorted(ids(winter)) == sorted([("alert", january["alert_id"]), ("entity", person["id"])])


def test_type_source_and_status_filters(index):
    word = data.tag(8).lower()
    tip = put_alert(index, source="tip", payload={"narrative": word})
    cad = put_alert(index, source="cad", payload={"incident_number": "1", "narrative": word}, status="assigned")
    case = put_case(index, title=word, unit="rtcc")
    assert ids(run(index, word, source="tip")) == [("alert", tip["alert_id"])]
    assert ids(run(index, word, status="assigned")) == [("alert", cad["alert_id"])]
    assert ids(run(index, word, types=["case"])) == [("case", case["case_id"])]


def test_pages_with_a_cursor_never_repeat_or_skip(index):
    word = data.tag(8).lower()
    made = {put_alert(index, notes=word)["alert_id"] for _ in range(5)}
    first = run(index, word, limit=2)
    second = run(index, word, limit=2, cursor=first["next_cursor"])
    third = run(index, word, limit=2, cursor=second["next_cursor"])
    seen = [i for page in (first, second, third) for _, i in ids(page)]
    assert sorted(seen) == sorted(made) and third["next_cursor"] is None


def test_replays_never_duplicate_or_regress(index):
    word, newer = data.tag(8).lower(), data.tag(8).lower()
    case = put_case(index, title=word, unit="rtcc", version=1)
    indexing.index_case(index, {**case, "title": newer, "version": 2})
    assert indexing.index_case(index, case) is False  # the late version 1 is ignored
    assert ids(run(index, word)) == []
    assert ids(run(index, newer)) == [("case", case["case_id"])]
    alert = put_alert(index, notes=word)
    indexing.index_alert(index, alert)
    assert ids(run(index, word)) == [("alert", alert["alert_id"])]


class TestAccess:
    """Search never shows what the caller cannot open (C3, C6, C9)."""

    def test_alerts_of_another_agency_are_not_found(self, index):
        word = data.tag(8).lower()
        ours = put_alert(index, notes=word)
        put_alert(index, notes=word, agency="LA9999999")
        assert ids(run(index, word)) == [("alert", ours["alert_id"])]

    def test_cases_of_the_unit_or_assigned_only(self, index):
        word = data.tag(8).lower()
        ours = put_case(index, title=word, unit="rtcc")
        assigned = put_case(index, title=word, unit="homicide", assignees=["alice"])
        put_case(index, title=word, unit="homicide")
        put_case(index, title=word, unit="rtcc", agency="LA9999999")
        assert sorted(ids(run(index, word))) == sorted([("case", ours["case_id"]), ("case", assigned["case_id"])])

    def test_C9_intelligence_needs_a_purpose_and_case_number(self, index):
        """Search's own filter over a case document indexed by hand as its ``case_updated`` handler
        indexes one; the case made and approved through the API is searched in
        tests/e2e/test_search_access.py's C3/C6/C9 test."""
        word = data.tag(8).lower()
        intel = put_case(index, **data.intelligence("open", title=word))
        unit = data.caller(unit="intel")
        assert ids(run(index, word, who=unit)) == []
        assert ids(run(index, word, who={**unit, "purpose": "robbery series"})) == []
        stated = data.caller(unit="intel", purpose="robbery series", case_number="26-001")
        assert ids(run(index, word, who=stated)) == [("case", intel["case_id"])]

    def test_C3_pending_review_only_to_the_submitting_unit(self, index):
        """Search's own filter over a hand-indexed case pending review, with an assignee of another unit;
        a pending case made through the API is searched in tests/e2e/test_search_access.py's C3/C6/C9 test."""
        word = data.tag(8).lower()
        pending = put_case(index, **data.intelligence("open", "pending_review", title=word, assignees=["bob"]))
        assigned = data.caller(sub="bob", unit="robbery", purpose="p", case_number="1")
        assert ids(run(index, word, who=assigned)) == []
        unit = data.caller(unit="intel", purpose="p", case_number="1")
        assert ids(run(index, word, who=unit)) == [("case", pending["case_id"])]

    def test_C6_restricted_hit_answers_like_a_miss_and_is_reported(self, index):
        """Search's own filter over a hand-indexed restricted case; the whole chain through the API, up
        to the control official's notice, is tests/e2e/test_compliance.py's C6 test."""
        word = data.tag(8).lower()
        restricted = put_case(index, **data.intelligence("restricted", title=word))
        outsider = data.caller(unit="robbery", purpose="p", case_number="1")
        hit, miss = run(index, word, who=outsider), run(index, data.tag(8).lower(), who=outsider)
        assert (hit["items"], hit["next_cursor"]) == (miss["items"], miss["next_cursor"]) == ([], None)
        assert [(r["id"], r["control_official"]) for r in hit["restricted"]] == [(restricted["case_id"], "lt.jones")]
        insider = run(index, word, who=data.caller(unit="intel", purpose="p", case_number="1"))
        assert ids(insider) == [("case", restricted["case_id"])] and insider["restricted"] == []

    def test_C6_agency_only_returns_only_the_agency_contact(self, index):
        """Search's own pointer over a hand-indexed agency-only case; one made through the API is
        searched in tests/e2e/test_search_access.py's C3/C6/C9 test."""
        word = data.tag(8).lower()
        put_case(index, **data.intelligence("agency_only", title=word, summary=f"{word} details"))
        outsider = data.caller(unit="robbery", purpose="p", case_number="1")
        [pointer] = run(index, word, who=outsider)["items"]
        assert pointer["id"] is None and pointer["highlights"] == {}
        contact = {k: pointer["summary"][k] for k in ("agency", "contact")}
        assert contact == {"agency": "TX0000000", "contact": "lt.jones"}
        assert word not in str(pointer)


def test_C16_purge_removes_the_record_and_its_sightings_and_a_replay_cannot_restore_it(index):
    """Search's own purge, called as its ``record_purged`` handler calls it, then a late replay of the
    documents (a redelivery production can send but a test cannot time). Purges through the API and
    the real retention sweep leave the search in tests/e2e/test_compliance.py's C16/C17 test and
    tests/e2e/test_retention.py's C16/C19 test."""
    word = data.tag(8).lower()
    alert = put_alert(index, notes=word, payload={"plate": f"{word.upper()[:6]}1", "camera_id": "c"})
    vehicle = put_entity(index, data.vehicle(f"{word.upper()[:6]}1"), alert)
    person = put_entity(index, data.entity("person", f"name:{word.upper()}|?", word), alert)
    index.refresh()
    assert set(ids(run(index, word))) == {("alert", alert["alert_id"]), ("entity", person["id"])}
    indexing.purge(index, "alert", alert["alert_id"])
    indexing.index_alert(index, alert)  # a late replay
    indexing.index_resolutions(index, [data.resolution(alert, vehicle, person)])
    index.refresh()
    assert ids(run(index, word)) == []  # the person: no record of the agency names it any more (C16)
    assert list(index.scan("sightings", {"term": {"record_id": alert["alert_id"]}})) == []
    indexing.purge(index, "entity", person["id"])
    index.refresh()
    assert ids(run(index, word)) == []
    assert list(index.scan("sightings", {"term": {"entity_id": person["id"]}})) == []


def test_C6_restricted_intelligence_is_for_its_unit_even_over_an_assignee(index):
    """Search's own filter over a hand-indexed restricted case assigned to another unit's member; a
    restricted case made through the API is hidden from another unit in tests/e2e/test_compliance.py's
    C6 test and tests/e2e/test_search_access.py's C3/C6/C9 test."""
    word = data.tag(8).lower()
    case = put_case(index, **data.intelligence("restricted", title=word, assignees=["bob"]))
    assignee = data.caller(sub="bob", unit="robbery", purpose="p", case_number="1")
    found = run(index, word, who=assignee)
    assert found["items"] == [] and [r["id"] for r in found["restricted"]] == [case["case_id"]]


def test_unlabelled_intelligence_fails_closed_for_an_assignee(index):
    word = data.tag(8).lower()
    put_case(index, **data.intelligence(None, title=word, assignees=["bob"]))
    assignee = data.caller(sub="bob", unit="robbery", purpose="p", case_number="1")
    assert run(index, word, who=assignee)["items"] == []
    labelled = put_case(index, **data.intelligence("open", title=word, assignees=["bob"]))
    assert ids(run(index, word, who=assignee)) == [("case", labelled["case_id"])]


def test_C26_a_face_alert_hit_carries_the_investigative_lead_notice(index):
    """Search's own summary of hand-indexed alerts; a face alert posted through the API is found with
    the notice in tests/e2e/test_search_access.py's C26 test."""
    name = f"Jonas {data.tag(6).capitalize()}"
    face = put_alert(index, source="face", payload={"candidate": {"name": name}, "camera_id": "c"})
    tip = put_alert(index, source="tip", payload={"narrative": f"{name} was seen"})
    found = {item["id"]: item for item in run(index, name, types=["alert"])["items"]}
    assert "<em>" in str(found[face["alert_id"]]["highlights"])
    assert found[face["alert_id"]]["summary"]["notice"] == FACE_NOTICE
    assert "notice" not in found[tip["alert_id"]]["summary"]
