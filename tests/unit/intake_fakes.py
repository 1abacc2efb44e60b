"""An in-memory AlertStore with the real one's semantics, for intake's unit tests."""

import copy

from casewire.errors import Conflict, NotFound


class FakeAlerts:
    def __init__(self):
        self.docs = {}

    def find_by_natural_key(self, system, event_id):
        for doc in self.docs.values():
            if doc["source_system"] == system and (
                doc["source_event_id"] == event_id or any(r["source_event_id"] == event_id for r in doc["repeats"])
            ):
                return doc
        return None

    def find_known(self, keys):
        return {key: found for key in keys if (found := self.find_by_natural_key(*key))}

    def near_duplicates(self, keys, start, end):
        return [d for d in self.docs.values() if d.get("dedupe_key") in keys and start <= d["occurred_at"] <= end]

    def insert_many(self, alerts):
        refused = set()
        for position, alert in enumerate(alerts):
            existing = [d for d in self.docs.values() if d["source_system"] == alert["source_system"]]
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

    def transition(self, alert_id, allowed_from, changes, action):
        doc = self.get(alert_id)
        if allowed_from and doc["status"] not in allowed_from:
            raise Conflict(f"alert {alert_id} is {doc['status']}", {"status": [f"is {doc['status']}"]})
        doc.update(changes)
        doc["actions"].append(action)
        doc.update(version=doc.get("version", 1) + 1, update_unpublished=action["at"])
        return doc

    def mark_update_published(self, alert_id, version):
        if self.docs[alert_id].get("version") == version:
            self.docs[alert_id].pop("update_unpublished", None)

    def due_for_purge(self, record_class, now, limit=500):
        return [
            d
            for d in self.docs.values()
            if d["record_class"] == record_class
            and d.get("purge_after") is not None
            and d["purge_after"] <= now
            and d["status"] != "promoted"
            and not d.get("legal_hold")
            and not d.get("case_id")
        ]

    def delete(self, alert_id):
        self.docs.pop(alert_id, None)
