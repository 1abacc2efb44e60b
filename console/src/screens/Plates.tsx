import { useState, type FormEvent, type InputHTMLAttributes } from "react";
import { answer, describe, problemOf, useApi, type Schemas } from "../api";
import { label, when } from "../parts/format";
import { href } from "../router";

type Match = Schemas["PlateMatch"];
type Filters = { since: string; until: string; lat: string; lon: string; km: string };

const NO_FILTERS: Filters = { since: "", until: "", lat: "", lon: "", km: "" };
/** Each filter's input and the API field that names it in a refusal (the three parts of the place are `near`). */
const FILTERS: { name: keyof Filters; field: string; text: string; props: InputHTMLAttributes<HTMLInputElement> }[] = [
  { name: "since", field: "since", text: "Seen from", props: { type: "datetime-local" } },
  { name: "until", field: "until", text: "Seen before", props: { type: "datetime-local" } },
  { name: "lat", field: "near", text: "Near latitude", props: { inputMode: "decimal", size: 9 } },
  { name: "lon", field: "near", text: "Near longitude", props: { inputMode: "decimal", size: 9 } },
  { name: "km", field: "near", text: "Within km", props: { inputMode: "decimal", size: 5 } },
];

/** The filters as the API takes them: local times as UTC instants, the place as `lat,lon,km`. */
function timeAndPlace(where: Filters): { since?: string; until?: string; near?: string } {
  const instant = (local: string) => (local ? new Date(local).toISOString() : undefined);
  const place = [where.lat, where.lon, where.km].map((part) => part.trim());
  return {
    since: instant(where.since),
    until: instant(where.until),
    near: place.every(Boolean) ? place.join(",") : undefined,
  };
}

/**
 * Plate search: exact, partial (`?` for one unknown character) and OCR-fuzzy. An ALPR query needs a
 * stated purpose (C25), sent with the search and kept in the audit log. The time and place filters go
 * to the API, which keeps the vehicles seen then and there and shows those sightings only.
 */
export default function Plates() {
  const api = useApi();
  const [query, setQuery] = useState({ plate: "", state: "", fuzzy: true, purpose: "", caseNumber: "" });
  const [where, setWhere] = useState<Filters>(NO_FILTERS);
  const [matches, setMatches] = useState<Match[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const placeStarted = Boolean(where.lat || where.lon || where.km);

  const search = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      const found = answer(
        await api.client({ purpose: query.purpose, caseNumber: query.caseNumber || undefined }).GET("/api/v1/search/plates", {
          params: {
            query: { plate: query.plate, state: query.state || undefined, fuzzy: query.fuzzy, ...timeAndPlace(where) },
          },
        }),
      );
      setMatches(found.items);
    } catch (failure) {
      setMatches(null);
      setError(failure);
    }
  };

  const fieldErrors = (problemOf(error)?.errors ?? {}) as Record<string, unknown>;
  const said = (field: string) => {
    const messages = fieldErrors[field];
    return Array.isArray(messages) ? messages.join(" ") : "";
  };

  return (
    <section aria-labelledby="plates-title">
      <h1 id="plates-title">Plate search</h1>
      <form onSubmit={(event) => void search(event)} aria-label="Search plates">
        <label>
          Plate (? for an unknown character)
          <input value={query.plate} onChange={(e) => setQuery({ ...query, plate: e.target.value })} required />
        </label>
        <label>
          State
          <input value={query.state} onChange={(e) => setQuery({ ...query, state: e.target.value })} size={4} />
        </label>
        <label className="check">
          <input type="checkbox" checked={query.fuzzy} onChange={(e) => setQuery({ ...query, fuzzy: e.target.checked })} />
          OCR-fuzzy
        </label>
        <label>
          Purpose of use (required for ALPR queries)
          <input value={query.purpose} onChange={(e) => setQuery({ ...query, purpose: e.target.value })} required minLength={3} />
        </label>
        <label>
          Case or incident number
          <input value={query.caseNumber} onChange={(e) => setQuery({ ...query, caseNumber: e.target.value })} />
        </label>
        <fieldset>
          <legend>Seen (optional: only the vehicles your agency read then and there)</legend>
          {FILTERS.map(({ name, field, text, props }) => {
            const message = said(field);
            const id = `plates-${field}-error`; // the place's three inputs share one message, after the last
            return (
              <span key={name}>
                <label>
                  {text}
                  <input
                    value={where[name]}
                    onChange={(e) => setWhere({ ...where, [name]: e.target.value })}
                    required={field === "near" && placeStarted}
                    aria-invalid={message ? true : undefined}
                    aria-describedby={message ? id : undefined}
                    {...props}
                  />
                </label>
                {message && name !== "lat" && name !== "lon" && (
                  <span id={id} className="error">
                    {message}
                  </span>
                )}
              </span>
            );
          })}
        </fieldset>
        <button type="submit" className="primary">
          Search
        </button>
      </form>
      {Boolean(error) && (
        <p role="alert" className="error">
          {describe(error)}
        </p>
      )}
      {matches && (
        <table data-testid="plate-results">
          <caption>{matches.length} plates</caption>
          <thead>
            <tr>
              <th scope="col">Plate</th>
              <th scope="col">Match</th>
              <th scope="col">Sightings</th>
            </tr>
          </thead>
          <tbody>
            {matches.map((match) => (
              <tr key={match.entity.id}>
                <td>
                  <a href={href("entities", match.entity.id)}>{match.entity.display ?? match.entity.plate}</a>
                  {match.ambiguous ? " (ambiguous)" : ""}
                </td>
                <td>
                  {label(match.match)} ({match.score.toFixed(2)})
                </td>
                <td>
                  <ul>
                    {match.sightings.map((seen) => (
                      <li key={`${seen.record_id}-${seen.at}`}>
                        <a href={href(seen.record_type === "alert" ? "alerts" : "cases", seen.record_id)}>
                          {seen.record_type} {when(seen.at)}
                        </a>
                        {seen.source ? ` · ${seen.source}` : ""}
                      </li>
                    ))}
                  </ul>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
