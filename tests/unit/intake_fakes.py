"""An in-memory AlertStore with the real one's semantics, for intake's unit tests."""

import copy

from casewire.errors import Conflict, NotFound
from services.intake import identification


class FakeAlerts:
    def __init__(self):
        self.docs = {}

    def find_by_natural_key(self, agency, system, event_id):
        for doc in self.docs.values():
            if (doc.get("agency"), doc["source_system"]) == (agency, system) and (
                doc["source_event_id"] == event_id or any(r["source_event_id"] == event_id for r in doc["repeats"])
            ):
                return doc
        return None

    def find_known(self, agency, keys):
        return {key: found for key in keys if (found := self.find_by_natural_key(agency, *key))}

    def near_duplicates(self, keys, start, end):
        return [d for d in self.docs.values() if d.get("dedupe_key") in keys and start <= d["occurred_at"] <= end]

    def insert_many(self, alerts):
        refused = set()
        for position, alert in enumerate(alerts):
            scope = (alert.get("agency"), alert["source_system"])
            existing = [d for d in self.docs.values() if (d.get("agency"), d["source_system"]) == scope]
            if any(d["source_event_id"] == alert["source_event_id"] for d in existing):
                refused.add(position)
            else:
                self.docs[alert["_id"]] = copy.deepcopy(alert)
        return refused

    def add_repeats(self, repeats):
        for alert_id, repeat in repeats:
            doc = self.docs[alert_id]
            if all(r["source_event_id"] != repeat["source_event_id"] for r in doc["repeats"]):
                doc["repeats"].append(repeat)

    def mark_published(self, alert_id):
        self.docs[alert_id].pop("unpublished", None)

    def get(self, alert_id):
        if alert_id not in self.docs:
            raise NotFound(f"no alert {alert_id}")
        return self.docs[alert_id]

    def transition(self, alert_id, allowed_from, changes, action, unset=()):
        doc = self.get(alert_id)
        if allowed_from and doc["status"] not in allowed_from:
            raise Conflict(f"alert {alert_id} is {doc['status']}", {"status": [f"is {doc['status']}"]})
        doc.update(changes)
        for field in unset:
            doc.pop(field, None)
        doc["actions"].append(action)
        doc.update(version=doc.get("version", 1) + 1, update_unpublished=action["at"])
        return doc

    def mark_identified(self, alert_id, record, action, allowed_from):
        doc = self.get(alert_id)
        why = identification.conflict(doc)
        if why or doc["status"] not in allowed_from:
            raise Conflict(why or f"alert {alert_id} is {doc['status']}", {"alert": [why]})
        doc.update(identified=True, identification=copy.deepcopy(record))
        doc["actions"].append(action)
        doc.update(version=doc.get("version", 1) + 1, update_unpublished=action["at"])
        return doc

    def mark_update_published(self, alert_id, version):
        if self.docs[alert_id].get("version") == version:
            self.docs[alert_id].pop("update_unpublished", None)

    def set_once(self, alert_id, empty_field, changes):
        doc = self.get(alert_id)
        if doc.get(empty_field) is not None:
            return False
        doc.update(changes)
        return True

    def mark_triaged(self, alert_id, at):
        doc = self.get(alert_id)
        if doc.get("touched_at") is not None:
            return False
        doc["touched_at"] = at
        doc.pop("triage_open", None)
        doc.pop("overdue", None)
        return True

    def due_for_escalation(self, now, limit=500):
        due = [d for d in self.docs.values() if d.get("triage_open") and d["triage_due"] <= now]
        return sorted(due, key=lambda d: d["triage_due"])[:limit]

    def escalate(self, alert_id, now, action):
        doc = self.get(alert_id)
        if not (doc.get("triage_open") and doc["triage_due"] <= now):
            return None
        doc.update(overdue=True, escalated_at=now, escalation_unpublished=True)
        doc.pop("triage_open")
        doc["actions"].append(action)
        return doc

    def escalation_published(self, alert_id):
        self.docs[alert_id].pop("escalation_unpublished", None)

    def unpublished_escalations(self, older_than, limit=500):
        return [d for d in self.docs.values() if d.get("escalation_unpublished") and d["escalated_at"] < older_than]

    def overdue_page(self, filters, limit, after):
        found = [
            d
            for d in self.docs.values()
            if d.get("overdue")
            and d.get("agency") == filters.get("agency")
            and all(d.get(key) == filters[key] for key in ("source", "assignee", "status") if filters.get(key))
        ]
        found.sort(key=lambda d: (d["triage_due"], d["_id"]))
        if after:
            found = [d for d in found if (d["triage_due"], d["_id"]) > after]
        return found[:limit]

    def mark_promoted(self, alert_id, case_id, action):
        doc = self.get(alert_id)
        if doc["status"] == "dismissed":
            raise Conflict(f"alert {alert_id} is dismissed and cannot be promoted")
        if case_id not in doc.setdefault("case_ids", []):
            doc["case_ids"].append(case_id)
            doc["status"] = "promoted"
            doc["actions"].append(action)
            doc.pop("triage_open", None)
            doc.pop("overdue", None)
        return doc

    def due_for_purge(self, record_class, now, limit=500):
        due = [
            d
            for d in self.docs.values()
            if d["record_class"] == record_class
            and d.get("purge_after") is not None
            and d["purge_after"] <= now
            and d["status"] != "promoted"
            and not d.get("legal_hold")
            and not d.get("case_ids")
        ]
        return due[:limit]

    def delete(self, alert):
        self.docs.pop(alert["_id"], None)
