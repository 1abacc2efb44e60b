import type { Schemas } from "../api";

type AlertLike = Pick<Schemas["AlertListItem"], "source" | "payload">;

export function when(at: string | null | undefined): string {
  if (!at) return "";
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? at : date.toLocaleString("en-US", { dateStyle: "medium", timeStyle: "short" });
}

/** One line saying what an alert is about, from the fields its source's payload carries. */
export function summary(alert: AlertLike): string {
  const p = (alert.payload ?? {}) as Record<string, unknown>;
  const text = (key: string) => (typeof p[key] === "string" || typeof p[key] === "number" ? String(p[key]) : "");
  switch (alert.source) {
    case "alpr":
      return [text("plate"), text("plate_state")].filter(Boolean).join(" ") || "plate read";
    case "social":
      return [text("handle"), text("threat_category")].filter(Boolean).join(" · ");
    case "gunshot":
      return [text("incident_type").replaceAll("_", " "), p.rounds ? `${text("rounds")} rounds` : ""].filter(Boolean).join(" · ");
    case "tip":
      return text("narrative").slice(0, 120);
    default:
      return Object.entries(p)
        .filter(([, value]) => typeof value === "string")
        .slice(0, 2)
        .map(([, value]) => String(value))
        .join(" · ");
  }
}

export const DISMISS_REASONS = [
  "false_read",
  "duplicate",
  "not_actionable",
  "handled_by_patrol",
  "out_of_jurisdiction",
  "unfounded",
  "other",
] as const;

export const label = (code: string) => code.replaceAll("_", " ");

/** A record's location as a point, when it has one. */
export function point(location: unknown): { lat: number; lon: number } | null {
  const at = location as { lat?: unknown; lon?: unknown } | null | undefined;
  return typeof at?.lat === "number" && typeof at?.lon === "number" ? { lat: at.lat, lon: at.lon } : null;
}
