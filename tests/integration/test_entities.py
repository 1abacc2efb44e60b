"""The entities service in a real container over RabbitMQ and FerretDB: identity, merges, links, graph."""

import uuid

import pytest
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ClusterRpcProxy

from casewire.errors import Conflict, InvalidInput, NotFound
from services.entities.service import EntitiesService
from tests.polling import eventually
from tests.resolution import resolve_one

CONTEXT = {"actor": {"id": "alice", "agency": "TX0000000", "roles": ["analyst"]}, "request_id": "req-1"}


@pytest.fixture
def entities(container_factory, config_for, base_config):
    container_factory(EntitiesService, config_for("entities")).start()
    with ClusterRpcProxy(base_config) as rpc:
        yield rpc.entities


@pytest.fixture
def db(mongo, config_for):
    return mongo[config_for("entities")["MONGODB_DATABASE"]]


def alert(source="alpr", month=1, agency="TX0000000", **payload):
    return {
        "alert_id": uuid.uuid4().hex,
        "source": source,
        "source_system": "test",
        "source_event_id": uuid.uuid4().hex,
        "occurred_at": f"2026-{month:02d}-05T22:14:00+00:00",
        "received_at": "2026-06-01T00:00:00+00:00",
        "location": {"lat": 29.76, "lon": -95.36} if source == "alpr" else None,
        "payload": payload,
        "priority": "normal",
        "status": "new",
        "record_class": "sensor",
        "agency": agency,
        "unit": "rtcc",
    }


def plate():
    return f"P{uuid.uuid4().hex[:6].upper()}"


def read(number, state="TX", month=1):
    payload = {"plate": number, "camera_id": "cam-1", **({"plate_state": state} if state else {})}
    return alert(month=month, **payload)


def test_the_same_plate_spelled_differently_is_one_entity(entities, db):
    number = plate()
    first = resolve_one(entities, read(number.lower()))
    second = resolve_one(entities, read(f"{number[:3]}-{number[3:]}", month=3))
    assert first["entities"][0]["id"] == second["entities"][0]["id"]
    assert db["entities"].count_documents({"key": f"TX:{number}"}) == 1
    assert [r["id"] for r in second["related"]] == [first["alert_id"]]
    assert second["related"][0]["agency"] == "TX0000000"


def test_an_o_for_a_zero_is_not_merged(entities):
    first = resolve_one(entities, read("KO" + uuid.uuid4().hex[:4].replace("0", "1").upper()))
    zero_key = first["entities"][0]["key"].replace("KO", "K0")
    second = resolve_one(entities, read(zero_key.split(":")[1]))
    assert first["entities"][0]["id"] != second["entities"][0]["id"] and second["related"] == []


def test_a_plate_without_a_state_relates_both_ways(entities):
    number = plate()
    stated = resolve_one(entities, read(number, "TX", month=1))
    stateless = resolve_one(entities, read(number, None, month=2))
    assert stateless["entities"][0]["ambiguous"] is True
    assert [r["id"] for r in stateless["related"]] == [stated["alert_id"]]
    other_state = resolve_one(entities, read(number, "LA", month=3))
    assert [r["id"] for r in other_state["related"]] == [stateless["alert_id"]]
    assert other_state["related"][0]["shared_entities"][0]["id"] == other_state["entities"][0]["id"]


def test_resolving_twice_stores_and_announces_nothing_new(entities, db):
    event = read(plate())
    first = resolve_one(entities, event)
    again = resolve_one(entities, event)
    assert first == again
    assert db["sightings"].count_documents({"record_id": event["alert_id"]}) == 1


def test_a_batch_naming_a_new_plate_twice_creates_it_once_and_relates_the_two_reads(entities, db):
    number = plate()
    first, second = read(number, month=1), read(number, month=2)
    resolved = entities.resolve_alerts({"alerts": [first, second]})
    assert resolved[0]["entities"][0]["id"] == resolved[1]["entities"][0]["id"]
    assert db["entities"].count_documents({"key": f"TX:{number}"}) == 1
    assert [r["id"] for r in resolved[1]["related"]] == [first["alert_id"]]


def test_a_person_seen_by_id_and_by_name_and_dob_is_one_entity(entities):
    face = alert("face", candidate={"name": "Jo Ann Doe", "dob": "1990-04-01", "subject_id": uuid.uuid4().hex[:8]})
    face_entity = resolve_one(entities, face)["entities"][0]
    tip = alert("tip", narrative="n", subjects=[{"type": "person", "name": "JO ANN DOE", "dob": "1990-04-01"}])
    resolved = resolve_one(entities, tip)
    assert resolved["entities"][0]["id"] == face_entity["id"]
    assert [r["id"] for r in resolved["related"]] == [face["alert_id"]]


def test_merge_and_unmerge(entities, db):
    a_plate, b_plate = plate(), plate()
    a = resolve_one(entities, read(a_plate, month=1))
    b = resolve_one(entities, read(b_plate, month=2))
    a_id, b_id = a["entities"][0]["id"], b["entities"][0]["id"]

    merged = entities.merge_entities(a_id, b_id, CONTEXT)
    assert f"TX:{b_plate}" in merged["entity"]["aliases"]
    assert {s["record_id"] for s in merged["entity"]["sightings"]} == {a["alert_id"], b["alert_id"]}
    assert entities.get_entity(b_id)["id"] == a_id  # the merged-away id lands on the survivor
    later = resolve_one(entities, read(b_plate.lower(), month=3))  # so does its key
    assert later["entities"][0]["id"] == a_id
    assert {r["id"] for r in later["related"]} == {a["alert_id"], b["alert_id"]}
    assert entities.list_entities({"q": b_plate}, 50, None)["items"][0]["id"] == a_id
    assert entities.list_entities({"q": f"{b_plate[:3]}-{b_plate[3:]}".lower()}, 50, None)["items"][0]["id"] == a_id

    with pytest.raises(Conflict):
        entities.merge_entities(b_id, a_id, CONTEXT)

    undone = entities.unmerge_entities(a_id, b_id, CONTEXT)
    assert f"TX:{b_plate}" not in undone["entity"]["aliases"]
    assert {s["record_id"] for s in undone["entity"]["sightings"]} == {a["alert_id"]}
    assert {s["record_id"] for s in undone["restored"]["sightings"]} == {b["alert_id"], later["alert_id"]}
    assert resolve_one(entities, read(b_plate, month=4))["entities"][0]["id"] == b_id
    merges = entities.get_entity(a_id)["merges"]
    assert merges[0]["actor"] == "alice" and merges[0]["undone_by"] == "alice"
    with pytest.raises(Conflict):
        entities.unmerge_entities(a_id, b_id, CONTEXT)


def test_merging_two_mentions_of_one_record_keeps_one_sighting(entities):
    tip = alert(
        "tip",
        narrative="n",
        subjects=[{"type": "vehicle", "plate": plate(), "plate_state": "TX"}, {"type": "vehicle", "plate": plate()}],
    )
    first, second = resolve_one(entities, tip)["entities"]
    merged = entities.merge_entities(first["id"], second["id"], CONTEXT)["entity"]
    assert [s["record_id"] for s in merged["sightings"]] == [tip["alert_id"]]
    restored = entities.unmerge_entities(first["id"], second["id"], CONTEXT)["restored"]
    assert [s["record_id"] for s in restored["sightings"]] == [tip["alert_id"]]


def test_merge_refuses_nonsense(entities):
    vehicle = resolve_one(entities, read(plate()))["entities"][0]["id"]
    person = entities.create_entity({"type": "person", "name": "Zed Roe", "dob": "1980-01-01"}, CONTEXT)
    with pytest.raises(InvalidInput):
        entities.merge_entities(vehicle, vehicle, CONTEXT)
    with pytest.raises(InvalidInput):
        entities.merge_entities(vehicle, person["entity"]["id"], CONTEXT)
    with pytest.raises(NotFound):
        entities.merge_entities(vehicle, "nope", CONTEXT)


def test_create_by_hand_is_validated_and_idempotent(entities):
    phone = entities.create_entity({"type": "phone", "number": "(713) 555-0142"}, CONTEXT)
    again = entities.create_entity({"type": "phone", "number": "713.555.0142"}, CONTEXT)
    assert phone["created"] is True and again == {**phone, "created": False}
    assert phone["entity"]["key"] == "+17135550142"
    with pytest.raises(InvalidInput) as error:
        entities.create_entity({"type": "phone", "number": "call me"}, CONTEXT)
    assert error.value.errors
    with pytest.raises(InvalidInput) as error:
        entities.create_entity({"type": "spaceship"}, CONTEXT)
    assert "type" in error.value.errors


def test_case_links_make_cases_related(entities):
    number, case_id = plate(), uuid.uuid4().hex
    first = resolve_one(entities, read(number, month=1))
    vehicle_id = first["entities"][0]["id"]
    linked = entities.record_case_link(case_id, vehicle_id, "vehicle_of_interest", "2026-02-01T00:00:00Z", CONTEXT)
    assert [r["id"] for r in linked["related"]] == [first["alert_id"]]
    later = resolve_one(entities, read(number, month=3))
    assert {(r["record_type"], r["id"]) for r in later["related"]} == {
        ("alert", first["alert_id"]),
        ("case", case_id),
    }
    related = entities.related_records("case", case_id)
    assert {r["id"] for r in related} == {first["alert_id"], later["alert_id"]}
    described = entities.get_entity(vehicle_id)
    assert described["cases"] == [
        {
            "id": case_id,
            "at": "2026-02-01T00:00:00+00:00",
            "source": "case",
            "agency": "TX0000000",
            "role": "vehicle_of_interest",
        }
    ]
    assert entities.remove_case_link(case_id, vehicle_id, CONTEXT) == {"removed": True}
    assert entities.get_entity(vehicle_id)["cases"] == []


def test_stated_links_and_the_graph(entities):
    number = plate()
    tip = alert(
        "tip",
        narrative="n",
        subjects=[
            {"type": "vehicle", "plate": number, "plate_state": "TX"},
            {"type": "social_account", "platform": "instagram", "handle": f"h{number.lower()}"},
        ],
    )
    resolved = resolve_one(entities, tip)
    vehicle, handle = (e["id"] for e in resolved["entities"])
    person = entities.create_entity({"type": "person", "name": f"Owner {number}", "dob": "1980-01-01"}, CONTEXT)
    person_id = person["entity"]["id"]
    link = entities.add_link(person_id, {"other_id": vehicle, "relation": "owner_of", "source": "DMV"}, CONTEXT)
    assert link["created"] is True and link["link"]["actor"] == "alice"
    with pytest.raises(InvalidInput):
        entities.add_link(person_id, {"other_id": vehicle, "relation": "likes", "source": "DMV"}, CONTEXT)

    graph = entities.graph(vehicle, 1)
    nodes = {node["id"]: node for node in graph["nodes"]}
    assert {vehicle, handle, person_id, tip["alert_id"]} <= set(nodes)
    kinds = {(edge["kind"], frozenset((edge["source"], edge["target"]))) for edge in graph["edges"]}
    assert ("sighting", frozenset((vehicle, tip["alert_id"]))) in kinds
    assert ("co_occurrence", frozenset((vehicle, handle))) in kinds
    assert ("stated_link", frozenset((vehicle, person_id))) in kinds
    stated = next(edge for edge in graph["edges"] if edge["kind"] == "stated_link")
    assert stated["evidence"][0]["relation"] == "owner_of" and stated["evidence"][0]["source"] == "DMV"
    co = next(edge for edge in graph["edges"] if edge["kind"] == "co_occurrence")
    assert co["evidence"] == [{"record_type": "alert", "record_id": tip["alert_id"]}]
    with pytest.raises(InvalidInput):
        entities.graph(vehicle, 4)


def test_the_graph_is_bounded(container_factory, config_for, base_config):
    container_factory(EntitiesService, {**config_for("entities"), "GRAPH_MAX_NODES": 3}).start()
    with ClusterRpcProxy(base_config) as rpc:
        subjects = [{"type": "vehicle", "plate": plate(), "plate_state": "TX"} for _ in range(5)]
        resolved = resolve_one(rpc.entities, alert("tip", narrative="n", subjects=subjects))
        graph = rpc.entities.graph(resolved["entities"][0]["id"], 3)
    assert len(graph["nodes"]) == 3 and graph["truncated"] is True


def test_C16_a_purged_alert_or_case_loses_its_sightings_and_an_entity_nothing_names_goes_too(entities, base_config, db):
    """The entities service's part alone, fed ``record_purged`` as intake and cases announce it; a read
    the real sweep deleted is followed into the entity API by tests/e2e/test_retention.py, a case purged
    through the API by tests/e2e/test_purge_fanout.py."""
    resolved = resolve_one(entities, read(plate()))
    vehicle_id, case_id = resolved["entities"][0]["id"], uuid.uuid4().hex
    entities.record_case_link(case_id, vehicle_id, "suspect", "2026-02-01T00:00:00Z", CONTEXT)
    dispatch = event_dispatcher(base_config)
    dispatch("intake", "record_purged", {"record_type": "alert", "record_id": resolved["alert_id"], "reason": "C19"})
    dispatch("cases", "record_purged", {"record_type": "case", "record_id": case_id, "reason": "C15"})
    eventually(lambda: db["sightings"].count_documents({"record_id": {"$in": [resolved["alert_id"], case_id]}}) == 0)
    eventually(lambda: db["entities"].find_one({"_id": vehicle_id}) is None)
    with pytest.raises(NotFound):
        entities.get_entity(vehicle_id)
    # The service saw the entity stored and reads a later mention of it first: it finds nothing and stores it anew.
    again = resolve_one(entities, read(resolved["entities"][0]["key"].split(":")[1]))
    assert again["entities"][0]["id"] == vehicle_id and again["related"] == []
    assert [alert["id"] for alert in entities.get_entity(vehicle_id)["alerts"]] == [again["alert_id"]]


def test_C26_a_person_seen_by_face_recognition_carries_the_lead_notice(entities):
    """The entities service's own logic, fed a face alert as intake's ``alerts_received`` carries it; a
    face alert posted through the API is followed to the person's page in
    tests/e2e/test_search_access.py's C26 test."""
    face = alert("face", candidate={"name": "Lee Moe", "subject_id": uuid.uuid4().hex[:8]}, score=91)
    person = entities.get_entity(resolve_one(entities, face)["entities"][0]["id"])
    assert person["notice"] == "Investigative lead only, not a positive identification or probable cause"
    other = entities.create_entity({"type": "person", "name": "Kim Moe", "dob": "1970-01-01"}, CONTEXT)
    assert "notice" not in entities.get_entity(other["entity"]["id"])


def test_record_case_link_takes_a_note_as_its_context(entities):
    vehicle_id = resolve_one(entities, read(plate()))["entities"][0]["id"]
    case_id = uuid.uuid4().hex
    entities.record_case_link(case_id, vehicle_id, "vehicle_of_interest", "2026-02-01T00:00:00Z", "seen leaving")
    (sighting,) = [s for s in entities.get_entity(vehicle_id)["sightings"] if s["record_id"] == case_id]
    assert sighting["context"] == "seen leaving" and sighting["record_type"] == "case"
    with pytest.raises(InvalidInput):
        entities.record_case_link(case_id, vehicle_id, "suspect", "yesterday", CONTEXT)
    with pytest.raises(NotFound):
        entities.record_case_link(case_id, "nope", "suspect", "2026-02-01T00:00:00Z", CONTEXT)


def test_two_john_smiths_by_name_alone_are_two_people_and_no_link(entities):
    """A name alone is not an identity: two tips naming a John Smith relate to nothing (no link_found)."""
    name = f"John Smith {uuid.uuid4().hex[:6]}"
    first = resolve_one(entities, alert("tip", narrative="n", subjects=[{"type": "person", "name": name}]))
    tip = alert("tip", narrative="n", subjects=[{"type": "person", "name": name.upper()}])
    second = resolve_one(entities, tip)
    assert first["entities"][0]["id"] != second["entities"][0]["id"] and second["related"] == []
    assert first["entities"][0]["ambiguous"] is True
    assert resolve_one(entities, tip) == second  # a replay of one alert is still one person

    with_dob = [{"type": "person", "name": name, "dob": "1981-05-06"}]
    third = resolve_one(entities, alert("tip", narrative="n", subjects=with_dob))
    fourth = resolve_one(entities, alert("tip", narrative="n", subjects=with_dob))
    assert [r["id"] for r in fourth["related"]] == [third["alert_id"]]


def test_a_merge_moves_stated_links_and_an_unmerge_restores_them(entities):
    """The survivor's page and graph show the merged entity's links; the unmerge gives them back."""
    a = entities.create_entity({"type": "vehicle", "plate": plate(), "plate_state": "TX"}, CONTEXT)["entity"]
    b = entities.create_entity({"type": "vehicle", "plate": plate(), "plate_state": "TX"}, CONTEXT)["entity"]
    owner = entities.create_entity({"type": "person", "name": f"O {plate()}", "dob": "1970-01-01"}, CONTEXT)["entity"]
    driver = entities.create_entity({"type": "person", "name": f"D {plate()}", "dob": "1971-01-01"}, CONTEXT)["entity"]
    link = {"relation": "owner_of", "source": "DMV"}
    entities.add_link(owner["id"], {**link, "other_id": a["id"]}, CONTEXT)
    entities.add_link(owner["id"], {**link, "other_id": b["id"]}, CONTEXT)  # the same link once merged
    entities.add_link(driver["id"], {"relation": "driver_of", "source": "stop", "other_id": b["id"]}, CONTEXT)
    entities.add_link(a["id"], {"relation": "related_to", "source": "notes", "other_id": b["id"]}, CONTEXT)

    def links(entity_id):
        return sorted((x["relation"], x["other"]["id"]) for x in entities.get_entity(entity_id)["links"])

    def stated(entity_id):
        edges = entities.graph(entity_id, 1)["edges"]
        return {frozenset((e["source"], e["target"])) for e in edges if e["kind"] == "stated_link"}

    before_a, before_b = links(a["id"]), links(b["id"])
    merged = entities.merge_entities(a["id"], b["id"], CONTEXT)["entity"]
    assert sorted((x["relation"], x["other"]["id"]) for x in merged["links"]) == [
        ("driver_of", driver["id"]),
        ("owner_of", owner["id"]),
    ]
    assert stated(a["id"]) == {frozenset((a["id"], owner["id"])), frozenset((a["id"], driver["id"]))}

    entities.unmerge_entities(a["id"], b["id"], CONTEXT)
    assert links(a["id"]) == before_a and links(b["id"]) == before_b
    assert stated(b["id"]) == {
        frozenset((b["id"], owner["id"])),
        frozenset((b["id"], driver["id"])),
        frozenset((b["id"], a["id"])),
    }
