import { useCallback, useEffect, useState, type FormEvent } from "react";
import { answer, describe, idempotencyKey, PURPOSE_REQUIRED, problemOf, useApi, type Purpose, type Schemas } from "../api";
import { AddItem, itemLine, kindName } from "../parts/CaseItems";
import { Disposition, MergeCase, NameEntity } from "../parts/CaseWork";
import { Disseminations } from "../parts/Disseminations";
import { save } from "../parts/download";
import { EvidenceSection } from "../parts/Evidence";
import { label, when } from "../parts/format";
import { ProblemNote } from "../parts/Problem";
import { Holds } from "../parts/Holds";
import { PurposeForm } from "../parts/Purpose";
import { href } from "../router";

type Case = Schemas["CaseOut"];
type Entry = Schemas["TimelineEntry"];
type Item = Schemas["ContentItem"];
type Evidence = Schemas["EvidenceItem"];
type Attachment = Schemas["Attachment"];
type Dissemination = Schemas["Dissemination"];
const KINDS = ["reports", "interviews", "tasks", "notes"] as const;

/**
 * A case file: summary, timeline, reports, interviews, tasks and notes, evidence with its custody chain,
 * attachments (uploaded and downloaded, SHA-256 shown), disseminations and the PDF export; naming an
 * entity, merging a case in, closing with a disposition and legal holds for the roles allowed. Criminal
 * intelligence asks for a purpose and a case number first (C9): the gateway refuses without them.
 */
export default function CaseFile({ caseId }: { caseId: string }) {
  const api = useApi();
  const [purpose, setPurpose] = useState<Purpose | undefined>();
  const [record, setRecord] = useState<Case | null>(null);
  const [timeline, setTimeline] = useState<Entry[]>([]);
  const [items, setItems] = useState<Item[]>([]);
  const [evidence, setEvidence] = useState<Evidence[]>([]);
  const [shares, setShares] = useState<Dissemination[]>([]);
  const [uploaded, setUploaded] = useState<Attachment[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState("");
  const path = { case_id: caseId };

  const load = useCallback(async () => {
    const client = api.client(purpose);
    try {
      const found = answer(await client.GET("/api/v1/cases/{case_id}", { params: { path } }));
      const [told, contents, kept, shared] = await Promise.all([
        client.GET("/api/v1/cases/{case_id}/timeline", { params: { path } }).then(answer),
        Promise.all(KINDS.map((kind) => client.GET("/api/v1/cases/{case_id}/{kind}", { params: { path: { ...path, kind } } }).then(answer))),
        client.GET("/api/v1/cases/{case_id}/{kind}", { params: { path: { ...path, kind: "evidence" } } }).then(answer),
        client.GET("/api/v1/cases/{case_id}/disseminations", { params: { path } }).then(answer),
      ]);
      setRecord(found);
      setTimeline(told.items);
      setItems(contents.flatMap((page) => page.items));
      // The list names each piece of evidence; its custody chain comes with the piece itself.
      setEvidence(
        await Promise.all(
          kept.items.map((item) =>
            client
              .GET("/api/v1/cases/{case_id}/evidence/{evidence_id}", { params: { path: { ...path, evidence_id: item.id } } })
              .then(answer),
          ),
        ),
      );
      setShares(shared.items);
      setError(null);
    } catch (failure) {
      setError(failure);
    }
  }, [api, caseId, purpose]);
  useEffect(() => void load(), [load]);

  if (problemOf(error)?.type === PURPOSE_REQUIRED)
    return (
      <PurposeForm
        why="This case holds criminal intelligence: state why you open it and the case or incident number (28 CFR Part 23, C9). Both go to the audit log."
        onGiven={setPurpose}
      />
    );
  if (error && !record) return <ProblemNote error={error} />;
  if (!record) return <p>Loading…</p>;

  const client = api.client(purpose);
  const changed = (done: string) => {
    setMessage(done);
    void load();
  };
  const attachments = new Map<string, { id: string; filename: string; sha256: string; size?: number | null }>();
  for (const entry of timeline)
    if (entry.sha256 && entry.id)
      attachments.set(entry.id, { id: entry.id, filename: entry.summary ?? entry.id, sha256: entry.sha256 });
  for (const made of uploaded)
    attachments.set(made.id, { id: made.id, filename: made.filename ?? made.id, sha256: made.sha256 ?? "", size: made.size });

  const upload = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const file = new FormData(event.currentTarget).get("file");
    if (!(file instanceof File) || !file.size) return;
    try {
      const body = new FormData();
      body.append("file", file, file.name);
      const made = answer(
        await client.POST("/api/v1/cases/{case_id}/attachments", {
          params: { path, header: { "Idempotency-Key": idempotencyKey() } },
          body: body as unknown as { file?: string },
          bodySerializer: (form) => form as unknown as FormData,
        }),
      );
      setUploaded((old) => [...old, made]);
      setMessage(`Uploaded ${made.filename}: SHA-256 ${made.sha256}`);
      void load();
    } catch (failure) {
      setMessage(describe(failure));
    }
  };
  const download = async (id: string, filename: string) => {
    try {
      const { data, response } = await client.GET("/api/v1/cases/{case_id}/attachments/{attachment_id}", {
        params: { path: { ...path, attachment_id: id } },
        parseAs: "blob",
      });
      if (!response.ok || !data) throw new Error(`the download failed (${response.status})`);
      save(data as Blob, filename);
    } catch (failure) {
      setMessage(describe(failure));
    }
  };

  return (
    <article aria-labelledby="case-title">
      <h1 id="case-title">{record.title}</h1>
      <p className="meta">
        {record.status} · {label(record.classification)} · unit {record.unit ?? "none"} · opened {when(record.opened_at)}
        {record.assignees?.length ? ` · assigned to ${record.assignees.join(", ")}` : ""}
        {record.notice ? ` · ${record.notice}` : ""}
      </p>
      {record.merged_into && (
        <p>
          Merged into <a href={href("cases", record.merged_into)}>case {record.merged_into}</a>.
        </p>
      )}
      {record.summary && <p>{record.summary}</p>}
      {message && <p role="status" data-testid="case-message">{message}</p>}
      <div className="columns">
        <section aria-labelledby="case-records">
          <h2 id="case-records">Alerts and entities</h2>
          <ul data-testid="case-records">
            {(record.alerts ?? []).map((alert) => (
              <li key={alert.alert_id}>
                <a href={href("alerts", alert.alert_id)}>
                  {alert.source ?? "alert"} {when(alert.occurred_at)}
                </a>
                {alert.promoted ? " (promoted into this case)" : ""}
              </li>
            ))}
            {(record.entities ?? []).map((entity) => (
              <li key={entity.entity_id}>
                <a href={href("entities", entity.entity_id)}>{entity.display ?? entity.entity_id}</a> ({label(entity.role)})
              </li>
            ))}
          </ul>
          <h2 id="case-items">Reports, interviews, tasks and notes</h2>
          {items.length ? (
            <ul data-testid="case-items">
              {items.map((item) => (
                <li key={item.id}>
                  <strong>{kindName(item.kind)}</strong> {itemLine(item)} {item.by ? `(recorded by ${item.by})` : ""}
                </li>
              ))}
            </ul>
          ) : (
            <p>None yet.</p>
          )}
          <AddItem
            caseId={caseId}
            purpose={purpose}
            onAdded={(made) => {
              setItems((old) => [...old.filter((item) => item.id !== made.id), made]);
              void load();
            }}
          />
        </section>
        <section aria-labelledby="case-timeline">
          <h2 id="case-timeline">Timeline</h2>
          <ol className="history">
            {timeline.map((entry, index) => (
              <li key={`${entry.id ?? ""}-${index}`}>
                {when(entry.at)}: {label(entry.action ?? entry.kind)}
                {entry.actor ? ` by ${entry.actor}` : ""}
                {entry.summary ? `, ${entry.summary}` : ""}
                {entry.reason ? ` (${entry.reason})` : ""}
              </li>
            ))}
          </ol>
        </section>
      </div>
      <div className="columns">
        <NameEntity record={record} purpose={purpose} onChanged={changed} />
        <MergeCase record={record} purpose={purpose} onChanged={changed} />
        <Disposition record={record} purpose={purpose} onChanged={changed} />
        <Holds caseId={caseId} purpose={purpose} onChanged={changed} />
      </div>
      <EvidenceSection caseId={caseId} purpose={purpose} evidence={evidence} onChanged={() => void load()} />
      <section aria-labelledby="case-attachments">
        <h2 id="case-attachments">Attachments</h2>
        <table>
          <caption className="visually-hidden">Attachments and their SHA-256</caption>
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col">SHA-256</th>
              <th scope="col">Download</th>
            </tr>
          </thead>
          <tbody data-testid="attachments">
            {[...attachments.values()].map((file) => (
              <tr key={file.id}>
                <td>{file.filename}</td>
                <td className="sha">{file.sha256}</td>
                <td>
                  {api.may("GET /api/v1/cases/{case_id}/attachments/{attachment_id}") && (
                    <button type="button" onClick={() => void download(file.id, file.filename)}>
                      Download<span className="visually-hidden"> {file.filename}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {api.may("POST /api/v1/cases/{case_id}/attachments") && (
          <form onSubmit={(event) => void upload(event)} className="inline">
            <label>
              Attach a file
              <input type="file" name="file" required />
            </label>
            <button type="submit">Upload</button>
          </form>
        )}
      </section>
      <Disseminations caseId={caseId} purpose={purpose} shares={shares} onChanged={() => void load()} />
    </article>
  );
}
