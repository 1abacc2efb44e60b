"""Releasing a case file (C10): dissemination entries and the PDF/JSON export."""

import base64
import hashlib

from casewire.rpc import rpc
from services.cases import casefile
from services.cases.base import ERRORS, CaseWorker, load
from services.cases.export import render_pdf
from services.cases.schemas import CaseOut, DisseminationIn, ExportIn, plain


class ReleaseEntrypoints(CaseWorker):
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
