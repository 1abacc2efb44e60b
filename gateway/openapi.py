"""The OpenAPI document's contract: typed answers sent as the services made them, problems, examples.

Views declare their answers with :class:`Blueprint` ``response`` like flask-smorest's, naming the
shared contracts of ``casewire.contracts``. The service that made an answer dumped it with that very
schema, so the gateway documents the schema and sends the answer on unchanged (a second dump would
lose what the schema renames, such as ``_id`` → ``id``).

:class:`ContractDocs` then gives every error response the problem schema with an example of its
kind, and every operation its example answer from ``examples.json`` (one per operation, checked
against the operation's schema by the tests).
"""

import json
from collections.abc import Callable
from functools import cache, wraps
from pathlib import Path

import flask_smorest
from apispec import APISpec, BasePlugin
from apispec.ext.marshmallow import resolve_schema_cls
from flask import request
from flask.typing import ResponseReturnValue
from flask_smorest.utils import resolve_schema_instance
from marshmallow import Schema
from werkzeug.exceptions import UnprocessableEntity

from casewire.contracts.common import Page
from gateway import errors

EXAMPLES = Path(__file__).with_name("examples.json")
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
REFUSALS = {
    400: (errors.BAD_REQUEST, "the body must be a JSON object", None),
    401: (errors.UNAUTHORIZED, "a valid bearer token is required", None),
    403: (errors.FORBIDDEN, "your roles may not case.purge", None),
    404: (errors.NOT_FOUND, "no such record", None),
    409: (errors.CONFLICT, "the alert is dismissed", None),
    413: (errors.CONTENT_TOO_LARGE, "a batch holds at most 1000 items; split it", None),
    422: (errors.INVALID_INPUT, "the alert is invalid", {"payload": {"plate": ["Missing data for required field."]}}),
    429: (errors.TOO_MANY_REQUESTS, "more than 600 requests a minute; retry in 4 s", None),
    500: (errors.INTERNAL_ERROR, "the server could not answer", None),
    503: (errors.UNAVAILABLE, "the audit log cannot record this request; nothing was done", None),
}
PURPOSE_REFUSAL = (
    errors.PURPOSE_REQUIRED,
    "reading or searching criminal intelligence needs a purpose and a case or incident number",
    {"purpose": ["state the purpose of use"], "case_number": ["give the case or incident number"]},
)
UNAVAILABLE = "The audit log or a service this needs is unavailable: nothing was done (C23)."


def _as_sent(obj: object, *, many: bool | None = None) -> object:
    return obj


class OpenApiSchema(dict):
    """An OpenAPI schema written out (e.g. ``{"oneOf": [A, B]}``), for answers of more than one shape."""

    dump = staticmethod(_as_sent)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint whose ``response`` documents a schema and sends the view's answer as it is,
    and whose ``arguments`` can validate a body a service takes (``invalid``)."""

    def arguments(
        self, schema: type[Schema] | Schema, *, invalid: str | None = None, **kwargs
    ) -> Callable[[Callable], Callable]:
        """flask-smorest's ``arguments``: the OpenAPI document learns the schema, the request is validated
        by it before the view runs.

        ``invalid`` marks a JSON body the view sends on to a service, which loads it again with the same
        schema at its RPC boundary: the refusals are then the service's own (a body that is not a JSON
        object is 400, an invalid one 422 with ``invalid`` as its detail, naming each field) and the view
        receives the body as it came, since only JSON crosses the bus.
        """
        if invalid is None:
            return super().arguments(schema, **kwargs)
        instance = resolve_schema_instance(schema)
        parse = super().arguments(instance, **kwargs)

        def decorator(view: Callable) -> Callable:
            @parse
            @wraps(view)
            def as_sent(_loaded: dict, *args, **view_args) -> ResponseReturnValue:
                return view(request.get_json(), *args, **view_args)

            @wraps(as_sent)
            def checked(*args, **view_args) -> ResponseReturnValue:
                if not isinstance(request.get_json(silent=True), dict):
                    raise errors.Problem(400, errors.BAD_REQUEST, "the body must be a JSON object")
                try:
                    return as_sent(*args, **view_args)
                except UnprocessableEntity as exc:
                    data = getattr(exc, "data", None) or {}
                    if data.get("schema") is not instance:  # not this body's refusal
                        raise
                    raise errors.Problem(422, errors.INVALID_INPUT, invalid, data["messages"]["json"]) from exc

            # the 422 is the guard's to describe (gateway/guard_docs.py), not flask-smorest's bare reference
            checked._apidoc["arguments"]["responses"].pop(UnprocessableEntity.code)
            return checked

        return decorator

    def response(
        self, status_code: int | str, schema: type[Schema] | Schema | dict | None = None, **kwargs
    ) -> Callable[[Callable], Callable]:
        instance = resolve_schema_instance(schema)
        if isinstance(instance, Schema):
            instance.dump = _as_sent  # the service dumped the answer with this schema already
        elif isinstance(instance, dict):
            instance = OpenApiSchema(instance)
        return super().response(status_code, instance, **kwargs)


def schema_names() -> Callable[[type[Schema] | Schema], str]:
    """An apispec schema name resolver: a schema's class name, prefixed with its package's name when
    another schema took the name first (two ``MergeIn`` of two packages,
    were they both documented)."""
    taken: dict[str, type] = {}

    def resolve(schema: type[Schema] | Schema) -> str:
        cls = resolve_schema_cls(schema)
        name = cls.__name__.removesuffix("Schema") or cls.__name__
        if taken.setdefault(name, cls) is not cls:
            name = cls.__module__.split(".")[1].title() + name
            taken.setdefault(name, cls)
        return name

    return resolve


@cache
def examples() -> dict:
    """``"METHOD /path"`` → the example answer of that operation's first success response."""
    return json.loads(EXAMPLES.read_text())


class ContractDocs(BasePlugin):
    """apispec plugin: problem bodies on every error response, an example answer on every operation."""

    def init_spec(self, spec: APISpec) -> None:
        spec.components.schema("Page", schema=Page)  # the one description of pagination every list refers to

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs) -> None:
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            if "x-casewire-action" in operation and not _has(responses, 503):
                responses[503] = {"description": UNAVAILABLE}
            for status, response in responses.items():
                refused = str(status).isdigit() and int(status) >= 400
                if refused and isinstance(response, dict) and not {"content", "$ref"} & set(response):
                    response["content"] = {
                        errors.PROBLEM_JSON: {"schema": PROBLEM_REF, "example": _refusal(int(status), operation)}
                    }
            example = examples().get(f"{method.upper()} {path}")
            success = sorted(str(status) for status in responses if str(status).startswith("2"))
            content = responses[_key(responses, success[0])].get("content") if success else None
            if example is not None and content:
                (content.get("application/json") or next(iter(content.values())))["example"] = example


def _has(responses: dict, status: int) -> bool:
    return status in responses or str(status) in responses


def _key(responses: dict, status: str) -> str | int:
    return status if status in responses else int(status)


def _refusal(status: int, operation: dict) -> dict:
    if status == 400 and operation.get("x-casewire-purpose"):
        return errors.example(*PURPOSE_REFUSAL)
    kind, detail, fields = REFUSALS.get(status, (errors.BY_STATUS.get(status, errors.INTERNAL_ERROR), "", None))
    return errors.example(kind, detail or kind.title, fields)


def document() -> dict:
    """The OpenAPI document as the gateway serves it, made without any server (``scripts/client.sh``)."""
    from gateway.app import create_app  # the app imports this module

    app = create_app({"DEV_MODE": "1", "STREAM_ENABLED": "false"})
    return app.test_client().get("/api/v1/openapi.json").get_json()


if __name__ == "__main__":
    print(json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=False))
