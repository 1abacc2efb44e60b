import { useState, type FormEvent } from "react";
import { answer, useApi, type Purpose, type Schemas } from "../api";
import { when } from "../parts/format";
import { Holds } from "../parts/Holds";
import { ProblemNote } from "../parts/Problem";

type Tombstone = Schemas["Tombstone"];

/**
 * The purge authority's day (C17): a record named by its id (the court order, the review or the
 * compliance report names it: this role reads no case file), with the purpose of use and case number
 * any reader of criminal intelligence states (C9); its legal holds placed or released; and the purge by
 * hand, with a reason and a confirmation. Only criminal intelligence and identifying information are
 * purged by hand, and never while a hold is in force (the gateway answers 409); the purge leaves a
 * content-free tombstone (C16).
 */
export default function PurgeScreen() {
  const api = useApi();
  const [recordId, setRecordId] = useState("");
  const [purposeText, setPurposeText] = useState("");
  const [caseNumber, setCaseNumber] = useState("");
  const [opened, setOpened] = useState<{ id: string; purpose: Purpose } | null>(null);
  const [reason, setReason] = useState("");
  const [sure, setSure] = useState(false);
  const [tombstone, setTombstone] = useState<Tombstone | null>(null);
  const [error, setError] = useState<unknown>(null);

  const open = (event: FormEvent) => {
    event.preventDefault();
    setOpened({ id: recordId.trim(), purpose: { purpose: purposeText, caseNumber } });
    setTombstone(null);
    setError(null);
    setSure(false);
    setReason("");
  };
  const purge = async (event: FormEvent) => {
    event.preventDefault();
    if (!opened || !sure) return;
    try {
      setTombstone(
        answer(
          await api.client(opened.purpose).POST("/api/v1/cases/{case_id}/purge", {
            params: { path: { case_id: opened.id } },
            body: { reason },
          }),
        ),
      );
      setError(null);
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <section aria-labelledby="purge-title">
      <h1 id="purge-title">Legal holds and purges</h1>
      <form onSubmit={open} aria-label="Open a record" className="purpose">
        <p>Name the record, and state why you act on it and the case or incident number: both go to the audit log (C9).</p>
        <label>
          Record id
          <input value={recordId} onChange={(e) => setRecordId(e.target.value)} required />
        </label>
        <label>
          Purpose of use
          <input value={purposeText} onChange={(e) => setPurposeText(e.target.value)} required minLength={3} />
        </label>
        <label>
          Case or incident number
          <input value={caseNumber} onChange={(e) => setCaseNumber(e.target.value)} required />
        </label>
        <button type="submit">Open</button>
      </form>
      {opened && !tombstone && (
        <>
          <h2>Record {opened.id}</h2>
          <Holds key={opened.id} caseId={opened.id} purpose={opened.purpose} />
          <form onSubmit={(event) => void purge(event)} aria-label="Purge the record" className="case-work">
            <h2>Purge by hand (C17)</h2>
            <p className="warning">
              A purge removes the record, its contents and every copy for good; only a tombstone without content
              stays. A record under a legal hold is not purged.
            </p>
            <label>
              Reason (at least 10 characters)
              <textarea value={reason} onChange={(e) => setReason(e.target.value)} required minLength={10} maxLength={5000} />
            </label>
            <label className="check">
              <input type="checkbox" checked={sure} onChange={(e) => setSure(e.target.checked)} required />I confirm the
              purge of record {opened.id}
            </label>
            <button type="submit" disabled={!sure}>
              Purge record
            </button>
          </form>
        </>
      )}
      {tombstone && (
        <div role="status" data-testid="tombstone">
          <h2>Purged</h2>
          <p>
            Record {tombstone.record_id} ({tombstone.record_class ?? tombstone.record_type}) purged {when(tombstone.at)} by{" "}
            {tombstone.actor}: {tombstone.reason}. Content hash (SHA-256) <span className="sha">{tombstone.content_hash}</span>
          </p>
        </div>
      )}
      <ProblemNote error={error} />
    </section>
  );
}
