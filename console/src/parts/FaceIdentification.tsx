import { useState, type FormEvent } from "react";
import { answer, problemOf, useApi, type Schemas } from "../api";
import { CodeOptions } from "./CodeOptions";
import { label, when } from "./format";
import { ProblemNote } from "./Problem";

type Alert = Schemas["AlertRead"];
type Evidence = Schemas["EvidenceReference"];

const EVIDENCE_TYPES: Evidence["type"][] = ["fingerprint", "dna", "document", "witness", "interview", "records_check", "other"];
const IDENTIFIABLE = ["new", "assigned", "promoted"];
const NO_EVIDENCE: Evidence = { type: "fingerprint", reference: "", description: "" };

/** A refusal's field errors by dotted path (`evidence.0.reference`), however deep the API nested them. */
function flatten(errors: unknown, prefix = ""): Record<string, string> {
  if (Array.isArray(errors)) return { [prefix]: errors.join(" ") };
  if (!errors || typeof errors !== "object") return {};
  return Object.entries(errors).reduce<Record<string, string>>(
    (found, [key, inner]) => ({ ...found, ...flatten(inner, prefix ? `${prefix}.${key}` : key) }),
    {},
  );
}

/**
 * A face-recognition alert's candidate (C26): the notice that it is an investigative lead only, the
 * identification once a reviewer recorded it, and, for the roles that may, the form recording one: the
 * reviewer's own conclusion backed by at least one piece of evidence independent of the face match.
 */
export function FaceIdentification({ alert, onDone }: { alert: Alert; onDone: (message: string) => void }) {
  const api = useApi();
  const [evidence, setEvidence] = useState<Evidence[]>([NO_EVIDENCE]);
  const [note, setNote] = useState("");
  const [concluded, setConcluded] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (alert.source !== "face") return null;

  const candidate = ((alert.payload ?? {}) as { candidate?: { name?: string; subject_id?: string } }).candidate;
  const done = alert.identified ? (alert.identification as Schemas["Identification"] | null) : null;
  const offered = !done && IDENTIFIABLE.includes(alert.status) && api.may("POST /api/v1/alerts/{alert_id}/identify");
  const said = flatten(problemOf(error)?.errors);
  const change = (index: number, part: Partial<Evidence>) =>
    setEvidence(evidence.map((item, at) => (at === index ? { ...item, ...part } : item)));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const body = {
        evidence: evidence.map(({ type, reference, description }) => ({ type, reference, ...(description ? { description } : {}) })),
        ...(note ? { note } : {}),
      };
      answer(
        await api.client().POST("/api/v1/alerts/{alert_id}/identify", { params: { path: { alert_id: alert.id } }, body }),
      );
      setError(null);
      onDone("Identification recorded");
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <section aria-labelledby="face-candidate" data-testid="face-identification">
      <h2 id="face-candidate">Face recognition candidate</h2>
      {alert.notice && <p className="warning">{alert.notice}</p>}
      {candidate?.name && (
        <p>
          Candidate: {candidate.name}
          {candidate.subject_id ? ` (subject ${candidate.subject_id})` : ""}
        </p>
      )}
      {done ? (
        <div data-testid="identification">
          <p>
            Identified by {done.reviewer} on {when(done.at)}
            {done.note ? `: ${done.note}` : ""}
          </p>
          <ul>
            {(done.evidence ?? []).map((item, index) => (
              <li key={index}>
                {label(item.type ?? "")}: {item.reference}
                {item.description ? ` (${item.description})` : ""}
              </li>
            ))}
          </ul>
        </div>
      ) : (
        <p>Not identified.</p>
      )}
      {offered && (
        <form onSubmit={(event) => void submit(event)} aria-label="Identify the candidate" noValidate>
          {evidence.map((item, index) => {
            const path = `evidence.${index}`;
            const field = (name: string) => said[`${path}.${name}`];
            const describe = (name: string) => (field(name) ? `identify-${index}-${name}-error` : undefined);
            return (
              <fieldset key={index}>
                <legend>Evidence {index + 1}, independent of the face match</legend>
                <label>
                  Evidence type
                  <select value={item.type} onChange={(e) => change(index, { type: e.target.value as Evidence["type"] })}>
                    <CodeOptions codes={EVIDENCE_TYPES} />
                  </select>
                </label>
                {(["reference", "description"] as const).map((name) => (
                  <span key={name}>
                    <label>
                      {name === "reference" ? "Reference (where it is recorded)" : "Description"}
                      <input
                        value={item[name] ?? ""}
                        onChange={(e) => change(index, { [name]: e.target.value })}
                        required={name === "reference" || item.type === "other"}
                        aria-invalid={field(name) ? true : undefined}
                        aria-describedby={describe(name)}
                      />
                    </label>
                    {field(name) && (
                      <span id={describe(name)} className="error">
                        {field(name)}
                      </span>
                    )}
                  </span>
                ))}
              </fieldset>
            );
          })}
          <button type="button" onClick={() => setEvidence([...evidence, NO_EVIDENCE])} disabled={evidence.length >= 20}>
            Add evidence
          </button>
          <label>
            Note
            <textarea value={note} onChange={(e) => setNote(e.target.value)} />
          </label>
          <label className="check">
            <input type="checkbox" checked={concluded} onChange={(e) => setConcluded(e.target.checked)} required />
            {"I reviewed the candidate against this evidence myself, and it identifies them"}
          </label>
          <button type="submit" className="primary" disabled={!concluded}>
            Record identification
          </button>
          <ProblemNote error={error} />
        </form>
      )}
    </section>
  );
}
