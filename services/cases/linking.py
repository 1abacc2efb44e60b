"""Links: alerts (promotion, unlinking), entities with roles, merges, related records and the timeline."""

from casewire import access_rules
from casewire.contracts.case_inputs import CasesMergeIn, LinkAlertIn, LinkEntityIn, PromoteIn, UnlinkIn
from casewire.contracts.cases import CaseOut
from casewire.errors import Conflict, Forbidden, InvalidInput, NotFound
from casewire.rpc import rpc
from services.cases import casefile, rules
from services.cases.dependencies import new_id
from services.cases.worker import ERRORS, CaseWorker, actor_id, load


class LinkEntrypoints(CaseWorker):
    """Alerts, entities and other cases a case is tied to."""

    @rpc(expected_exceptions=ERRORS)
    def link_alert(self, case_id: str, body: dict, context: dict) -> dict:
        """Link an alert: ``{"alert_id": "...", "reason": "..."}``; one alert may be in many cases.

        Into criminal intelligence, the link needs its own ``reasonable_suspicion`` (C7).
        Calls intake.get_alert (NotFound when the alert does not exist).
        """
        data = load(LinkAlertIn, body, "the link is invalid")
        case = self._open(case_id, context, "case.link")
        alert = self._visible_alert(data["alert_id"], context)
        return CaseOut().dump(self._attach_alert(case, alert, data.get("reasonable_suspicion"), data, context))

    @rpc(expected_exceptions=ERRORS)
    def unlink_alert(self, case_id: str, alert_id: str, body: dict, context: dict) -> dict:
        """Unlink an alert, with a reason (kept in the case's ``unlinked_alerts`` and history)."""
        data = load(UnlinkIn, body, "the unlink is invalid")
        case = self._open(case_id, context, "case.link")
        if alert_id not in (case.get("alert_ids") or []):
            if not any(entry["alert_id"] == alert_id for entry in case.get("unlinked_alerts") or []):
                raise NotFound(f"alert {alert_id} is not linked to case {case_id}")
            self._let_go(case_id, alert_id, context)  # unlinked before: sent again after a crash, intake is told
            return CaseOut().dump(case)
        now = self._now()
        gone = {"alert_id": alert_id, "unlinked_at": now, "unlinked_by": actor_id(context), "reason": data["reason"]}
        changes = {
            "$set": {
                "alerts": [entry for entry in case["alerts"] if entry["alert_id"] != alert_id],
                "alert_ids": [other for other in case["alert_ids"] if other != alert_id],
            },
            "$push": {"unlinked_alerts": gone},
        }
        updated = self.store.update(case_id, changes, now, {"version": case.get("version")})
        self.store.record(
            case_id, "alert_unlinked", actor_id(context), now, {"alert_id": alert_id, "reason": data["reason"]}
        )
        self._changed(updated, "alert_unlinked", context)
        self._let_go(case_id, alert_id, context)
        return CaseOut().dump(updated)

    def _let_go(self, case_id: str, alert_id: str, context: dict) -> None:
        """Intake no longer keeps the alert for this case (C19), nor holds it for the case's holds."""
        self.intake_rpc.link_case([alert_id], case_id, False, context)
        if self.oversight.active_holds([case_id]):
            self.intake_rpc.set_legal_hold([alert_id], case_id, False, context)

    @rpc(expected_exceptions=ERRORS)
    def promote_alert(self, alert_id: str, body: dict, context: dict) -> dict:
        """Promote an alert into ``{"case_id"}`` or into a new case from the body's case fields.

        Idempotent: promoting the same alert into a new case twice answers the first case. Promotion
        into criminal intelligence needs its own reasonable-suspicion narrative (C7). Marks the alert
        ``promoted`` via intake.mark_promoted (Conflict if it was dismissed).
        """
        data = load(PromoteIn, body, "the promotion is invalid")
        alert = self._visible_alert(alert_id, context)
        if alert["status"] == "dismissed":
            raise Conflict(f"alert {alert_id} was dismissed; it cannot be promoted")
        extra = {"reason": data.pop("reason", None), "promoted": True}
        if data.get("case_id"):
            case = self._attach_alert(
                self._open(data["case_id"], context, "case.link"),
                alert,
                data.get("reasonable_suspicion"),
                extra,
                context,
            )
        else:
            case = self._promoted_before(alert_id, context) or self._new_from_alert(alert, data, extra, context)
        self.intake_rpc.mark_promoted(alert_id, case["_id"], context)
        return CaseOut().dump(case)

    def _promoted_before(self, alert_id: str, context: dict) -> dict | None:
        """The case the alert was first promoted into, opened like any read (C3, C6, C9), or None.

        A caller who may not open that case gets the read's refusal (404 or 403, audited), never the case.
        """
        earlier = self.store.find_promoted(alert_id)
        return self._open(earlier["_id"], context, "case.read") if earlier else None

    def _visible_alert(self, alert_id: str, context: dict) -> dict:
        """The alert from intake, when the caller may open it (``casewire.access_rules.alert_visible``)."""
        alert = self.intake_rpc.get_alert(alert_id)
        if not access_rules.alert_visible(access_rules.Caller.from_context(context), alert):
            raise Forbidden(f"you may not open alert {alert_id}: it is another agency's")
        return alert

    @rpc(expected_exceptions=ERRORS)
    def link_entity(self, case_id: str, body: dict, context: dict) -> dict:
        """Link an entity with a role: ``{"entity_id": "...", "role": "suspect"}``.

        Calls entities.record_case_link (NotFound when the entity does not exist).
        """
        data = load(LinkEntityIn, body, "the link is invalid")
        case = self._open(case_id, context, "case.link")
        if any((e["entity_id"], e["role"]) == (data["entity_id"], data["role"]) for e in case.get("entities") or []):
            return CaseOut().dump(case)
        now = self._now()
        linked = self.entities_rpc.record_case_link(case_id, data["entity_id"], data["role"], now.isoformat(), context)
        entity = linked["entity"]
        entry = {
            "entity_id": entity["id"],
            "type": entity["type"],
            "display": entity["display"],
            "role": data["role"],
            "linked_at": now,
            "linked_by": actor_id(context),
            **({"note": data["note"]} if data.get("note") else {}),
        }
        changes = {"$push": {"entities": entry}, "$addToSet": {"entity_ids": entity["id"]}}
        updated = self.store.update(case_id, changes, now, {"version": case.get("version")})
        self.store.record(
            case_id, "entity_linked", actor_id(context), now, {"entity_id": entity["id"], "role": data["role"]}
        )
        self._changed(updated, "entity_linked", context)
        return CaseOut().dump(updated)

    @rpc(expected_exceptions=ERRORS)
    def merge_cases(self, case_id: str, body: dict, context: dict) -> dict:
        """Merge ``{"other_id", "reason"}`` into this case; every moved part keeps ``origin_case_id``.

        The other case is closed with ``merged_into``. Only investigative cases merge: criminal intelligence
        (its labels, review state and predicate belong to one record, C3, C5) and identifying records never
        do (Conflict). Both cases change only at the versions read here, and contents move only after both
        changes are stored, so a merge that loses a race (Conflict) leaves nothing moved.
        """
        data = load(CasesMergeIn, body, "the merge is invalid")
        if data["other_id"] == case_id:
            raise InvalidInput("a case cannot be merged into itself", {"other_id": ["must name another case"]})
        target = self._open(case_id, context, "case.merge")
        other = self._open(data["other_id"], context, "case.merge")
        if {target["classification"], other["classification"]} != {rules.INVESTIGATIVE}:
            raise Conflict("only investigative cases merge; link criminal intelligence or identifying records instead")
        if other.get("merged_into") or target.get("merged_into"):
            raise Conflict("a case that was merged away cannot take part in another merge")
        now, who = self._now(), actor_id(context)
        closing = {"$set": {"status": "closed", "merged_into": case_id}}
        closed = self.store.update(other["_id"], closing, now, {"version": other.get("version")})
        changes = casefile.merged_links(target, other, who, now)
        changes["$push"]["merged_from"]["reason"] = data["reason"]
        try:
            merged = self.store.update(case_id, changes, now, {"version": target.get("version")})
        except Conflict:  # the target changed meanwhile: reopen the other case as it was
            undo = {"$set": {"status": other["status"]}, "$unset": {"merged_into": ""}}
            self.store.update(other["_id"], undo, self._now(), {"version": closed["version"]})
            raise
        self.contents.move(other["_id"], case_id)
        self.store.record(case_id, "merged", who, now, {"other_id": other["_id"], "reason": data["reason"]})
        self.store.record(other["_id"], "merged_into", who, now, {"case_id": case_id, "reason": data["reason"]})
        self._changed(closed, "merged_into", context)
        self._changed(merged, "merged", context)
        return CaseOut().dump(merged)

    @rpc(expected_exceptions=ERRORS)
    def related(self, case_id: str, context: dict) -> dict:
        """Cases and alerts that share entities with this case, each naming the shared entities; only
        those the caller may open (another agency's alerts and cases outside its reach are left out).

        Asks the entities service (the owner of sightings) what relates to the case itself and to
        each of its linked alerts, and merges the answers.
        """
        case = self._open(case_id, context, "case.read")
        own = {case_id, *(case.get("alert_ids") or [])}
        found: dict[tuple, dict] = {}
        sources = [("case", case_id)] + [("alert", alert_id) for alert_id in case.get("alert_ids") or []]
        for record_type, record_id in sources:
            for other in self.entities_rpc.related_records(record_type, record_id):
                if other["id"] in own:
                    continue
                record = found.setdefault(
                    (other["record_type"], other["id"]),
                    {"record_type": other["record_type"], "id": other["id"], "shared_entities": []},
                )
                record.setdefault("agency", other.get("agency"))
                for ref in other["shared_entities"]:
                    ref = {k: ref.get(k) for k in ("id", "type", "display")}
                    if ref not in record["shared_entities"]:
                        record["shared_entities"].append(ref)
        caller = access_rules.Caller.from_context(context)
        alerts = [
            {k: v for k, v in r.items() if k != "agency"}
            for r in found.values()
            if r["record_type"] == "alert" and access_rules.alert_visible(caller, r)
        ]
        cases = {
            r["id"]: {k: v for k, v in r.items() if k != "agency"} for r in found.values() if r["record_type"] == "case"
        }
        for other in self.store.cases_with_alerts([r["id"] for r in alerts], exclude=case_id):
            shared = [ref for r in alerts if r["id"] in other["alert_ids"] for ref in r["shared_entities"]]
            entry = cases.setdefault(other["_id"], {"record_type": "case", "id": other["_id"], "shared_entities": []})
            entry["shared_entities"] += [ref for ref in shared if ref not in entry["shared_entities"]]
        visible = [c for c in cases.values() if self._may_see(c["id"], context)]
        return {"cases": visible, "alerts": alerts}

    @rpc(expected_exceptions=ERRORS)
    def visible_cases(self, case_ids: list, context: dict) -> dict:
        """Of ``case_ids``, the cases the caller may open, as short summaries (unknown ids are left out).

        ``visible_cases(["c1", "c2"], context)`` → ``{"items": [{"id", "title", "status", "classification",
        "unit"}]}``: what the gateway shows next to an alert (the cases it relates to or was promoted into)
        without naming a case the caller may not see (C3, C6) or criminal intelligence without a purpose (C9).
        """
        items = []
        for case_id in list(dict.fromkeys(str(i) for i in case_ids or []))[:200]:
            try:
                case = self.store.get(case_id)
            except NotFound:
                continue
            if rules.hidden_from(case, context) is None and not rules.lacks_purpose(case, context):
                keys = ("title", "status", "classification", "unit")
                items.append({"id": case["_id"], **{key: case.get(key) for key in keys}})
        return {"items": items}

    @rpc(expected_exceptions=ERRORS)
    def timeline(self, case_id: str, context: dict) -> dict:
        """Every action, link, content item, custody transfer and sighting of the case, oldest first.

        The sightings of the case's entities are those of records the caller may open: the case's own,
        its agency's alerts (``casewire.access_rules.alert_visible``) and the other cases the caller may see.
        """
        case = self._open(case_id, context, "case.read")
        items = self.contents.items_of(case_id)
        custody = {item["_id"]: self.contents.custody_of(item["_id"]) for item in items if item["kind"] == "evidence"}
        caller = access_rules.Caller.from_context(context)
        found = [
            s for e in case.get("entity_ids") or [] for s in self.entities_rpc.get_entity(e).get("sightings") or []
        ]
        other_cases = {s["record_id"] for s in found if s.get("record_type") == "case" and s["record_id"] != case_id}
        may_see = {case_id} | {other for other in other_cases if self._may_see(other, context)}
        sightings = [
            s
            for s in found
            if (s.get("record_type") == "alert" and access_rules.alert_visible(caller, s))
            or (s.get("record_type") == "case" and s["record_id"] in may_see)
        ]
        sightings += [
            {"at": a.get("occurred_at"), "record_type": "alert", "record_id": a["alert_id"], "source": a.get("source")}
            for a in case.get("alerts") or []
        ]
        history = self.store.history_of(case_id)
        return {"items": casefile.timeline(history, items, custody, sightings, self.contents.files_of(case_id))}

    def _attach_alert(self, case: dict, alert: dict, narrative: str | None, extra: dict, context: dict) -> dict:
        if alert["id"] in (case.get("alert_ids") or []):
            self._hold_linked(case["_id"], alert["id"], context)  # a retry after a crash finishes the hand-off
            return case
        if case["classification"] == rules.CRIMINAL_INTELLIGENCE:
            rules.raise_if(rules.sensor_predicate_errors(narrative, alert, self._min_chars()), "the link is invalid")
        now = self._now()
        entry = casefile.alert_entry(
            alert,
            actor_id(context),
            now,
            reasonable_suspicion=narrative,
            reason=extra.get("reason"),
            promoted=extra.get("promoted"),
        )
        changes = {"$push": {"alerts": entry}, "$addToSet": {"alert_ids": alert["id"]}}
        self._keep_alert(alert["id"], case["_id"], context)
        try:
            updated = self.store.update(case["_id"], changes, now, {"version": case.get("version")})
        except Exception:
            self.intake_rpc.link_case([alert["id"]], case["_id"], False, context)
            raise
        self.store.record(
            case["_id"],
            "alert_linked",
            actor_id(context),
            now,
            {"alert_id": alert["id"], "promoted": bool(extra.get("promoted"))},
        )
        self._changed(updated, "alert_linked", context)
        self._hold_linked(case["_id"], alert["id"], context)
        return updated

    def _hold_linked(self, case_id: str, alert_id: str, context: dict) -> None:
        """The link is stored before the holds are read, and a hold is stored before it reads the case's
        alerts (place_hold): either way a held case's new alert is held in intake too."""
        if self.oversight.active_holds([case_id]):
            self.intake_rpc.set_legal_hold([alert_id], case_id, True, context)

    def _keep_alert(self, alert_id: str, case_id: str, context: dict) -> None:
        """Intake keeps an alert a case names past its retention deadline (C19): told before the link is
        stored, so a link is never stored while the alert could still be purged (a link not stored then
        lets it go again). NotFound when the alert was purged before intake was told."""
        if not self.intake_rpc.link_case([alert_id], case_id, True, context):
            raise NotFound(f"alert {alert_id} no longer exists: its retention deadline passed")

    def _new_from_alert(self, alert: dict, data: dict, extra: dict, context: dict) -> dict:
        fields = {key: value for key, value in data.items() if key != "case_id"}
        if not fields.get("title"):
            raise InvalidInput("the new case needs a title", {"title": ["a new case needs a title"]})
        if fields.get("classification") == rules.CRIMINAL_INTELLIGENCE:
            rules.raise_if(
                rules.sensor_predicate_errors(fields.get("reasonable_suspicion"), alert, self._min_chars()),
                "the promotion is invalid",
            )
        now = self._now()
        case = casefile.new_case(fields, context, now, self._min_chars())
        entry = casefile.alert_entry(alert, actor_id(context), now, reason=extra.get("reason"), promoted=True)
        case.update(_id=new_id(), alerts=[entry], alert_ids=[alert["id"]], promoted_from_alert=alert["id"])
        self._keep_alert(alert["id"], case["_id"], context)
        try:
            stored = self.store.insert(case)
        except Exception:
            self.intake_rpc.link_case([alert["id"]], case["_id"], False, context)
            raise
        self.store.record(stored["_id"], "created", actor_id(context), now, {"promoted_from_alert": alert["id"]})
        self._changed(stored, "created", context, assigned=stored["assignees"])
        return stored
