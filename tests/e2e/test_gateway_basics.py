"""What every gateway response shares: problem+json errors, request ids, OpenAPI and local docs."""

import re


def test_invalid_alert_is_422_problem_naming_each_field(gateway):
    response = gateway.post("/api/v1/alerts", json={"source": "alpr", "payload": {"plate": "X"}})
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422 and {"source_system", "occurred_at", "payload"} <= set(problem["errors"])


def test_malformed_json_is_400_problem(gateway):
    response = gateway.post("/api/v1/alerts", data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"


def test_missing_token_is_401(gateway):
    response = gateway.get("/api/v1/search/plates", roles=(), params={"plate": "ABC"})
    assert response.status_code == 401 and response.json()["status"] == 401


def test_request_id_is_echoed_or_made(gateway):
    echoed = gateway.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert echoed.headers["X-Request-Id"] == "abc-123"
    made = gateway.get("/api/v1/alerts/nope")
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-Id"])


def test_unknown_alert_is_404_problem(gateway):
    response = gateway.get("/api/v1/alerts/does-not-exist")
    body = response.json()
    assert response.status_code == 404 and response.headers["Content-Type"] == "application/problem+json"
    assert (body["type"], body["title"]) == ("https://casewire.io/problems/not-found", "Not found")


def test_openapi_document_and_docs_are_served_locally(gateway):
    spec = gateway.get("/api/v1/openapi.json", roles=()).json()
    assert {"/api/v1/alerts", "/api/v1/search/plates", "/api/v1/audit/verify"} <= set(spec["paths"])
    docs = gateway.get("/api/v1/docs", roles=())
    assert docs.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', docs.text)
    assert assets and all(asset.startswith("/api/v1/docs/assets/") for asset in assets)
    for asset in assets:
        assert gateway.get(asset, roles=()).status_code == 200
