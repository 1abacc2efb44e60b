import { useCallback, useEffect, useState } from "react";
import { answer, useApi, type Purpose, type Schemas } from "../api";
import { label } from "./format";
import { ProblemNote } from "./Problem";

export type CaseBrief = Schemas["CaseListItem"];
type Status = NonNullable<Schemas["CasePatch"]["status"]>;

const STATUSES: Status[] = ["open", "active", "suspended", "referred", "closed"];

/**
 * Picks one of the cases the caller may see (`GET /api/v1/cases`, newest first): filtered by status and
 * by "assigned to me" on the server, by words of the title here (the list has no text query; a page
 * holds 50, and "More cases" reads the next). Cases in `leaveOut` are not offered.
 */
export function CasePicker({
  legend,
  purpose,
  leaveOut = [],
  onPicked,
}: {
  legend: string;
  purpose?: Purpose;
  leaveOut?: string[];
  onPicked: (picked: CaseBrief | null) => void;
}) {
  const api = useApi();
  const [status, setStatus] = useState<Status | "">("");
  const [mine, setMine] = useState(true);
  const [words, setWords] = useState("");
  const [cases, setCases] = useState<CaseBrief[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [chosen, setChosen] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const me = api.session.identity.sub;

  const read = useCallback(
    async (cursor?: string) => {
      setLoading(true);
      try {
        const page = answer(
          await api.client(purpose).GET("/api/v1/cases", {
            params: { query: { status: status || undefined, assignee: mine ? me : undefined, cursor, limit: 50 } },
          }),
        );
        setCases((old) => (cursor ? [...old, ...page.items] : page.items));
        setNext(page.next_cursor);
        setError(null);
      } catch (failure) {
        setError(failure);
      } finally {
        setLoading(false);
      }
    },
    [api, purpose, status, mine, me],
  );
  useEffect(() => void read(), [read]);

  const wanted = words.trim().toLowerCase();
  const shown = cases.filter(
    (c) => !leaveOut.includes(c.id) && (!wanted || `${c.title} ${c.id}`.toLowerCase().includes(wanted)),
  );
  const pick = (caseId: string) => {
    setChosen(caseId);
    onPicked(shown.find((c) => c.id === caseId) ?? null);
  };
  // A filter that hides the case picked unpicks it: what is sent is always what is shown.
  const hidden = chosen !== "" && !shown.some((c) => c.id === chosen);
  useEffect(() => {
    if (hidden) pick("");
  });

  return (
    <fieldset className="picker" aria-busy={loading}>
      <legend>{legend}</legend>
      <label>
        Status
        <select value={status} onChange={(e) => setStatus(e.target.value as Status | "")}>
          <option value="">any</option>
          {STATUSES.map((code) => (
            <option key={code} value={code}>
              {code}
            </option>
          ))}
        </select>
      </label>
      <label className="check">
        <input type="checkbox" checked={mine} onChange={(e) => setMine(e.target.checked)} />
        Assigned to me
      </label>
      <label>
        Title contains
        <input value={words} onChange={(e) => setWords(e.target.value)} />
      </label>
      <label>
        Case
        <select value={hidden ? "" : chosen} onChange={(e) => pick(e.target.value)} required>
          <option value="">{shown.length ? `pick one of ${shown.length}` : "no case matches"}</option>
          {shown.map((c) => (
            <option key={c.id} value={c.id}>
              {c.title} ({c.status}, {label(c.classification)}
              {c.unit ? `, unit ${c.unit}` : ""})
            </option>
          ))}
        </select>
      </label>
      {next && (
        <button type="button" onClick={() => void read(next)}>
          More cases
        </button>
      )}
      <ProblemNote error={error} />
    </fieldset>
  );
}
