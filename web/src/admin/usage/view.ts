/**
 * What the usage page shows, kept in its address (`/admin/usage?days=7&split=model&show=tokens`,
 * or `?since=2026-11-01&until=2026-11-30`), so a view can be bookmarked or shared. A preset is
 * relative: the last N days as of when the page is opened.
 */
import { lastDays, type Period, type UsageSplit } from "./api.ts";
import { PRESETS, type Preset } from "./PeriodPicker.tsx";
import type { Metric } from "./pivot.ts";

export interface UsageView {
  preset: Preset;
  period: Period;
  split: UsageSplit;
  metric: Metric;
}

export const DEFAULT_PRESET = 30;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

function isDay(value: string | null): value is string {
  return value !== null && DAY.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`));
}

export function viewFromSearch(search: string, now = Date.now()): UsageView {
  const query = new URLSearchParams(search);
  const split: UsageSplit = query.get("split") === "model" ? "model" : "user";
  const metric: Metric = query.get("show") === "tokens" ? "tokens" : "cost";
  const since = query.get("since");
  const until = query.get("until");
  if (isDay(since) && isDay(until) && since <= until) {
    return { preset: "custom", period: { since, until }, split, metric };
  }
  const days = Number(query.get("days"));
  const preset = PRESETS.find((p) => p === days) ?? DEFAULT_PRESET;
  return { preset, period: lastDays(preset, now), split, metric };
}

/** The query string (no `?`) of `view`, defaults left out. */
export function searchFromView(view: UsageView): string {
  const query = new URLSearchParams();
  if (view.preset === "custom") {
    query.set("since", view.period.since);
    query.set("until", view.period.until);
  } else if (view.preset !== DEFAULT_PRESET) {
    query.set("days", String(view.preset));
  }
  if (view.split !== "user") query.set("split", view.split);
  if (view.metric !== "cost") query.set("show", view.metric);
  return query.toString();
}
