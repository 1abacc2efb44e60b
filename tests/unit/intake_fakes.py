"""An in-memory AlertStore with the real one's semantics, for intake's unit tests."""

import copy

from casewire.docstore import apply_update
from casewire.errors import Conflict, NotFound
from services.intake import identification
from services.intake.retention import slot_of


class FakeTallies:
    """Records the deltas it is given (the real folding is tested against a real server)."""

    def __init__(self):
        self.changes = []

    def added(self, change_id, records):
        self.changes.append(("added", change_id, [copy.deepcopy(r) for r in records]))

    def removed(self, change_id, records):
        self.changes.append(("removed", change_id, [copy.deepcopy(r) for r in records]))

    def changed(self, change_id, before, after):
        self.changes.append(("changed", change_id, [copy.deepcopy(before), copy.deepcopy(after)]))


class FakeAlerts:
    def __init__(self):
        self.docs = {}
        self.key_docs = {}
        self.resolved = {}
        self.entries = {}
        self.swept = set()  # alerts whose purge hour was walked (the real store deletes the hour's marker)
        self.tallies = FakeTallies()

    # -- intake ---------------------------------------------------------------------------------

    def insert_keys(self, keys):
        refused = set()
        for position, key in enumerate(keys):
            if key["_id"] in self.key_docs:
                refused.add(position)
            else:
                self.key_docs[key["_id"]] = copy.deepcopy(key)
        return refused

    def keys(self, key_ids):
        return {key: copy.deepcopy(self.key_docs[key]) for key in key_ids if key in self.key_docs}

    def insert_alerts(self, alerts, batch_id):
        refused = set()
        for position, alert in enumerate(alerts):
            if alert["_id"] in self.docs:
                refused.add(position)
                continue
            if alert.get("purge_after"):
                alert["purge_slot"] = slot_of(max(alert["purge_after"], alert["received_at"]))
            self.docs[alert["_id"]] = copy.deepcopy(alert)
        return refused

    def open_outbox(self, entry_id, alert_ids, at, kind="received"):
        self.entries.setdefault(entry_id, {"_id": entry_id, "kind": kind, "alert_ids": list(alert_ids), "at": at})

    def close_outbox(self, entry_id):
        self.entries.pop(entry_id, None)

    def pending_outbox(self, older_than, limit=100):
        return sorted((e for e in self.entries.values() if e["at"] < older_than), key=lambda e: e["at"])[:limit]

    # -- reading --------------------------------------------------------------------------------

    def get(self, alert_id):
        if alert_id not in self.docs:
            raise NotFound(f"no alert {alert_id}")
        return self.docs[alert_id]

    def get_many(self, alert_ids):
        return {alert_id: self.docs[alert_id] for alert_id in alert_ids if alert_id in self.docs}

    def described(self, alert_id):
        alert = self.get(alert_id)
        repeats = [
            {"source_event_id": key["source_event_id"], "occurred_at": key["occurred_at"], "at": key["at"]}
            for key in self.key_docs.values()
            if key["alert_id"] == alert_id
            and (key["source_event_id"], key["source_system"]) != (alert["source_event_id"], alert["source_system"])
        ]
        resolution = self.resolved.get(alert_id, {})
        return {**alert, "repeats": repeats, **{k: resolution[k] for k in ("entities", "related") if k in resolution}}

    def with_entities(self, alerts):
        return [{**a, "entities": self.resolved.get(a["_id"], {}).get("entities", [])} for a in alerts]

    # -- changes --------------------------------------------------------------------------------

    def _change(self, alert_id, matches, update):
        doc = self.get(alert_id)
        if not matches(doc):
            return None
        after = apply_update(doc, update)
        self.tallies.changed("change", doc, after)
        self.docs[alert_id] = after
        return after

    def transition(self, alert_id, allowed_from, changes, action, unset=()):
        update = {"$push": {"actions": action}, "$inc": {"version": 1}, "$set": dict(changes)}
        if unset:
            update["$unset"] = dict.fromkeys(unset, "")
        after = self._change(alert_id, lambda doc: not allowed_from or doc["status"] in allowed_from, update)
        if after is None:
            status = self.get(alert_id)["status"]
            raise Conflict(f"alert {alert_id} is {status}", {"status": [f"is {status}"]})
        return after

    def mark_identified(self, alert_id, record, action, allowed_from):
        doc = self.get(alert_id)
        why = identification.conflict(doc)
        if why or doc["status"] not in allowed_from:
            raise Conflict(why or f"alert {alert_id} is {doc['status']}", {"alert": [why]})
        update = {
            "$set": {"identified": True, "identification": copy.deepcopy(record)},
            "$push": {"actions": action},
            "$inc": {"version": 1},
        }
        return self._change(alert_id, lambda d: True, update)

    def set_once(self, alert_id, empty_field, changes):
        return self._change(alert_id, lambda doc: doc.get(empty_field) is None, {"$set": changes}) is not None

    def mark_triaged(self, alert_id, at):
        update = {"$set": {"touched_at": at}, "$unset": {"triage_open": "", "overdue": ""}}
        return self._change(alert_id, lambda doc: doc.get("touched_at") is None, update) is not None

    def mark_promoted(self, alert_id, case_id, action):
        doc = self.get(alert_id)
        if doc["status"] == "dismissed":
            raise Conflict(f"alert {alert_id} is dismissed and cannot be promoted")
        if case_id in (doc.get("promoted_into") or []):
            return doc
        update = {
            "$set": {"status": "promoted"},
            "$addToSet": {"case_ids": case_id, "promoted_into": case_id},
            "$push": {"actions": action},
            "$unset": {"triage_open": "", "overdue": ""},
            "$inc": {"version": 1},
        }
        return self._change(alert_id, lambda d: True, update)

    def save_resolutions(self, resolutions):
        stored = 0
        for resolved in resolutions:
            if resolved["alert_id"] not in self.resolved:
                self.resolved[resolved["alert_id"]] = copy.deepcopy(resolved)
                stored += 1
        return stored

    # -- escalation and the aging queue ---------------------------------------------------------

    def due_for_escalation(self, now, limit=500):
        due = [d for d in self.docs.values() if d.get("triage_open") and d["triage_due"] <= now]
        return sorted(due, key=lambda d: d["triage_due"])[:limit]

    def escalate(self, alert_id, now, action):
        entry = f"escalated-{alert_id}"
        self.open_outbox(entry, [alert_id], now, kind="escalated")
        update = {"$set": {"overdue": True, "escalated_at": now}, "$unset": {"triage_open": ""}, "$inc": {"version": 1}}
        after = self._change(
            alert_id,
            lambda doc: doc.get("triage_open") and doc["triage_due"] <= now,
            {**update, "$push": {"actions": action}},
        )
        if after is None:
            self.close_outbox(entry)
        return after

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

    # -- retention ------------------------------------------------------------------------------

    def due_in_slot(self, slot, record_class):
        return [
            copy.deepcopy(d)
            for d in self.docs.values()
            if d.get("purge_slot") == slot and d["record_class"] == record_class
        ]

    def due_hours(self, record_class, until_hour):
        hours = {
            d["purge_slot"][:13]
            for d in self.docs.values()
            if d["record_class"] == record_class and d.get("purge_slot") and d["_id"] not in self.swept
        }
        return sorted(hour for hour in hours if hour <= until_hour)

    def finish_hour(self, record_class, hour):
        self.swept.update(
            d["_id"]
            for d in self.docs.values()
            if d["record_class"] == record_class and d.get("purge_slot", "")[:13] == hour
        )

    def delete_if_due(self, alert, now):
        doc = self.docs.get(alert["_id"])
        if doc is None or doc["purge_after"] > now or doc.get("case_ids") or doc.get("legal_hold"):
            return None
        self.key_docs = {k: v for k, v in self.key_docs.items() if v["alert_id"] != alert["_id"]}
        self.resolved.pop(alert["_id"], None)
        return self.docs.pop(alert["_id"])

    def _requeue(self, alert_id, now):
        doc = self.docs[alert_id]
        if doc.get("purge_after") and doc["purge_after"] <= now:
            doc["purge_slot"] = slot_of(now)
            self.swept.discard(alert_id)

    def set_legal_hold(self, alert_ids, case_id, held, now):
        update = {"$addToSet": {"legal_hold": case_id}} if held else {"$pull": {"legal_hold": case_id}}
        return self._each_changed(alert_ids, update, now, requeue=not held)

    def link_case(self, alert_ids, case_id, linked, now):
        update = {"$addToSet": {"case_ids": case_id}} if linked else {"$pull": {"case_ids": case_id}}
        return self._each_changed(alert_ids, update, now, requeue=not linked)

    def naming_case(self, case_id):
        return [
            d["_id"]
            for d in self.docs.values()
            if case_id in (d.get("case_ids") or []) or case_id in (d.get("legal_hold") or [])
        ]

    def forget_case(self, alert_ids, case_id, now):
        return self._each_changed(alert_ids, {"$pull": {"case_ids": case_id, "legal_hold": case_id}}, now, True)

    def _each_changed(self, alert_ids, update, now, requeue):
        changed = []
        for alert_id in dict.fromkeys(alert_ids):
            doc = self.docs.get(alert_id)
            if doc is None:
                continue
            after = dict(doc, version=doc.get("version", 1) + 1)
            for op, fields in update.items():
                for field, value in fields.items():
                    kept = [case for case in after.get(field) or [] if case != value]
                    after[field] = [*kept, value] if op == "$addToSet" else kept
            self.docs[alert_id] = after
            changed.append(after)
            if requeue:
                self._requeue(alert_id, now)
        return changed

    # -- the rest -------------------------------------------------------------------------------

    def count(self):
        return len(self.docs)

    def export(self, after, limit):
        ordered = sorted(self.docs.values(), key=lambda d: d["_id"])
        return [d for d in ordered if after is None or d["_id"] > after][:limit]

    def ping(self):
        return True
