"""The cases service's entrypoints: case files, their links and contents, review, export, webhooks.

Every entrypoint that touches one case receives the caller in ``context`` (``actor``, ``unit``,
``purpose``, ``case_number``, ``request_id``) and goes through :meth:`CasesService._open`, which
applies the visibility rule (rules.hidden_from) and C9 before anything is read or changed.
"""

import base64
import hashlib
from datetime import UTC, datetime

from marshmallow import ValidationError
from nameko.dependency_providers import Config
from nameko.events import EventDispatcher
from nameko.rpc import RpcProxy, rpc
from nameko.timer import timer

from casewire import events
from casewire.audit import AuditLog
from casewire.clock import Clock
from casewire.errors import EXPECTED, Conflict, Forbidden, InvalidInput, NotFound
from casewire.mongo import MongoStore
from services.cases import casefile, rules, webhooks
from services.cases.dependencies import CaseStore, ContentStore, WebhookStore, decode_cursor, encode_cursor
from services.cases.exceptions import CASES_EXPECTED, CorruptedFile, PurposeRequired
from services.cases.export import render_pdf
from services.cases.schemas import (
    ITEM_SCHEMAS,
    CaseIn,
    CaseListQuery,
    CaseOut,
    CasePatch,
    CustodyIn,
    DisseminationIn,
    EvidenceIn,
    ExportIn,
    LinkAlertIn,
    LinkEntityIn,
    MergeIn,
    PromoteIn,
    ReviewIn,
    UnlinkIn,
    WebhookIn,
    plain,
)

ERRORS = EXPECTED + CASES_EXPECTED
MIN_CHARS_KEY = "REASONABLE_SUSPICION_MIN_CHARS"
MAX_BYTES_KEY = "ATTACHMENT_MAX_BYTES"
WEBHOOK_ATTEMPTS_KEY = "WEBHOOK_MAX_ATTEMPTS"


def load(schema, data: dict, message: str) -> dict:
    try:
        return utc(schema().load(data or {}))
    except ValidationError as exc:
        raise InvalidInput(message, exc.messages) from exc


def utc(value):
    """Datetimes as MongoDB keeps them: UTC, to the millisecond."""
    if isinstance(value, dict):
        return {key: utc(item) for key, item in value.items()}
    if isinstance(value, list):
        return [utc(item) for item in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(microsecond=value.microsecond // 1000 * 1000)
    return value


def actor_id(context: dict | None) -> str:
    return ((context or {}).get("actor") or {}).get("id") or "system"


class CasesService:
    name = "cases"

    store = MongoStore(CaseStore)
    contents = MongoStore(ContentStore)
    hooks = MongoStore(WebhookStore)
    dispatch = EventDispatcher()
    audit = AuditLog()
    now = Clock()
    config = Config()
    entities_rpc = RpcProxy("entities")
    intake_rpc = RpcProxy("intake")

    # -- cases ------------------------------------------------------------------------------

    @rpc(expected_exceptions=ERRORS)
    def create_case(self, fields: dict, context: dict) -> dict:
        """Open a case, e.g. ``{"title": "Armed robbery, Main St", "unit": "robbery", "assignee": "bob"}``.

        Criminal intelligence (``"classification": "criminal_intelligence"``) must pass C2, C4, C5
        and C13 and starts ``pending_review`` (C3). Raises InvalidInput naming each missing field.
        """
        case = casefile.new_case(load(CaseIn, fields, "the case is invalid"), context, self._now(), self._min_chars())
        stored = self.store.insert(case)
        self.store.record(stored["_id"], "created", actor_id(context), stored["opened_at"])
        self._changed(stored, "created", context, assigned=stored["assignees"])
        return CaseOut().dump(stored)

    @rpc(expected_exceptions=ERRORS)
    def get_case(self, case_id: str, context: dict | None = None) -> dict:
        """One case, if the caller may see it (404 for hidden intelligence, 403 for another unit's case)."""
        return CaseOut().dump(self._open(case_id, context, "case.read"))

    @rpc(expected_exceptions=ERRORS)
    def list_cases(self, query: dict, context: dict) -> dict:
        """Cases the caller may see, newest first: ``{"status": "open", "limit": 50, "cursor": ...}``."""
        query = load(CaseListQuery, query, "the query is invalid")
        has_purpose = not rules.lacks_purpose({"classification": rules.CRIMINAL_INTELLIGENCE}, context)
        if query.get("classification") == rules.CRIMINAL_INTELLIGENCE and not has_purpose:
            self._refuse("case.list", None, context, "purpose")
        filters = {key: query[key] for key in ("status", "classification", "unit") if key in query}
        if "assignee" in query:
            filters["assignees"] = query["assignee"]
        if not rules.is_system(context):
            actor = context["actor"]
            filters["$or"] = [{"unit": context.get("unit"), "agency": actor.get("agency")}, {"assignees": actor["id"]}]
        if not has_purpose:
            filters["classification"] = {"$ne": rules.CRIMINAL_INTELLIGENCE}
        after = decode_cursor(query["cursor"]) if query.get("cursor") else None
        page = self.store.page(filters, query["limit"], after)
        items = [CaseOut().dump(case) for case in page if rules.hidden_from(case, context) is None]
        more = len(page) == query["limit"]
        return {"items": items, "next_cursor": encode_cursor(page[-1]["opened_at"], page[-1]["_id"]) if more else None}

    @rpc(expected_exceptions=ERRORS)
    def update_case(self, case_id: str, fields: dict, context: dict) -> dict:
        """Edit a case: ``{"status": "active"}``, ``{"assignee": "bob"}``, ``{"summary": "..."}``.

        Illegal status transitions raise Conflict (409). Editing never validates intelligence (C14).
        """
        case = self._open(case_id, context, "case.update")
        data = load(CasePatch, fields, "the change is invalid")
        reason = data.pop("reason", None)
        changes, added = casefile.patch(case, data, self._min_chars())
        if not changes:
            return CaseOut().dump(case)
        expect = {"version": case.get("version")}
        updated = self.store.update(case_id, {"$set": changes}, self._now(), expect)
        if "status" in changes:
            detail = {"from": case["status"], "to": changes["status"], "reason": reason}
            self.store.record(case_id, "status_changed", actor_id(context), updated["updated_at"], detail)
        if set(changes) - {"status"}:
            self.store.record(case_id, "updated", actor_id(context), updated["updated_at"], {"fields": sorted(changes)})
        self._changed(updated, "status_changed" if "status" in changes else "updated", context, assigned=added)
        return CaseOut().dump(updated)

    @rpc(expected_exceptions=ERRORS)
    def review_case(self, case_id: str, body: dict, context: dict) -> dict:
        """A supervisor approves (C3) or validates (C14) criminal intelligence with a written reason.

        ``{"decision": "validate", "justification": "..."}`` restarts the review period (C13).
        """
        review = load(ReviewIn, body, "the review is invalid")
        case = self._open(case_id, context, "case.review")
        roles = (context.get("actor") or {}).get("roles") or []
        if "supervisor" not in roles:
            raise Forbidden("only a supervisor reviews criminal intelligence")
        if case["classification"] != rules.CRIMINAL_INTELLIGENCE:
            raise Conflict("only criminal intelligence is reviewed")
        now, reviewer = self._now(), actor_id(context)
        entry = {
            "decision": review["decision"],
            "reviewer": reviewer,
            "at": now,
            "justification": review["justification"],
        }
        if review["decision"] == "approve":
            if case.get("review_state") != "pending_review":
                raise Conflict("this record is already approved")
            if reviewer == case.get("submitter"):
                raise Forbidden("a submitter cannot approve their own record")
            changes = {"review_state": "approved", "approved_by": reviewer, "approved_at": now}
        else:
            if case.get("review_state") == "pending_review":
                raise Conflict("approve the record before validating it")
            review_due = review.get("review_due") or now + rules.REVIEW_PERIOD
            rules.raise_if(rules.review_due_errors(review_due, now), "the review is invalid")
            changes = {"last_validated_at": now, "review_due": review_due}
        updated = self.store.update(
            case_id, {"$set": changes, "$push": {"reviews": entry}}, now, {"version": case.get("version")}
        )
        self.store.record(
            case_id, f"review.{review['decision']}", reviewer, now, {"justification": entry["justification"]}
        )
        self._changed(updated, f"review.{review['decision']}", context)
        return CaseOut().dump(updated)

    # -- links --------------------------------------------------------------------------------

    @rpc(expected_exceptions=ERRORS)
    def link_alert(self, case_id: str, body: dict, context: dict) -> dict:
        """Link an alert: ``{"alert_id": "...", "reason": "..."}``; one alert may be in many cases.

        Into criminal intelligence, the link needs its own ``reasonable_suspicion`` (C7).
        Calls intake.get_alert (NotFound when the alert does not exist).
        """
        data = load(LinkAlertIn, body, "the link is invalid")
        case = self._open(case_id, context, "case.link")
        alert = self.intake_rpc.get_alert(data["alert_id"])
        return CaseOut().dump(self._attach_alert(case, alert, data.get("reasonable_suspicion"), data, context))

    @rpc(expected_exceptions=ERRORS)
    def unlink_alert(self, case_id: str, alert_id: str, body: dict, context: dict) -> dict:
        """Unlink an alert, with a reason (kept in the case's ``unlinked_alerts`` and history)."""
        data = load(UnlinkIn, body, "the unlink is invalid")
        case = self._open(case_id, context, "case.link")
        if alert_id not in (case.get("alert_ids") or []):
            raise NotFound(f"alert {alert_id} is not linked to case {case_id}")
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
        return CaseOut().dump(updated)

    @rpc(expected_exceptions=ERRORS)
    def promote_alert(self, alert_id: str, body: dict, context: dict) -> dict:
        """Promote an alert into ``{"case_id"}`` or into a new case from the body's case fields.

        Idempotent: promoting the same alert into a new case twice answers the first case. Promotion
        into criminal intelligence needs its own reasonable-suspicion narrative (C7). Marks the alert
        ``promoted`` via intake.mark_promoted (Conflict if it was dismissed).
        """
        data = load(PromoteIn, body, "the promotion is invalid")
        alert = self.intake_rpc.get_alert(alert_id)
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
            case = self.store.find_promoted(alert_id) or self._new_from_alert(alert, data, extra, context)
        self.intake_rpc.mark_promoted(alert_id, case["_id"], context)
        return CaseOut().dump(case)

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

        The other case is closed with ``merged_into``. Intelligence never merges with other cases.
        """
        data = load(MergeIn, body, "the merge is invalid")
        if data["other_id"] == case_id:
            raise InvalidInput("a case cannot be merged into itself", {"other_id": ["must name another case"]})
        target = self._open(case_id, context, "case.merge")
        other = self._open(data["other_id"], context, "case.merge")
        if target["classification"] != other["classification"]:
            raise Conflict("cases of different classifications cannot be merged")
        if other.get("merged_into") or target.get("merged_into"):
            raise Conflict("a case that was merged away cannot take part in another merge")
        now, who = self._now(), actor_id(context)
        self.contents.move(other["_id"], case_id)
        changes = casefile.merged_links(target, other, who, now)
        changes["$push"]["merged_from"]["reason"] = data["reason"]
        merged = self.store.update(case_id, changes, now, {"version": target.get("version")})
        closed = self.store.update(other["_id"], {"$set": {"status": "closed", "merged_into": case_id}}, now)
        self.store.record(case_id, "merged", who, now, {"other_id": other["_id"], "reason": data["reason"]})
        self.store.record(other["_id"], "merged_into", who, now, {"case_id": case_id, "reason": data["reason"]})
        self._changed(closed, "merged_into", context)
        self._changed(merged, "merged", context)
        return CaseOut().dump(merged)

    # -- contents -------------------------------------------------------------------------------

    @rpc(expected_exceptions=ERRORS)
    def add_item(self, case_id: str, kind: str, body: dict, context: dict) -> dict:
        """Add a note, report, interview or task (``kind`` is ``notes|reports|interviews|tasks``)."""
        if kind not in ITEM_SCHEMAS:
            raise NotFound(f"cases hold no {kind}")
        data = load(ITEM_SCHEMAS[kind], body, f"the {kind[:-1]} is invalid")
        case = self._open(case_id, context, f"case.{kind}")
        for file_id in data.get("attachment_ids", []):
            try:
                self.contents.file_info(case_id, file_id)
            except NotFound as exc:
                raise InvalidInput("unknown attachment", {"attachment_ids": [str(exc)]}) from exc
        if kind == "interviews":
            data.setdefault("interviewer", actor_id(context))
        item = self.contents.add_item(
            {**data, "case_id": case_id, "kind": kind, "recorded_at": self._now(), "by": actor_id(context)}
        )
        self._touch(
            case,
            f"{kind[:-1]}_added",
            context,
            {"id": item["_id"]},
            assigned=[data["assignee"]] if kind == "tasks" else [],
        )
        return plain(item)

    @rpc(expected_exceptions=ERRORS)
    def list_items(self, case_id: str, kind: str, context: dict) -> dict:
        """A case's notes, reports, interviews, tasks or evidence, oldest first."""
        self._open(case_id, context, f"case.{kind}")
        return {"items": plain(self.contents.items_of(case_id, kind)), "next_cursor": None}

    @rpc(expected_exceptions=ERRORS)
    def add_evidence(self, case_id: str, body: dict, context: dict) -> dict:
        """Log an evidence item with its first custody entries; the chain can then only grow."""
        data = load(EvidenceIn, body, "the evidence item is invalid")
        case = self._open(case_id, context, "case.evidence")
        chain = data.pop("custody")
        item = self.contents.add_item(
            {**data, "case_id": case_id, "kind": "evidence", "recorded_at": self._now(), "by": actor_id(context)}
        )
        for entry in chain:
            self._custody(item["_id"], entry, context)
        self._touch(case, "evidence_added", context, {"id": item["_id"]})
        return self._evidence_out(item)

    @rpc(expected_exceptions=ERRORS)
    def add_custody(self, case_id: str, evidence_id: str, body: dict, context: dict) -> dict:
        """Append one transfer ``{"from","to","at","reason","condition"}``; ``from`` must hold the item."""
        data = load(CustodyIn, body, "the custody entry is invalid")
        case = self._open(case_id, context, "case.evidence")
        item = self.contents.get_item(case_id, evidence_id, "evidence")
        self._custody(evidence_id, data, context)
        self._touch(case, "custody_transferred", context, {"id": evidence_id, "to": data["to"]})
        return self._evidence_out(item)

    @rpc(expected_exceptions=ERRORS)
    def get_evidence(self, case_id: str, evidence_id: str, context: dict) -> dict:
        self._open(case_id, context, "case.evidence")
        return self._evidence_out(self.contents.get_item(case_id, evidence_id, "evidence"))

    @rpc(expected_exceptions=ERRORS)
    def upload_attachment(
        self, case_id: str, filename: str, data_b64: str, declared_type: str | None, context: dict
    ) -> dict:
        """Store a file (base64 over RPC) in GridFS with its sniffed type and SHA-256."""
        case = self._open(case_id, context, "case.attachments")
        data = base64.b64decode(data_b64)
        content_type, sha256 = casefile.check_upload(data, int(self.config.get(MAX_BYTES_KEY, 6 * 1024 * 1024)))
        metadata = {
            "case_id": case_id,
            "sha256": sha256,
            "content_type": content_type,
            "declared_content_type": declared_type,
            "uploaded_by": actor_id(context),
            "uploaded_at": self._now(),
        }
        file_id = self.contents.put_file(data, filename or "attachment", metadata)
        self._touch(case, "attachment_added", context, {"id": file_id, "sha256": sha256})
        return casefile.attachment_out(self.contents.file_info(case_id, file_id))

    @rpc(expected_exceptions=ERRORS)
    def get_attachment(self, case_id: str, file_id: str, context: dict) -> dict:
        """The file (base64) after checking it against the SHA-256 recorded at upload.

        A mismatch is audited (outcome ``failed``) and raises CorruptedFile.
        """
        self._open(case_id, context, "case.attachments")
        info = self.contents.file_info(case_id, file_id)
        try:
            data = self.contents.read_file(file_id)
        except Exception:  # GridFS raises CorruptGridFile or NoFile when chunks were damaged
            data = None
        if data is None or hashlib.sha256(data).hexdigest() != info["metadata"]["sha256"]:
            self.audit.record(
                "case.attachment.integrity",
                "failed",
                actor=(context or {}).get("actor"),
                record_type="attachment",
                record_ids=[file_id, case_id],
                request_id=(context or {}).get("request_id"),
                details={"reason": "sha256 mismatch"},
            )
            raise CorruptedFile(f"attachment {file_id} no longer matches the SHA-256 recorded at upload")
        return {**casefile.attachment_out(info), "data": base64.b64encode(data).decode()}

    # -- reading the case file -----------------------------------------------------------------

    @rpc(expected_exceptions=ERRORS)
    def related(self, case_id: str, context: dict) -> dict:
        """Cases and alerts that share entities with this case, each naming the shared entities.

        Calls intake.get_alert for linked alerts' entities and entities.get_entity for sightings.
        """
        case = self._open(case_id, context, "case.read")
        own = {case_id, *(case.get("alert_ids") or [])}
        refs = {
            e["entity_id"]: {"id": e["entity_id"], "type": e.get("type"), "display": e.get("display")}
            for e in case.get("entities") or []
        }
        for alert_id in case.get("alert_ids") or []:
            for ref in self.intake_rpc.get_alert(alert_id).get("entities") or []:
                refs.setdefault(ref["id"], {k: ref.get(k) for k in ("id", "type", "display")})
        found: dict[tuple, dict] = {}
        for entity_id, ref in refs.items():
            for sighting in self.entities_rpc.get_entity(entity_id).get("sightings") or []:
                if sighting["record_id"] in own:
                    continue
                record = found.setdefault(
                    (sighting["record_type"], sighting["record_id"]),
                    {"record_type": sighting["record_type"], "id": sighting["record_id"], "shared_entities": []},
                )
                if ref not in record["shared_entities"]:
                    record["shared_entities"].append(ref)
        alerts = [r for r in found.values() if r["record_type"] == "alert"]
        cases = {r["id"]: r for r in found.values() if r["record_type"] == "case"}
        for other in self.store.cases_with_alerts([r["id"] for r in alerts], exclude=case_id):
            shared = [ref for r in alerts if r["id"] in other["alert_ids"] for ref in r["shared_entities"]]
            entry = cases.setdefault(other["_id"], {"record_type": "case", "id": other["_id"], "shared_entities": []})
            entry["shared_entities"] += [ref for ref in shared if ref not in entry["shared_entities"]]
        visible = [c for c in cases.values() if self._may_see(c["id"], context)]
        return {"cases": visible, "alerts": alerts}

    @rpc(expected_exceptions=ERRORS)
    def timeline(self, case_id: str, context: dict) -> dict:
        """Every action, link, content item, custody transfer and sighting of the case, oldest first."""
        case = self._open(case_id, context, "case.read")
        items = self.contents.items_of(case_id)
        custody = {item["_id"]: self.contents.custody_of(item["_id"]) for item in items if item["kind"] == "evidence"}
        sightings = [
            s for e in case.get("entity_ids") or [] for s in self.entities_rpc.get_entity(e).get("sightings") or []
        ]
        sightings += [
            {"at": a.get("occurred_at"), "record_type": "alert", "record_id": a["alert_id"], "source": a.get("source")}
            for a in case.get("alerts") or []
        ]
        history = self.store.history_of(case_id)
        return {"items": casefile.timeline(history, items, custody, sightings, self.contents.files_of(case_id))}

    # -- dissemination and export (C10) ---------------------------------------------------------

    @rpc(expected_exceptions=ERRORS)
    def disseminate(self, case_id: str, body: dict, context: dict) -> dict:
        """Record a release ``{"recipient","agency","purpose","need_to_know"}`` (C10); audited."""
        data = load(DisseminationIn, body, "the dissemination is invalid")
        case = self._open(case_id, context, "case.disseminate")
        return plain(self._disseminated(case, {"kind": "share", **data}, context))

    @rpc(expected_exceptions=ERRORS)
    def list_disseminations(self, case_id: str, context: dict) -> dict:
        self._open(case_id, context, "case.read")
        return {"items": plain(self.store.disseminations_of(case_id)), "next_cursor": None}

    @rpc(expected_exceptions=ERRORS)
    def export_case(self, case_id: str, query: dict, context: dict) -> dict:
        """The whole case file as PDF or JSON (base64 in ``data``); the export is a dissemination (C10)."""
        request = load(ExportIn, query, "the export is invalid")
        case = self._open(case_id, context, "case.export")
        actor = (context or {}).get("actor") or {}
        entry = self._disseminated(
            case,
            {
                "kind": "export",
                "format": request["format"],
                "recipient": request.get("recipient") or actor.get("id"),
                "agency": request.get("agency") or actor.get("agency") or "",
                "purpose": f"case file export ({request['format']})",
                "need_to_know": request["need_to_know"],
            },
            context,
        )
        bundle = self._bundle(case, entry)
        if request["format"] == "json":
            return {
                "format": "json",
                "filename": f"case-{case_id}.json",
                "bundle": bundle,
                "dissemination_id": entry["_id"],
            }
        pdf = render_pdf(bundle)
        return {
            "format": "pdf",
            "filename": f"case-{case_id}.pdf",
            "data": base64.b64encode(pdf).decode(),
            "sha256": hashlib.sha256(pdf).hexdigest(),
            "dissemination_id": entry["_id"],
        }

    # -- webhooks ------------------------------------------------------------------------------

    @rpc(expected_exceptions=ERRORS)
    def create_webhook(self, body: dict, context: dict) -> dict:
        """Subscribe a URL to case events: ``{"url": "https://chat.example/hook", "events": ["case_assigned"]}``.

        Supervisors subscribe their own unit; admins any unit of their agency (or all of it).
        """
        data = load(WebhookIn, body, "the webhook is invalid")
        actor = context.get("actor") or {}
        if "admin" not in (actor.get("roles") or []):
            if data.get("unit") not in (None, context.get("unit")):
                raise Forbidden("a supervisor subscribes to their own unit's cases only")
            data["unit"] = context.get("unit")
        webhook = self.hooks.add(
            {**data, "agency": actor.get("agency"), "created_by": actor.get("id"), "created_at": self._now()}
        )
        return plain({key: value for key, value in webhook.items() if key != "secret"})

    @rpc(expected_exceptions=ERRORS)
    def list_webhooks(self, context: dict) -> dict:
        query = {"agency": ((context or {}).get("actor") or {}).get("agency")}
        hooks = [{key: value for key, value in hook.items() if key != "secret"} for hook in self.hooks.all(query)]
        return {"items": plain(hooks), "next_cursor": None}

    @rpc(expected_exceptions=ERRORS)
    def webhook_deliveries(self, webhook_id: str) -> list:
        return plain(self.hooks.deliveries_of(webhook_id))

    @timer(interval=1)
    def deliver_webhooks(self) -> None:
        """Try every due delivery once; failures back off exponentially until WEBHOOK_MAX_ATTEMPTS."""
        now, max_attempts = self._now(), int(self.config.get(WEBHOOK_ATTEMPTS_KEY, 8))
        for due in self.hooks.due(now):
            delivery = self.hooks.claim(due["_id"], now, webhooks.next_try(now, 6))
            if delivery is None:
                continue
            error = webhooks.attempt(delivery["webhook"], delivery)
            attempts = delivery.get("attempts", 0) + 1
            if error is None:
                self.hooks.finish(
                    delivery["_id"], {"state": "delivered", "attempts": attempts, "delivered_at": self._now()}
                )
            else:
                state = "failed" if attempts >= max_attempts else "pending"
                self.hooks.finish(
                    delivery["_id"],
                    {
                        "state": state,
                        "attempts": attempts,
                        "last_error": error,
                        "next_at": webhooks.next_try(self._now(), attempts),
                    },
                )

    @rpc
    def health(self) -> dict:
        """Whether MongoDB answers."""
        return {"mongodb": self.store.ping()}

    # -- helpers ---------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return utc(self.now())

    def _min_chars(self) -> int:
        return int(self.config.get(MIN_CHARS_KEY, rules.DEFAULT_MIN_SUSPICION_CHARS))

    def _open(self, case_id: str, context: dict | None, action: str) -> dict:
        """The case, if the caller may see it; refusals are audited (C6 → 404, C9 → 400)."""
        case = self.store.get(case_id)
        reason = rules.hidden_from(case, context)
        if reason:
            self._refuse(action, case_id, context, reason)
        if rules.lacks_purpose(case, context):
            self._refuse(action, case_id, context, "purpose")
        return case

    def _may_see(self, case_id: str, context: dict | None) -> bool:
        try:
            case = self.store.get(case_id)
        except NotFound:
            return False
        return rules.hidden_from(case, context) is None and not rules.lacks_purpose(case, context)

    def _refuse(self, action: str, case_id: str | None, context: dict | None, reason: str) -> None:
        context = context or {}
        self.audit.record(
            action,
            "denied",
            actor=context.get("actor"),
            record_type="case",
            record_ids=[case_id] if case_id else [],
            request_id=context.get("request_id"),
            purpose=context.get("purpose"),
            case_number=context.get("case_number"),
            details={"reason": reason},
        )
        if reason == "purpose":
            raise PurposeRequired(
                "criminal intelligence is read only with a stated purpose (X-Purpose) "
                "and a case or incident number (X-Case-Number)"
            )
        if reason == "secret":
            raise NotFound(f"no case {case_id}")
        raise Forbidden("this case belongs to another unit and is not assigned to you")

    def _attach_alert(self, case: dict, alert: dict, narrative: str | None, extra: dict, context: dict) -> dict:
        if alert["id"] in (case.get("alert_ids") or []):
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
        updated = self.store.update(case["_id"], changes, now, {"version": case.get("version")})
        self.store.record(
            case["_id"],
            "alert_linked",
            actor_id(context),
            now,
            {"alert_id": alert["id"], "promoted": bool(extra.get("promoted"))},
        )
        self._changed(updated, "alert_linked", context)
        return updated

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
        case.update(alerts=[entry], alert_ids=[alert["id"]], promoted_from_alert=alert["id"])
        stored = self.store.insert(case)
        self.store.record(stored["_id"], "created", actor_id(context), now, {"promoted_from_alert": alert["id"]})
        self._changed(stored, "created", context, assigned=stored["assignees"])
        return stored

    def _custody(self, evidence_id: str, entry: dict, context: dict) -> dict:
        entry = {key: value for key, value in entry.items() if key != "from_"} | {"from": entry["from_"]}
        entry.update(recorded_by=actor_id(context), recorded_at=self._now())
        return self.contents.append_custody(evidence_id, entry)

    def _evidence_out(self, item: dict) -> dict:
        return plain({**item, "custody": self.contents.custody_of(item["_id"])})

    def _touch(self, case: dict, change: str, context: dict, detail: dict, assigned=()) -> None:
        """Record a change to the case's contents: history, a new version, the events."""
        now = self._now()
        updated = self.store.update(case["_id"], {}, now)
        self.store.record(case["_id"], change, actor_id(context), now, detail)
        self._changed(updated, change, context, assigned=assigned)

    def _disseminated(self, case: dict, data: dict, context: dict) -> dict:
        actor, now = (context or {}).get("actor") or {}, self._now()
        entry = self.store.add_dissemination(
            {
                **data,
                "record_ids": [case["_id"]],
                "classification": case["classification"],
                "sensitivity": case.get("sensitivity"),
                "at": now,
                "by": actor.get("id"),
                "by_agency": actor.get("agency"),
                "by_unit": (context or {}).get("unit"),
            }
        )
        self.audit.record(
            "case.disseminate",
            "allowed",
            actor=actor or None,
            record_type="case",
            record_ids=[case["_id"]],
            request_id=(context or {}).get("request_id"),
            purpose=data.get("purpose"),
            details={
                "dissemination_id": entry["_id"],
                "recipient": data["recipient"],
                "agency": data["agency"],
                "kind": data["kind"],
            },
        )
        self.store.record(
            case["_id"],
            "disseminated",
            actor.get("id") or "system",
            now,
            {"dissemination_id": entry["_id"], "recipient": data["recipient"], "agency": data["agency"]},
        )
        return entry

    def _bundle(self, case: dict, entry: dict) -> dict:
        items = self.contents.items_of(case["_id"])
        by_kind = {
            kind: [plain(i) for i in items if i["kind"] == kind] for kind in ("notes", "reports", "interviews", "tasks")
        }
        evidence = [self._evidence_out(i) for i in items if i["kind"] == "evidence"]
        return plain(
            {
                "case": CaseOut().dump(case),
                **by_kind,
                "evidence": evidence,
                "attachments": [casefile.attachment_out(info) for info in self.contents.files_of(case["_id"])],
                "disseminations": self.store.disseminations_of(case["_id"]),
                "history": self.store.history_of(case["_id"]),
                "exported_at": entry["at"],
                "exported_by": entry["by"],
                "recipient": entry["recipient"],
                "agency": entry["agency"],
                "need_to_know": entry["need_to_know"],
                "dissemination_id": entry["_id"],
            }
        )

    def _changed(self, case: dict, change: str, context: dict | None, assigned=()) -> None:
        """Announce a change (``case_updated``, ``case_assigned``) and queue webhook deliveries."""
        payload = casefile.case_event(case, change)
        self.dispatch(events.CASE_UPDATED, payload)
        self._enqueue(events.CASE_UPDATED, payload, case)
        for assignee in assigned:
            assignment = events.CaseAssigned().load(
                {
                    "case_id": case["_id"],
                    "title": case["title"],
                    "unit": case["unit"],
                    "assignee": assignee,
                    "assigned_by": actor_id(context),
                    "at": case["updated_at"].isoformat(),
                    "version": case.get("version", 1),
                }
            )
            self.dispatch(events.CASE_ASSIGNED, assignment)
            self._enqueue(events.CASE_ASSIGNED, assignment, case)

    def _enqueue(self, event_type: str, payload: dict, case: dict) -> None:
        now = self._now()
        for hook in self.hooks.listening(event_type):
            if webhooks.may_receive(hook, case):
                self.hooks.enqueue(
                    {
                        "webhook_id": hook["_id"],
                        "webhook": {"url": hook["url"], "secret": hook.get("secret")},
                        "event": event_type,
                        "data": payload,
                        "state": "pending",
                        "attempts": 0,
                        "created_at": now,
                        "next_at": now,
                    }
                )
