/** How spend and limits read in the UI: "$2.50", "$25 a month". */
import type { LimitPeriod, SpendLimit } from "./api.ts";

export const PERIODS: readonly LimitPeriod[] = ["day", "week", "month"];

/** Cents, or two significant digits below a cent (a cheap model's first steps). */
export function usd(amount: number): string {
  if (amount > 0 && amount < 0.01) return `$${amount.toPrecision(2)}`;
  return `$${amount.toFixed(2)}`;
}

/** "$25 a month"; whole dollars without cents. */
export function limitText(limit: SpendLimit): string {
  const amount = Number.isInteger(limit.usd) ? `$${limit.usd}` : usd(limit.usd);
  return `${amount} a ${limit.period}`;
}

/** "this day" reads oddly: "today", "this week", "this month". */
export function periodNow(period: LimitPeriod): string {
  return period === "day" ? "today" : `this ${period}`;
}

/** "in 5 hours", "in 3 days": how long until `iso`, for a person. */
export function untilText(iso: string, now = Date.now()): string {
  const ms = new Date(iso).getTime() - now;
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  const minutes = Math.round(ms / 60_000);
  if (Math.abs(minutes) < 60) return format.format(Math.max(1, minutes), "minute");
  const hours = Math.round(ms / 3_600_000);
  if (Math.abs(hours) < 48) return format.format(hours, "hour");
  return format.format(Math.round(ms / 86_400_000), "day");
}

/** The reset time in the reader's own zone, for a tooltip. */
export function localTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, {
    weekday: "long",
    day: "numeric",
    month: "long",
    hour: "2-digit",
    minute: "2-digit",
  });
}
