"""The alert list's items as the events carry them and the index keeps them: intake announces each
alert with its list item at its version, search stores it unindexed and serves it (docs/search.md)."""

from datetime import UTC, datetime

from casewire import events
from services.intake.schemas import AlertAnnounced, AlertEvent, AlertUpdate
from services.search.documents import alert_document, entity_document
from services.search.mappings import INDICES

AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def stored(**changes):
    """An alert as intake stores it, triaged, escalated, held and identified."""
    return {
        "_id": "a-1",
        "source": "face",
        "source_system": "clearview",
        "source_event_id": "f-1",
        "occurred_at": AT,
        "received_at": AT,
        "location": None,
        "payload": {"candidate": {"name": "Jon"}},
        "source_payload": {"format": "clearview"},
        "priority": "high",
        "status": "dismissed",
        "record_class": "sensor",
        "agency": "TX0000000",
        "unit": "rtcc",
        "assignee": "bob",
        "dismissal": {"reason": "false_read", "text": "not him", "by": "bob", "at": AT.isoformat()},
        "case_ids": ["c-1"],
        "legal_hold": ["c-2"],
        "version": 6,
        "notes": "from the tip line",
        "triage_due": AT,
        "triage_open": True,
        "overdue": True,
        "escalated_at": AT,
        "escalation": {"by": "ann", "at": AT, "reason": "seen twice", "actor": {"id": "ann"}},
        "touched_at": AT,
        "identified": True,
        "identification": {"reviewer": "eve", "at": AT, "evidence": [{"type": "fingerprint", "reference": "x"}]},
        "actions": [{"action": "note", "actor": "bob", "at": AT, "detail": {"text": "called back"}}],
        "purge_slot": "2027-03-02T08:00",
        **changes,
    }


def test_each_announced_alert_carries_its_list_item_at_its_version():
    announced = AlertAnnounced().dump(stored())
    item = announced["item"]
    assert item["id"] == "a-1" and item["version"] == announced["version"] == 6
    assert (item["status"], item["assignee"], item["cases"], item["legal_hold"]) == (
        "dismissed",
        "bob",
        ["c-1"],
        ["c-2"],
    )
    assert item["dismissal"]["reason"] == "false_read" and item["overdue"] is True
    assert item["escalation"] == {"by": "ann", "at": AT.isoformat(), "reason": "seen twice"}
    assert item["identified"] is True and item["identification"]["reviewer"] == "eve"
    assert item["notice"] and item["source_payload"] == {"format": "clearview"}
    assert item["notes"] == "from the tip line"  # the stored notes, as the list shows them
    assert announced["notes"] == "from the tip line\ncalled back"  # what search matches
    # Not a list item's: the action log, the related records, the entities (search's own), store fields.
    assert not {"actions", "related", "entities", "purge_slot", "triage_open"} & set(item)
    assert AlertUpdate().dump(stored())["item"] == item


def test_the_alerts_sent_to_the_entities_service_carry_no_item():
    assert "item" not in AlertEvent().dump(stored())


def test_the_item_survives_the_event_contract_and_becomes_the_documents_unindexed_item():
    payload = events.AlertUpdated().load({**AlertUpdate().dump(stored()), "change": "dismissed"})
    document = alert_document(payload)
    assert document["item"] == AlertUpdate().dump(stored())["item"]
    alerts = INDICES["alerts"]
    assert alerts["version"] == 4 and alerts["mappings"]["properties"]["item"] == {"type": "object", "enabled": False}


def test_an_entity_document_keeps_whether_it_is_ambiguous_for_the_items_naming_it():
    read = {"id": "e-1", "type": "vehicle", "key": "??:KGT4471", "display": "KGT4471 (??)", "ambiguous": True}
    assert entity_document(read)["ambiguous"] is True
    assert entity_document({**read, "key": "TX:KGT4471", "ambiguous": False})["ambiguous"] is False
