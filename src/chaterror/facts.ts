/**
 * The facts in an error and its cause chain: each node's typed facts (Keel's causes, the SDK's
 * typed errors, HTTP status and headers, the provider's error, Node/undici codes) and its words,
 * collected without deciding anything.
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
import { PHRASES, phraseVerdicts } from "./phrases.ts";
import { addProviderError } from "./provider-error.ts";
import { header, isRecord, num, parseJson, type Rec, str } from "./read.ts";
import { sentCredentials } from "./redact.ts";
import { errorCodeVerdict, isAbortShaped } from "./transport-codes.ts";
import { statusVerdict, V, type Verdict } from "./verdicts.ts";

/** The walk stops after this many nodes, or this deep. */
const MAX_NODES = 32;
const MAX_DEPTH = 8;

/** Everything the chain says, before any decision. */
export interface Facts {
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
  /** The credentials sent with the failed request (see redact.ts), to scrub from every word. */
  secrets: string[];
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

/** Records what one node of the chain says. */
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

/** The nodes a node wraps: `cause`, AggregateError `errors`, a RetryError's last error, … */
function children(node: Rec): unknown[] {
  if (RetryError.isInstance(node)) return [node.lastError];
  const out: unknown[] = [];
  if (node.cause !== undefined && node.cause !== null) out.push(node.cause);
  if (Array.isArray(node.errors)) out.push(...node.errors.slice(0, 10));
  if (TypeValidationError.isInstance(node) && isRecord(node.value)) out.push(node.value);
  return out;
}

/** Walks `root` and its causes breadth-first, outermost first; bounded and cycle-safe. */
export function collect(root: unknown): Facts {
  const facts: Facts = {
    verdicts: [],
    texts: [],
    providerMessages: [],
    summary: [],
    deadline: false,
    abort: false,
    brokenTransport: false,
    sdkRetryable: false,
    secrets: [],
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
    facts.secrets.push(...(sentCredentials(value) ?? []));
    inspect(facts, value);
    if (depth >= MAX_DEPTH) continue;
    for (const child of children(value)) queue.push({ value: child, depth: depth + 1 });
  }
  return facts;
}
