"""Cases themselves: open, read, list, edit, move through the workflow, review (C3, C13, C14)."""

from casewire.contracts.case_inputs import CaseIn, CaseListQuery, CasePatch, ReviewIn
from casewire.contracts.cases import CaseOut
from casewire.errors import Conflict, Forbidden
from casewire.rpc import rpc
from services.cases import casefile, rules
from services.cases.dependencies import decode_cursor, encode_cursor
from services.cases.worker import ERRORS, CaseWorker, actor_id, keyed_id, load


class WorkflowEntrypoints(CaseWorker):
    """Open, read, list, edit and review cases."""

    @rpc(expected_exceptions=ERRORS)
    def create_case(self, fields: dict, context: dict) -> dict:
        """Open a case, e.g. ``{"title": "Armed robbery, Main St", "unit": "robbery", "assignee": "bob"}``.

        Criminal intelligence (``"classification": "criminal_intelligence"``) must pass C2, C4, C5
        and C13 and starts ``pending_review`` (C3). Raises InvalidInput naming each missing field.
        With an ``idempotency_key`` in ``context``, a retry answers the case the first attempt opened.
        """
        data = load(CaseIn, fields, "the case is invalid")
        if data["classification"] == rules.IDENTIFYING or data.get("attached_to"):
            self._check_identifying(data, context)
        case = casefile.new_case(data, context, self._now(), self._min_chars())
        case_id = keyed_id(context, "case")
        if case_id:
            earlier = self.store.find(case_id)
            if earlier is not None:  # a retry: the case its first attempt opened
                return CaseOut().dump(earlier)
            case["_id"] = case_id
        stored = self.store.insert(case)
        self.store.record(stored["_id"], "created", actor_id(context), stored["opened_at"])
        self._changed(stored, "created", context, assigned=stored["assignees"])
        return CaseOut().dump(stored)

    def _check_identifying(self, data: dict, context: dict) -> None:
        """C8: the record it attaches to must be approved criminal intelligence the caller may open."""
        if data["classification"] != rules.IDENTIFYING:
            rules.raise_if({"attached_to": ["only identifying information is attached to a record"]}, "invalid")
        if not data.get("attached_to"):
            rules.raise_if({"attached_to": ["identifying information names the record it attaches to"]}, "invalid")
        parent = self._open(data["attached_to"], context, "case.link")
        rules.raise_if(rules.identifying_errors(data, parent), "the identifying information is invalid")

    @rpc(expected_exceptions=ERRORS)
    def get_case(self, case_id: str, context: dict | None = None) -> dict:
        """One case, if the caller may see it (404 for hidden intelligence, 403 for another unit's case)."""
        return CaseOut().dump(self._with_holds([self._open(case_id, context, "case.read")])[0])

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
        Only the owning unit changes assignees; only its supervisors move the case to another unit or
        change its sensitivity, control official or review date, with a ``reason`` (rules.edit_refusal);
        others get Forbidden (403, audited).
        """
        case = self._open(case_id, context, "case.update")
        data = load(CasePatch, fields, "the change is invalid")
        reason = data.pop("reason", None)
        changes, added = casefile.patch(case, data, self._min_chars())
        rules.raise_if(rules.past_review_due_errors(changes.get("review_due"), self._now()), "the change is invalid")
        if not changes:
            return CaseOut().dump(case)
        self._authorize_edit(case, changes, reason, context)
        expect = {"version": case.get("version")}
        updated = self.store.update(case_id, {"$set": changes}, self._now(), expect)
        for field, action in rules.SUPERVISED_EDITS.items():
            if field in changes:
                detail = {"from": case.get(field), "to": changes[field], "reason": reason}
                self.store.record(
                    case_id, action.removeprefix("case."), actor_id(context), updated["updated_at"], detail
                )
        if "status" in changes:
            detail = {"from": case["status"], "to": changes["status"], "reason": reason}
            self.store.record(case_id, "status_changed", actor_id(context), updated["updated_at"], detail)
        if set(changes) - {"status"}:
            self.store.record(case_id, "updated", actor_id(context), updated["updated_at"], {"fields": sorted(changes)})
        self._changed(updated, "status_changed" if "status" in changes else "updated", context, assigned=added)
        corrected = sorted(set(changes) - rules.NOT_CORRECTIONS)
        if corrected:
            self._notify_recipients(updated, "corrected", corrected)  # C11
        return CaseOut().dump(updated)

    def _authorize_edit(self, case: dict, changes: dict, reason: str | None, context: dict) -> None:
        """Refuse (403, audited) what the caller may not change; audit each privileged change first (C23)."""
        refusal = rules.edit_refusal(case, changes, context)
        if refusal:
            self._audit("case.update", "denied", context, [case["_id"]], details={"reason": refusal})
            raise Forbidden(refusal)
        supervised = [field for field in rules.SUPERVISED_EDITS if field in changes]
        if supervised and not reason:
            rules.raise_if({"reason": [f"say why the {' and '.join(supervised)} changes"]}, "the change is invalid")
        for field in supervised:
            detail = {"field": field, "from": case.get(field), "to": changes[field], "reason": reason}
            self._audit(rules.SUPERVISED_EDITS[field], "allowed", context, [case["_id"]], details=detail)
        if "assignees" in changes:
            before, after = case.get("assignees") or [], changes["assignees"]
            detail = {"added": [a for a in after if a not in before], "removed": [a for a in before if a not in after]}
            self._audit("case.assign", "allowed", context, [case["_id"]], details=detail)

    @rpc(expected_exceptions=ERRORS)
    def review_case(self, case_id: str, body: dict, context: dict) -> dict:
        """A supervisor approves (C3) or validates (C14) criminal intelligence with a written reason.

        ``{"decision": "validate", "justification": "..."}`` restarts the review period (C13);
        ``{"decision": "purge", "justification": "..."}`` is the purge authority's manual purge (C17).
        """
        review = load(ReviewIn, body, "the review is invalid")
        if review["decision"] == "purge":  # the review path to a manual purge (C17)
            return self.purge_case(case_id, {"reason": review["justification"]}, context)
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
            errors = rules.review_due_errors(review_due, now) | rules.past_review_due_errors(review_due, now)
            rules.raise_if(errors, "the review is invalid")
            changes = {"last_validated_at": now, "review_due": review_due, "purge_due": review_due}
        updated = self.store.update(
            case_id, {"$set": changes, "$push": {"reviews": entry}}, now, {"version": case.get("version")}
        )
        self.store.record(
            case_id, f"review.{review['decision']}", reviewer, now, {"justification": entry["justification"]}
        )
        self._changed(updated, f"review.{review['decision']}", context)
        return CaseOut().dump(updated)
