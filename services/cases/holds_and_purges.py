"""Review queue, legal holds and purges of criminal intelligence (C15, C16, C17)."""

from nameko.timer import timer

from casewire import events
from casewire.contracts.case_inputs import HoldIn, PurgeIn, QueueQuery, ReleaseIn
from casewire.contracts.cases import plain
from casewire.errors import Conflict, Forbidden, NotFound, Unavailable
from casewire.rpc import rpc
from services.cases import retention, rules
from services.cases.worker import ERRORS, CaseWorker, actor_id, load

PURGE_ROLE = "purge_authority"
PURGE_PAGE = 200  # due records read at a time by the purge timer
# What the purge authority removes by hand (C17): intelligence and what identifies its subjects (C8).
# An investigative case holds evidence and a chain of custody that the courts may still need: it follows
# its agency's records schedule, never a purge by hand.
PURGEABLE = (rules.CRIMINAL_INTELLIGENCE, rules.IDENTIFYING)


def _roles(context: dict | None) -> list[str]:
    return ((context or {}).get("actor") or {}).get("roles") or []


def _agency(context: dict | None) -> str | None:
    return ((context or {}).get("actor") or {}).get("agency")


class HoldAndPurgeEntrypoints(CaseWorker):
    """What happens to criminal intelligence as its review date comes and goes."""

    @rpc(expected_exceptions=ERRORS)
    def review_queue(self, query: dict, context: dict) -> dict:
        """C15: criminal intelligence the caller's unit must review, soonest due first.

        Records enter the queue ``REVIEW_QUEUE_DAYS`` (90) before ``review_due``; past-due ones are
        ``overdue`` (the timer purges them unless validated or held). ``{"limit": 50}`` →
        ``{"items": [{"case_id", "title", "review_due", "days_left", "overdue", ...}], "next_cursor"}``.
        """
        query = load(QueueQuery, query, "the query is invalid")
        if "supervisor" not in _roles(context) and not rules.is_system(context):
            raise Forbidden("the review queue is for supervisors")
        now = self._now()
        until = retention.queue_until(now, self.config.get(retention.QUEUE_DAYS_KEY))
        after = retention.decode_after(query["cursor"]) if query.get("cursor") else None
        where = (
            {} if rules.is_system(context) else {"unit": context.get("unit"), "agency": context["actor"].get("agency")}
        )
        page = self.store.due_for_review(until, query["limit"], after, where)
        more = len(page) == query["limit"]
        last = retention.encode_after(page[-1]["review_due"], page[-1]["_id"]) if more else None
        return {"items": [retention.queue_entry(case, now) for case in self._with_holds(page)], "next_cursor": last}

    @rpc(expected_exceptions=ERRORS)
    def purge_case(self, case_id: str, body: dict, context: dict) -> dict:
        """C17: the purge authority removes a record by hand, with a reason: ``{"reason": "..."}``.

        Records under legal hold are refused (409), checked again at the purge's claim. Returns the
        tombstone (C16).
        """
        data = load(PurgeIn, body, "the purge is invalid")
        if PURGE_ROLE not in _roles(context):
            raise Forbidden("only the purge authority purges records")
        interrupted = self.store.purging_one(case_id, _agency(context))
        if interrupted is not None:  # sent again (or redelivered) after the process died mid-purge: finish it
            return plain(self._resume_purge(interrupted, context))
        case = self._open_as_authority(case_id, context, "case.purge")
        if case["classification"] not in PURGEABLE:
            self._audit("case.purge", "denied", context, [case_id], details={"reason": "classification"})
            raise Conflict(f"case {case_id} is {case['classification']}: only criminal intelligence is purged by hand")
        return plain(self._purge(case, data["reason"], context, automatic=False))

    @rpc(expected_exceptions=ERRORS)
    def place_hold(self, case_id: str, body: dict, context: dict) -> dict:
        """C17: a legal hold ``{"reference": "Harris Co. 2026-CV-118", "reason": "..."}`` stops the automatic
        purge of the case and the retention of its linked alerts (intake.set_legal_hold). Audited.

        The hold is stored first, then the case is read again: a purge that claimed the case before is
        going ahead (the hold is taken back, 409), and a purge claiming it after finds the hold and stops.
        """
        data = load(HoldIn, body, "the legal hold is invalid")
        case = self._open_as_authority(case_id, context, "case.hold")
        self._require_hold_authority(case, {"agency": case.get("agency"), "unit": case.get("unit")}, context)
        now, who = self._now(), actor_id(context)
        placed = {"placed_by": who, "placed_at": now, "agency": _agency(context), "unit": (context or {}).get("unit")}
        # The same reference placed again (a retry after a crash) is the same hold: this finishes its hand-off.
        hold, placed_now = self.oversight.add_hold({**data, "case_id": case_id, **placed})
        try:
            current = self.store.find(case_id)  # read after the hold is stored: its alerts as of now
            if current is None:
                raise Conflict(f"case {case_id} is being purged")
            self.intake_rpc.set_legal_hold(current.get("alert_ids") or [], case_id, True, context)
        except Exception:
            if placed_now:
                self.oversight.drop_hold(hold["_id"])
            raise
        updated = self.store.update(case_id, {}, now)
        self._held(updated, hold, "legal_hold.placed", context)
        return plain(hold)

    @rpc(expected_exceptions=ERRORS)
    def release_hold(self, case_id: str, hold_id: str, body: dict, context: dict) -> dict:
        """Release a legal hold with a reason ``{"reason"}``; the record follows its review date again."""
        data = load(ReleaseIn, body, "the release is invalid")
        case = self._open_as_authority(case_id, context, "case.hold")
        held = self.oversight.get_hold(case_id, hold_id)
        # A hold placed before holds recorded their placer is the owning unit's and agency's.
        self._require_hold_authority(case, {"agency": case.get("agency"), "unit": case.get("unit"), **held}, context)
        now, who = self._now(), actor_id(context)
        release = {"released_at": now, "released_by": who, "release_reason": data["reason"]}
        if held.get("released_at"):  # released before: sent again after a crash, this finishes the hand-off
            hold = {**held, "_id": hold_id}
        else:
            hold = self.oversight.release_hold(case_id, hold_id, release)
        updated = self.store.update(case_id, {}, now)
        self._held(updated, hold, "legal_hold.released", context)
        self._release_alerts(case, context)
        return plain(hold)

    @rpc(expected_exceptions=ERRORS)
    def list_holds(self, case_id: str, context: dict) -> dict:
        self._open_as_authority(case_id, context, "case.read")
        return {"items": plain(self.oversight.holds_of(case_id)), "next_cursor": None}

    @timer(interval=60)
    def purge_due_records(self) -> list[str]:
        """C15: purge criminal intelligence past ``review_due`` that was not validated and is not held.

        Goes through every due record a page at a time, so held ones never keep the others back; also
        finishes any purge a crash interrupted. Returns the ids purged.
        """
        now, done = self._now(), []
        for case in self.store.purging(older_than=now - retention.RESUME_AFTER):
            try:
                self._resume_purge(case, None)
            except Conflict:  # held: the purge gave way
                continue
            done.append(case["_id"])
        after = None
        while page := self.store.due_for_purge(now, after, PURGE_PAGE):
            after = page[-1]["_id"]
            held = self.oversight.active_holds([case["_id"] for case in page])
            for case in page:
                if case["_id"] in held or not retention.purgeable_by_timer(case, now):
                    continue
                try:
                    self._purge(case, retention.AUTOMATIC_REASON, None, automatic=True)
                except (Conflict, NotFound):  # held meanwhile, or another replica's timer took it
                    continue
                done.append(case["_id"])
        return done

    def _resume_purge(self, case: dict, context: dict | None) -> dict:
        """Finish a purge a crash cut short after its claim, unless the record is held: a hold placed
        before the claim is one the purge had not checked yet, so the purge gives way (Conflict)."""
        stone = case["purging"]
        if self.oversight.active_holds([case["_id"]]):
            self.store.abandon_purge(case["_id"])
            raise Conflict(f"case {case['_id']} is under legal hold; release the hold before purging it")
        self._tombstone(stone, context, resumed=True)
        self._finish_purge(case, stone)
        return stone

    def _release_alerts(self, case: dict, context: dict) -> None:
        """Intake keeps the case's alerts held while any hold of the case is in force; a hold placed while
        this one was released holds them again."""
        case_id, alert_ids = case["_id"], case.get("alert_ids") or []
        if self.oversight.active_holds([case_id]):
            return
        self.intake_rpc.set_legal_hold(alert_ids, case_id, False, context)
        if self.oversight.active_holds([case_id]):
            self.intake_rpc.set_legal_hold(alert_ids, case_id, True, context)

    def _open_as_authority(self, case_id: str, context: dict, action: str) -> dict:
        """The purge authority acts on any record of its agency (still stating a purpose, C9)."""
        actor = (context or {}).get("actor") or {}
        if PURGE_ROLE in _roles(context):
            case = self.store.get(case_id)
            if case.get("agency") == actor.get("agency"):
                if rules.lacks_purpose(case, context):
                    self._refuse(action, case_id, context, "purpose")
                return case
        return self._open(case_id, context, action)

    def _require_hold_authority(self, case: dict, holder: dict, context: dict) -> None:
        """C17: the purge authority of the holder's agency, or a supervisor of the holder's unit in it
        (for a new hold, the holder is the record's owning unit). Anyone else: 403, audited."""
        if rules.is_system(context):
            return
        same_agency = _agency(context) == holder.get("agency")
        supervisor = "supervisor" in _roles(context) and (context or {}).get("unit") == holder.get("unit")
        if same_agency and (PURGE_ROLE in _roles(context) or supervisor):
            return
        self._audit("case.hold", "denied", context, [case["_id"]], details={"reason": "hold_authority"})
        raise Forbidden("legal holds are placed and released by the purge authority or a supervisor of the unit")

    def _held(self, case: dict, hold: dict, action: str, context: dict) -> None:
        """Audit and record a placement or release once, however often a retry of it gets here."""
        detail = {"hold_id": hold["_id"], "reference": hold["reference"]}
        once = f"{action}-{hold['_id']}-{hold['placed_at'].isoformat()}"
        self._audit(action, "allowed", context, [case["_id"]], details=detail, event_id=once)
        self.store.record(case["_id"], action, actor_id(context), case["updated_at"], detail, entry_id=once)
        self._changed(case, action, context)

    def _purge(self, case: dict, reason: str, context: dict | None, automatic: bool) -> dict:
        """C16: tombstone first (audited, fail closed), then remove everything, then announce it."""
        case_id = case["_id"]
        items = self.contents.items_of(case_id)
        history = self.store.history_of(case_id)
        digest = retention.content_hash(
            case,
            items,
            self.contents.custody_of_case(case_id),
            self.contents.files_of(case_id),
            self.store.disseminations_of(case_id),
            history,
        )
        stone = retention.tombstone(case, digest, reason, actor_id(context), self._now(), automatic, history)
        if self.store.start_purge(case_id, stone) is None:  # claimed: from here on readers get 404
            raise Conflict(f"case {case_id} is already being purged")
        # Holds are read after the claim: a hold placed before it is seen here, one placed after sees the
        # claim (place_hold), so a held record is never purged.
        if self.oversight.active_holds([case_id]):
            self.store.abandon_purge(case_id)
            raise Conflict(f"case {case_id} is under legal hold; release the hold before purging it")
        try:
            self._tombstone(stone, context)
        except Unavailable:  # fail closed (C23): no tombstone, no purge
            self.store.abandon_purge(case_id)
            raise
        self._notify_recipients(case, "purged", [])
        self._finish_purge(case, stone)
        for attached in self.store.attached_to(case_id):  # C8: identifying information goes with its record
            try:
                self._purge(attached, f"C8: the record it identified was purged ({reason})", context, automatic)
            except Conflict:  # held itself, or being purged by another worker
                continue
        return stone

    def _tombstone(self, stone: dict, context: dict | None, resumed: bool = False) -> None:
        """The audit log's content-free trace of a purge (C16): id, content hash, reason, actor, time."""
        self._audit(
            "case.purge",
            "allowed",
            context,
            [stone["record_id"]],
            details={
                "reason": stone["reason"],
                "content_hash": stone["content_hash"],
                "automatic": stone["automatic"],
                "record_agency": stone.get("agency"),  # an automatic purge has no actor: its record's auditors
                **({"resumed": True} if resumed else {}),
            },
            event_id=f"case.purge-{stone['record_id']}",  # one tombstone, however often a purge is finished
        )

    def _finish_purge(self, case: dict, stone: dict) -> None:
        case_id = case["_id"]
        self.contents.remove_case(case_id)
        self.hooks.drop_case(case_id, (events.CASE_UPDATED, events.CASE_ASSIGNED))
        self.oversight.bury(stone)
        purged = {"record_type": "case", "record_id": case_id, "reason": stone["reason"]}
        self.dispatch(events.RECORD_PURGED, events.RecordPurged().load(purged))
        self.store.remove(case)
