import { useMemo, useState, type FormEvent } from "react";
import { answer, describe, useApi, type Schemas } from "../api";
import { label, point, when } from "../parts/format";
import { href } from "../router";

type Match = Schemas["PlateMatch"];

/** Kilometres between two points (haversine): the place filter. */
function km(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 12742 * Math.asin(Math.sqrt(h));
}

/**
 * Plate search: exact, partial (`?` for one unknown character) and OCR-fuzzy. An ALPR query needs a
 * stated purpose (C25), sent with the search and kept in the audit log. The time and place filters
 * narrow the sightings the search answered.
 */
export default function Plates() {
  const api = useApi();
  const [query, setQuery] = useState({ plate: "", state: "", fuzzy: true, purpose: "", caseNumber: "" });
  const [where, setWhere] = useState({ since: "", until: "", lat: "", lon: "", radius: "" });
  const [matches, setMatches] = useState<Match[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const search = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      const found = answer(
        await api.client({ purpose: query.purpose, caseNumber: query.caseNumber || undefined }).GET("/api/v1/search/plates", {
          params: { query: { plate: query.plate, state: query.state || undefined, fuzzy: query.fuzzy } },
        }),
      );
      setMatches(found.items);
    } catch (failure) {
      setError(describe(failure));
    }
  };

  const shown = useMemo(() => {
    if (!matches) return null;
    const since = where.since ? new Date(where.since).getTime() : -Infinity;
    const until = where.until ? new Date(where.until).getTime() : Infinity;
    const centre = where.lat && where.lon ? { lat: Number(where.lat), lon: Number(where.lon) } : null;
    const radius = Number(where.radius) || 0;
    return matches
      .map((match) => ({
        ...match,
        sightings: match.sightings.filter((seen) => {
          const at = new Date(seen.at).getTime();
          if (at < since || at >= until) return false;
          if (!centre || !radius) return true;
          const there = point(seen.location);
          return there !== null && km(centre, there) <= radius;
        }),
      }))
      .filter((match) => match.sightings.length > 0);
  }, [matches, where]);

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
        <button type="submit" className="primary">
          Search
        </button>
      </form>
      <form aria-label="Filter sightings" onSubmit={(e) => e.preventDefault()}>
        <label>
          Seen from
          <input type="datetime-local" value={where.since} onChange={(e) => setWhere({ ...where, since: e.target.value })} />
        </label>
        <label>
          Seen before
          <input type="datetime-local" value={where.until} onChange={(e) => setWhere({ ...where, until: e.target.value })} />
        </label>
        <label>
          Near latitude
          <input value={where.lat} onChange={(e) => setWhere({ ...where, lat: e.target.value })} inputMode="decimal" size={9} />
        </label>
        <label>
          Near longitude
          <input value={where.lon} onChange={(e) => setWhere({ ...where, lon: e.target.value })} inputMode="decimal" size={9} />
        </label>
        <label>
          Within km
          <input value={where.radius} onChange={(e) => setWhere({ ...where, radius: e.target.value })} inputMode="decimal" size={5} />
        </label>
      </form>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {shown && (
        <table data-testid="plate-results">
          <caption>{shown.length} plates</caption>
          <thead>
            <tr>
              <th scope="col">Plate</th>
              <th scope="col">Match</th>
              <th scope="col">Sightings</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((match) => (
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
