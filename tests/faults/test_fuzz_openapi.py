"""A bounded schemathesis fuzz run of the gateway's own OpenAPI document, with valid tokens.

Every operation of ``/api/v1/openapi.json`` gets generated requests (valid and invalid bodies,
queries and path ids) sent to the running gateway, and every answer must be:

- never a 5xx (a bad input is the caller's problem: 4xx);
- a status code the operation documents (each documents ``default``: problem+json);
- of a content type documented for that status, with a body matching the documented schema.

The first run carries a token with every role except ``auditor``, so the audit log is refused
(403, documented); the second fuzzes the audit log's operations as an auditor. ``/api/v1/stream``
(server-sent events, an endless answer) is left out: its own tests cover it.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
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
)


@pytest.fixture(scope="session")
def api_schema(stack):
    return schemathesis.openapi.from_url(f"{stack.url}/api/v1/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.exclude(path_regex=r"^/api/v1/(audit|stream)").parametrize()
@FUZZ_SETTINGS
def test_fuzz_every_operation_no_5xx_and_answers_as_documented(case, stack):
    token = stack.token(*EVERYONE_BUT_AUDITOR)
    case.call_and_validate(headers={"Authorization": f"Bearer {token}", **PURPOSE}, checks=CHECKS, timeout=60)


@schema.include(path_regex=r"^/api/v1/audit").parametrize()
@FUZZ_SETTINGS
def test_fuzz_the_audit_log_as_an_auditor(case, stack):
    token = stack.token("auditor")
    case.call_and_validate(headers={"Authorization": f"Bearer {token}", **PURPOSE}, checks=CHECKS, timeout=120)
