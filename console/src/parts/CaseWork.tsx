/**
 * A detective's and a supervisor's work on a case file: naming an entity in it with a role, closing it
 * with its disposition, and merging another case into it. Each is offered to the roles the OpenAPI's
 * `x-casewire-roles` name; the gateway still decides each request.
 */
import { useState, type FormEvent } from "react";
import { answer, idempotencyKey, useApi, type Purpose, type Schemas } from "../api";
import { CasePicker, type CaseBrief } from "./CasePicker";
import { CodeOptions } from "./CodeOptions";
import { label } from "./format";
import { ProblemNote } from "./Problem";

type Case = Schemas["CaseOut"];
type Entity = Schemas["EntityOut"];
type Role = Schemas["LinkEntityIn"]["role"];
type Outcome = Schemas["DispositionIn"]["outcome"];
type EntityType = Schemas["EntityIn"]["type"];

// The enums of LinkEntityIn, DispositionIn and EntityIn: tsc fails the build when the API's lists change.
const ROLES: Role[] = ["suspect", "victim", "witness", "vehicle_of_interest", "person_of_interest", "associate", "complainant", "location_of_interest", "evidence", "other"];
const OUTCOMES: Outcome[] = ["arrest", "charges_filed", "referred_to_prosecutor", "cleared_by_exception", "unfounded", "inactive"];
const TYPES: EntityType[] = ["person", "vehicle", "phone", "email", "social_account", "address", "weapon", "organization"];
/** Statuses a disposition may be recorded in (409 in any other). */
const DISPOSED = ["closed", "referred"];

interface Props {
  record: Case;
  purpose?: Purpose;
  onChanged: (message: string) => void;
}

/** Finds an entity (`GET /api/v1/entities?type=&q=`) and names it in the case with a role. */
export function NameEntity({ record, purpose, onChanged }: Props) {
  const api = useApi();
  const [type, setType] = useState<EntityType | "">("");
  const [words, setWords] = useState("");
  const [found, setFound] = useState<Entity[] | null>(null);
  const [chosen, setChosen] = useState("");
  const [role, setRole] = useState<Role>("suspect");
  const [note, setNote] = useState("");
  const [error, setError] = useState<unknown>(null);
  if (!api.may("POST /api/v1/cases/{case_id}/entities") || !api.may("GET /api/v1/entities")) return null;

  const find = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const page = answer(
        await api.client().GET("/api/v1/entities", { params: { query: { type: type || undefined, q: words, limit: 25 } } }),
      );
      setFound(page.items);
      setChosen(page.items.length === 1 ? (page.items[0]?.id ?? "") : "");
      setError(null);
    } catch (failure) {
      setError(failure);
    }
  };
  const name = async (event: FormEvent) => {
    event.preventDefault();
    try {
      answer(
        await api.client(purpose).POST("/api/v1/cases/{case_id}/entities", {
          params: { path: { case_id: record.id }, header: { "Idempotency-Key": idempotencyKey() } },
          body: { entity_id: chosen, role, note: note || undefined },
        }),
      );
      const entity = found?.find((e) => e.id === chosen);
      setFound(null);
      setChosen("");
      setNote("");
      setError(null);
      onChanged(`Named ${entity?.display ?? chosen} as ${label(role)}`);
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <section aria-labelledby="name-entity" className="case-work">
      <h2 id="name-entity">Name an entity</h2>
      <form onSubmit={(event) => void find(event)} aria-label="Find an entity">
        <label>
          Type
          <select value={type} onChange={(e) => setType(e.target.value as EntityType | "")}>
            <option value="">any</option>
            <CodeOptions codes={TYPES} />
          </select>
        </label>
        <label>
          Name, plate or other key
          <input value={words} onChange={(e) => setWords(e.target.value)} required maxLength={200} />
        </label>
        <button type="submit">Find</button>
      </form>
      {found && !found.length && <p role="status">No entity matches.</p>}
      {found && found.length > 0 && (
        <form onSubmit={(event) => void name(event)} aria-label="Name the entity in this case">
          <label>
            Entity
            <select value={chosen} onChange={(e) => setChosen(e.target.value)} required>
              <option value="">pick one of {found.length}</option>
              {found.map((entity) => (
                <option key={entity.id} value={entity.id}>
                  {entity.display} ({label(entity.type)}, {entity.key})
                </option>
              ))}
            </select>
          </label>
          <label>
            Role in the case
            <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
              <CodeOptions codes={ROLES} />
            </select>
          </label>
          <label>
            Note
            <input value={note} onChange={(e) => setNote(e.target.value)} maxLength={2000} />
          </label>
          <button type="submit">Name in case</button>
        </form>
      )}
      <ProblemNote error={error} />
    </section>
  );
}

/**
 * How the case ended: closes it (`PATCH` its status, with the reason) unless it is closed or referred
 * already, then records the disposition (`POST /api/v1/cases/{id}/disposition`: outcome, date, note).
 */
export function Disposition({ record, purpose, onChanged }: Props) {
  const api = useApi();
  const [outcome, setOutcome] = useState<Outcome>("arrest");
  const [date, setDate] = useState(() => new Date().toISOString().slice(0, 10));
  const [note, setNote] = useState("");
  const [error, setError] = useState<unknown>(null);
  if (!api.may("POST /api/v1/cases/{case_id}/disposition")) return null;
  const disposed = DISPOSED.includes(record.status);
  if (!disposed && !api.may("PATCH /api/v1/cases/{case_id}")) return null;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const client = api.client(purpose);
    const path = { case_id: record.id };
    let closed = false;
    try {
      if (!disposed) {
        const reason = note || `closed: ${label(outcome)}`;
        answer(await client.PATCH("/api/v1/cases/{case_id}", { params: { path }, body: { status: "closed", reason } }));
        closed = true;
      }
      answer(
        await client.POST("/api/v1/cases/{case_id}/disposition", {
          params: { path },
          body: { outcome, date, note: note || undefined },
        }),
      );
      setError(null);
      onChanged(`${disposed ? "Disposition recorded" : "Closed"}: ${label(outcome)}`);
    } catch (failure) {
      setError(failure);
      // Closed, but the disposition refused: the case file shows it closed, and this form stays to retry.
      if (closed) onChanged("Closed; the disposition was not recorded");
    }
  };

  return (
    <section aria-labelledby="disposition" className="case-work">
      <h2 id="disposition">{disposed ? "Disposition" : "Close the case"}</h2>
      {record.disposition && "outcome" in record.disposition && (
        <p data-testid="disposition">
          {label(String(record.disposition.outcome))} on {String(record.disposition.date)}
          {record.disposition.recorded_by ? `, recorded by ${record.disposition.recorded_by}` : ""}
          {record.disposition.note ? `: ${record.disposition.note}` : ""}
        </p>
      )}
      <form onSubmit={(event) => void submit(event)} aria-label={disposed ? "Record the disposition" : "Close with a disposition"}>
        <label>
          Outcome
          <select value={outcome} onChange={(e) => setOutcome(e.target.value as Outcome)}>
            <CodeOptions codes={OUTCOMES} />
          </select>
        </label>
        <label>
          Date
          <input type="date" value={date} onChange={(e) => setDate(e.target.value)} required />
        </label>
        <label>
          Note
          <input value={note} onChange={(e) => setNote(e.target.value)} maxLength={2000} />
        </label>
        <button type="submit">{disposed ? "Record disposition" : "Close case"}</button>
      </form>
      <ProblemNote error={error} />
    </section>
  );
}

/** Merges another case into this one (`POST /api/v1/cases/{id}/merge`, with a reason); the other is closed. */
export function MergeCase({ record, purpose, onChanged }: Props) {
  const api = useApi();
  const [open, setOpen] = useState(false);
  const [other, setOther] = useState<CaseBrief | null>(null);
  const [reason, setReason] = useState("");
  const [error, setError] = useState<unknown>(null);
  if (!api.may("POST /api/v1/cases/{case_id}/merge") || !api.may("GET /api/v1/cases")) return null;
  // Only investigative cases merge (409 otherwise), and never one merged away.
  if (record.classification !== "investigative" || record.merged_into) return null;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!other) return;
    try {
      answer(
        await api.client(purpose).POST("/api/v1/cases/{case_id}/merge", {
          params: { path: { case_id: record.id }, header: { "Idempotency-Key": idempotencyKey() } },
          body: { other_id: other.id, reason },
        }),
      );
      setOpen(false);
      setError(null);
      onChanged(`Merged ${other.title} into this case`);
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <section aria-labelledby="merge-case" className="case-work">
      <h2 id="merge-case">Merge cases</h2>
      {record.merged_from?.length ? (
        <ul data-testid="merged-from">
          {record.merged_from.map((m) => (
            <li key={m.case_id}>
              {m.title ?? m.case_id} merged in by {m.merged_by}
            </li>
          ))}
        </ul>
      ) : null}
      <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
        Merge another case into this one
      </button>
      {open && (
        <form onSubmit={(event) => void submit(event)} aria-label="Merge a case into this one">
          <CasePicker legend="The case to merge in (it is closed)" purpose={purpose} leaveOut={[record.id]} onPicked={setOther} />
          <label>
            Reason
            <input value={reason} onChange={(e) => setReason(e.target.value)} required minLength={3} maxLength={2000} />
          </label>
          <button type="submit" disabled={!other}>
            Merge
          </button>
        </form>
      )}
      <ProblemNote error={error} />
    </section>
  );
}
