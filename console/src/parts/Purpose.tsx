import { useState, type FormEvent } from "react";
import type { Purpose } from "../api";

/**
 * Asks for the purpose of use (and the case or incident number) the gateway wants before it shows
 * criminal intelligence (C9) or runs an ALPR query (C25). What is typed goes to the audit log.
 */
export function PurposeForm({
  why,
  caseNumber = true,
  onGiven,
}: {
  why: string;
  caseNumber?: boolean;
  onGiven: (purpose: Purpose) => void;
}) {
  const [purpose, setPurpose] = useState("");
  const [number, setNumber] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onGiven({ purpose, caseNumber: caseNumber ? number : undefined });
  };
  return (
    <form className="purpose" onSubmit={submit} aria-label="Purpose of use">
      <p>{why}</p>
      <label>
        Purpose of use
        <input value={purpose} onChange={(e) => setPurpose(e.target.value)} required minLength={3} />
      </label>
      {caseNumber && (
        <label>
          Case or incident number
          <input value={number} onChange={(e) => setNumber(e.target.value)} required />
        </label>
      )}
      <button type="submit">Continue</button>
    </form>
  );
}
