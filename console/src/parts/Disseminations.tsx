import { useState, type FormEvent } from "react";
import { answer, idempotencyKey, useApi, type Purpose, type Schemas } from "../api";
import { save } from "./download";
import { when } from "./format";
import { ProblemNote } from "./Problem";

type Dissemination = Schemas["Dissemination"];

/** A case's dissemination log (C10): record a share, export the PDF (itself a dissemination). */
export function Disseminations({
  caseId,
  purpose,
  shares,
  onChanged,
}: {
  caseId: string;
  purpose?: Purpose;
  shares: Dissemination[];
  onChanged: () => void;
}) {
  const api = useApi();
  const [error, setError] = useState<unknown>(null);
  const [form, setForm] = useState({ recipient: "", agency: "", need_to_know: "", purpose: "" });
  const client = api.client(purpose);
  const share = async (event: FormEvent) => {
    event.preventDefault();
    try {
      answer(
        await client.POST("/api/v1/cases/{case_id}/disseminations", {
          params: { path: { case_id: caseId }, header: { "Idempotency-Key": idempotencyKey() } },
          body: form,
        }),
      );
      onChanged();
    } catch (failure) {
      setError(failure);
    }
  };
  const exportPdf = async () => {
    try {
      const { data, response } = await client.GET("/api/v1/cases/{case_id}/export", {
        params: {
          path: { case_id: caseId },
          query: { format: "pdf", recipient: form.recipient, agency: form.agency, need_to_know: form.need_to_know },
        },
        parseAs: "blob",
      });
      if (!response.ok || !data) throw problemOrStatus(response);
      save(data as Blob, `case-${caseId}.pdf`);
      onChanged();
    } catch (failure) {
      setError(failure);
    }
  };
  const field = (name: keyof typeof form, text: string) => (
    <label>
      {text}
      <input value={form[name]} onChange={(e) => setForm({ ...form, [name]: e.target.value })} required />
    </label>
  );
  return (
    <section aria-labelledby="case-disseminations">
      <h2 id="case-disseminations">Disseminations</h2>
      <ProblemNote error={error} />
      {shares.length ? (
        <ul>
          {shares.map((share) => (
            <li key={share.id}>
              {when(share.at)}: {share.kind ?? "share"} to {share.recipient} ({share.agency}) by {share.by}, need to know: {share.need_to_know}
            </li>
          ))}
        </ul>
      ) : (
        <p>Not shared with anyone.</p>
      )}
      {(api.may("POST /api/v1/cases/{case_id}/disseminations") || api.may("GET /api/v1/cases/{case_id}/export")) && (
        <form onSubmit={(event) => void share(event)} aria-label="Share or export">
          {field("recipient", "Recipient")}
          {field("agency", "Recipient agency (ORI)")}
          {field("need_to_know", "Need to know")}
          {field("purpose", "Purpose")}
          {api.may("POST /api/v1/cases/{case_id}/disseminations") && <button type="submit">Record share</button>}
          {api.may("GET /api/v1/cases/{case_id}/export") && (
            <button type="button" onClick={() => void exportPdf()}>
              Export PDF
            </button>
          )}
        </form>
      )}
    </section>
  );
}

function problemOrStatus(response: Response): Error {
  return new Error(`the export failed (${response.status})`);
}
