import { useCallback, useEffect, useState } from "react";
import { answer, useApi, type Schemas } from "../api";
import { Bars } from "./Bars";
import { when } from "./format";
import { ProblemNote } from "./Problem";

type Figures = Schemas["Figures"];

/**
 * The outcome funnel of the caller's agency as charts, saying what they count and when they were read.
 * The figures come from tallies the services fold every few seconds (docs/outcomes.md): an alert
 * received a moment ago may not be counted yet, and "Refresh figures" reads them again.
 */
export function Outcomes() {
  const api = useApi();
  const [read, setRead] = useState<{ figures: Figures; at: Date } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    try {
      const figures = answer(await api.client().GET("/api/v1/metrics/funnel", {})) as Figures;
      setRead({ figures, at: new Date() });
      setError(null);
    } catch (failure) {
      setError(failure);
    }
  }, [api]);
  useEffect(() => void load(), [load]);

  if (!read) return <ProblemNote error={error} />;
  const { figures, at } = read;
  const total = figures.total;
  return (
    <>
      <ProblemNote error={error} />
      <p data-testid="funnel-freshness">
        Alerts of {figures.agency ?? "your agency"} received from {when(figures.since)} to {when(figures.until)} (whole UTC
        hours), read at {at.toLocaleTimeString("en-US")}. A record is counted a few seconds after it is made.{" "}
        <button type="button" onClick={() => void load()}>
          Refresh figures
        </button>
      </p>
      {!total.alerts && <p>No alert was received in this period.</p>}
      <div className="columns">
        <Bars
          title={`The funnel, ${when(figures.since)} to ${when(figures.until)}`}
          bars={[
            { label: "alerts", value: total.alerts ?? 0 },
            { label: "assigned", value: total.assigned ?? 0 },
            { label: "promoted", value: total.promoted ?? 0 },
            { label: "cases", value: total.cases ?? 0 },
            { label: "dismissed", value: total.dismissed ?? 0 },
            { label: "escalated", value: total.escalated ?? 0 },
            { label: "overdue now", value: total.overdue_now ?? 0 },
          ]}
        />
        <Bars
          title="Alerts by detection source"
          bars={figures.sources.map((source) => ({ label: source.source ?? "?", value: source.alerts ?? 0 }))}
        />
      </div>
    </>
  );
}
