import { useCallback, useEffect, useState, type FormEvent } from "react";
import { answer, idempotencyKey, useApi, type Purpose, type Schemas } from "../api";
import { when } from "./format";
import { ProblemNote } from "./Problem";

type Hold = Schemas["LegalHold"];

/**
 * A record's legal holds (C17): the active and released ones, placing one (a reference such as the court
 * order, and a reason) and releasing one (with a reason). Placed by the purge authority of the record's
 * agency or a supervisor of its owning unit; released by the purge authority of the agency that placed
 * it or a supervisor of the unit that placed it: the gateway refuses anyone else (403). What was done
 * is said here, or by `onChanged`'s screen when it has one.
 */
export function Holds({ caseId, purpose, onChanged }: { caseId: string; purpose?: Purpose; onChanged?: (message: string) => void }) {
  const api = useApi();
  const [holds, setHolds] = useState<Hold[]>([]);
  const [reference, setReference] = useState("");
  const [reason, setReason] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState("");
  const path = { case_id: caseId };

  const load = useCallback(async () => {
    try {
      setHolds(answer(await api.client(purpose).GET("/api/v1/cases/{case_id}/holds", { params: { path: { case_id: caseId } } })).items);
      setError(null);
    } catch (failure) {
      setError(failure);
    }
  }, [api, caseId, purpose]);
  useEffect(() => {
    if (api.may("GET /api/v1/cases/{case_id}/holds")) void load();
  }, [api, load]);
  if (!api.may("GET /api/v1/cases/{case_id}/holds")) return null;

  const told = (message: string) => {
    setDone(message);
    setError(null);
    onChanged?.(message);
    void load();
  };
  const place = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const hold = answer(
        await api.client(purpose).POST("/api/v1/cases/{case_id}/holds", {
          params: { path, header: { "Idempotency-Key": idempotencyKey() } },
          body: { reference, reason },
        }),
      );
      setReference("");
      setReason("");
      told(`Legal hold ${hold.reference} placed`);
    } catch (failure) {
      setError(failure);
    }
  };
  const release = async (event: FormEvent<HTMLFormElement>, hold: Hold) => {
    event.preventDefault();
    const why = String(new FormData(event.currentTarget).get("reason") ?? "");
    try {
      answer(
        await api.client(purpose).POST("/api/v1/cases/{case_id}/holds/{hold_id}/release", {
          params: { path: { ...path, hold_id: hold.id }, header: { "Idempotency-Key": idempotencyKey() } },
          body: { reason: why },
        }),
      );
      told(`Legal hold ${hold.reference} released`);
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <section aria-labelledby="holds" className="case-work">
      <h2 id="holds">Legal holds</h2>
      <p>While a hold is in force the automatic purge skips the record and its alerts are kept (C17).</p>
      {holds.length ? (
        <ul data-testid="holds">
          {holds.map((hold) => (
            <li key={hold.id}>
              <strong>{hold.reference}</strong>: {hold.reason}, placed {when(hold.placed_at)} by {hold.placed_by}
              {hold.unit ? ` (unit ${hold.unit})` : ""}
              {hold.released_at ? (
                <>
                  , released {when(hold.released_at)} by {hold.released_by}: {hold.release_reason}
                </>
              ) : (
                api.may("POST /api/v1/cases/{case_id}/holds/{hold_id}/release") && (
                  <form onSubmit={(event) => void release(event, hold)} aria-label={`Release hold ${hold.reference}`} className="inline">
                    <label>
                      Why it is released
                      <input name="reason" required minLength={3} maxLength={5000} />
                    </label>
                    <button type="submit">Release hold</button>
                  </form>
                )
              )}
            </li>
          ))}
        </ul>
      ) : (
        <p>No legal hold, now or before.</p>
      )}
      {api.may("POST /api/v1/cases/{case_id}/holds") && (
        <form onSubmit={(event) => void place(event)} aria-label="Place a legal hold">
          <label>
            Reference (court order, litigation)
            <input value={reference} onChange={(e) => setReference(e.target.value)} required maxLength={300} />
          </label>
          <label>
            Reason
            <input value={reason} onChange={(e) => setReason(e.target.value)} required minLength={3} maxLength={5000} />
          </label>
          <button type="submit">Place hold</button>
        </form>
      )}
      {done && !onChanged && <p role="status">{done}</p>}
      <ProblemNote error={error} />
    </section>
  );
}
