/**
 * The usage page's reads: `GET /usage` (typed by the OpenAPI document) and the CSV links with the
 * same query. A period is whole UTC days, `since` to `until` inclusive, as the API reads dates.
 */
import { API_BASE, request } from "../../api/client.ts";
import type { components } from "../../api/openapi.gen.ts";

export type UsageReport = components["schemas"]["UsageReport"];
export type UsageRow = components["schemas"]["UsageRow"];
export type UsageTotals = components["schemas"]["UsageTotals"];
export type UsageGroup = UsageReport["group_by"];
export type UsageSplit = NonNullable<UsageReport["split_by"]>;

export interface Period {
  /** YYYY-MM-DD, UTC, inclusive. */
  since: string;
  /** YYYY-MM-DD, UTC, inclusive. */
  until: string;
}

export interface UsageQuery {
  group_by: UsageGroup;
  split_by?: UsageSplit;
  limit?: number;
}

const DAY_MS = 86_400_000;

export function utcDay(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

/** The last `days` days, today (UTC) included. */
export function lastDays(days: number, now = Date.now()): Period {
  return { since: utcDay(now - (days - 1) * DAY_MS), until: utcDay(now) };
}

/** Every day of the period, oldest first. */
export function daysOf(period: Period): string[] {
  const out: string[] = [];
  const end = Date.parse(`${period.until}T00:00:00Z`);
  for (let t = Date.parse(`${period.since}T00:00:00Z`); t <= end; t += DAY_MS) {
    out.push(utcDay(t));
    if (out.length > 2000) break;
  }
  return out;
}

function params(period: Period, query: UsageQuery): Record<string, string> {
  return {
    group_by: query.group_by,
    since: period.since,
    until: period.until,
    ...(query.split_by ? { split_by: query.split_by } : {}),
    ...(query.limit !== undefined ? { limit: String(query.limit) } : {}),
  };
}

export function fetchUsage(period: Period, query: UsageQuery): Promise<UsageReport> {
  return request("GET", "/usage", { query: params(period, query) });
}

/** The CSV download of the same rows. */
export function csvUrl(period: Period, query: UsageQuery): string {
  const search = new URLSearchParams({ ...params(period, query), format: "csv" });
  return `${API_BASE}/usage?${search.toString()}`;
}
