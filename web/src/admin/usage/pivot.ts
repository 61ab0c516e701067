/**
 * A day × user (or model) report turned into the chart's shape: one point per day of the period
 * (days without usage at zero) with a value per series; the series are the costliest few over the
 * period, the rest summed as "Others", so the chart stays readable with many users.
 */
import type { UsageRow } from "./api.ts";

export type Metric = "cost" | "tokens";

export interface Series {
  /** The point's field: `s0`, `s1`, … (ids may not be safe keys for the chart). */
  key: string;
  name: string;
}

export interface ChartData {
  series: Series[];
  points: Array<{ day: string } & Record<string, number | string>>;
}

/** How many series are drawn before the rest become "Others". */
export const MAX_SERIES = 6;

export const OTHERS = "Others";

export function metricOf(row: UsageRow, metric: Metric): number {
  return metric === "cost" ? row.cost_usd : row.input_tokens + row.output_tokens;
}

export function pivot(rows: UsageRow[], days: string[], metric: Metric): ChartData {
  const totals = new Map<string, { name: string; value: number }>();
  for (const row of rows) {
    const id = row.split_key ?? "";
    const entry = totals.get(id) ?? { name: row.split_name ?? "", value: 0 };
    entry.value += metricOf(row, metric);
    totals.set(id, entry);
  }
  const ranked = [...totals.entries()].sort((a, b) => b[1].value - a[1].value);
  const shown = ranked.length > MAX_SERIES ? ranked.slice(0, MAX_SERIES - 1) : ranked;
  const keyOf = new Map(shown.map(([id], i) => [id, `s${i}`]));
  const series: Series[] = shown.map(([, entry], i) => ({ key: `s${i}`, name: entry.name }));
  const othersKey = `s${shown.length}`;
  if (ranked.length > shown.length) series.push({ key: othersKey, name: OTHERS });

  const byDay = new Map<string, Record<string, number>>();
  for (const day of days) {
    byDay.set(day, Object.fromEntries(series.map((s) => [s.key, 0])));
  }
  for (const row of rows) {
    const point = row.key === null ? undefined : byDay.get(row.key);
    if (!point) continue;
    const key = keyOf.get(row.split_key ?? "") ?? othersKey;
    point[key] = (point[key] ?? 0) + metricOf(row, metric);
  }
  return { series, points: days.map((day) => ({ day, ...byDay.get(day) })) };
}
