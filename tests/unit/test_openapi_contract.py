"""The served OpenAPI document as a contract a generated client can rely on (issue 19).

Measured on ``GET /api/v1/openapi.json`` as the gateway serves it: a valid OpenAPI 3.0 document, every
success answer typed, an example on at least 90% of operations (each example valid against its
schema), every error answer a problem whose ``type`` is a stable URI documented in docs/problems.md,
and every list paged the one way the ``Page`` schema documents.
"""

import re
from pathlib import Path

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from gateway import errors
from gateway.app import create_app

REPO = Path(__file__).resolve().parents[2]
METHODS = ("get", "post", "put", "patch", "delete")
PROBLEM = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture(scope="module")
def spec():
    app = create_app({"DEV_JWT_SECRET": "unit-test-secret-of-at-least-32-bytes-long", "STREAM_ENABLED": "false"})
    served = app.test_client().get("/api/v1/openapi.json")
    assert served.status_code == 200
    return served.get_json()


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def responses(spec, operation):
    """Each documented response with ``$ref`` resolved: ``(status, response)``."""
    for status, response in operation["responses"].items():
        if "$ref" in response:
            response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        yield str(status), response


def valid(spec, schema, value) -> list[str]:
    root = {"allOf": [schema], "components": spec["components"]}
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in OAS30Validator(root).iter_errors(value)]


def test_the_document_is_valid_openapi_3(spec):
    validate(spec)


def test_every_success_answer_is_typed(spec):
    untyped = [
        f"{name} {status} {media_type}"
        for name, operation in operations(spec)
        for status, response in responses(spec, operation)
        if status.startswith("2") and status != "204"
        for media_type, media in (response.get("content") or {"(none)": {}}).items()
        if "schema" not in media
    ]
    assert not untyped, f"success answers without a schema: {untyped}"


def test_at_least_nine_operations_in_ten_carry_an_example_and_every_example_fits_its_schema(spec):
    with_example, wrong = [], []
    for name, operation in operations(spec):
        for status, response in responses(spec, operation):
            for media in (response.get("content") or {}).values():
                if status.startswith("2") and "example" in media:
                    with_example.append(name)
                    wrong += [f"{name} {status}: {e}" for e in valid(spec, media["schema"], media["example"])]
    names = [name for name, _ in operations(spec)]
    assert len(set(with_example)) >= 0.9 * len(names), sorted(set(names) - set(with_example))
    assert not wrong, "\n".join(wrong)


def test_every_error_answer_is_a_problem_of_a_documented_kind(spec):
    documented = set(re.findall(r"^## ([a-z-]+)$", (REPO / "docs" / "problems.md").read_text(), re.M))
    assert {kind.slug for kind in errors.KINDS} <= documented
    not_problems, bad_examples = [], []
    for name, operation in operations(spec):
        for status, response in responses(spec, operation):
            if status == "default" or int(status) >= 400:
                media = (response.get("content") or {}).get(errors.PROBLEM_JSON)
                if media is None or media["schema"] != PROBLEM:
                    not_problems.append(f"{name} {status}")
                elif "example" in media:
                    example = media["example"]
                    slug = example["type"].removeprefix(errors.PROBLEM_TYPES)
                    if slug not in documented or example["status"] != int(status) or valid(spec, PROBLEM, example):
                        bad_examples.append(f"{name} {status}: {example}")
    assert not not_problems, f"error answers that are not problems: {not_problems}"
    assert not bad_examples, "\n".join(bad_examples)


@pytest.mark.parametrize("kind", errors.KINDS, ids=lambda kind: kind.slug)
def test_each_kind_of_problem_is_a_stable_uri_with_a_title_in_words(kind):
    assert kind.type == f"https://casewire.io/problems/{kind.slug}"
    assert re.fullmatch(r"[A-Z][a-z' ]+", kind.title), kind.title  # words, never a class name like "NotFound"


def test_every_list_is_paged_the_one_documented_way(spec):
    schemas = spec["components"]["schemas"]
    assert "Page" in schemas and "cursor" in schemas["Page"]["description"]
    paged = {
        name: schema
        for name, schema in schemas.items()
        if name != "Page" and "next_cursor" in schema.get("properties", {})
    }
    assert len(paged) >= 10
    for name, schema in paged.items():
        assert {"items", "next_cursor"} <= set(schema["required"]), name
        assert schema["properties"]["next_cursor"] == schemas["Page"]["properties"]["next_cursor"], name
