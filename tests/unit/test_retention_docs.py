"""docs/retention.md says what the code does: each default it states is the one the services use."""

from pathlib import Path

import pytest

from casewire.config import load_config
from services.intake.retention import DEFAULT_PURGE_SECONDS

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "retention.md"


def config(path: str) -> dict:
    return load_config(REPO / path, environ={})


def stated_defaults():
    intake, cases = config("services/intake/config.yaml"), config("services/cases/config.yaml")
    audit, gateway = config("services/audit/config.yaml"), config("gateway/config.yaml")
    profiles = intake["ALPR_RETENTION_PROFILES"]
    return {
        "TIP_RETENTION_DAYS": f"`TIP_RETENTION_DAYS` ({intake['TIP_RETENTION_DAYS']}",
        "ALPR profiles": f"NH 3 minutes, ME {profiles['ME'][:-1]} days, MN {profiles['MN'][:-1]} days",
        "ALPR_PURGE_SECONDS": f"`ALPR_PURGE_SECONDS` ({DEFAULT_PURGE_SECONDS}",
        "REVIEW_QUEUE_DAYS": f"{cases['REVIEW_QUEUE_DAYS']} days before (`REVIEW_QUEUE_DAYS`)",
        "AUDIT_RETENTION_DAYS": f"`AUDIT_RETENTION_DAYS` ({audit['AUDIT_RETENTION_DAYS']})",
        "AUDIT_ALPR_RETENTION_DAYS": f"`AUDIT_ALPR_RETENTION_DAYS` ({audit['AUDIT_ALPR_RETENTION_DAYS']})",
        "STREAM_BUFFER": f"`STREAM_BUFFER` ({int(gateway['STREAM_BUFFER']):,})",
        "IDEMPOTENCY_HOURS": f"`IDEMPOTENCY_HOURS` ({gateway['IDEMPOTENCY_HOURS']})",
        "RPC_TIMEOUT": f"`RPC_TIMEOUT` ({gateway['RPC_TIMEOUT']} s)",
    }


@pytest.mark.parametrize("name,text", stated_defaults().items(), ids=list(stated_defaults()))
def test_the_retention_page_states_the_defaults_the_code_uses(name, text):
    assert text in DOC.read_text(), name


def test_the_retention_page_says_what_a_case_link_and_a_hold_do_in_a_page():
    page = DOC.read_text()
    assert "## What a case link does to an alert" in page and "## What a legal hold does" in page
    assert len(page.splitlines()) < 90
