/**
 * Verdicts: a kind, how strongly it claims the error (its rank), and which message to show (its
 * topic) — the precedence among kinds, what each kind means for retrying, and what an HTTP status
 * says on its own.
 */
import type { ErrorKind } from "./kinds.ts";

export type Topic =
  | "overloaded"
  | "quota"
  | "key"
  | "forbidden"
  | "missing-key"
  | "rate"
  | "status"
  | "transport"
  | "truncated"
  | "silence"
  | "reset"
  | "timed-out"
  | "deadline"
  | "model"
  | "invalid"
  | "endpoint"
  | "http2-protocol"
  | "context"
  | "policy"
  | "server"
  | "conflict"
  | "override"
  | "canceled"
  | "generic";

export interface Verdict {
  readonly kind: ErrorKind;
  /** Lower wins when typed facts disagree. */
  readonly rank: number;
  readonly topic: Topic;
}

/**
 * Precedence among typed facts. DESIGN.md orders overloaded, usage_limit, auth, rate_limit,
 * timeout, config, with config beating an ambiguous transient wrapper. context_length and
 * content_filter sit above rate_limit (OpenAI's "Request too large … must be reduced" arrives as a
 * 429 `rate_limit_exceeded` and no retry can fix it). Prose that merely mentions billing sits just
 * below rate_limit: a 429 that says "see the billing page" is still a rate limit. Keel's own transport causes are unambiguous
 * and keep their place above config; a bare 403/permission type ("auth unless a config signal
 * explains it") sits below it. A provider's catch-all "invalid request" type (OpenAI sends
 * `invalid_request_error` with most 4xx, 403 included) is a vague config signal: it explains no
 * 403, but still beats the ambiguous transient wrappers, which sit below it.
 */
const RANK = {
  overloaded: 0,
  usageLimit: 1,
  auth: 2,
  contextLength: 3,
  contentFilter: 4,
  rateLimit: 5,
  billingMention: 6,
  ownTimeout: 7,
  config: 8,
  weakAuth: 9,
  vagueConfig: 10,
  timeout: 11,
  serverError: 12,
} as const;

export const V = {
  overloaded: { kind: "overloaded", rank: RANK.overloaded, topic: "overloaded" },
  usageLimit: { kind: "usage_limit", rank: RANK.usageLimit, topic: "quota" },
  authKey: { kind: "auth", rank: RANK.auth, topic: "key" },
  authMissingKey: { kind: "auth", rank: RANK.auth, topic: "missing-key" },
  authForbidden: { kind: "auth", rank: RANK.weakAuth, topic: "forbidden" },
  contextLength: { kind: "context_length", rank: RANK.contextLength, topic: "context" },
  contentFilter: { kind: "content_filter", rank: RANK.contentFilter, topic: "policy" },
  rateLimit: { kind: "rate_limit", rank: RANK.rateLimit, topic: "rate" },
  /** Prose that mentions billing with no code or quota phrase: below a 429, above a 400/403. */
  billingMention: { kind: "usage_limit", rank: RANK.billingMention, topic: "quota" },
  silence: { kind: "timeout", rank: RANK.ownTimeout, topic: "silence" },
  reset: { kind: "timeout", rank: RANK.ownTimeout, topic: "reset" },
  /** undici's content-length mismatch: a truncated body, whatever HTTP/2 code caused it. */
  bodyMismatch: { kind: "timeout", rank: RANK.ownTimeout, topic: "truncated" },
  configModel: { kind: "config", rank: RANK.config, topic: "model" },
  configInvalid: { kind: "config", rank: RANK.config, topic: "invalid" },
  /** A provider's catch-all "bad request" type, with nothing more specific said. */
  configVague: { kind: "config", rank: RANK.vagueConfig, topic: "invalid" },
  configEndpoint: { kind: "config", rank: RANK.config, topic: "endpoint" },
  configHttp2: { kind: "config", rank: RANK.config, topic: "http2-protocol" },
  timeoutStatus: { kind: "timeout", rank: RANK.timeout, topic: "status" },
  timeoutTransport: { kind: "timeout", rank: RANK.timeout, topic: "transport" },
  timeoutTruncated: { kind: "timeout", rank: RANK.timeout, topic: "truncated" },
  timedOut: { kind: "timeout", rank: RANK.timeout, topic: "timed-out" },
  serverError: { kind: "server_error", rank: RANK.serverError, topic: "server" },
  conflict: { kind: "server_error", rank: RANK.serverError, topic: "conflict" },
} as const satisfies Record<string, Verdict>;

export const OVERRIDE: Verdict = {
  kind: "server_error",
  rank: RANK.serverError,
  topic: "override",
};
export const CANCELED: Verdict = { kind: "canceled", rank: 99, topic: "canceled" };
export const GENERIC: Verdict = { kind: "generic", rank: 99, topic: "generic" };
export const DEADLINE: Verdict = { kind: "timeout", rank: 0, topic: "deadline" };

export const RETRYABLE: Record<ErrorKind, boolean> = {
  overloaded: true,
  usage_limit: false,
  auth: false,
  rate_limit: true,
  timeout: true,
  config: false,
  context_length: false,
  content_filter: false,
  server_error: true,
  canceled: false,
  generic: false,
};

/** Only 4xx/5xx classify by status; a 2xx whose body failed is a transport failure. */
export function statusVerdict(status: number): Verdict | undefined {
  if (!Number.isInteger(status) || status < 400 || status > 599) return undefined;
  switch (status) {
    case 401:
      return V.authKey;
    case 402:
      return V.usageLimit;
    case 403:
      return V.authForbidden;
    case 404:
    case 410:
      return V.configModel;
    case 408:
    case 425:
    case 499:
    case 502:
    case 503:
    case 504:
      return V.timeoutStatus;
    case 409:
      return V.conflict;
    case 413:
      return V.contextLength;
    case 429:
      return V.rateLimit;
    case 529:
      return V.overloaded;
    default:
      return status < 500 ? V.configInvalid : V.serverError;
  }
}

/** A 408/502/503/504, a socket or HTTP/2 reset, a 5xx: says nothing about the request itself. */
export function isAmbiguousTransient(verdict: Verdict): boolean {
  return verdict.rank >= RANK.timeout;
}

/** The verdict with the lowest rank; on a tie, the first one found. */
export function strongest(verdicts: readonly Verdict[]): Verdict | undefined {
  let best: Verdict | undefined;
  for (const verdict of verdicts)
    if (best === undefined || verdict.rank < best.rank) best = verdict;
  return best;
}
