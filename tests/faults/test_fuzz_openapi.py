"""A bounded schemathesis fuzz run of the gateway's own OpenAPI document, with valid tokens.

Every operation of ``/api/v1/openapi.json`` gets generated requests (valid and invalid bodies,
queries and path ids) sent to the running gateway, and every answer must be:

- never a 5xx (a bad input is the caller's problem: 4xx);
- a status code the operation documents (each documents ``default``: problem+json);
- of a content type documented for that status, with a body matching the documented schema: every
  success answer has one (an operation without is a failure, not a pass), every error the problem.

The first run carries a token with every role except ``auditor``, so the audit log is refused
(403, documented); the second fuzzes the audit log's operations as an auditor. ``/api/v1/stream``
(server-sent events, an endless answer) is left out: its own tests cover it.
"""

import os
import re

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = int(os.environ.get("CASEWIRE_FUZZ_EXAMPLES", "6"))  # per operation: a bounded run
EVERYONE_BUT_AUDITOR = ("source", "analyst", "detective", "supervisor", "admin")
PURPOSE = {"X-Purpose": "fuzz run", "X-Case-Number": "FUZZ-1"}
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests every run: a failure reproduces
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    database=None,
)


def fuzz(stack, roles: tuple[str, ...], paths: str, skip: str | None = None) -> list[str]:
    """Fuzz each operation whose path matches ``paths``; one line per operation that failed a check.

    (schemathesis' own pytest plugin does not run on pytest 9, so hypothesis drives each operation here.)
    """
    schema = schemathesis.openapi.from_url(f"{stack.url}/api/v1/openapi.json")
    headers = {"Authorization": f"Bearer {stack.token(*roles)}", **PURPOSE}
    failures, tested = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not re.match(paths, operation.path) or (skip and re.match(skip, operation.path)):
            continue
        tested += 1
        untyped = untyped_answers(operation.definition.raw)
        if untyped:  # an answer without a schema would pass response_schema_conformance unchecked
            failures.append(f"{operation.label}: answers without a schema: {untyped}")
            continue

        @FUZZ_SETTINGS
        @given(case=operation.as_strategy())
        def run(case):
            case.call_and_validate(headers=headers, checks=CHECKS, timeout=120)

        try:
            run()
        except Exception as exc:  # every operation is tried; the report names each failure
            failures.append(f"{operation.label}: {str(exc)[:3000]}")
    assert tested, f"no operation matched {paths}"
    return failures


def untyped_answers(operation: dict) -> list[str]:
    """The operation's documented answers that carry no schema to check a body against."""
    return [
        f"{status} {media_type}"
        for status, response in operation["responses"].items()
        if str(status) != "204" and "$ref" not in response
        for media_type, media in (response.get("content") or {"(no content)": {}}).items()
        if "schema" not in media
    ]


def test_fuzz_every_operation_no_5xx_and_answers_as_documented(stack):
    failures = fuzz(stack, EVERYONE_BUT_AUDITOR, r"/", skip=r"^/api/v1/(audit|stream)")
    assert not failures, "\n\n".join(failures)


def test_fuzz_the_audit_log_as_an_auditor(stack):
    failures = fuzz(stack, ("auditor",), r"^/api/v1/audit")
    assert not failures, "\n\n".join(failures)
