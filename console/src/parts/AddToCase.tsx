import { useState, type FormEvent } from "react";
import { answer, idempotencyKey, useApi, type Purpose } from "../api";
import { CasePicker, type CaseBrief } from "./CasePicker";
import { ProblemNote } from "./Problem";
import { PurposeForm } from "./Purpose";

/**
 * "Add to a case": links an alert to an existing case the caller may see (`POST /api/v1/cases/{id}/alerts`).
 * Criminal intelligence is listed only once a purpose and case number are stated (C9), and a link into
 * it carries its own reasonable-suspicion narrative (C7: a sensor hit alone is not one).
 */
export function AddToCase({ alertId, onDone }: { alertId: string; onDone: (message: string) => void }) {
  const api = useApi();
  const [purpose, setPurpose] = useState<Purpose | undefined>();
  const [asking, setAsking] = useState(false);
  const [picked, setPicked] = useState<CaseBrief | null>(null);
  const [reason, setReason] = useState("");
  const [narrative, setNarrative] = useState("");
  const [error, setError] = useState<unknown>(null);
  const intelligence = picked?.classification === "criminal_intelligence";

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!picked) return;
    try {
      const linked = answer(
        await api.client(purpose).POST("/api/v1/cases/{case_id}/alerts", {
          params: { path: { case_id: picked.id }, header: { "Idempotency-Key": idempotencyKey() } },
          body: {
            alert_id: alertId,
            reason: reason || undefined,
            reasonable_suspicion: intelligence ? narrative : undefined,
          },
        }),
      );
      setError(null);
      onDone(`Added to case ${linked.title}`);
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <section className="add-to-case" aria-labelledby="add-to-case">
      <h2 id="add-to-case">Add to a case</h2>
      {!purpose &&
        (asking ? (
          <PurposeForm
            why="Criminal intelligence is listed only with the purpose of use and a case or incident number (28 CFR Part 23, C9)."
            onGiven={setPurpose}
          />
        ) : (
          <button type="button" onClick={() => setAsking(true)}>
            Also list criminal intelligence
          </button>
        ))}
      <form onSubmit={(event) => void submit(event)} aria-label="Add this alert to a case">
        <CasePicker key={purpose ? "with-purpose" : "plain"} legend="The case" purpose={purpose} onPicked={setPicked} />
        <label>
          Why it belongs there
          <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={2000} />
        </label>
        {intelligence && (
          <label>
            Reasonable suspicion (C7: the hit alone is not enough)
            <textarea value={narrative} onChange={(e) => setNarrative(e.target.value)} required />
          </label>
        )}
        <button type="submit" disabled={!picked}>
          Add to case
        </button>
        <ProblemNote error={error} />
      </form>
    </section>
  );
}
