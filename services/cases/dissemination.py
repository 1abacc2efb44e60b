"""Releasing a case file (C10): dissemination entries and the PDF/JSON export."""

import base64
import hashlib

from casewire.contracts.case_inputs import DisseminationIn, ExportIn
from casewire.contracts.cases import CaseOut, plain
from casewire.rpc import rpc
from services.cases import casefile
from services.cases.dependencies import new_id
from services.cases.pdf import render_pdf
from services.cases.worker import ERRORS, CaseWorker, load


class DisseminationEntrypoints(CaseWorker):
    """Disseminations and exports."""

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
        """The whole case file as PDF or JSON (base64 in ``data``); the export is a dissemination (C10).

        The file is built first, then the release is audited and only then logged (C23): a failure at
        any step releases nothing and logs nothing.
        """
        request = load(ExportIn, query, "the export is invalid")
        case = self._open(case_id, context, "case.export")
        actor = (context or {}).get("actor") or {}
        entry = self._release_entry(
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
            exported = {"format": "json", "filename": f"case-{case_id}.json", "bundle": bundle}
        else:
            pdf = render_pdf(bundle)
            exported = {
                "format": "pdf",
                "filename": f"case-{case_id}.pdf",
                "data": base64.b64encode(pdf).decode(),
                "sha256": hashlib.sha256(pdf).hexdigest(),
            }
        self._record_release(case, entry, context)
        return {**exported, "dissemination_id": entry["_id"]}

    def _disseminated(self, case: dict, data: dict, context: dict) -> dict:
        entry = self._release_entry(case, data, context)
        self._record_release(case, entry, context)
        return entry

    def _release_entry(self, case: dict, data: dict, context: dict) -> dict:
        """The dissemination entry (C10) for a release of ``case``, not yet stored."""
        actor = (context or {}).get("actor") or {}
        return {
            "_id": new_id(),
            **data,
            "record_ids": [case["_id"]],
            "classification": case["classification"],
            "sensitivity": case.get("sensitivity"),
            "at": self._now(),
            "by": actor.get("id"),
            "by_agency": actor.get("agency"),
            "record_agency": case.get("agency"),  # whose auditors see the release (compliance report)
            "by_unit": (context or {}).get("unit"),
        }

    def _record_release(self, case: dict, entry: dict, context: dict) -> None:
        """Audit the release, then log it: if the audit event cannot be stored, nothing is logged (C23)."""
        keys = ("recipient", "agency", "kind")
        details = {"dissemination_id": entry["_id"], **{key: entry[key] for key in keys}}
        self._audit("case.disseminate", "allowed", context, [case["_id"]], purpose=entry["purpose"], details=details)
        self.store.add_dissemination(entry)
        detail = {"dissemination_id": entry["_id"], "recipient": entry["recipient"], "agency": entry["agency"]}
        self.store.record(case["_id"], "disseminated", entry["by"] or "system", entry["at"], detail)

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
                "disseminations": [*self.store.disseminations_of(case["_id"]), entry],
                "history": self.store.history_of(case["_id"]),
                "exported_at": entry["at"],
                "exported_by": entry["by"],
                "recipient": entry["recipient"],
                "agency": entry["agency"],
                "need_to_know": entry["need_to_know"],
                "dissemination_id": entry["_id"],
            }
        )
