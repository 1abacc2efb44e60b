"""A detective's and a supervisor's day in the console (issue 20), in a real browser against the real
stack: the flows of console/e2e/flows-detective.mjs. Each test makes its data through the API in an
agency of its own, lets the browser do the work, and reads back through the API what the browser changed.
"""

import uuid
from datetime import UTC, datetime, timedelta

from tests.e2e.test_console import INTELLIGENCE, flow, own_agency, plate, read, shot


def _case(gateway, token: str, title: str, **fields) -> str:
    made = gateway.post("/api/v1/cases", token=token, json={"title": title, **fields})
    assert made.status_code == 201, made.text
    return made.json()["id"]


def test_a_detective_adds_an_alert_to_a_case_names_its_vehicle_merges_a_case_in_and_closes_it(gateway, console):
    agency, seen_plate, tag = own_agency(), plate(), uuid.uuid4().hex[:6]
    detective = gateway.token("detective", sub="dana", agency=agency)
    posted = gateway.post(
        "/api/v1/alerts",
        token=gateway.token("source", agency=agency),
        json=read(seen_plate, "2026-03-18T02:55:00-05:00", 29.7391, -95.3402, "Navigation Blvd at N Hutcheson St"),
    )
    assert posted.status_code == 201, posted.text
    alert_id = posted.json()["id"]
    vehicle = next(e for e in posted.json()["entities"] if e["type"] == "vehicle")
    title = f"Pharmacy burglary, Navigation Blvd ({tag})"
    other_title = f"Laundromat burglary, Navigation Blvd ({tag})"
    case_id = _case(gateway, detective, title)
    other_id = _case(gateway, detective, other_title)

    seen = flow(
        console,
        "detective",
        agency=agency,
        alert_id=alert_id,
        case_id=case_id,
        title=title,
        other_id=other_id,
        other_title=other_title,
        plate=seen_plate,
        vehicle_id=vehicle["id"],
        display=vehicle["display"],
    )
    assert seen["offered"] == 2  # the prompt and the one case whose title matched
    assert seen["hold_actions"] == 0  # a detective places no legal hold

    case = gateway.get(f"/api/v1/cases/{case_id}", token=detective).json()
    assert alert_id in case["alert_ids"]
    assert {(e["entity_id"], e["role"], e["linked_by"]) for e in case["entities"]} >= {
        (vehicle["id"], "vehicle_of_interest", "dana")
    }
    assert [m["case_id"] for m in case["merged_from"]] == [other_id]
    assert case["status"] == "closed"
    disposition = case["disposition"]
    assert (disposition["outcome"], disposition["date"], disposition["recorded_by"]) == ("arrest", seen["date"], "dana")
    assert disposition["note"] == "Both arrested at the storage unit" and "arrest" in seen["disposition"]
    other = gateway.get(f"/api/v1/cases/{other_id}", token=detective).json()
    assert (other["status"], other["merged_into"]) == ("closed", case_id)
    alert = gateway.get(f"/api/v1/alerts/{alert_id}", token=detective).json()
    assert case_id in [c["id"] for c in alert["related_cases"]]
    timeline = gateway.get(f"/api/v1/cases/{case_id}/timeline", token=detective).json()["items"]
    done = {entry.get("action") for entry in timeline}
    assert {"alert_linked", "entity_linked", "merged", "status_changed", "disposition_recorded"} <= done
    assert shot(console, "alert-add-to-case") and shot(console, "case-work")


def test_a_detective_adds_an_alert_to_criminal_intelligence_stating_a_purpose_and_a_predicate_C7_C9(gateway, console):
    agency, unit = own_agency(), f"intel-{uuid.uuid4().hex[:6]}"
    detective = gateway.token("detective", sub="dana", agency=agency, unit=unit)
    posted = gateway.post(
        "/api/v1/alerts",
        token=gateway.token("source", agency=agency),
        json=read(plate(), "2026-03-19T23:10:00-05:00", 29.7611, -95.3598, "1400 Elm St"),
    )
    assert posted.status_code == 201, posted.text
    title = f"Elm St distribution ({unit})"
    due = (datetime.now(UTC) + timedelta(days=300)).isoformat()
    case_id = _case(gateway, detective, title, **{**INTELLIGENCE, "review_due": due})
    narrative = (
        "The read puts the grey pickup CI-17 described outside 1400 Elm St at 23:10, the hour of the second "
        "controlled buy; it ties the vehicle to John Roe's distribution."
    )
    seen = flow(
        console,
        "intelligence",
        agency=agency,
        unit=unit,
        alert_id=posted.json()["id"],
        case_id=case_id,
        title=title,
        narrative=narrative,
    )
    assert seen["unlisted"] == 0  # not listed before a purpose was stated (C9)
    assert "reasonable_suspicion" in seen["refused"]  # the short narrative was refused, naming the field (C7)
    purpose = {"X-Purpose": "check", "X-Case-Number": "T-1"}
    case = gateway.get(f"/api/v1/cases/{case_id}", token=detective, headers=purpose).json()
    [linked] = case["alerts"]
    assert (linked["alert_id"], linked["reasonable_suspicion"], linked["linked_by"]) == (
        posted.json()["id"],
        narrative,
        "dana",
    )
    assert shot(console, "alert-add-to-intelligence")


def test_a_supervisor_places_a_legal_hold_on_a_case_and_releases_it_C17(gateway, console):
    agency, unit = own_agency(), f"burglary-{uuid.uuid4().hex[:6]}"
    title = f"Storage unit burglaries ({unit})"
    case_id = _case(gateway, gateway.token("detective", sub="dana", agency=agency, unit=unit), title)
    reference = f"Civil action 4:26-cv-{uuid.uuid4().int % 10000:04d}"
    seen = flow(console, "holds", agency=agency, unit=unit, case_id=case_id, title=title, reference=reference)
    assert reference in seen["holds"]
    supervisor = gateway.token("supervisor", sub="sam", agency=agency, unit=unit)
    [hold] = gateway.get(f"/api/v1/cases/{case_id}/holds", token=supervisor).json()["items"]
    assert (hold["reference"], hold["placed_by"], hold["released_by"]) == (reference, "sam", "sam")
    assert hold["release_reason"] == "Suit settled; counsel released the hold"
    assert gateway.get(f"/api/v1/cases/{case_id}", token=supervisor).json().get("legal_holds") in (None, [])
    assert shot(console, "holds")


def test_the_purge_authority_holds_releases_and_purges_criminal_intelligence_by_hand_C16_C17(gateway, console):
    agency, unit = own_agency(), f"intel-{uuid.uuid4().hex[:6]}"
    due = (datetime.now(UTC) + timedelta(days=300)).isoformat()
    case_id = _case(
        gateway,
        gateway.token("detective", sub="dana", agency=agency, unit=unit),
        f"Elm St distribution ({unit})",
        **{**INTELLIGENCE, "review_due": due},
    )
    reference = f"Subpoena {uuid.uuid4().hex[:6]}"
    seen = flow(console, "purge", agency=agency, case_id=case_id, reference=reference)
    assert seen["screens"] == ["Holds and purges"]
    assert "legal hold" in seen["refused"]  # refused while the hold was in force
    assert case_id in seen["tombstone"] and "Predicate no longer supported after review" in seen["tombstone"]
    purpose = {"X-Purpose": "check", "X-Case-Number": "T-1"}
    gone = gateway.get(
        f"/api/v1/cases/{case_id}", token=gateway.token("supervisor", agency=agency, unit=unit), headers=purpose
    )
    assert gone.status_code == 404, gone.text
    assert shot(console, "purge")


def test_an_analyst_merges_two_entities_and_unmerges_them(gateway, console):
    agency, tag = own_agency(), uuid.uuid4().hex[:8]
    analyst = gateway.token("analyst", sub="ann", agency=agency)

    def person(name: str) -> dict:
        made = gateway.post("/api/v1/entities", token=analyst, json={"type": "person", "name": name})
        assert made.status_code == 201, made.text
        return made.json()

    survivor, merged = person(f"Jon Roe {tag}"), person(f"John Roe {tag}")
    seen = flow(
        console,
        "entitymerge",
        agency=agency,
        survivor_id=survivor["id"],
        display=survivor["display"],
        merged_id=merged["id"],
    )
    assert merged["key"] in seen["aliases"] and merged["key"] not in seen["after"]
    now = gateway.get(f"/api/v1/entities/{survivor['id']}", token=analyst).json()
    [merge] = now["merges"]
    assert (merge["merged_id"], merge["actor"], merge["undone_by"]) == (merged["id"], "ann", "ann")
    assert merge["undone_at"]
    back = gateway.get(f"/api/v1/entities/{merged['id']}", token=analyst).json()
    assert not back.get("merged_into")
    assert shot(console, "entity-merge")
