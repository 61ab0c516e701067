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
 *    error code, Keel's own causes, the SDK's typed errors. Among them the strongest kind wins
 *    (see `RANK` in verdicts.ts): overloaded, usage_limit, auth, context_length, content_filter,
 *    rate_limit, Keel's own transport causes, config, a bare 403, a provider's catch-all "invalid
 *    request" type (which explains no 403), then the ambiguous transient wrappers (408/502/503/504,
 *    socket and HTTP/2 resets, `UNAVAILABLE`, …) and server_error — so a config signal beats an
 *    ambiguous transient one ("503 model does not exist" fails fast). When the strongest typed
 *    fact is such a wrapper, config wording anywhere in the chain ("unsupported model") wins too.
 * 3. Text matching over every message in the chain, for layers that flattened the error.
 * 4. A bare abort (`AbortError`, `ChatInterrupted`, `ServerShutdown`, …): `canceled`.
 * 5. A 2xx response whose body then failed, or a connection failure the SDK marked retryable with
 *    no status and no recognisable cause: a transport failure, `timeout`.
 * 6. Anything else: `generic`.
 *
 * Last, an explicit `x-should-retry` header sets `retryable` whatever the kind said; when it says
 * "true" of a kind that is never retried, the kind becomes `server_error` (the provider failed and
 * told us a retry can succeed).
 *
 * The parts: `facts.ts` walks the chain and collects the facts (`provider-error.ts` reads a
 * provider's error body or event); `verdicts.ts` (kinds, ranks, statuses), `provider-codes.ts`,
 * `transport-codes.ts` and `phrases.ts` turn facts into verdicts; `retry-after.ts` reads the retry
 * headers; `messages.ts` words the result for people; this file decides.
 *
 * `message` and `detail` never carry a credential: the provider's words in them pass through
 * `redactSecrets` (redact.ts), with the credentials the provider layer tied to the error. `cause`
 * stays untouched and never leaves the process.
 */
import { ChatError } from "./chat-error.ts";
import { collect } from "./facts.ts";
import type { ClassifiedError } from "./kinds.ts";
import { cap, describe, providerNames } from "./messages.ts";
import { configTextVerdicts, textVerdicts } from "./phrases.ts";
import { redactSecrets } from "./redact.ts";
import { parseRetryAfter, shouldRetryHeader } from "./retry-after.ts";
import {
  CANCELED,
  DEADLINE,
  GENERIC,
  isAmbiguousTransient,
  OVERRIDE,
  RETRYABLE,
  strongest,
  V,
  type Verdict,
} from "./verdicts.ts";

export interface ClassifyContext {
  /** Display name of the provider for messages ("Anthropic"); default "The provider". */
  provider?: string | undefined;
}

/** `detail` is capped at this many characters. */
export const DETAIL_LIMIT = 500;

/**
 * Classifies any failure of a provider call: an `APICallError`, an in-band stream error (an
 * `Error` or the provider's plain object), a transport error, an abort, a Keel cause, or anything
 * else. Never throws.
 */
export function classify(err: unknown, context: ClassifyContext = {}): ClassifiedError {
  if (ChatError.isInstance(err)) return err.classified;

  const names = providerNames(context.provider);
  const facts = collect(err);
  const retryAfterMs = parseRetryAfter(facts.headers) ?? facts.retryDelayMs;

  let verdict: Verdict;
  let retryable: boolean;
  if (facts.deadline) {
    verdict = DEADLINE;
    retryable = false;
  } else {
    const typed = strongest(facts.verdicts);
    // A config signal beats an ambiguous transient wrapper, even one known by its type.
    const configInWrapper =
      typed !== undefined && isAmbiguousTransient(typed)
        ? strongest(configTextVerdicts(facts.texts))
        : undefined;
    verdict =
      configInWrapper ??
      typed ??
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

  // The provider's words are scrubbed before they are capped, so no cut leaves part of a secret.
  const scrub = (text: string) => redactSecrets(text, facts.secrets);
  const detailSource = scrub(facts.providerMessages[0] ?? facts.summary.join(" ← "));
  const firstMessage = facts.firstMessage === undefined ? undefined : scrub(facts.firstMessage);
  const result: ClassifiedError = {
    kind: verdict.kind,
    retryable,
    message: describe(verdict, retryable, names, facts.statusCode, firstMessage),
    cause: err,
  };
  if (facts.statusCode !== undefined) result.statusCode = facts.statusCode;
  if (retryAfterMs !== undefined) result.retryAfterMs = retryAfterMs;
  if (detailSource.trim() !== "") result.detail = cap(detailSource, DETAIL_LIMIT);
  return result;
}
