"""The entities endpoints over HTTP: create, find, merge, unmerge, link; validation and roles."""

import uuid

from tests.polling import eventually


def plate():
    return f"M{uuid.uuid4().hex[:6].upper()}"


def create(gateway, **fields):
    return gateway.post("/api/v1/entities", json=fields)


def test_create_by_hand_then_find_it(gateway):
    number = plate()
    made = create(gateway, type="vehicle", plate=number.lower(), plate_state="tx", make="Ford")
    assert made.status_code == 201, made.text
    again = create(gateway, type="vehicle", plate=f"{number[:3]}-{number[3:]}", plate_state="TX")
    assert again.status_code == 200 and again.json()["id"] == made.json()["id"]
    page = gateway.get("/api/v1/entities", params={"type": "vehicle", "q": number.lower()}).json()
    assert [item["id"] for item in page["items"]] == [made.json()["id"]] and page["next_cursor"] is None


def test_create_is_validated(gateway):
    bad = create(gateway, type="phone", number="call me")
    assert bad.status_code == 422 and bad.headers["Content-Type"] == "application/problem+json"
    unknown = create(gateway, type="spaceship")
    assert unknown.status_code == 422 and "type" in unknown.json()["errors"]
    assert create(gateway, type="address", address="1 Main St", lat=29.7).status_code == 422


def test_entities_are_paginated(gateway):
    tag = uuid.uuid4().hex[:8]
    for n in range(3):
        assert create(gateway, type="organization", name=f"crew {tag} {n}").status_code == 201
    first = gateway.get("/api/v1/entities", params={"q": tag, "limit": 2}).json()
    second = gateway.get("/api/v1/entities", params={"q": tag, "limit": 2, "cursor": first["next_cursor"]}).json()
    names = [item["display"] for item in first["items"] + second["items"]]
    assert sorted(names) == [f"crew {tag} {n}" for n in range(3)]


def test_merge_and_unmerge_over_http_are_audited(gateway):
    a = create(gateway, type="vehicle", plate=plate(), plate_state="TX").json()
    b = create(gateway, type="vehicle", plate=plate(), plate_state="TX").json()
    merged = gateway.post(f"/api/v1/entities/{a['id']}/merge", json={"other_id": b["id"]})
    assert merged.status_code == 200, merged.text
    assert b["key"] in merged.json()["entity"]["aliases"]
    assert gateway.get(f"/api/v1/entities/{b['id']}").json()["id"] == a["id"]
    again = create(gateway, type="vehicle", plate=b["plate"], plate_state="TX")
    assert again.status_code == 200 and again.json()["id"] == a["id"]

    undone = gateway.post(f"/api/v1/entities/{a['id']}/unmerge", json={"other_id": b["id"]})
    assert undone.status_code == 200, undone.text
    assert gateway.get(f"/api/v1/entities/{b['id']}").json()["id"] == b["id"]
    assert gateway.post(f"/api/v1/entities/{a['id']}/unmerge", json={"other_id": b["id"]}).status_code == 409
    assert gateway.post(f"/api/v1/entities/{a['id']}/merge", json={}).status_code == 422

    def audited():
        events = gateway.get("/api/v1/audit/events", roles=("auditor",), params={"record_id": a["id"]}).json()
        actions = {event["action"] for event in events["items"]}
        return {"entity.merge", "entity.unmerge"} <= actions

    eventually(audited)


def test_stated_links_show_on_both_entities(gateway):
    owner = create(gateway, type="person", name=f"Owner {uuid.uuid4().hex[:6]}", dob="1980-02-03").json()
    car = create(gateway, type="vehicle", plate=plate(), plate_state="TX").json()
    body = {"other_id": car["id"], "relation": "owner_of", "source": "DMV registration 2026-0042"}
    linked = gateway.post(f"/api/v1/entities/{owner['id']}/links", json=body)
    assert linked.status_code == 201, linked.text
    assert gateway.post(f"/api/v1/entities/{owner['id']}/links", json=body).status_code == 200
    assert gateway.post(f"/api/v1/entities/{owner['id']}/links", json={**body, "relation": "x"}).status_code == 422
    links = gateway.get(f"/api/v1/entities/{car['id']}").json()["links"]
    assert [(link["relation"], link["other"]["id"]) for link in links] == [("owner_of", owner["id"])]
    graph = gateway.get(f"/api/v1/entities/{car['id']}/graph").json()
    assert graph["edges"][0]["kind"] == "stated_link" and graph["edges"][0]["evidence"][0]["source"] == body["source"]
    assert gateway.get(f"/api/v1/entities/{car['id']}/graph", params={"depth": 4}).status_code == 422


def test_roles_and_missing_entities(gateway):
    assert gateway.get("/api/v1/entities", roles=("source",)).status_code == 403
    assert gateway.get("/api/v1/entities", roles=("admin",)).status_code == 403
    assert gateway.get("/api/v1/entities/nope").status_code == 404
