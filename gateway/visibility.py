"""What one connected user may see on the stream (docs/entities.md, "The real-time stream").

The rule:
- alerts (``alert_received``, ``alert_assigned``): users of the alert's agency (an alert without an
  agency is no agency's: only users whose token names none), and the alert's assignee;
- ``alert_overdue``: the supervisors of the unit answerable for the alert (its ``unit``; of the whole
  agency when it names none) in the alert's agency, and the alert's assignee;
- cases (``case_updated``): whoever may open the case by the one rule of ``casewire/access_rules.py`` (its
  unit in its agency and its assignees; intelligence pending review or restricted only its unit), and
  criminal intelligence only on a stream opened with a purpose and a case number (C9: ``?purpose=``
  and ``?case_number=``, or the headers), so no title of intelligence goes out without them;
- ``case_assigned``: the assignee (in the case's agency, unless the case is hidden from them by C3 or
  C6: then nobody outside its unit learns it exists), or whoever may see the case by the rule above;
- ``control_official_notified`` (C6): the control official named in it, and supervisors of the
  controlling unit, in its agency;
- ``link_found``: users who may see the new alert, with ``related`` cut down to the alerts and cases
  they may see by the two rules above; nothing at all when none is left. So a link reaches the
  assignees and unit of every case it touches.

Stream events are notices with ids, not records: the alert's payload and a case's summary are not
sent; reading them is a separate, audited request.
"""

from collections.abc import Callable, Iterable

from casewire import access_rules, events
from gateway.auth import Identity

Lookup = Callable[[str], dict | None]

ALERT_FIELDS = ("alert_id", "source", "source_system", "occurred_at", "received_at", "priority", "status", "location")
ASSIGNMENT_FIELDS = ("case_id", "title", "unit", "assignee", "assigned_by", "at", "version")
CASE_FIELDS = ("case_id", "title", "status", "classification", "unit", "assignees", "updated_at", "version")


class Visibility:
    """``view(event_type, payload)`` → what this user receives, or None."""

    def __init__(self, identity: Identity, case_access: Lookup, alert_access: Lookup, purpose: bool = False):
        self.identity, self.case_access, self.alert_access = identity, case_access, alert_access
        self.purpose = purpose  # the stream was opened with a purpose and a case number (C9)

    def agency_ok(self, agency: str | None) -> bool:
        """The user's agency; a record without one is no agency's (only an agencyless user's)."""
        return agency == self.identity.agency

    def case_visible(self, case: dict | None) -> bool:
        """The one case rule (casewire/access_rules.py): unit and assignees, intelligence per C3 and C6."""
        return bool(case) and self._case_rule(case) is access_rules.Access.ALLOWED

    def _case_rule(self, case: dict) -> access_rules.Access:
        """The case rule; criminal intelligence reaches only a stream opened with a purpose (C9), as a
        list without one leaves it out."""
        if access_rules.is_intelligence(case) and not self.purpose:
            return access_rules.Access.HIDDEN
        return access_rules.case_access(self.identity.caller(), case)

    def _assignment_visible(self, payload: dict) -> bool:
        """The assignee (not of a case hidden from them, C3/C6), or whoever may see the case."""
        case = self.case_access(payload.get("case_id", ""))
        if not case:  # unknown or unreachable: fail closed
            return False
        rule = self._case_rule(case)
        mine = payload.get("assignee") == self.identity.sub and self.agency_ok(case.get("agency"))
        return rule is access_rules.Access.ALLOWED or (mine and rule is not access_rules.Access.HIDDEN)

    def view(self, event_type: str, payload: dict) -> dict | None:
        if event_type == events.ALERT_RECEIVED:
            return _pick(payload, ALERT_FIELDS) if self.agency_ok(payload.get("agency")) else None
        if event_type == events.ALERT_ASSIGNED:
            return payload if self._alert_visible(payload) else None
        if event_type == events.ALERT_OVERDUE:
            return payload if self._overdue_visible(payload) else None
        if event_type == events.CASE_UPDATED:
            return _pick(payload, CASE_FIELDS) if self.case_visible(payload) else None
        if event_type == events.CASE_ASSIGNED:
            return _pick(payload, ASSIGNMENT_FIELDS) if self._assignment_visible(payload) else None
        if event_type == events.LINK_FOUND:
            return self._link(payload)
        if event_type == events.CONTROL_OFFICIAL_NOTIFIED:
            return payload if self._controls(payload) else None
        return None

    def _controls(self, payload: dict) -> bool:
        """C6: the control official, and the controlling unit's supervisors, hear of restricted hits."""
        if not self.agency_ok(payload.get("agency")):
            return False
        if payload.get("control_official") and payload["control_official"] == self.identity.sub:
            return True
        same_unit = bool(self.identity.unit) and payload.get("unit") == self.identity.unit
        return same_unit and "supervisor" in self.identity.roles

    def _alert_visible(self, payload: dict) -> bool:
        if payload.get("assignee") and payload["assignee"] == self.identity.sub:
            return True
        if "agency" in payload:
            return self.agency_ok(payload["agency"])
        alert = self.alert_access(payload.get("alert_id", ""))
        return alert is not None and self.agency_ok(alert.get("agency"))

    def _overdue_visible(self, payload: dict) -> bool:
        if payload.get("assignee") and payload["assignee"] == self.identity.sub:
            return True
        if "supervisor" not in self.identity.roles or not self.agency_ok(payload.get("agency")):
            return False
        return not payload.get("unit") or payload["unit"] == self.identity.unit

    def _link(self, payload: dict) -> dict | None:
        if not self.agency_ok(payload.get("agency")):
            return None
        related = [record for record in payload.get("related", []) if self._record_visible(record)]
        if not related:
            return None
        return {"alert_id": payload["alert_id"], "occurred_at": payload.get("occurred_at"), "related": related}

    def _record_visible(self, record: dict) -> bool:
        if record.get("record_type") == "case":
            return self.case_visible(self.case_access(record["id"]))
        return self.agency_ok(record.get("agency"))


def _pick(payload: dict, keys: Iterable[str]) -> dict:
    return {key: payload[key] for key in keys if key in payload}
