/** Flag parsers and the flags several commands share (retry, silence guard, provider options). */
import { type Command, InvalidArgumentError, Option } from "commander";
import type { RetryPolicy } from "../chatretry/index.ts";

/** A number as typed; the server decides whether it is in range (and says which field is not). */
export function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError("Not a number.");
  return n;
}

/** Commander parser for a repeatable flag: the values so far with this one added. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Commander parser for a whole number ≥ 0 (milliseconds, counts). */
export function parseWholeNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`"${value}" is not a whole number.`);
  }
  return n;
}

const AGO_UNIT_MS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/**
 * A `--since`/`--until` value (`keel audit`, `keel usage`): an ISO 8601 date (`2026-12-01`), an
 * ISO 8601 time with its zone (`2026-12-01T09:00:00Z`), or a time ago (`90m`, `24h`, `7d`, `2w`),
 * sent as an instant. With `keepDates`, a date is sent as it is: for an API that reads a date as
 * a whole UTC day.
 */
export function parseWhen(
  value: string,
  options: { now?: number; keepDates?: boolean } = {},
): string {
  const text = value.trim();
  const ago = /^(\d+)\s*([smhdw])$/i.exec(text);
  if (ago) {
    const ms = Number(ago[1]) * (AGO_UNIT_MS[ago[2]?.toLowerCase() ?? ""] ?? 0);
    return new Date((options.now ?? Date.now()) - ms).toISOString();
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    const midnight = Date.parse(`${text}T00:00:00Z`);
    if (!Number.isNaN(midnight)) {
      return options.keepDates ? text : new Date(midnight).toISOString();
    }
  }
  if (/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})$/i.test(text)) {
    const time = Date.parse(text);
    if (!Number.isNaN(time)) return new Date(time).toISOString();
  }
  throw new InvalidArgumentError(
    `want a date (2026-12-01), an ISO 8601 time with its zone (2026-12-01T09:00:00Z) or a time ago (30m, 24h, 7d, 2w), got "${value}".`,
  );
}

/** Like parseWholeNumber, but zero is refused (a zero timeout would abort every stream). */
export function parsePositiveNumber(value: string): number {
  const n = parseWholeNumber(value);
  if (n === 0) throw new InvalidArgumentError("must be greater than 0.");
  return n;
}

/**
 * Commander parser for a repeatable `--option KEY=VALUE` (a provider option, as `keel providers
 * add` and `keel ask` take them): the pairs so far with this one added. A malformed pair is a
 * usage error naming the flag.
 */
export function collectOption(
  pair: string,
  previous: Record<string, string> = {},
): Record<string, string> {
  const at = pair.indexOf("=");
  if (at <= 0) throw new InvalidArgumentError(`want KEY=VALUE (e.g. api=chat), got "${pair}".`);
  return { ...previous, [pair.slice(0, at).trim()]: pair.slice(at + 1) };
}

/** The retry and silence-guard flags `keel ask` and `keel server` share (with their env names). */
export interface RetryFlags {
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  retryMaxElapsedMs?: number;
  retryMaxAttempts?: number;
  streamSilenceTimeoutMs?: number;
}

export function addRetryFlags(command: Command): Command {
  return command
    .addOption(
      new Option("--retry-base-delay-ms <n>", "first retry backoff ceiling (default 1000)")
        .env("KEEL_RETRY_BASE_DELAY_MS")
        .argParser(parseWholeNumber),
    )
    .addOption(
      new Option("--retry-max-delay-ms <n>", "largest retry backoff (default 60000)")
        .env("KEEL_RETRY_MAX_DELAY_MS")
        .argParser(parseWholeNumber),
    )
    .addOption(
      new Option("--retry-max-elapsed-ms <n>", "give up retrying after this long (default 1800000)")
        .env("KEEL_RETRY_MAX_ELAPSED_MS")
        .argParser(parseWholeNumber),
    )
    .addOption(
      new Option("--retry-max-attempts <n>", "give up after this many attempts (default 25)")
        .env("KEEL_RETRY_MAX_ATTEMPTS")
        .argParser(parsePositiveNumber),
    )
    .addOption(
      new Option(
        "--stream-silence-timeout-ms <n>",
        "retry a stream silent this long (default 60000)",
      )
        .env("KEEL_STREAM_SILENCE_TIMEOUT_MS")
        .argParser(parsePositiveNumber),
    );
}

/** The retry policy the flags ask for (only what was given; the rest stays default). */
export function retryPolicyFrom(flags: RetryFlags): Partial<RetryPolicy> {
  const policy: Partial<RetryPolicy> = {};
  if (flags.retryBaseDelayMs !== undefined) policy.baseDelayMs = flags.retryBaseDelayMs;
  if (flags.retryMaxDelayMs !== undefined) policy.maxDelayMs = flags.retryMaxDelayMs;
  if (flags.retryMaxElapsedMs !== undefined) policy.maxElapsedMs = flags.retryMaxElapsedMs;
  if (flags.retryMaxAttempts !== undefined) policy.maxAttempts = flags.retryMaxAttempts;
  return policy;
}
