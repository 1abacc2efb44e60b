"""Case contents: notes, reports, interviews, tasks, evidence with its custody chain, attachments."""

import base64
import hashlib

from casewire.contracts.case_inputs import ITEM_SCHEMAS, CustodyIn, EvidenceIn
from casewire.contracts.cases import plain
from casewire.errors import CorruptedFile, InvalidInput, NotFound
from casewire.rpc import rpc
from services.cases import casefile, rules
from services.cases.worker import ERRORS, CaseWorker, actor_id, keyed_id, load

MAX_BYTES_KEY = "ATTACHMENT_MAX_BYTES"


class ContentEntrypoints(CaseWorker):
    """What a case holds."""

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
        item_id = keyed_id(context, f"{case_id}:{kind}")
        earlier = self.contents.find_item(item_id) if item_id else None
        if earlier is not None:  # a retry (the same Idempotency-Key): what its first attempt added
            return plain(earlier)
        item = self.contents.add_item(
            {
                **({"_id": item_id} if item_id else {}),
                **data,
                "case_id": case_id,
                "kind": kind,
                "recorded_at": self._now(),
                "by": actor_id(context),
            }
        )
        self._touch(
            case,
            f"{kind[:-1]}_added",
            context,
            {"id": item["_id"]},
            assigned=[data["assignee"]] if kind == "tasks" else [],
        )
        self._added(case, kind)
        return plain(item)

    @rpc(expected_exceptions=ERRORS)
    def list_items(self, case_id: str, kind: str, context: dict) -> dict:
        """A case's notes, reports, interviews, tasks or evidence, oldest first."""
        self._open(case_id, context, f"case.{kind}")
        return {"items": plain(self.contents.items_of(case_id, kind)), "next_cursor": None}

    @rpc(expected_exceptions=ERRORS)
    def add_evidence(self, case_id: str, body: dict, context: dict) -> dict:
        """Log an evidence item with its first custody entries; the chain can then only grow.

        The whole chain is checked before the item is stored (InvalidInput naming ``custody.N.from``),
        so a broken chain stores nothing.
        """
        data = load(EvidenceIn, body, "the evidence item is invalid")
        case = self._open(case_id, context, "case.evidence")
        chain = data.pop("custody")
        rules.raise_if(rules.custody_errors(chain), "the chain of custody is broken")
        item_id = keyed_id(context, f"{case_id}:evidence")
        earlier = self.contents.find_item(item_id) if item_id else None
        if earlier is not None:  # a retry (the same Idempotency-Key): the item its first attempt logged
            return self._evidence_out(earlier)
        item = self.contents.add_item(
            {
                **({"_id": item_id} if item_id else {}),
                **data,
                "case_id": case_id,
                "kind": "evidence",
                "recorded_at": self._now(),
                "by": actor_id(context),
            }
        )
        for entry in chain:
            self._custody(item["_id"], entry, context)
        self._touch(case, "evidence_added", context, {"id": item["_id"]})
        self._added(case, "evidence")
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
        self._added(case, "attachments")
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
            self._audit(
                "case.attachment.integrity",
                "failed",
                context,
                [file_id, case_id],
                record_type="attachment",
                details={"reason": "sha256 mismatch"},
            )
            raise CorruptedFile(f"attachment {file_id} no longer matches the SHA-256 recorded at upload")
        return {**casefile.attachment_out(info), "data": base64.b64encode(data).decode()}

    def _added(self, case: dict, kind: str) -> None:
        """C11: an addition that changes what the case's recipients hold tells each of them (a correction)."""
        if kind in rules.CORRECTING_ADDITIONS:
            self._notify_recipients(case, "corrected", [kind])

    def _custody(self, evidence_id: str, entry: dict, context: dict) -> dict:
        entry = {key: value for key, value in entry.items() if key != "from_"} | {"from": entry["from_"]}
        entry.update(recorded_by=actor_id(context), recorded_at=self._now())
        return self.contents.append_custody(evidence_id, entry)

    def _evidence_out(self, item: dict) -> dict:
        return plain({**item, "custody": self.contents.custody_of(item["_id"])})
