import { lazy, Suspense, useCallback, useEffect, useMemo, useState, type FormEvent } from "react";
import { answer, describe, idempotencyKey, useApi, type Schemas } from "../api";
import { label, point, when } from "../parts/format";
import type { Place } from "../parts/MapView";
import { ProblemNote } from "../parts/Problem";
import { href } from "../router";

const MapView = lazy(() => import("../parts/MapView"));
const LinkGraph = lazy(() => import("../parts/Graph"));

type Entity = Schemas["EntityRead"];
type Graph = Schemas["Graph"];

const IDENTITY = ["name", "dob", "plate", "plate_state", "make", "model", "color", "year", "vin", "handle", "platform", "url", "serial_number", "state_id", "ncic_number", "description"] as const;

/** One entity: identity, aliases, sightings on a map, the link graph, merge and unmerge. */
export default function EntityScreen({ entityId }: { entityId: string }) {
  const api = useApi();
  const [entity, setEntity] = useState<Entity | null>(null);
  const [graph, setGraph] = useState<Graph | null>(null);
  const [depth, setDepth] = useState(2);
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState("");
  const [other, setOther] = useState("");
  const path = { entity_id: entityId };

  const load = useCallback(async () => {
    try {
      const client = api.client();
      setEntity(answer(await client.GET("/api/v1/entities/{entity_id}", { params: { path: { entity_id: entityId } } })));
      setGraph(
        answer(
          await client.GET("/api/v1/entities/{entity_id}/graph", { params: { path: { entity_id: entityId }, query: { depth } } }),
        ),
      );
      setError(null);
    } catch (failure) {
      setError(failure);
    }
  }, [api, entityId, depth]);
  useEffect(() => void load(), [load]);

  const places = useMemo<Place[]>(
    () =>
      (entity?.sightings ?? []).flatMap((seen) => {
        const at = point(seen.location);
        return at ? [{ ...at, label: `${seen.record_type} ${when(seen.at)}` }] : [];
      }),
    [entity],
  );

  if (error && !entity) return <ProblemNote error={error} />;
  if (!entity) return <p>Loading…</p>;

  const merge = async (event: FormEvent) => {
    event.preventDefault();
    try {
      answer(
        await api.client().POST("/api/v1/entities/{entity_id}/merge", {
          params: { path, header: { "Idempotency-Key": idempotencyKey() } },
          body: { other_id: other },
        }),
      );
      setMessage(`Merged ${other} into this entity`);
      setOther("");
      void load();
    } catch (failure) {
      setMessage(describe(failure));
    }
  };
  const unmerge = async (mergedId: string) => {
    try {
      answer(
        await api.client().POST("/api/v1/entities/{entity_id}/unmerge", {
          params: { path, header: { "Idempotency-Key": idempotencyKey() } },
          body: { other_id: mergedId },
        }),
      );
      setMessage(`Unmerged ${mergedId}`);
      void load();
    } catch (failure) {
      setMessage(describe(failure));
    }
  };
  const facts = IDENTITY.filter((key) => entity[key] !== undefined && entity[key] !== null && entity[key] !== "");

  return (
    <article aria-labelledby="entity-title">
      <h1 id="entity-title">
        {entity.display} ({label(entity.type)})
      </h1>
      {entity.notice && <p className="warning">{entity.notice}</p>}
      {message && <p role="status">{message}</p>}
      <div className="columns">
        <section aria-labelledby="identity">
          <h2 id="identity">Identity</h2>
          <dl>
            {facts.map((key) => (
              <div key={key}>
                <dt>{label(key)}</dt>
                <dd>{String(entity[key])}</dd>
              </div>
            ))}
            <div>
              <dt>aliases</dt>
              <dd data-testid="aliases">{entity.aliases?.length ? entity.aliases.join(", ") : "none"}</dd>
            </div>
          </dl>
          <h2 id="mentions">Alerts and cases</h2>
          <ul>
            {entity.alerts.map((mention) => (
              <li key={`a-${mention.id}`}>
                <a href={href("alerts", mention.id)}>alert {when(mention.at) || mention.id}</a>
              </li>
            ))}
            {entity.cases.map((mention) => (
              <li key={`c-${mention.id}`}>
                <a href={href("cases", mention.id)}>case {mention.id.slice(0, 8)}</a>
              </li>
            ))}
          </ul>
        </section>
        <section aria-labelledby="sightings">
          <h2 id="sightings">Sightings</h2>
          <Suspense fallback={<p>Loading the map…</p>}>
            <MapView places={places} title={`Where ${entity.display} was seen`} />
          </Suspense>
        </section>
      </div>
      <section aria-labelledby="graph">
        <h2 id="graph">Link graph</h2>
        <label>
          Hops out
          <select value={depth} onChange={(e) => setDepth(Number(e.target.value))}>
            {[1, 2, 3].map((hops) => (
              <option key={hops}>{hops}</option>
            ))}
          </select>
        </label>
        {graph && (
          <Suspense fallback={<p>Loading the graph…</p>}>
            <LinkGraph graph={graph} />
          </Suspense>
        )}
      </section>
      {(api.may("POST /api/v1/entities/{entity_id}/merge") || api.may("POST /api/v1/entities/{entity_id}/unmerge")) && (
        <section aria-labelledby="merges">
          <h2 id="merges">Merges</h2>
          <ul>
            {entity.merges.map((merge) => (
              <li key={merge.id}>
                {merge.merged_id} merged {when(merge.at)} by {merge.actor}
                {merge.undone_at ? `, undone ${when(merge.undone_at)}` : ""}
                {!merge.undone_at && api.may("POST /api/v1/entities/{entity_id}/unmerge") && (
                  <button type="button" onClick={() => void unmerge(merge.merged_id)}>
                    Unmerge<span className="visually-hidden"> {merge.merged_id}</span>
                  </button>
                )}
              </li>
            ))}
          </ul>
          {api.may("POST /api/v1/entities/{entity_id}/merge") && (
            <form onSubmit={(event) => void merge(event)}>
              <label>
                Entity id to merge into this one
                <input value={other} onChange={(e) => setOther(e.target.value.trim())} required />
              </label>
              <button type="submit">Merge</button>
            </form>
          )}
        </section>
      )}
    </article>
  );
}
