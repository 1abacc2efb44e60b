import { useId, useState, type FormEvent } from "react";
import { answer, idempotencyKey, problemOf, useApi, type Api, type Purpose, type Schemas } from "../api";
import { label, when } from "./format";
import { ProblemNote } from "./Problem";

type Item = Schemas["ContentItem"];
type Kind = "notes" | "reports" | "interviews" | "tasks";
type Client = ReturnType<Api["client"]>;

interface Field {
  name: string;
  label: string;
  control?: "textarea" | "datetime";
  required?: boolean;
}

/** What a detective fills in for each kind: the fields of NoteIn, ReportIn, InterviewIn and TaskIn. */
const FORMS: Record<Kind, { one: string; fields: Field[] }> = {
  notes: { one: "Note", fields: [{ name: "text", label: "Text", control: "textarea", required: true }] },
  reports: {
    one: "Report",
    fields: [
      { name: "title", label: "Title", required: true },
      { name: "report_type", label: "Report type (investigative when empty)" },
      { name: "body", label: "Report", control: "textarea", required: true },
    ],
  },
  interviews: {
    one: "Interview",
    fields: [
      { name: "interviewee", label: "Interviewee", required: true },
      { name: "at", label: "Held at", control: "datetime", required: true },
      { name: "interviewer", label: "Interviewer (you when empty)" },
      { name: "location", label: "Location" },
      { name: "summary", label: "Summary", control: "textarea", required: true },
    ],
  },
  tasks: {
    one: "Task",
    fields: [
      { name: "title", label: "Task", required: true },
      { name: "assignee", label: "Assigned to", required: true },
      { name: "due", label: "Due", control: "datetime", required: true },
      { name: "detail", label: "Detail", control: "textarea" },
    ],
  },
};
const KINDS = Object.keys(FORMS) as Kind[];

const text = (form: FormData, name: string) => String(form.get(name) ?? "");
/** An optional field left empty is left out, so the API applies its default. */
const optional = (form: FormData, name: string) => text(form, name) || undefined;
/** A `datetime-local` value (the browser's time zone) as an ISO time; empty stays empty for the API to refuse. */
const time = (form: FormData, name: string) => (text(form, name) ? new Date(text(form, name)).toISOString() : "");

/** Adds the item through its own typed operation; the answer is the item as the case file lists it. */
async function add(client: Client, kind: Kind, caseId: string, form: FormData): Promise<Item> {
  const params = { path: { case_id: caseId }, header: { "Idempotency-Key": idempotencyKey() } };
  switch (kind) {
    case "notes":
      return answer(await client.POST("/api/v1/cases/{case_id}/notes", { params, body: { text: text(form, "text") } }));
    case "reports":
      return answer(
        await client.POST("/api/v1/cases/{case_id}/reports", {
          params,
          body: { title: text(form, "title"), body: text(form, "body"), report_type: optional(form, "report_type") },
        }),
      );
    case "interviews":
      return answer(
        await client.POST("/api/v1/cases/{case_id}/interviews", {
          params,
          body: {
            interviewee: text(form, "interviewee"),
            at: time(form, "at"),
            interviewer: optional(form, "interviewer"),
            location: optional(form, "location"),
            summary: text(form, "summary"),
          },
        }),
      );
    case "tasks":
      return answer(
        await client.POST("/api/v1/cases/{case_id}/tasks", {
          params,
          body: { title: text(form, "title"), assignee: text(form, "assignee"), due: time(form, "due"), detail: optional(form, "detail") },
        }),
      );
  }
}

/** "Report" for `reports`: what one item of a kind is called. */
export const kindName = (kind: string) => FORMS[kind as Kind]?.one ?? label(kind);

/** One line for an item of the case file, from the fields its kind has. */
export function itemLine(item: Item): string {
  switch (item.kind) {
    case "reports":
      return `${item.title ?? ""} (${item.report_type ?? "report"}): ${item.body ?? ""}`;
    case "interviews":
      return `${item.interviewee ?? ""}, ${when(item.at)}${item.location ? ` at ${item.location}` : ""}, by ${item.interviewer ?? ""}: ${item.summary ?? ""}`;
    case "tasks":
      return `${item.title ?? ""}, for ${item.assignee ?? ""}, due ${when(item.due)}${item.detail ? `: ${item.detail}` : ""}`;
    default:
      return item.text ?? item.title ?? item.summary ?? "";
  }
}

/**
 * Adds a note, report, interview or task to a case. Only the kinds the caller's roles may add are
 * offered; the API judges the input (the form does not block it), and the fields its 422 names say why
 * next to themselves.
 */
export function AddItem({ caseId, purpose, onAdded }: { caseId: string; purpose?: Purpose; onAdded: (item: Item) => void }) {
  const api = useApi();
  const offered = KINDS.filter((kind) => api.may(`POST /api/v1/cases/{case_id}/${kind}`));
  const [kind, setKind] = useState<Kind>(offered[0] ?? "notes");
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState("");
  const id = useId();
  if (!offered.length) return null;

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    setDone("");
    try {
      const made = await add(api.client(purpose), kind, caseId, new FormData(form));
      form.reset();
      setError(null);
      setDone(`${FORMS[kind].one} added.`);
      onAdded(made);
    } catch (failure) {
      setError(failure);
    }
  };
  const fieldErrors = (problemOf(error)?.errors ?? {}) as Record<string, unknown>;
  const said = (name: string) => {
    const messages = fieldErrors[name];
    return Array.isArray(messages) ? messages.join(" ") : "";
  };

  return (
    <form onSubmit={(event) => void submit(event)} aria-label="Add to the case file" className="add-item" noValidate>
      <label>
        What to add
        <select
          value={kind}
          onChange={(event) => {
            setKind(event.target.value as Kind);
            setError(null);
            setDone("");
          }}
        >
          {offered.map((code) => (
            <option key={code} value={code}>
              {FORMS[code].one}
            </option>
          ))}
        </select>
      </label>
      <div key={kind} className="fields">
        {FORMS[kind].fields.map((field) => {
          const message = said(field.name);
          const describedBy = message ? `${id}-${field.name}-error` : undefined;
          const common = {
            id: `${id}-${field.name}`,
            name: field.name,
            required: field.required,
            "aria-invalid": message ? true : undefined,
            "aria-describedby": describedBy,
          };
          return (
            <div key={field.name} className="field">
              <label htmlFor={common.id}>{field.label}</label>
              {field.control === "textarea" ? (
                <textarea {...common} />
              ) : (
                <input {...common} type={field.control === "datetime" ? "datetime-local" : "text"} />
              )}
              {message && (
                <span id={describedBy} className="error">
                  {message}
                </span>
              )}
            </div>
          );
        })}
      </div>
      <button type="submit">Add {FORMS[kind].one.toLowerCase()}</button>
      <ProblemNote error={error} />
      {done && <p role="status">{done}</p>}
    </form>
  );
}
