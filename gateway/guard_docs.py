"""The OpenAPI document learns each guarded operation's access rules: its action and roles, the
refusals it may answer, and for C9 and C25 the purpose fields (an apispec plugin)."""

from apispec import BasePlugin
from flask import Flask

from gateway.guards import guard_for
from gateway.permissions import PERMISSIONS
from gateway.purpose import CASE_NUMBER_HEADER, MAX_CASE_NUMBER, MAX_PURPOSE, PURPOSE_HEADER, PURPOSE_MODES


class GuardDocs(BasePlugin):
    """apispec plugin: each guarded operation documents its action, roles, refusals and purpose fields."""

    PURPOSE_PARAMETERS = [
        {
            "in": "header",
            "name": PURPOSE_HEADER,
            "schema": {"type": "string", "maxLength": MAX_PURPOSE},
            "description": "Purpose of use (C9): this header or the `purpose` query field.",
        },
        {
            "in": "header",
            "name": CASE_NUMBER_HEADER,
            "schema": {"type": "string", "maxLength": MAX_CASE_NUMBER},
            "description": "Case or incident number (C9): this header or the `case_number` query field.",
        },
        {"in": "query", "name": "purpose", "schema": {"type": "string"}, "description": "Same as `X-Purpose`."},
        {"in": "query", "name": "case_number", "schema": {"type": "string"}, "description": "Same as `X-Case-Number`."},
    ]
    NEEDED = {
        True: "Required, with the case number.",
        "purpose": "The purpose is required.",
        "intelligence": "Required to read criminal intelligence; without them a list or search leaves it out.",
    }
    PURPOSE_REFUSALS = {
        True: "No purpose of use or case number (C9; audited); `errors` names `purpose` and `case_number`.",
        "purpose": "No purpose of use (C25; audited); `errors` names `purpose`.",
        "intelligence": "The record is criminal intelligence (or a sample of it is asked for) and the request states "
        "no purpose or case number (C9; audited); `errors` names `purpose` and `case_number`.",
    }
    REFUSALS = {
        "401": "No valid bearer token (audited as a failed logon).",
        "403": "The caller's roles may not do this, or the record is another unit's (audited).",
        "429": "Over the per-caller rate limit; see `Retry-After`.",
    }

    def __init__(self, app: Flask):
        self.app = app

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs) -> None:
        rule = kwargs.get("rule")
        view = self.app.view_functions.get(rule.endpoint) if rule is not None else None
        for method, operation in (operations or {}).items():
            guard = guard_for(view, method) if view is not None else None
            if guard is None:
                continue
            operation["x-casewire-action"] = guard.action
            operation["x-casewire-roles"] = sorted(PERMISSIONS[guard.action])
            responses = operation.setdefault("responses", {})
            refusals = dict(self.REFUSALS)
            if guard.purpose_required:
                operation["x-casewire-purpose"] = PURPOSE_MODES[guard.purpose_required]
                parameters = operation.setdefault("parameters", [])
                present = {(p.get("in"), p.get("name")) for p in parameters if isinstance(p, dict)}
                parameters.extend(
                    {**p, "required": False, "description": f"{p['description']} {self.NEEDED[guard.purpose_required]}"}
                    for p in self.PURPOSE_PARAMETERS
                    if (p["in"], p["name"]) not in present
                )
                refusals["400"] = self.PURPOSE_REFUSALS[guard.purpose_required]
            if path and "{" in path:
                refusals["404"] = "No such record, or one the caller may not know exists."
            refusals.setdefault("422", "Invalid input, e.g. text holding a NUL character.")
            for status, description in refusals.items():
                if status not in responses and int(status) not in responses:
                    responses[status] = {"description": description}
