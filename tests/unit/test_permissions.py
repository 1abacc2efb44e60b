"""The role × action table (gateway/permissions.py) keeps every role in its lane (C12)."""

from click.testing import CliRunner

from casewire_cli.main import main
from gateway.permissions import PERMISSIONS, ROLES, allowed


def actions_of(role):
    return {action for action, roles in PERMISSIONS.items() if role in roles}


def test_every_entry_names_known_roles():
    for action, roles in PERMISSIONS.items():
        assert roles <= set(ROLES), action


def test_C12_admins_never_read_the_audit_log():
    assert not {action for action in actions_of("admin") if action.startswith("audit.")}
    assert not allowed(("admin",), "audit.read") and not allowed(("admin", "analyst"), "audit.verify")


def test_C12_auditors_read_the_audit_log_and_compliance_reports_only():
    assert {"audit.read", "audit.verify"} <= actions_of("auditor")
    assert all(action.split(".")[0] in ("audit", "compliance") for action in actions_of("auditor"))


def test_C12_detection_systems_only_submit_alerts():
    actions = actions_of("source")
    assert "alert.create" in actions
    assert all(action.startswith("alert.") for action in actions)
    assert not actions & {"alert.read", "alert.list"}


def test_a_caller_without_roles_may_do_nothing():
    assert not any(allowed((), action) for action in PERMISSIONS)


def test_the_cli_prints_the_table():
    result = CliRunner().invoke(main, ["permissions"])
    assert result.exit_code == 0
    header, *rows = result.output.splitlines()
    assert header.split() == ["action", *ROLES]
    audit_read = next(row.split() for row in rows if row.startswith("audit.read "))
    assert audit_read == ["audit.read", "-", "-", "-", "-", "x", "-", "-"]


def test_C12_C17_only_the_purge_authority_purges_and_it_does_nothing_else():
    assert {action for action, roles in PERMISSIONS.items() if "purge_authority" in roles} == {
        "case.purge",
        "case.hold",
        "case.review",
    }
    assert PERMISSIONS["case.purge"] == {"purge_authority"}
