/**
 * The api's logger: a tiny interface the server wires to its own sink. Every line the api writes
 * goes through `redacting()`, so a field that names a secret (`api_key`, `password`, a token, a
 * cookie…) is replaced before any sink sees it, whatever logger was injected.
 */

export type LogFields = Record<string, unknown>;

/** Least to most severe; a logger set to one level writes that level and the ones after it. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  /** Per-request detail (one line per HTTP request): written only at `--log-level debug`. */
  debug?(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** Field names whose values never reach a log line. */
const SECRET_FIELD = /api[_-]?key|password|secret|token|authorization|cookie|credential/i;

export const REDACTED = "[redacted]";

/** A deep copy of `value` with every secret-named field replaced by `[redacted]`. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) {
    return { name: value.name, message: value.message, stack: value.stack };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = SECRET_FIELD.test(key) ? REDACTED : redact(v, depth + 1);
  }
  return out;
}

/** Wraps a logger so that every field passes through `redact` first. */
export function redacting(logger: Logger): Logger {
  const clean = (fields: LogFields | undefined): LogFields | undefined =>
    fields === undefined ? undefined : (redact(fields) as LogFields);
  return {
    debug: (msg, fields) => logger.debug?.(msg, clean(fields)),
    info: (msg, fields) => logger.info(msg, clean(fields)),
    warn: (msg, fields) => logger.warn(msg, clean(fields)),
    error: (msg, fields) => logger.error(msg, clean(fields)),
  };
}

/** One JSON object per line, e.g. on stderr; lines below `level` are dropped. */
export function jsonLogger(write: (line: string) => void, level: LogLevel = "info"): Logger {
  const least = LOG_LEVELS.indexOf(level);
  const line = (at: LogLevel, msg: string, fields: LogFields | undefined) => {
    if (LOG_LEVELS.indexOf(at) < least) return;
    write(`${JSON.stringify({ time: new Date().toISOString(), level: at, msg, ...fields })}\n`);
  };
  return {
    debug: (msg, fields) => line("debug", msg, fields),
    info: (msg, fields) => line("info", msg, fields),
    warn: (msg, fields) => line("warn", msg, fields),
    error: (msg, fields) => line("error", msg, fields),
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
