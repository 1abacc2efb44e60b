import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from "react";
import { answer, useApi, type Schemas } from "../api";
import { FaceIdentification } from "../parts/FaceIdentification";
import { label, point, summary, when } from "../parts/format";
import type { Place } from "../parts/MapView";
import { ProblemNote } from "../parts/Problem";
import { AddToCase } from "../parts/AddToCase";
import { Triage } from "../parts/Triage";
import { href } from "../router";
import { useStream, type StreamEvent } from "../stream";

const MapView = lazy(() => import("../parts/MapView"));

type Alert = Schemas["AlertRead"];

/** One alert: its record, its entities and their earlier sightings, related alerts and cases, a map. */
export default function AlertScreen({ alertId }: { alertId: string }) {
  const api = useApi();
  const [alert, setAlert] = useState<Alert | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState("");
  const [adding, setAdding] = useState(false);

  const load = useCallback(async () => {
    try {
      setAlert(answer(await api.client().GET("/api/v1/alerts/{alert_id}", { params: { path: { alert_id: alertId } } })));
      setError(null);
    } catch (failure) {
      setError(failure);
    }
  }, [api, alertId]);
  useEffect(() => void load(), [load]);

  const onEvent = useCallback(
    (event: StreamEvent) => {
      const touched =
        event.data.alert_id === alertId ||
        (event.event === "case_updated" && alert?.related_cases.some((c) => c.id === event.data.case_id));
      if (touched) void load();
    },
    [alertId, alert, load],
  );
  useStream(onEvent);

  const places = useMemo<Place[]>(() => {
    if (!alert) return [];
    const found: Place[] = [];
    const here = point(alert.location);
    if (here) found.push({ ...here, label: `this alert, ${when(alert.occurred_at)}` });
    for (const entity of alert.entities)
      for (const seen of entity.earlier_sightings ?? []) {
        const there = point(seen.location);
        if (there) found.push({ ...there, label: `${entity.display}, ${when(seen.at)}` });
      }
    return found;
  }, [alert]);

  if (error && !alert) return <ProblemNote error={error} />;
  if (!alert) return <p>Loading…</p>;
  const relatedAlerts = alert.related.filter((r) => r.record_type === "alert");
  const payload = Object.entries(alert.payload ?? {}).filter(([, v]) => typeof v !== "object" || v === null);

  return (
    <article className="alert-screen" aria-labelledby="alert-title">
      <h1 id="alert-title">
        {label(alert.source)} alert: {summary(alert)}
      </h1>
      <p className="meta">
        <span className={`priority ${alert.priority}`}>{alert.priority}</span> {alert.status}
        {alert.assignee ? ` · assigned to ${alert.assignee}` : " · unassigned"} · occurred {when(alert.occurred_at)} ·
        received {when(alert.received_at)} · {alert.source_system}
        {alert.escalation ? ` · escalated by ${alert.escalation.by}: ${alert.escalation.reason}` : ""}
        {alert.overdue ? " · overdue" : ""}
      </p>
      {message && <p role="status">{message}</p>}
      <div className="alert-actions">
        <Triage
          alert={alert}
          onDone={(done) => {
            setMessage(done);
            void load();
          }}
        />
        {api.may("POST /api/v1/cases/{case_id}/alerts") && api.may("GET /api/v1/cases") && (
          <button type="button" aria-expanded={adding} onClick={() => setAdding(!adding)}>
            Add to a case
          </button>
        )}
      </div>
      {adding && (
        <AddToCase
          alertId={alert.id}
          onDone={(done) => {
            setAdding(false);
            setMessage(done);
            void load();
          }}
        />
      )}
      {alert.related_cases.length > 0 && (
        <section className="story" aria-labelledby="related-cases" data-testid="related-cases">
          <h2 id="related-cases">Connected to cases</h2>
          <ul>
            {alert.related_cases.map((c) => (
              <li key={c.id}>
                <a href={href("cases", c.id)}>{c.title ?? c.id}</a> ({c.status}, {c.classification}, unit {c.unit})
              </li>
            ))}
          </ul>
        </section>
      )}
      <FaceIdentification
        alert={alert}
        onDone={(done) => {
          setMessage(done);
          void load();
        }}
      />
      <div className="columns">
        <section aria-labelledby="record">
          <h2 id="record">Record</h2>
          <dl>
            {payload.map(([key, value]) => (
              <div key={key}>
                <dt>{label(key)}</dt>
                <dd>{String(value)}</dd>
              </div>
            ))}
            {alert.location?.address && (
              <div>
                <dt>address</dt>
                <dd>{alert.location.address}</dd>
              </div>
            )}
            {alert.notes && (
              <div>
                <dt>notes</dt>
                <dd>{alert.notes}</dd>
              </div>
            )}
          </dl>
        </section>
        <section aria-labelledby="entities">
          <h2 id="entities">Entities</h2>
          <ul>
            {alert.entities.map((entity) => (
              <li key={entity.id}>
                <a href={href("entities", entity.id)}>{entity.display}</a> ({entity.type})
                {entity.earlier_sightings?.length ? `, seen ${entity.earlier_sightings.length} time${entity.earlier_sightings.length === 1 ? "" : "s"} before` : ""}
              </li>
            ))}
          </ul>
          <h2 id="related">Related alerts</h2>
          {relatedAlerts.length ? (
            <ul data-testid="related-alerts">
              {relatedAlerts.map((r) => (
                <li key={r.id}>
                  <a href={href("alerts", r.id)}>{when(r.occurred_at) || r.id}</a>, shares{" "}
                  {r.shared_entities.map((e) => e.display).join(", ")}
                </li>
              ))}
            </ul>
          ) : (
            <p>None yet.</p>
          )}
        </section>
      </div>
      <section aria-labelledby="where">
        <h2 id="where">Where</h2>
        <Suspense fallback={<p>Loading the map…</p>}>
          <MapView places={places} title="This alert and the earlier sightings of its entities" />
        </Suspense>
      </section>
      <section aria-labelledby="history">
        <h2 id="history">History</h2>
        <ol className="history">
          {alert.actions.map((action, index) => (
            <li key={index}>
              {when(action.at)}: {label(action.action)} by {action.actor}
              {action.detail && Object.keys(action.detail).length ? ` (${JSON.stringify(action.detail)})` : ""}
            </li>
          ))}
        </ol>
      </section>
    </article>
  );
}
