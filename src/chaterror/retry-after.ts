/** What the provider's retry headers ask for: `retry-after-ms`, `retry-after`, `x-should-retry`. */
import { header } from "./read.ts";

const DECIMAL = /^\d+(?:\.\d+)?$/;
/** An HTTP date has a time of day; this keeps `Date.parse`'s leniency off numbers and garbage. */
const HTTP_DATE_TIME = /\b\d{1,2}:\d{2}:\d{2}\b/;

/**
 * How long the provider asked us to wait, in milliseconds, uncapped: `retry-after-ms` (a float,
 * preferred), else `retry-after` as seconds or an HTTP date (relative to `now`). Garbage, negative
 * values and dates in the past give `undefined`. Header names match in any case.
 */
export function parseRetryAfter(headers: unknown, now: number = Date.now()): number | undefined {
  const ms = header(headers, "retry-after-ms")?.trim();
  if (ms !== undefined && DECIMAL.test(ms)) return Number(ms);
  const value = header(headers, "retry-after")?.trim();
  if (value === undefined) return undefined;
  if (DECIMAL.test(value)) return Number(value) * 1000;
  if (!HTTP_DATE_TIME.test(value)) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at) || at < now) return undefined;
  return at - now;
}

/** An explicit `x-should-retry: true|false`, as OpenAI and Anthropic send it; else `undefined`. */
export function shouldRetryHeader(headers: unknown): boolean | undefined {
  const value = header(headers, "x-should-retry")?.trim().toLowerCase();
  if (value === "true") return true;
  if (value === "false") return false;
  return undefined;
}
