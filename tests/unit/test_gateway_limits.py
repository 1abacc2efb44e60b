"""Abuse limits that need no server: the token bucket, batch size, body size and CORS."""

import pytest

from gateway.app import create_app
from gateway.errors import Problem
from gateway.limits import TokenBucket, check_batch_size

ORIGIN = "https://rtcc.example.gov"


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_bucket_passes_a_minute_of_requests_then_asks_to_wait():
    clock = FakeClock()
    bucket = TokenBucket(60, clock=clock)
    assert [bucket.take("alice") for _ in range(60)] == [0.0] * 60
    assert bucket.take("alice") == pytest.approx(1.0)
    assert bucket.take("bob") == 0.0  # each caller has its own bucket
    clock.now += 0.5
    assert bucket.take("alice") == pytest.approx(0.5)
    clock.now += 0.5
    assert bucket.take("alice") == 0.0


def test_a_bucket_refills_to_its_capacity_and_no_more():
    clock = FakeClock()
    bucket = TokenBucket(6, clock=clock)
    for _ in range(6):
        bucket.take("alice")
    clock.now += 3600
    assert [bucket.take("alice") for _ in range(7)][-2:] == [0.0, pytest.approx(10.0)]


def test_a_bucket_forgets_callers_that_have_refilled_when_it_grows_too_large():
    clock = FakeClock()
    bucket = TokenBucket(60, clock=clock)
    bucket.MAX_KEYS = 3
    for name in ("a", "b", "c"):
        bucket.take(name)
    clock.now += 120
    bucket.take("d")
    assert set(bucket._buckets) == {"d"}


@pytest.fixture
def app():
    return create_app(
        {
            "STREAM_ENABLED": "false",
            "MAX_BATCH": 3,
            "MAX_BODY_BYTES": 1024,
            "CORS_ORIGINS": f"{ORIGIN}, https://cad.example.gov",
        }
    )


def test_a_batch_over_max_batch_is_413_naming_the_field(app):
    with app.app_context():
        check_batch_size([{}] * 3, "alerts")
        with pytest.raises(Problem) as refused:
            check_batch_size([{}] * 4, "alerts")
    assert refused.value.status == 413 and "at most 3" in refused.value.errors["alerts"][0]


def test_max_batch_defaults_to_1000():
    with create_app({"STREAM_ENABLED": "false"}).app_context():
        from gateway.limits import max_batch

        assert max_batch() == 1000


def test_a_body_over_the_limit_is_413_problem_before_the_token_is_read(app):
    response = app.test_client().post("/api/v1/alerts", data="x" * 2048, content_type="application/json")
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json" and response.json["status"] == 413


def test_cors_preflight_from_an_allowed_origin_is_answered_without_a_token(app):
    response = app.test_client().options(
        "/api/v1/search/plates",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "Authorization, X-Purpose, X-Case-Number",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    allowed_headers = response.headers["Access-Control-Allow-Headers"].lower()
    assert {"authorization", "x-purpose", "x-case-number"} <= {h.strip() for h in allowed_headers.split(",")}


def test_cors_ignores_origins_outside_the_allow_list(app):
    response = app.test_client().options(
        "/api/v1/search/plates",
        headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "GET"},
    )
    assert "Access-Control-Allow-Origin" not in response.headers


def test_without_cors_origins_no_cors_headers_are_sent():
    response = (
        create_app({"STREAM_ENABLED": "false"})
        .test_client()
        .options("/healthz", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"})
    )
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_headers_ride_on_plain_responses_too(app):
    response = app.test_client().get("/healthz", headers={"Origin": ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "X-Request-Id" in response.headers["Access-Control-Expose-Headers"]


def test_a_callers_request_id_is_kept_only_when_it_is_tame():
    client = create_app({"STREAM_ENABLED": "false"}).test_client()
    assert client.get("/healthz", headers={"X-Request-Id": "cad-77:abc.1"}).headers["X-Request-Id"] == "cad-77:abc.1"
    for wild in ("x" * 129, "<script>", "a b"):
        answered = client.get("/healthz", headers={"X-Request-Id": wild}).headers["X-Request-Id"]
        assert answered != wild and len(answered) == 32
