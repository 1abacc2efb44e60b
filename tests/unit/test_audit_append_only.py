"""C22: the audit log has no update or delete path, in code or API; C24: one deletion path only.

And the checkpoint key stays with the audit service: no other process is configured with it.
"""

import ast
import re
from pathlib import Path

from gateway.app import create_app
from services.audit.dependencies import AuditStore
from services.audit.retention import RetiredSegments

REPO = Path(__file__).resolve().parents[2]
WRITES = re.compile(r"^(update|delete|replace|remove|drop|find_one_and_|bulk_write|rename)")
MONGODB_CHANGES = {
    "update_one",
    "update_many",
    "replace_one",
    "delete_one",
    "delete_many",
    "find_one_and_update",
    "find_one_and_replace",
    "find_one_and_delete",
    "bulk_write",
    "drop",
    "drop_collection",
    "drop_database",
    "rename",
}


def test_C22_the_store_has_no_update_or_delete_method():
    methods = [name for name in dir(AuditStore) if not name.startswith("__")]
    assert [name for name in methods if WRITES.match(name.lstrip("_"))] == []
    hint = AuditStore._advance_hint.__code__
    assert "events" not in hint.co_names and "hint" in hint.co_names  # it touches only the hint
    assert {"append", "add_checkpoint", "add_anchor"} <= set(methods)


def _mutating_calls(path: Path) -> list[tuple[str, str]]:
    """(enclosing function, method) for every call of a MongoDB method that changes or removes."""
    found, tree = [], ast.parse(path.read_text())
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef):
            for node in ast.walk(function):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    if node.func.attr in MONGODB_CHANGES:
                        found.append((function.name, node.func.attr))
    return found


def test_C24_the_only_deletion_in_the_audit_service_is_of_an_archived_segment():
    calls = {str(path.relative_to(REPO)): _mutating_calls(path) for path in (REPO / "services" / "audit").glob("*.py")}
    calls = {path: found for path, found in calls.items() if found}
    assert calls == {
        "services/audit/retention.py": [("remove", "delete_many")],
        "services/audit/dependencies.py": [("_advance_hint", "update_one")],  # the head hint, not the log
    }
    assert [name for name in dir(RetiredSegments) if not name.startswith("_")] == ["ensure_indexes", "remove"]


def test_C22_the_gateway_exposes_no_write_route_on_the_audit_log():
    app = create_app({"STREAM_ENABLED": "false", "AMQP_URI": "memory://"})
    audit_rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/audit")]
    assert {rule.rule for rule in audit_rules} == {
        "/api/v1/audit/events",
        "/api/v1/audit/verify",
        "/api/v1/audit/export",
    }
    assert all(rule.methods <= {"GET", "HEAD", "OPTIONS"} for rule in audit_rules)


def test_C22_only_the_audit_service_is_configured_with_the_checkpoint_key():
    configs = list((REPO / "services").glob("*/config.yaml")) + [REPO / "gateway" / "config.yaml"]
    holders = sorted(str(path.relative_to(REPO)) for path in configs if "AUDIT_CHECKPOINT_KEY" in path.read_text())
    assert holders == ["services/audit/config.yaml"]
    code = [p for p in (REPO / "gateway").rglob("*.py")] + [p for p in (REPO / "casewire").rglob("*.py")]
    assert [str(p) for p in code if "CHECKPOINT_KEY" in p.read_text()] == []
