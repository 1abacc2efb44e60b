import { useState, type FormEvent } from "react";
import { answer, idempotencyKey, useApi, type Purpose, type Schemas } from "../api";
import { when } from "./format";
import { ProblemNote } from "./Problem";

type Evidence = Schemas["EvidenceItem"];

/** A case's evidence with its chain of custody: log a piece, record a transfer (the chain is only appended to). */
export function EvidenceSection({
  caseId,
  purpose,
  evidence,
  onChanged,
}: {
  caseId: string;
  purpose?: Purpose;
  evidence: Evidence[];
  onChanged: () => void;
}) {
  const api = useApi();
  const [error, setError] = useState<unknown>(null);
  const me = api.session.identity.sub;
  const add = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    try {
      answer(
        await api.client(purpose).POST("/api/v1/cases/{case_id}/evidence", {
          params: { path: { case_id: caseId }, header: { "Idempotency-Key": idempotencyKey() } },
          body: {
            description: String(form.get("description")),
            collected_by: String(form.get("collected_by")),
            collected_at: new Date().toISOString(),
          },
        }),
      );
      onChanged();
    } catch (failure) {
      setError(failure);
    }
  };
  const transfer = async (event: FormEvent<HTMLFormElement>, item: Evidence) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const custody = item.custody ?? [];
    const last = custody[custody.length - 1];
    try {
      answer(
        await api.client(purpose).POST("/api/v1/cases/{case_id}/evidence/{evidence_id}/custody", {
          params: { path: { case_id: caseId, evidence_id: item.id }, header: { "Idempotency-Key": idempotencyKey() } },
          body: {
            from: last?.to ?? item.collected_by ?? me,
            to: String(form.get("to")),
            reason: String(form.get("reason")),
            condition: String(form.get("condition")),
            at: new Date().toISOString(),
          },
        }),
      );
      onChanged();
    } catch (failure) {
      setError(failure);
    }
  };
  const may = api.may("POST /api/v1/cases/{case_id}/evidence");
  return (
    <section aria-labelledby="case-evidence">
      <h2 id="case-evidence">Evidence and its chain of custody</h2>
      <ProblemNote error={error} />
      {evidence.map((item) => (
        <div key={item.id} className="evidence">
          <h3>
            {item.description} {item.evidence_type ? `(${item.evidence_type})` : ""}, collected by {item.collected_by} {when(item.collected_at)}
          </h3>
          <ol>
            {(item.custody ?? []).map((step) => (
              <li key={step.id ?? step.seq}>
                {when(step.at)}: {step.from} → {step.to}, {step.reason}; {step.condition}
              </li>
            ))}
          </ol>
          {may && (
            <form onSubmit={(event) => void transfer(event, item)} aria-label={`Transfer ${item.description}`}>
              <label>
                To
                <input name="to" required />
              </label>
              <label>
                Reason
                <input name="reason" required />
              </label>
              <label>
                Condition
                <input name="condition" required />
              </label>
              <button type="submit">Record transfer</button>
            </form>
          )}
        </div>
      ))}
      {may && (
        <form onSubmit={(event) => void add(event)} aria-label="Log evidence">
          <label>
            Description
            <input name="description" required />
          </label>
          <label>
            Collected by
            <input name="collected_by" defaultValue={me} required />
          </label>
          <button type="submit">Log evidence</button>
        </form>
      )}
    </section>
  );
}
