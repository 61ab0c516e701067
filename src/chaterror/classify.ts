/**
 * classify(err) → ClassifiedError: DESIGN.md §2, "Error classification and retry".
 *
 * Pure and context-free: it never looks at a caller's AbortSignal (only chatretry can tell a
 * user's Stop from a provider reset). It walks the error and its `cause` chain (bounded and
 * cycle-safe, AggregateError's `errors` included), collects typed facts, and decides in order:
 *
 * 1. `TurnDeadlineExceeded` anywhere: a `timeout` that is not retried — our own deadline is
 *    policy, not the provider's opinion, so not even `x-should-retry: true` overrides it.
 * 2. Typed facts: the provider's error type/code (response body, SSE event, `x-amzn-errortype`,
 *    Google `details`), the HTTP status (4xx/5xx only), the HTTP/2 error code, the Node/undici
 *    error code, Keel's own causes, the SDK's typed errors. Among them the strongest kind wins (see
 *    `RANK`): overloaded, usage_limit, auth, context_length, content_filter, rate_limit, Keel's own
 *    transport causes, config, a bare 403, then the ambiguous transient wrappers (408/502/503/504,
 *    socket and HTTP/2 resets, `UNAVAILABLE`, …) and server_error — so a config signal beats an
 *    ambiguous transient one ("503 model does not exist" fails fast).
 * 3. Text matching over every message in the chain, for layers that flattened the error.
 * 4. A bare abort (`AbortError`, `ChatInterrupted`, `ServerShutdown`, …): `canceled`.
 * 5. A 2xx response whose body then failed, or a connection failure the SDK marked retryable with
 *    no status and no recognisable cause: a transport failure, `timeout`.
 * 6. Anything else: `generic`.
 *
 * Last, an explicit `x-should-retry` header sets `retryable` whatever the kind said; when it says
 * "true" of a kind that is never retried, the kind becomes `server_error` (the provider failed and
 * told us a retry can succeed).
 */
import {
  APICallError,
  EmptyResponseBodyError,
  InvalidArgumentError,
  InvalidPromptError,
  InvalidResponseDataError,
  LoadAPIKeyError,
  LoadSettingError,
  NoSuchModelError,
  TypeValidationError,
  UnsupportedFunctionalityError,
} from "@ai-sdk/provider";
import { NoOutputGeneratedError, RetryError, StreamProviderError } from "ai";
import {
  ChatInterrupted,
  ProviderTransportReset,
  ServerShutdown,
  StreamSilenceTimeout,
  TurnDeadlineExceeded,
} from "./causes.ts";
import { ChatError } from "./chat-error.ts";
import type { ClassifiedError, ErrorKind } from "./kinds.ts";

export interface ClassifyContext {
  /** Display name of the provider for messages ("Anthropic"); default "The provider". */
  provider?: string | undefined;
}

/** `detail` is capped at this many characters. */
export const DETAIL_LIMIT = 500;

const MAX_NODES = 32;
const MAX_DEPTH = 8;

// ---------------------------------------------------------------------------------------------
// Verdicts: a kind, how strongly it claims the error, and which message to show.

type Topic =
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

interface Verdict {
  readonly kind: ErrorKind;
  /** Lower wins when typed facts disagree. */
  readonly rank: number;
  readonly topic: Topic;
}

/**
 * Precedence among typed facts. DESIGN.md orders overloaded, usage_limit, auth, rate_limit,
 * timeout, config, with config beating an ambiguous transient wrapper. context_length and
 * content_filter sit above rate_limit (OpenAI's "Request too large … must be reduced" arrives as a
 * 429 `rate_limit_exceeded` and no retry can fix it). Keel's own transport causes are unambiguous
 * and keep their place above config; a bare 403/permission type ("auth unless a config signal
 * explains it") and the ambiguous transient wrappers sit below it.
 */
const RANK = {
  overloaded: 0,
  usageLimit: 1,
  auth: 2,
  contextLength: 3,
  contentFilter: 4,
  rateLimit: 5,
  ownTimeout: 6,
  config: 7,
  weakAuth: 8,
  timeout: 9,
  serverError: 10,
} as const;

const V = {
  overloaded: { kind: "overloaded", rank: RANK.overloaded, topic: "overloaded" },
  usageLimit: { kind: "usage_limit", rank: RANK.usageLimit, topic: "quota" },
  authKey: { kind: "auth", rank: RANK.auth, topic: "key" },
  authMissingKey: { kind: "auth", rank: RANK.auth, topic: "missing-key" },
  authForbidden: { kind: "auth", rank: RANK.weakAuth, topic: "forbidden" },
  contextLength: { kind: "context_length", rank: RANK.contextLength, topic: "context" },
  contentFilter: { kind: "content_filter", rank: RANK.contentFilter, topic: "policy" },
  rateLimit: { kind: "rate_limit", rank: RANK.rateLimit, topic: "rate" },
  silence: { kind: "timeout", rank: RANK.ownTimeout, topic: "silence" },
  reset: { kind: "timeout", rank: RANK.ownTimeout, topic: "reset" },
  /** undici's content-length mismatch: a truncated body, whatever HTTP/2 code caused it. */
  bodyMismatch: { kind: "timeout", rank: RANK.ownTimeout, topic: "truncated" },
  configModel: { kind: "config", rank: RANK.config, topic: "model" },
  configInvalid: { kind: "config", rank: RANK.config, topic: "invalid" },
  configEndpoint: { kind: "config", rank: RANK.config, topic: "endpoint" },
  configHttp2: { kind: "config", rank: RANK.config, topic: "http2-protocol" },
  timeoutStatus: { kind: "timeout", rank: RANK.timeout, topic: "status" },
  timeoutTransport: { kind: "timeout", rank: RANK.timeout, topic: "transport" },
  timeoutTruncated: { kind: "timeout", rank: RANK.timeout, topic: "truncated" },
  timedOut: { kind: "timeout", rank: RANK.timeout, topic: "timed-out" },
  serverError: { kind: "server_error", rank: RANK.serverError, topic: "server" },
  conflict: { kind: "server_error", rank: RANK.serverError, topic: "conflict" },
} as const satisfies Record<string, Verdict>;

const OVERRIDE: Verdict = { kind: "server_error", rank: RANK.serverError, topic: "override" };
const CANCELED: Verdict = { kind: "canceled", rank: 99, topic: "canceled" };
const GENERIC: Verdict = { kind: "generic", rank: 99, topic: "generic" };
const DEADLINE: Verdict = { kind: "timeout", rank: 0, topic: "deadline" };

const RETRYABLE: Record<ErrorKind, boolean> = {
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
function statusVerdict(status: number): Verdict | undefined {
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

/**
 * Provider error types and codes, lower-cased. `generic` ones name a broad class (a bad request,
 * an internal error): the provider's message may still say something more specific ("prompt is
 * too long", "credit balance is too low", "model not enabled"), so phrases are consulted too.
 */
const PROVIDER_CODES = new Map<string, { verdict: Verdict; generic?: true }>([
  // Anthropic
  ["overloaded_error", { verdict: V.overloaded }],
  ["rate_limit_error", { verdict: V.rateLimit }],
  ["authentication_error", { verdict: V.authKey }],
  ["permission_error", { verdict: V.authForbidden, generic: true }],
  ["not_found_error", { verdict: V.configModel, generic: true }],
  ["invalid_request_error", { verdict: V.configInvalid, generic: true }],
  ["request_too_large", { verdict: V.contextLength }],
  ["billing_error", { verdict: V.usageLimit }],
  ["api_error", { verdict: V.serverError, generic: true }],
  ["timeout_error", { verdict: V.timedOut, generic: true }],
  // OpenAI, Azure OpenAI, OpenRouter and OpenAI-compatible servers
  ["insufficient_quota", { verdict: V.usageLimit }],
  ["billing_hard_limit_reached", { verdict: V.usageLimit }],
  ["billing_not_active", { verdict: V.usageLimit }],
  ["insufficient_balance", { verdict: V.usageLimit }],
  ["rate_limit_exceeded", { verdict: V.rateLimit }],
  ["invalid_api_key", { verdict: V.authKey }],
  ["account_deactivated", { verdict: V.authKey }],
  ["access_terminated", { verdict: V.authKey }],
  ["model_not_found", { verdict: V.configModel }],
  ["deploymentnotfound", { verdict: V.configModel }],
  ["unsupported_parameter", { verdict: V.configInvalid }],
  ["unsupported_value", { verdict: V.configInvalid }],
  ["context_length_exceeded", { verdict: V.contextLength }],
  ["content_filter", { verdict: V.contentFilter }],
  ["content_policy_violation", { verdict: V.contentFilter }],
  ["responsibleaipolicyviolation", { verdict: V.contentFilter }],
  ["server_error", { verdict: V.serverError, generic: true }],
  ["overloaded", { verdict: V.overloaded }],
  // Google (google.rpc.Code names, ErrorInfo reasons)
  ["resource_exhausted", { verdict: V.rateLimit }],
  ["invalid_argument", { verdict: V.configInvalid, generic: true }],
  ["failed_precondition", { verdict: V.configInvalid, generic: true }],
  ["out_of_range", { verdict: V.configInvalid, generic: true }],
  ["unimplemented", { verdict: V.configInvalid, generic: true }],
  ["unauthenticated", { verdict: V.authKey }],
  ["api_key_invalid", { verdict: V.authKey }],
  ["permission_denied", { verdict: V.authForbidden, generic: true }],
  ["service_disabled", { verdict: V.configInvalid }],
  ["not_found", { verdict: V.configModel, generic: true }],
  ["unavailable", { verdict: V.timeoutStatus, generic: true }],
  ["deadline_exceeded", { verdict: V.timedOut, generic: true }],
  ["aborted", { verdict: V.timeoutStatus, generic: true }],
  ["cancelled", { verdict: V.timeoutStatus, generic: true }],
  ["internal", { verdict: V.serverError, generic: true }],
  ["unknown", { verdict: V.serverError, generic: true }],
  ["data_loss", { verdict: V.serverError, generic: true }],
  // Amazon Bedrock (HTTP `x-amzn-errortype` / body `__type`, and the camelCase stream events)
  ["throttlingexception", { verdict: V.rateLimit }],
  ["servicequotaexceededexception", { verdict: V.rateLimit }],
  ["validationexception", { verdict: V.configInvalid, generic: true }],
  ["accessdeniedexception", { verdict: V.authForbidden, generic: true }],
  ["resourcenotfoundexception", { verdict: V.configModel, generic: true }],
  ["unrecognizedclientexception", { verdict: V.authKey }],
  ["invalidsignatureexception", { verdict: V.authKey }],
  ["expiredtokenexception", { verdict: V.authKey }],
  ["serviceunavailableexception", { verdict: V.timeoutStatus, generic: true }],
  ["modelnotreadyexception", { verdict: V.timeoutStatus, generic: true }],
  ["modeltimeoutexception", { verdict: V.timedOut, generic: true }],
  ["internalserverexception", { verdict: V.serverError, generic: true }],
  ["modelstreamerrorexception", { verdict: V.serverError, generic: true }],
  ["modelerrorexception", { verdict: V.serverError, generic: true }],
  // Keel's own marker for a prompt or answer blocked for safety (Google blockReason, finishReason)
  ["blocked", { verdict: V.contentFilter }],
]);

/** Google finish/block reasons that mean "refused for policy". */
const BLOCK_REASONS = new Set([
  "safety",
  "blocklist",
  "prohibited_content",
  "spii",
  "image_safety",
  "content-filter",
  "content_filter",
]);

// Phrases in a provider's own structured message (used when its type/code is missing or generic).
const CONTEXT_PHRASE =
  /prompt is too long|context (?:length|window|limit)|maximum context|input token count|input is too long|too many (?:input )?tokens|exceeds? the maximum number of tokens|reduce the length of the messages|request too large for|must be reduced in order to run/i;

const PHRASES: ReadonlyArray<readonly [RegExp, Verdict]> = [
  [/\boverloaded\b/i, V.overloaded],
  [
    /insufficient[_ ]quota|exceeded your current quota|\bbilling\b|payment required|credit balance|(?:more|enough|insufficient|out of) credits|insufficient (?:balance|funds)/i,
    V.usageLimit,
  ],
  [
    /invalid[_ ]?(?:x-)?api[_ -]?key|incorrect api key|api key (?:is )?(?:not valid|invalid|expired)|invalid authentication|authentication (?:failed|error|required)|\bunauthori[sz]ed\b|(?:missing|no) api key/i,
    V.authKey,
  ],
  [CONTEXT_PHRASE, V.contextLength],
  [
    /content[_ -]?(?:filter|policy)|content management policy|responsibleaipolicyviolation|safety (?:filter|system|settings)|(?:blocked|flagged) (?:by|due to|for) (?:safety|moderation)|prohibited content|guardrail/i,
    V.contentFilter,
  ],
  [/rate[_ -]?limit|too many requests|throttl/i, V.rateLimit],
  [
    /\bmodel\b[^.]{0,80}?(?:not found|does not exist|doesn't exist|not supported|is not available|not available|not enabled|deprecated|decommissioned|no longer available)|no such model|invalid model|unknown model|(?:unsupported|unknown|unrecognized) (?:parameter|value|argument)|not enabled for (?:your|this) account|not (?:available|supported) in your (?:region|country|location)|location is not supported|(?:don't|do not) have access to the model|deployment[^.]{0,40}does not exist|has not been used in project|\bis disabled\b/i,
    V.configModel,
  ],
];

// Text of last resort, for layers that flattened the error into a message.
const TEXT_ONLY: ReadonlyArray<readonly [RegExp, Verdict]> = [
  [
    /\btimed? ?out\b|timeout|econnreset|econnrefused|\bepipe\b|socket hang up|other side closed|\bterminated\b|upstream connect error|reset before headers|connection (?:reset|refused|closed|error)|network (?:error|connection lost)|fetch failed|premature close|goaway|rst_stream|bad gateway|service unavailable|gateway time-?out|temporarily unavailable/i,
    V.timeoutTransport,
  ],
  [/internal (?:server )?error|server error/i, V.serverError],
];

const STATUS_IN_TEXT = /\b(?:status(?: code)?|http(?:\/\d(?:\.\d)?)?)[\s:=]*([45]\d\d)\b/i;

// Node and undici error codes.
const TRANSPORT_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
  "ERR_STREAM_PREMATURE_CLOSE",
  "ERR_SOCKET_CLOSED",
  "ERR_HTTP2_GOAWAY_SESSION",
  "ERR_HTTP2_INVALID_SESSION",
  "ERR_HTTP2_STREAM_CANCEL",
  "ERR_HTTP2_ERROR",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CLOSED",
  "UND_ERR_DESTROYED",
  "UND_ERR_INFO",
  // Bun's names, as the SDK lists them
  "ConnectionRefused",
  "ConnectionClosed",
  "FailedToOpenSocket",
]);

/** Misconfiguration of the endpoint: the host does not exist, or its certificate is not trusted. */
const ENDPOINT_CODE =
  /^(?:ENOTFOUND|ERR_INVALID_URL|ERR_TLS_CERT_ALTNAME_INVALID|UND_ERR_INVALID_ARG|UND_ERR_NOT_SUPPORTED)$|CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;

const ABORT_CODES = new Set(["ABORT_ERR", "UND_ERR_ABORTED", "UND_ERR_ABORT"]);

/** nghttp2 error codes by number (RFC 9113 §7). */
const HTTP2_CODES = [
  "NO_ERROR",
  "PROTOCOL_ERROR",
  "INTERNAL_ERROR",
  "FLOW_CONTROL_ERROR",
  "SETTINGS_TIMEOUT",
  "STREAM_CLOSED",
  "FRAME_SIZE_ERROR",
  "REFUSED_STREAM",
  "CANCEL",
  "COMPRESSION_ERROR",
  "CONNECT_ERROR",
  "ENHANCE_YOUR_CALM",
  "INADEQUATE_SECURITY",
  "HTTP_1_1_REQUIRED",
] as const;

/**
 * A peer's HTTP/2 reset. PROTOCOL_ERROR means we spoke HTTP/2 wrongly (or a proxy cannot): config.
 * So do the other "you are broken" codes. Every other code (NO_ERROR, INTERNAL_ERROR,
 * REFUSED_STREAM, CANCEL, ENHANCE_YOUR_CALM, flow control, …) is a transient reset.
 */
const HTTP2_CONFIG_CODES = new Set([
  "PROTOCOL_ERROR",
  "FRAME_SIZE_ERROR",
  "COMPRESSION_ERROR",
  "INADEQUATE_SECURITY",
  "HTTP_1_1_REQUIRED",
]);

function http2Verdict(code: string | undefined): Verdict {
  return code !== undefined && HTTP2_CONFIG_CODES.has(code) ? V.configHttp2 : V.timeoutTransport;
}

// ---------------------------------------------------------------------------------------------
// Small typed readers over unknown values.

type Rec = Record<PropertyKey, unknown>;

function isRecord(value: unknown): value is Rec {
  return typeof value === "object" && value !== null;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function num(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && /^\d{3}$/.test(value)) return Number(value);
  return undefined;
}

function parseJson(text: unknown): unknown {
  if (typeof text !== "string") return undefined;
  const trimmed = text.trim();
  if (!trimmed.startsWith("{") && !trimmed.startsWith("[")) return undefined;
  try {
    return JSON.parse(trimmed);
  } catch {
    return undefined;
  }
}

/** A header from a plain object (any case) or a `Headers`. */
function header(headers: unknown, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  if (!isRecord(headers)) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    if (typeof value === "string") return value;
    if (typeof value === "number") return String(value);
    if (Array.isArray(value) && typeof value[0] === "string") return value[0];
  }
  return undefined;
}

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

function shouldRetryHeader(headers: unknown): boolean | undefined {
  const value = header(headers, "x-should-retry")?.trim().toLowerCase();
  if (value === "true") return true;
  if (value === "false") return false;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Facts collected from the chain.

interface Facts {
  verdicts: Verdict[];
  /** Messages for the text-matching fallback (abort-shaped errors and Keel causes excluded). */
  texts: string[];
  /** The provider's own words, outermost first. */
  providerMessages: string[];
  /** "message (CODE)" for each node, for `detail` when the provider said nothing. */
  summary: string[];
  headers?: unknown;
  statusCode?: number;
  /** Google `RetryInfo.retryDelay`, used when no Retry-After header was sent. */
  retryDelayMs?: number;
  deadline: boolean;
  abort: boolean;
  /** A 2xx body that failed, or a retryable connection failure with no status. */
  brokenTransport: boolean;
  sdkRetryable: boolean;
  /** The outermost message, for `generic`. */
  firstMessage?: string;
}

interface ProviderFacts {
  tokens: string[];
  numericCode?: number;
  message?: string;
  retryDelayMs?: number;
  dailyQuota: boolean;
  nested: unknown[];
}

function googleDelay(value: unknown): number | undefined {
  const text = str(value);
  const match = text === undefined ? null : /^(\d+(?:\.\d+)?)s$/.exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1]) * 1000;
}

/** The provider's error from any of the shapes a body or an in-band SSE event takes. */
function providerFacts(value: Rec): ProviderFacts | undefined {
  const facts: ProviderFacts = { tokens: [], dailyQuota: false, nested: [] };
  const outerType = str(value.type);
  let inner: Rec = value;
  if (isRecord(value.error)) {
    inner = value.error;
  } else if (
    outerType === "response.failed" &&
    isRecord(value.response) &&
    isRecord(value.response.error)
  ) {
    inner = value.response.error;
  } else {
    for (const [key, entry] of Object.entries(value)) {
      if (/Exception$/.test(key) && isRecord(entry)) {
        facts.tokens.push(key);
        inner = entry;
        break;
      }
    }
  }

  for (const token of [inner.type, inner.__type, inner.status, inner.code]) {
    const text = str(token);
    if (text !== undefined && num(text) === undefined && text !== "error") facts.tokens.push(text);
  }
  if (inner !== value) {
    const text = str(value.code);
    if (text !== undefined && num(text) === undefined) facts.tokens.push(text);
    if (outerType !== undefined && outerType !== "error" && outerType !== "response.failed") {
      facts.tokens.push(outerType);
    }
  }
  if (isRecord(inner.innererror)) {
    const text = str(inner.innererror.code);
    if (text !== undefined) facts.tokens.push(text);
  }

  for (const holder of [value, inner]) {
    const feedback = isRecord(holder.promptFeedback)
      ? holder.promptFeedback.blockReason
      : isRecord(holder.prompt_feedback)
        ? holder.prompt_feedback.block_reason
        : undefined;
    if (str(feedback) !== undefined || str(holder.blockReason) !== undefined) {
      facts.tokens.push("blocked");
    }
    const finish = str(holder.finishReason)?.toLowerCase();
    if (finish !== undefined && BLOCK_REASONS.has(finish)) facts.tokens.push("blocked");
  }

  if (Array.isArray(inner.details)) {
    for (const detail of inner.details) {
      if (!isRecord(detail)) continue;
      const type = str(detail["@type"]) ?? "";
      if (type.endsWith("RetryInfo")) facts.retryDelayMs = googleDelay(detail.retryDelay);
      if (type.endsWith("ErrorInfo")) {
        const reason = str(detail.reason);
        if (reason !== undefined) facts.tokens.push(reason);
      }
      if (type.endsWith("QuotaFailure") && Array.isArray(detail.violations)) {
        for (const violation of detail.violations) {
          if (isRecord(violation) && /PerDay/i.test(str(violation.quotaId) ?? "")) {
            facts.dailyQuota = true;
          }
        }
      }
    }
  }

  facts.numericCode =
    num(inner.code) ?? num(inner.status) ?? num(inner.statusCode) ?? num(value.statusCode);
  facts.message = str(inner.message) ?? str(value.message) ?? str(value.error);

  // OpenRouter passes the upstream provider's own error along as `metadata.raw`.
  const metadata = inner.metadata;
  if (isRecord(metadata)) {
    const raw = isRecord(metadata.raw) ? metadata.raw : parseJson(metadata.raw);
    if (isRecord(raw)) facts.nested.push(raw);
  }

  if (facts.tokens.length === 0 && facts.numericCode === undefined && facts.message === undefined) {
    return undefined;
  }
  return facts;
}

function phraseVerdicts(text: string, table: ReadonlyArray<readonly [RegExp, Verdict]>): Verdict[] {
  return table.filter(([pattern]) => pattern.test(text)).map(([, verdict]) => verdict);
}

/** Adds what a provider's structured error says; `extraTokens` come from headers. */
function addProviderError(facts: Facts, value: Rec, extraTokens: string[] = [], depth = 0): void {
  const provider = providerFacts(value);
  if (provider === undefined && extraTokens.length === 0) return;
  const tokens = [...extraTokens, ...(provider?.tokens ?? [])];
  let recognised = false;
  let specific = false;
  for (const token of tokens) {
    const entry = PROVIDER_CODES.get(token.toLowerCase());
    if (entry === undefined) continue;
    facts.verdicts.push(entry.verdict);
    recognised = true;
    if (!entry.generic) specific = true;
  }
  if (provider?.dailyQuota) {
    facts.verdicts.push(V.usageLimit);
    specific = true;
  }
  const message = provider?.message;
  if (message !== undefined) {
    facts.providerMessages.push(message);
    facts.texts.push(message);
    // A specific type/code is the provider's verdict; its prose may mention other things
    // ("add a payment method to raise your rate limit"). Context-length wording is unambiguous.
    if (specific) {
      if (CONTEXT_PHRASE.test(message)) facts.verdicts.push(V.contextLength);
    } else {
      facts.verdicts.push(...phraseVerdicts(message, PHRASES));
    }
  }
  // An in-band numeric code (OpenRouter's `code: 402`, a status inferred by the SDK) counts only
  // when no type or code said more.
  if (!recognised && provider?.numericCode !== undefined) {
    const verdict = statusVerdict(provider.numericCode);
    if (verdict) facts.verdicts.push(verdict);
  }
  if (provider?.retryDelayMs !== undefined) facts.retryDelayMs ??= provider.retryDelayMs;
  if (depth < 2) {
    for (const nested of provider?.nested ?? []) {
      if (isRecord(nested)) addProviderError(facts, nested, [], depth + 1);
    }
  }
}

function errorCodeVerdict(code: string | undefined, message: string, http2: unknown): Verdict[] {
  const verdicts: Verdict[] = [];
  // Node says "Stream closed with error code NGHTTP2_CANCEL" or "Session closed with error code
  // 2"; undici adds the number as `http2ErrorCode`.
  const numbered = /error code (\d+)\b/.exec(message)?.[1];
  const h2Number = typeof http2 === "number" ? http2 : numbered ? Number(numbered) : undefined;
  const h2Name =
    /NGHTTP2_([A-Z0-9_]+)/.exec(message)?.[1] ??
    (h2Number === undefined ? undefined : HTTP2_CODES[h2Number]);
  if (code === "ERR_HTTP2_STREAM_ERROR" || code === "ERR_HTTP2_SESSION_ERROR") {
    verdicts.push(http2Verdict(h2Name));
  } else if (typeof http2 === "number") {
    verdicts.push(http2Verdict(h2Name));
  }
  if (code === undefined) return verdicts;
  if (code === "UND_ERR_RES_CONTENT_LENGTH_MISMATCH") verdicts.push(V.bodyMismatch);
  else if (TRANSPORT_CODES.has(code) || code.startsWith("HPE_")) verdicts.push(V.timeoutTransport);
  else if (ENDPOINT_CODE.test(code)) verdicts.push(V.configEndpoint);
  return verdicts;
}

function isAbortShaped(node: Rec): boolean {
  const name = str(node.name);
  if (name === "AbortError" || name === "ResponseAborted") return true;
  const code = str(node.code);
  return code !== undefined && ABORT_CODES.has(code);
}

function summarise(facts: Facts, node: Rec): void {
  const message = str(node.message);
  if (message === undefined) return;
  const code = str(node.code);
  const line = code !== undefined && !message.includes(code) ? `${message} (${code})` : message;
  if (facts.summary.at(-1) !== line) facts.summary.push(line);
}

function addStatus(facts: Facts, status: number | undefined): void {
  if (status === undefined) return;
  const verdict = statusVerdict(status);
  if (verdict === undefined) return;
  facts.verdicts.push(verdict);
  facts.statusCode ??= status;
}

function inspectApiCallError(facts: Facts, error: APICallError): void {
  if (facts.headers === undefined && error.responseHeaders !== undefined) {
    facts.headers = error.responseHeaders;
  }
  const status = error.statusCode;
  const failedStatus = status !== undefined && status >= 400 && status <= 599;
  if (failedStatus) addStatus(facts, status);
  else if (status !== undefined && status >= 200 && status < 300) facts.brokenTransport = true;
  else if (status === undefined && error.isRetryable) facts.brokenTransport = true;
  if (error.isRetryable) facts.sdkRetryable = true;

  // Bedrock names its error in a header: "ThrottlingException:http://internal.amazon.com/…".
  const amznType = header(error.responseHeaders, "x-amzn-errortype")?.split(":")[0]?.trim();
  const extra = amznType ? [amznType] : [];
  const body = parseJson(error.responseBody);
  // `data` is the SDK's schema-parsed body: it drops fields (Azure's `innererror`), so read both.
  const sources = [error.data, body].filter(isRecord);
  if (sources.length === 0 && extra.length > 0) sources.push({});
  for (const [i, source] of sources.entries()) {
    addProviderError(facts, source, i === 0 ? extra : []);
  }
  const text = error.responseBody?.trim();
  if (failedStatus && body === undefined && text && !text.startsWith("<")) {
    // A plain-text body ("upstream connect error …", "invalid model"): the provider's words.
    facts.providerMessages.push(text);
    facts.texts.push(text);
    facts.verdicts.push(...phraseVerdicts(text, PHRASES));
  }
  facts.texts.push(error.message);
}

function inspect(facts: Facts, node: Rec): void {
  facts.firstMessage ??= str(node.message);
  summarise(facts, node);

  if (TurnDeadlineExceeded.isInstance(node)) {
    facts.deadline = true;
    return;
  }
  if (StreamSilenceTimeout.isInstance(node)) {
    facts.verdicts.push(V.silence);
    return;
  }
  if (ProviderTransportReset.isInstance(node)) {
    facts.verdicts.push(V.reset);
    return;
  }
  if (ChatInterrupted.isInstance(node) || ServerShutdown.isInstance(node) || isAbortShaped(node)) {
    facts.abort = true;
    return;
  }
  if (str(node.name) === "TimeoutError") {
    facts.verdicts.push(V.timedOut);
    return;
  }
  if (APICallError.isInstance(node)) {
    inspectApiCallError(facts, node);
    return;
  }
  if (StreamProviderError.isInstance(node)) {
    // The SDK's normalised in-band error: its statusCode may be inferred from the type, so the
    // type/code lead and the status counts only when they are unknown.
    if (node.isRetryable) facts.sdkRetryable = true;
    addProviderError(facts, {
      type: node.type,
      code: node.code,
      message: node.message,
      statusCode: node.statusCode,
    });
    if (isRecord(node.data)) addProviderError(facts, node.data);
    return;
  }
  const message = str(node.message) ?? "";
  if (
    (InvalidResponseDataError.isInstance(node) || NoOutputGeneratedError.isInstance(node)) &&
    /ended without/i.test(message)
  ) {
    facts.verdicts.push(V.timeoutTruncated);
    return;
  }
  if (EmptyResponseBodyError.isInstance(node)) {
    facts.verdicts.push(V.timeoutTruncated);
    return;
  }
  if (LoadAPIKeyError.isInstance(node)) {
    facts.verdicts.push(V.authMissingKey);
    return;
  }
  if (NoSuchModelError.isInstance(node)) {
    facts.verdicts.push(V.configModel);
    return;
  }
  if (
    LoadSettingError.isInstance(node) ||
    UnsupportedFunctionalityError.isInstance(node) ||
    InvalidArgumentError.isInstance(node) ||
    InvalidPromptError.isInstance(node)
  ) {
    facts.verdicts.push(V.configInvalid);
    return;
  }
  if (RetryError.isInstance(node)) return; // its lastError is walked

  if (node instanceof Error || (str(node.name) !== undefined && str(node.stack) !== undefined)) {
    const code = str(node.code);
    facts.verdicts.push(...errorCodeVerdict(code, message, node.http2ErrorCode));
    if (str(node.name) === "TypeError" && message === "terminated") {
      facts.verdicts.push(V.timeoutTransport);
    }
    // AWS SDK errors: the name is the service's error type, $metadata holds the status.
    if (isRecord(node.$metadata)) {
      addStatus(facts, num(node.$metadata.httpStatusCode));
      addProviderError(facts, { message }, [str(node.name) ?? ""]);
    } else {
      addStatus(facts, num(node.statusCode) ?? num(node.status));
    }
    if (message !== "") facts.texts.push(message);
    return;
  }

  // A plain object: a provider's in-band error, as the SDK hands it to an `error` stream part
  // (`createProviderStreamError` keeps the provider's own frame in `data`).
  if (node.isRetryable === true) facts.sdkRetryable = true;
  addProviderError(facts, node);
  if (isRecord(node.data)) addProviderError(facts, node.data);
}

function children(node: Rec): unknown[] {
  if (RetryError.isInstance(node)) return [node.lastError];
  const out: unknown[] = [];
  if (node.cause !== undefined && node.cause !== null) out.push(node.cause);
  if (Array.isArray(node.errors)) out.push(...node.errors.slice(0, 10));
  if (TypeValidationError.isInstance(node) && isRecord(node.value)) out.push(node.value);
  return out;
}

function collect(root: unknown): Facts {
  const facts: Facts = {
    verdicts: [],
    texts: [],
    providerMessages: [],
    summary: [],
    deadline: false,
    abort: false,
    brokenTransport: false,
    sdkRetryable: false,
  };
  const seen = new Set<object>();
  const queue: Array<{ value: unknown; depth: number }> = [{ value: root, depth: 0 }];
  for (let i = 0; i < queue.length && seen.size < MAX_NODES; i++) {
    const entry = queue[i];
    if (entry === undefined) break;
    const { value, depth } = entry;
    if (typeof value === "string") {
      facts.firstMessage ??= value;
      facts.texts.push(value);
      facts.summary.push(value);
      continue;
    }
    if (!isRecord(value) || seen.has(value)) continue;
    seen.add(value);
    inspect(facts, value);
    if (depth >= MAX_DEPTH) continue;
    for (const child of children(value)) queue.push({ value: child, depth: depth + 1 });
  }
  return facts;
}

function strongest(verdicts: readonly Verdict[]): Verdict | undefined {
  let best: Verdict | undefined;
  for (const verdict of verdicts)
    if (best === undefined || verdict.rank < best.rank) best = verdict;
  return best;
}

function textVerdicts(texts: readonly string[]): Verdict[] {
  const verdicts: Verdict[] = [];
  for (const text of texts) {
    verdicts.push(...phraseVerdicts(text, PHRASES), ...phraseVerdicts(text, TEXT_ONLY));
    const status = STATUS_IN_TEXT.exec(text)?.[1];
    const verdict = status === undefined ? undefined : statusVerdict(Number(status));
    if (verdict) verdicts.push(verdict);
  }
  return verdicts;
}

function cap(text: string, limit: number): string {
  const clean = text.trim();
  return clean.length <= limit ? clean : `${clean.slice(0, limit - 1)}…`;
}

// ---------------------------------------------------------------------------------------------
// Messages for people.

interface Names {
  /** "Anthropic" / "The provider", to start a sentence. */
  subject: string;
  /** "Anthropic" / "the provider", inside one. */
  object: string;
}

function describe(
  verdict: Verdict,
  retryable: boolean,
  names: Names,
  statusCode: number | undefined,
  firstMessage: string | undefined,
): string {
  const { subject: P, object: p } = names;
  const s = statusCode === undefined ? "" : ` (${statusCode})`;
  const again = (later: string) => (retryable ? "; retrying." : `. ${later}`);
  switch (verdict.topic) {
    case "overloaded":
      return `${P} is overloaded${s}${again("Try again in a few minutes.")}`;
    case "quota":
      return `${P} refused the request because the account's quota or credit is used up${s}. Ask an administrator to check the provider account's plan and billing.`;
    case "key":
      return `${P} rejected the API key${s}. Ask an administrator to check the provider's API key.`;
    case "missing-key":
      return `No API key is configured for ${p}. Ask an administrator to set the provider's API key.`;
    case "forbidden":
      return `${P} denied access${s}. Ask an administrator to check the API key's permissions for this model.`;
    case "rate":
      return `${P} is rate-limiting requests${s}${again("Wait a minute and try again.")}`;
    case "status":
      return statusCode === 408 || statusCode === 504
        ? `${P} did not answer in time${s}${again("Try again in a moment.")}`
        : `${P} is temporarily unavailable${s}${again("Try again in a moment.")}`;
    case "transport":
      return `The connection to ${p} was interrupted${again("Try again in a moment.")}`;
    case "truncated":
      return `${P}'s reply was cut off before it finished${again("Try again in a moment.")}`;
    case "silence":
      return `${P} stopped sending data mid-reply${again("Try again in a moment.")}`;
    case "reset":
      return `${P} closed the connection mid-reply${again("Try again in a moment.")}`;
    case "timed-out":
      return `The request to ${p} timed out${s}${again("Try again in a moment.")}`;
    case "deadline":
      return "The turn took longer than its time limit and was stopped. Send a message to continue.";
    case "model":
      return `${P} cannot serve the configured model${s}. Ask an administrator to check the model configuration.`;
    case "invalid":
      return `${P} rejected the request as invalid${s}. Ask an administrator to check the model configuration.`;
    case "endpoint":
      return `Keel could not reach ${p} at its configured address. Ask an administrator to check the provider's endpoint settings.`;
    case "http2-protocol":
      return `The connection to ${p} failed with an HTTP/2 protocol error. Ask an administrator to check the provider's endpoint settings.`;
    case "context":
      return "The conversation is longer than the model's context window. Compact it or start a new chat.";
    case "policy":
      return `${P} refused the request under its content policy. Rephrase the message and try again.`;
    case "server":
      return `${P} had an internal error${s}${again("Try again later.")}`;
    case "conflict":
      return `${P} reported a conflict${s}${again("Try again in a moment.")}`;
    case "override":
      return `${P} failed${s} and asked for the request to be retried; retrying.`;
    case "canceled":
      return "The request was canceled.";
    case "generic": {
      const what = firstMessage?.split("\n")[0]?.trim();
      return what
        ? `The request to ${p} failed: ${cap(what, 200)}`
        : `The request to ${p} failed unexpectedly.`;
    }
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Classifies any failure of a provider call: an `APICallError`, an in-band stream error (an
 * `Error` or the provider's plain object), a transport error, an abort, a Keel cause, or anything
 * else. Never throws.
 */
export function classify(err: unknown, context: ClassifyContext = {}): ClassifiedError {
  if (ChatError.isInstance(err)) return err.classified;

  const display = context.provider?.trim();
  const names: Names = display
    ? { subject: display, object: display }
    : { subject: "The provider", object: "the provider" };

  const facts = collect(err);
  const retryAfterMs = parseRetryAfter(facts.headers) ?? facts.retryDelayMs;

  let verdict: Verdict;
  let retryable: boolean;
  if (facts.deadline) {
    verdict = DEADLINE;
    retryable = false;
  } else {
    verdict =
      strongest(facts.verdicts) ??
      strongest(textVerdicts(facts.texts)) ??
      (facts.abort ? CANCELED : undefined) ??
      (facts.brokenTransport ? V.timeoutTransport : undefined) ??
      (facts.sdkRetryable ? V.serverError : undefined) ??
      GENERIC;
    retryable = RETRYABLE[verdict.kind];
    const shouldRetry = shouldRetryHeader(facts.headers);
    if (shouldRetry === true && !retryable) {
      verdict = OVERRIDE;
      retryable = true;
    } else if (shouldRetry === false) {
      retryable = false;
    }
  }

  const detailSource = facts.providerMessages[0] ?? facts.summary.join(" ← ");
  const result: ClassifiedError = {
    kind: verdict.kind,
    retryable,
    message: describe(verdict, retryable, names, facts.statusCode, facts.firstMessage),
    cause: err,
  };
  if (facts.statusCode !== undefined) result.statusCode = facts.statusCode;
  if (retryAfterMs !== undefined) result.retryAfterMs = retryAfterMs;
  if (detailSource.trim() !== "") result.detail = cap(detailSource, DETAIL_LIMIT);
  return result;
}
