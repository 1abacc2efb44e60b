import { useState, type FormEvent } from "react";
import { answer, describe, idempotencyKey, useApi, type Schemas } from "../api";
import { CodeOptions } from "./CodeOptions";
import { DISMISS_REASONS, label } from "./format";

type Alert = Pick<Schemas["AlertListItem"], "id" | "status" | "assignee" | "version" | "escalated_at">;

/**
 * Triage in place: assign, note, dismiss with a reason, escalate to the supervisors with a reason,
 * promote to a case. Only the actions the caller's roles may take are shown; the gateway decides each
 * one. An alert is escalated once (by a person or at its triage deadline), so Escalate is offered
 * only until then.
 */
export function Triage({ alert, onDone }: { alert: Alert; onDone: (message: string) => void }) {
  const api = useApi();
  const [open, setOpen] = useState<"note" | "dismiss" | "escalate" | "promote" | null>(null);
  const [text, setText] = useState("");
  const [reason, setReason] = useState<(typeof DISMISS_REASONS)[number]>("false_read");
  const [title, setTitle] = useState("");
  const [error, setError] = useState<string | null>(null);
  const path = { alert_id: alert.id };
  const closed = alert.status === "dismissed" || alert.status === "promoted";
  const me = api.session.identity.sub;

  const act = async (what: () => Promise<string>) => {
    setError(null);
    try {
      const message = await what();
      setOpen(null);
      setText("");
      onDone(message);
    } catch (failure) {
      setError(describe(failure));
    }
  };
  const assign = () =>
    act(async () => {
      answer(await api.client().POST("/api/v1/alerts/{alert_id}/assign", { params: { path }, body: { assignee: me } }));
      return `Assigned to ${me}`;
    });
  const note = (event: FormEvent) => {
    event.preventDefault();
    void act(async () => {
      answer(await api.client().POST("/api/v1/alerts/{alert_id}/notes", { params: { path }, body: { text } }));
      return "Note added";
    });
  };
  const dismiss = (event: FormEvent) => {
    event.preventDefault();
    void act(async () => {
      answer(await api.client().POST("/api/v1/alerts/{alert_id}/dismiss", { params: { path }, body: { reason, text } }));
      return `Dismissed: ${label(reason)}`;
    });
  };
  const escalate = (event: FormEvent) => {
    event.preventDefault();
    void act(async () => {
      answer(
        await api.client().POST("/api/v1/alerts/{alert_id}/escalate", {
          params: { path, header: { "Idempotency-Key": idempotencyKey() } },
          body: { reason: text },
        }),
      );
      return "Escalated to the supervisors";
    });
  };
  const promote = (event: FormEvent) => {
    event.preventDefault();
    void act(async () => {
      const made = answer(
        await api.client().POST("/api/v1/alerts/{alert_id}/promote", {
          params: { path, header: { "Idempotency-Key": idempotencyKey() } },
          body: { title, classification: "investigative", assignee: me },
        }),
      );
      return `Promoted to case ${made.title} (${made.id})`;
    });
  };

  return (
    <div className="triage" aria-label="Triage">
      <div className="buttons">
        {api.may("POST /api/v1/alerts/{alert_id}/assign") && !closed && alert.assignee !== me && (
          <button type="button" onClick={() => void assign()}>
            Assign to me
          </button>
        )}
        {api.may("POST /api/v1/alerts/{alert_id}/notes") && (
          <button type="button" aria-expanded={open === "note"} onClick={() => setOpen(open === "note" ? null : "note")}>
            Note
          </button>
        )}
        {api.may("POST /api/v1/alerts/{alert_id}/dismiss") && !closed && (
          <button
            type="button"
            aria-expanded={open === "dismiss"}
            onClick={() => setOpen(open === "dismiss" ? null : "dismiss")}
          >
            Dismiss
          </button>
        )}
        {api.may("POST /api/v1/alerts/{alert_id}/escalate") && !closed && !alert.escalated_at && (
          <button
            type="button"
            aria-expanded={open === "escalate"}
            onClick={() => setOpen(open === "escalate" ? null : "escalate")}
          >
            Escalate
          </button>
        )}
        {api.may("POST /api/v1/alerts/{alert_id}/promote") && alert.status !== "dismissed" && (
          <button
            type="button"
            aria-expanded={open === "promote"}
            onClick={() => setOpen(open === "promote" ? null : "promote")}
          >
            Promote to case
          </button>
        )}
      </div>
      {open === "note" && (
        <form onSubmit={note}>
          <label>
            Note
            <textarea value={text} onChange={(e) => setText(e.target.value)} required />
          </label>
          <button type="submit">Add note</button>
        </form>
      )}
      {open === "dismiss" && (
        <form onSubmit={dismiss}>
          <label>
            Reason
            <select value={reason} onChange={(e) => setReason(e.target.value as typeof reason)}>
              <CodeOptions codes={DISMISS_REASONS} />
            </select>
          </label>
          <label>
            Why
            <textarea value={text} onChange={(e) => setText(e.target.value)} required />
          </label>
          <button type="submit">Dismiss alert</button>
        </form>
      )}
      {open === "escalate" && (
        <form onSubmit={escalate}>
          <label>
            Why escalate
            <textarea value={text} onChange={(e) => setText(e.target.value)} maxLength={2000} required />
          </label>
          <button type="submit">Escalate alert</button>
        </form>
      )}
      {open === "promote" && (
        <form onSubmit={promote}>
          <label>
            Case title
            <input value={title} onChange={(e) => setTitle(e.target.value)} required />
          </label>
          <button type="submit">Open case</button>
        </form>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </div>
  );
}
