import { useCallback, useEffect, useState, type FormEvent } from "react";
import { answer, describe, useApi, type Schemas } from "../api";
import { label, summary, when } from "../parts/format";
import { Outcomes } from "../parts/Outcomes";
import { ProblemNote } from "../parts/Problem";
import { href } from "../router";

type Entry = Schemas["QueueEntry"];
type Alert = Schemas["AlertListItem"];

/** The supervisor's day: the 28 CFR Part 23 review queue, the aging (overdue) queue, the outcome funnel. */
export default function Supervisor() {
  const api = useApi();
  const [queue, setQueue] = useState<Entry[]>([]);
  const [overdue, setOverdue] = useState<Alert[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState("");

  const load = useCallback(async () => {
    const client = api.client();
    try {
      if (api.may("GET /api/v1/cases/review-queue"))
        setQueue(answer(await client.GET("/api/v1/cases/review-queue", { params: { query: { limit: 100 } } })).items);
      if (api.may("GET /api/v1/metrics/overdue"))
        setOverdue(answer(await client.GET("/api/v1/alerts", { params: { query: { overdue: true, limit: 100 } } })).items);
      setError(null);
    } catch (failure) {
      setError(failure);
    }
  }, [api]);
  useEffect(() => void load(), [load]);

  return (
    <section aria-labelledby="supervisor-title">
      <h1 id="supervisor-title">Supervisor</h1>
      <ProblemNote error={error} />
      {message && <p role="status">{message}</p>}
      <h2 id="review">Criminal intelligence due for review (28 CFR Part 23)</h2>
      {queue.length ? (
        <table data-testid="review-queue">
          <caption className="visually-hidden">Review queue</caption>
          <thead>
            <tr>
              <th scope="col">Case</th>
              <th scope="col">Review due</th>
              <th scope="col">State</th>
              <th scope="col">Decision</th>
            </tr>
          </thead>
          <tbody>
            {queue.map((entry) => (
              <tr key={entry.case_id}>
                <td>
                  <a href={href("cases", entry.case_id)}>{entry.title ?? entry.case_id}</a> ({entry.unit})
                </td>
                <td>
                  {when(entry.review_due)} {entry.overdue ? "(overdue)" : `(${entry.days_left} days left)`}
                </td>
                <td>{label(entry.review_state ?? "")}</td>
                <td>
                  {api.may("POST /api/v1/cases/{case_id}/review") && (
                    <Review
                      caseId={entry.case_id}
                      pending={entry.review_state === "pending_review"}
                      onDone={(done) => {
                        setMessage(done);
                        void load();
                      }}
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>Nothing is due for review.</p>
      )}
      <h2 id="overdue">Overdue alerts</h2>
      {overdue.length ? (
        <ul data-testid="overdue">
          {overdue.map((alert) => (
            <li key={alert.id}>
              <a href={href("alerts", alert.id)}>
                {alert.source}: {summary(alert)}
              </a>{" "}
              due {when(alert.triage_due)}, {alert.assignee ? `assigned to ${alert.assignee}` : "unassigned"}
              {alert.escalation ? `, escalated by ${alert.escalation.by}: ${alert.escalation.reason}` : ""}
            </li>
          ))}
        </ul>
      ) : (
        <p>No alert is past its triage deadline.</p>
      )}
      <h2 id="funnel">Outcomes</h2>
      {api.may("GET /api/v1/metrics/funnel") && <Outcomes />}
    </section>
  );
}

function Review({ caseId, pending, onDone }: { caseId: string; pending: boolean; onDone: (message: string) => void }) {
  const api = useApi();
  // A record waiting for its first review is approved; an approved one is validated (C14).
  const [decision, setDecision] = useState<"approve" | "validate">(pending ? "approve" : "validate");
  const [justification, setJustification] = useState("");
  const [purpose, setPurpose] = useState("");
  const [caseNumber, setCaseNumber] = useState("");
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      // A review reads criminal intelligence: it states its purpose and case number (C9).
      answer(
        await api.client({ purpose, caseNumber }).POST("/api/v1/cases/{case_id}/review", {
          params: { path: { case_id: caseId } },
          body: { decision, justification },
        }),
      );
      onDone(`Recorded: ${decision}`);
    } catch (failure) {
      setError(describe(failure));
    }
  };
  return (
    <form onSubmit={(event) => void submit(event)} aria-label={`Review case ${caseId}`}>
      <label>
        Decision
        <select value={decision} onChange={(e) => setDecision(e.target.value as typeof decision)}>
          <option value="validate">validate</option>
          <option value="approve">approve</option>
        </select>
      </label>
      <label>
        Justification
        <input value={justification} onChange={(e) => setJustification(e.target.value)} required />
      </label>
      <label>
        Purpose of use
        <input value={purpose} onChange={(e) => setPurpose(e.target.value)} required minLength={3} />
      </label>
      <label>
        Case or incident number
        <input value={caseNumber} onChange={(e) => setCaseNumber(e.target.value)} required />
      </label>
      <button type="submit">Record review</button>
      {error && (
        <span role="alert" className="error">
          {error}
        </span>
      )}
    </form>
  );
}
