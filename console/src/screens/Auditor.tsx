import { useCallback, useEffect, useState, type FormEvent } from "react";
import { answer, PURPOSE_REQUIRED, problemOf, useApi, type Purpose, type Schemas } from "../api";
import { label, when } from "../parts/format";
import { ProblemNote } from "../parts/Problem";
import { PurposeForm } from "../parts/Purpose";

type Verification = Schemas["Verification"];
type Event = Schemas["LoggedEvent"];
type Report = Schemas["ComplianceReport"];
type Outcome = NonNullable<Event["outcome"]>;

const EXCEPTIONS = [
  "reads_without_purpose",
  "reviews_overdue",
  "intelligence_without_predicate_or_labels",
  "restricted_disseminated",
  "review_due_beyond_five_years",
  "control_official_notifications",
  "recipient_notifications",
] as const;

/** The auditor's screen: verify the audit chain, read the event log with filters, the compliance report. */
export default function Auditor() {
  const api = useApi();
  const [verified, setVerified] = useState<Verification | null>(null);
  const [verifying, setVerifying] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const verify = async () => {
    setVerifying(true);
    try {
      setVerified(answer(await api.client().GET("/api/v1/audit/verify", {})));
      setError(null);
    } catch (failure) {
      setError(failure);
    } finally {
      setVerifying(false);
    }
  };

  return (
    <section aria-labelledby="auditor-title">
      <h1 id="auditor-title">Auditor</h1>
      <h2 id="chain">The audit chain</h2>
      {api.may("GET /api/v1/audit/verify") && (
        <button type="button" className="primary" onClick={() => void verify()} disabled={verifying}>
          Verify the chain
        </button>
      )}
      <ProblemNote error={error} />
      {verified && (
        <p role="status" data-testid="verification" className={verified.ok ? "ok" : "bad"}>
          {verified.ok
            ? `Chain verified: ${verified.checked} events, every hash and checkpoint intact.`
            : `The chain is broken at event ${verified.first_bad_seq ?? "?"} (${verified.checked} checked).`}
        </p>
      )}
      {api.may("GET /api/v1/audit/events") && <EventLog />}
      {api.may("GET /api/v1/compliance/report") && <Compliance />}
    </section>
  );
}

function EventLog() {
  const api = useApi();
  const [filters, setFilters] = useState({ actor: "", action: "", record_id: "", outcome: "" as Outcome | "" });
  const [applied, setApplied] = useState(filters);
  const [events, setEvents] = useState<Event[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(
    async (after: string | null) => {
      try {
        const page = answer(
          await api.client().GET("/api/v1/audit/events", {
            params: {
              query: {
                actor: applied.actor || undefined,
                action: applied.action || undefined,
                record_id: applied.record_id || undefined,
                outcome: applied.outcome || undefined,
                limit: 50,
                cursor: after ?? undefined,
              },
            },
          }),
        );
        setEvents((old) => (after ? [...old, ...page.items] : page.items));
        setCursor(page.next_cursor ?? null);
        setError(null);
      } catch (failure) {
        setError(failure);
      }
    },
    [api, applied],
  );
  useEffect(() => void load(null), [load]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setApplied(filters);
  };
  const field = (name: "actor" | "action" | "record_id", text: string) => (
    <label>
      {text}
      <input value={filters[name]} onChange={(e) => setFilters({ ...filters, [name]: e.target.value.trim() })} />
    </label>
  );
  return (
    <>
      <h2 id="events">Event log</h2>
      <form onSubmit={submit} aria-label="Filter events">
        {field("actor", "Actor")}
        {field("action", "Action")}
        {field("record_id", "Record id")}
        <label>
          Outcome
          <select value={filters.outcome} onChange={(e) => setFilters({ ...filters, outcome: e.target.value as Outcome })}>
            <option value="">any</option>
            <option>allowed</option>
            <option>denied</option>
            <option>failed</option>
          </select>
        </label>
        <button type="submit">Show events</button>
      </form>
      <ProblemNote error={error} />
      <table data-testid="events">
        <caption className="visually-hidden">Audit events</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">When</th>
            <th scope="col">Action</th>
            <th scope="col">Outcome</th>
            <th scope="col">Actor</th>
            <th scope="col">Records</th>
            <th scope="col">Purpose</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <tr key={event.event_id}>
              <td>{event.seq}</td>
              <td>{when(event.at)}</td>
              <td>{event.action}</td>
              <td>{event.outcome}</td>
              <td>{event.actor.id ?? ""}</td>
              <td>{[event.record_type, ...(event.record_ids ?? [])].filter(Boolean).join(" ")}</td>
              <td>{event.purpose ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {cursor && (
        <button type="button" onClick={() => void load(cursor)}>
          More events
        </button>
      )}
    </>
  );
}

function Compliance() {
  const api = useApi();
  const [purpose, setPurpose] = useState<Purpose | undefined>();
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async () => {
    try {
      setReport(answer(await api.client(purpose).GET("/api/v1/compliance/report", { params: { query: {} } })));
      setError(null);
    } catch (failure) {
      setError(failure);
    }
  }, [api, purpose]);
  useEffect(() => {
    if (purpose) void run();
  }, [purpose, run]);
  return (
    <>
      <h2 id="compliance">Compliance report</h2>
      {problemOf(error)?.type === PURPOSE_REQUIRED ? (
        <PurposeForm
          why="The report samples criminal intelligence: state the purpose of this audit and its number (C9)."
          onGiven={setPurpose}
        />
      ) : (
        <ProblemNote error={error} />
      )}
      <button type="button" onClick={() => void run()}>
        Run the compliance report
      </button>
      {report && (
        <div data-testid="compliance">
          <p className={report.ok ? "ok" : "bad"}>
            {report.ok ? "No exceptions" : "Exceptions found"} · generated {when(report.generated_at)}
          </p>
          <table>
            <caption className="visually-hidden">Exceptions</caption>
            <thead>
              <tr>
                <th scope="col">Check</th>
                <th scope="col">Exceptions</th>
              </tr>
            </thead>
            <tbody>
              {EXCEPTIONS.map((name) => (
                <tr key={name}>
                  <td>{label(name)}</td>
                  <td>{report[name].length}</td>
                </tr>
              ))}
              <tr>
                <td>purges</td>
                <td>{report.purges.length}</td>
              </tr>
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
