"""Issue 16: nothing of one agency's entities reaches another (docs/security.md, "Entities").

A Texas tip names a person; a California analyst neither finds nor opens them. On an entity both
agencies see, each sees its own stated links and merges only, undoes only its own merges, and links or
merges only entities its agency sees. Face-derived names carry the C26 notice wherever listed.
"""

import uuid

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from casewire.alerts import FACE_NOTICE
from casewire.errors import Forbidden, InvalidInput, NotFound
from services.entities.service import EntitiesService
from tests.integration.test_entities import alert, plate, read
from tests.resolution import resolve_one

TX = {"actor": {"id": "tess", "agency": "TX0000000", "roles": ["analyst"]}, "request_id": "r-tx"}
CA = {"actor": {"id": "cal", "agency": "CA0000000", "roles": ["analyst"]}, "request_id": "r-ca"}
AGENCYLESS = {"actor": {"id": "nobody", "agency": None, "roles": ["analyst"]}, "request_id": "r-none"}


@pytest.fixture
def entities(container_factory, config_for, base_config):
    container_factory(EntitiesService, config_for("entities")).start()
    with ClusterRpcProxy(base_config) as rpc:
        yield rpc.entities


def zebulon(agency="TX0000000"):
    name = f"Zebulon Q{uuid.uuid4().hex[:6]}"
    tip = alert("tip", agency=agency, narrative="n", subjects=[{"type": "person", "name": name, "dob": "1979-02-03"}])
    return name, tip


def test_an_entity_only_another_agencys_records_name_is_neither_listed_nor_opened(entities):
    name, tip = zebulon()
    person = resolve_one(entities, tip)["entities"][0]["id"]
    assert [e["id"] for e in entities.list_entities({"q": name}, 50, None, TX)["items"]] == [person]
    assert entities.list_entities({"q": name}, 50, None, CA)["items"] == []
    assert entities.list_entities({"q": name}, 50, None, AGENCYLESS)["items"] == []
    assert entities.get_entity(person, TX)["id"] == person
    for caller in (CA, AGENCYLESS):
        with pytest.raises(NotFound):
            entities.get_entity(person, caller)
        with pytest.raises(NotFound):
            entities.graph(person, 1, caller)


def test_a_page_skips_other_agencies_entities_and_its_cursor_leads_on(entities):
    tag = uuid.uuid4().hex[:8]
    ours = [entities.create_entity({"type": "organization", "name": f"crew {tag} {n}"}, CA)["entity"] for n in range(3)]
    for n in range(4):
        entities.create_entity({"type": "organization", "name": f"crew {tag} tx{n}"}, TX)
    first = entities.list_entities({"q": tag}, 2, None, CA)
    second = entities.list_entities({"q": tag}, 2, first["next_cursor"], CA)
    seen = [e["id"] for e in first["items"] + second["items"]]
    assert sorted(seen) == sorted(e["id"] for e in ours)


def test_links_and_merges_are_their_agencys_and_only_it_undoes_a_merge(entities):
    number = plate()
    vehicle = resolve_one(entities, read(number))["entities"][0]["id"]
    resolve_one(entities, {**read(number, month=2), "agency": "CA0000000"})
    texan = entities.create_entity({"type": "person", "name": f"Owner {number}", "dob": "1980-01-01"}, TX)["entity"]
    body = {"other_id": texan["id"], "relation": "owner_of", "source": "TX DMV 7781", "note": "informant says"}
    entities.add_link(vehicle, body, TX)
    twin = resolve_one(entities, read(f"{number}X"))["entities"][0]["id"]
    entities.merge_entities(vehicle, twin, TX)

    page = entities.get_entity(vehicle, CA)
    assert page["links"] == [] and page["merges"] == []
    assert "TX DMV" not in str(page) and "informant" not in str(page)
    assert [link["source"] for link in entities.get_entity(vehicle, TX)["links"]] == ["TX DMV 7781"]
    assert len(entities.get_entity(vehicle, TX)["merges"]) == 1
    graph = entities.graph(vehicle, 1, CA)
    assert not [edge for edge in graph["edges"] if edge["kind"] == "stated_link"]
    with pytest.raises(Forbidden):
        entities.unmerge_entities(vehicle, twin, CA)

    with pytest.raises(InvalidInput):  # the Texan is no entity California sees
        entities.add_link(vehicle, {**body, "source": "CA notes"}, CA)
    with pytest.raises(NotFound):
        entities.merge_entities(texan["id"], vehicle, CA)
    with pytest.raises(NotFound):
        entities.record_case_link(uuid.uuid4().hex, texan["id"], "suspect", "2026-02-01T00:00:00Z", CA)

    theirs = entities.create_entity({"type": "person", "name": f"Owner {number}", "dob": "1980-01-01"}, CA)
    assert theirs["created"] is True and theirs["entity"]["id"] == texan["id"]  # no oracle of Texas' records
    linked = entities.add_link(vehicle, {**body, "source": "CA DMV"}, CA)
    assert linked["created"] is True and linked["link"]["source"] == "CA DMV"
    assert [link["source"] for link in entities.get_entity(vehicle, CA)["links"]] == ["CA DMV"]


def test_C26_face_derived_names_carry_the_notice_in_lists_and_the_graph(entities):
    """The entities service's own logic, fed a face alert as intake's ``alerts_received`` carries it; a
    face alert posted through the API is followed to the person's page in
    tests/e2e/test_search_access.py's C26 test."""
    name = f"Lee Moe{uuid.uuid4().hex[:6]}"
    face = alert("face", candidate={"name": name, "subject_id": uuid.uuid4().hex[:8]}, score=91)
    person = resolve_one(entities, face)["entities"][0]["id"]
    (listed,) = entities.list_entities({"q": name}, 50, None, TX)["items"]
    assert listed["notice"] == FACE_NOTICE
    node = next(node for node in entities.graph(person, 1, TX)["nodes"] if node["id"] == person)
    assert node["notice"] == FACE_NOTICE
