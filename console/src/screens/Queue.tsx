import { useVirtualizer } from "@tanstack/react-virtual";
import { useCallback, useEffect, useRef, useState } from "react";
import { answer, describe, useApi, type Schemas } from "../api";
import { summary, when } from "../parts/format";
import { Triage } from "../parts/Triage";
import { href } from "../router";
import { useStream, type StreamEvent } from "../stream";

type Alert = Schemas["AlertListItem"];
type Source = NonNullable<Alert["source"]>;
type Status = NonNullable<Alert["status"]>;

const SOURCES: Source[] = ["alpr", "face", "gunshot", "social", "cad", "database", "tip"];
const STATUSES: Status[] = ["new", "assigned", "dismissed", "promoted"];
const PAGE = 200;
const ROW_HEIGHT = 56;

interface Filters {
  source: Source | "";
  status: Status | "";
  assignee: string;
  overdue: boolean;
}

interface Links {
  alerts: number;
  cases: string[];
}

/**
 * The live alert queue: new alerts arrive over the stream without a reload, `link_found` marks the rows
 * it connects, and each row is triaged in place. Rows are virtualized: only those on screen are drawn.
 */
export function Queue() {
  const api = useApi();
  const [filters, setFilters] = useState<Filters>({ source: "", status: "", assignee: "", overdue: false });
  const [rows, setRows] = useState<Alert[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [links, setLinks] = useState<Record<string, Links>>({});
  const [live, setLive] = useState(false);
  const [message, setMessage] = useState("");
  const generation = useRef(0);
  const mayOverdue = api.may("GET /api/v1/metrics/overdue"); // the aging queue's roles: supervisors, admins

  const load = useCallback(
    async (after: string | null) => {
      const mine = generation.current;
      setLoading(true);
      setError(null);
      try {
        const page = answer(
          await api.client().GET("/api/v1/alerts", {
            params: {
              query: {
                limit: PAGE,
                cursor: after ?? undefined,
                source: filters.source || undefined,
                status: filters.status || undefined,
                assignee: filters.assignee || undefined,
                overdue: filters.overdue || undefined,
              },
            },
          }),
        );
        if (mine !== generation.current) return;
        setRows((old) => (after ? [...old, ...page.items] : page.items));
        setCursor(page.next_cursor ?? null);
      } catch (failure) {
        if (mine === generation.current) setError(describe(failure));
      } finally {
        if (mine === generation.current) setLoading(false);
      }
    },
    [api, filters],
  );

  useEffect(() => {
    generation.current += 1;
    setRows([]);
    void load(null);
  }, [load]);

  const matches = useCallback(
    (alert: Alert) =>
      (!filters.source || alert.source === filters.source) &&
      (!filters.status || alert.status === filters.status) &&
      (!filters.assignee || alert.assignee === filters.assignee) &&
      (!filters.overdue || alert.overdue === true),
    [filters],
  );

  const refresh = useCallback(
    async (id: string, arrived: boolean) => {
      try {
        const alert = answer(await api.client().GET("/api/v1/alerts/{alert_id}", { params: { path: { alert_id: id } } }));
        const row: Alert = {
          ...alert,
          entities: alert.entities.map(({ earlier_sightings: _, ...entity }) => entity),
          related_count: alert.related.length,
        };
        setRows((old) => {
          if (old.some((kept) => kept.id === id)) return old.map((kept) => (kept.id === id ? row : kept));
          return arrived && matches(row) ? [row, ...old] : old;
        });
        if (alert.related_cases.length || alert.related.length) {
          setLinks((old) => ({
            ...old,
            [id]: {
              alerts: alert.related.filter((r) => r.record_type === "alert").length,
              cases: alert.related_cases.map((c) => c.title ?? c.id),
            },
          }));
        }
      } catch {
        // a record this user may not open is not shown
      }
    },
    [api, matches],
  );

  const onEvent = useCallback(
    (event: StreamEvent) => {
      const id = typeof event.data.alert_id === "string" ? event.data.alert_id : null;
      if (!id) return;
      if (event.event === "alert_received") void refresh(id, true);
      if (event.event === "link_found" || event.event === "alert_assigned" || event.event === "alert_overdue")
        void refresh(id, event.event === "link_found");
    },
    [refresh],
  );
  useStream(onEvent, setLive);

  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
  });
  const items = virtual.getVirtualItems();
  const last = items[items.length - 1];
  useEffect(() => {
    if (last && last.index >= rows.length - 20 && cursor && !loading) void load(cursor);
  }, [last, rows.length, cursor, loading, load]);

  const current = rows.find((row) => row.id === selected) ?? null;

  return (
    <section className="queue" aria-labelledby="queue-title">
      <div className="title-row">
        <h1 id="queue-title">Alert queue</h1>
        <span className={live ? "live on" : "live"} role="status" data-testid="live">
          {live ? "Live" : "Connecting…"}
        </span>
      </div>
      <form className="filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Source
          <select value={filters.source} onChange={(e) => setFilters({ ...filters, source: e.target.value as Source })}>
            <option value="">any</option>
            {SOURCES.map((source) => (
              <option key={source}>{source}</option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select value={filters.status} onChange={(e) => setFilters({ ...filters, status: e.target.value as Status })}>
            <option value="">any</option>
            {STATUSES.map((status) => (
              <option key={status}>{status}</option>
            ))}
          </select>
        </label>
        <label>
          Assignee
          <input
            value={filters.assignee}
            onChange={(e) => setFilters({ ...filters, assignee: e.target.value.trim() })}
            placeholder="anyone"
          />
        </label>
        {mayOverdue && (
          <label className="check">
            <input
              type="checkbox"
              checked={filters.overdue}
              onChange={(e) => setFilters({ ...filters, overdue: e.target.checked })}
            />
            Overdue only
          </label>
        )}
      </form>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <p className="count" aria-live="polite">
        {rows.length} alerts{cursor ? " (more below)" : ""}
        {message ? ` · ${message}` : ""}
      </p>
      <div className="queue-body">
        <div ref={scroller} className="rows" data-testid="rows" tabIndex={0} role="region" aria-label="Alerts">
          <ul style={{ height: virtual.getTotalSize(), position: "relative" }}>
            {items.map((item) => {
              const alert = rows[item.index]!;
              const linked = links[alert.id];
              return (
                <li
                  key={alert.id}
                  data-alert={alert.id}
                  className={`row ${alert.id === selected ? "selected" : ""} ${alert.overdue ? "overdue" : ""}`}
                  style={{ position: "absolute", top: 0, left: 0, right: 0, height: ROW_HEIGHT, transform: `translateY(${item.start}px)` }}
                >
                  <span className={`priority ${alert.priority}`}>{alert.priority}</span>
                  <span className="source">{alert.source}</span>
                  <a href={href("alerts", alert.id)} className="what">
                    {summary(alert) || alert.source_event_id}
                  </a>
                  <span className="when">{when(alert.occurred_at)}</span>
                  <span className={`status ${alert.status}`}>{alert.status}</span>
                  <span className="assignee">{alert.assignee ?? "unassigned"}</span>
                  <span className="links" data-testid="links">
                    {linked?.cases.length ? `Case: ${linked.cases.join(", ")}` : ""}
                    {!linked?.cases.length && (linked?.alerts || alert.related_count)
                      ? `${linked?.alerts || alert.related_count} related`
                      : ""}
                    {alert.escalation ? ` · escalated by ${alert.escalation.by}` : alert.overdue ? " · overdue" : ""}
                  </span>
                  <button
                    type="button"
                    aria-pressed={alert.id === selected}
                    onClick={() => setSelected(alert.id === selected ? null : alert.id)}
                  >
                    Triage<span className="visually-hidden"> {summary(alert)}</span>
                  </button>
                </li>
              );
            })}
          </ul>
        </div>
        {current && (
          <aside className="triage-panel" aria-label="Triage the selected alert">
            <h2>
              {current.source}: {summary(current)}
            </h2>
            <p>
              {current.status} · {current.assignee ?? "unassigned"} · received {when(current.received_at)}
              {current.escalation ? ` · escalated by ${current.escalation.by}: ${current.escalation.reason}` : ""}
            </p>
            <Triage
              alert={current}
              onDone={(done) => {
                setMessage(done);
                void refresh(current.id, false);
              }}
            />
          </aside>
        )}
      </div>
    </section>
  );
}
