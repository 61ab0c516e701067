import { ChatInterrupted, ProviderTransportReset } from "../chaterror/causes.ts";
import { ChatError } from "../chaterror/chat-error.ts";
import { classify } from "../chaterror/classify.ts";
import type { ClassifiedError } from "../chaterror/kinds.ts";
import { DEFAULT_RETRY_POLICY, type RetryPolicy, retryDelay } from "./policy.ts";

/** Told before every wait, so clients can show "retrying in 4 s" while it happens. */
export interface RetryEvent {
  /** The attempt that just failed, 1-based. */
  attempt: number;
  delayMs: number;
  error: ClassifiedError;
  retryingAt: Date;
}

export interface RetryOptions {
  /** The caller's signal: its `reason` is the cause reported when it aborts. */
  signal: AbortSignal;
  policy?: Partial<RetryPolicy>;
  onRetry?: (event: RetryEvent) => void;
  /** Display name of the provider, for classified messages. */
  provider?: string;
  /** Injectable for tests. */
  random?: () => number;
  now?: () => number;
}

/** What the attempt gets: a signal that aborts with the caller's, and its 1-based number. */
export type Attempt<T> = (signal: AbortSignal, attempt: number) => Promise<T>;

/** The caller's own cause — the twin of Go's `context.Cause(ctx)`. */
function callerCause(signal: AbortSignal): unknown {
  return signal.reason ?? new ChatInterrupted();
}

function childSignal(parent: AbortSignal): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const forward = () => controller.abort(parent.reason);
  parent.addEventListener("abort", forward, { once: true });
  return { signal: controller.signal, release: () => parent.removeEventListener("abort", forward) };
}

/**
 * The caller is healthy here, so an error that classifies as a bare abort came from the provider
 * side (a reset or hang-up dressed as an abort): it is a transport reset, and retryable.
 */
function classifyFailure(error: unknown, provider: string | undefined): ClassifiedError {
  const classified = classify(error, { provider });
  if (classified.kind !== "canceled") return classified;
  const reset = new ProviderTransportReset("The provider aborted the stream mid-reply.", {
    cause: error,
  });
  return classify(reset, { provider });
}

function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.max(1, Math.round(ms / 1000))} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** The last retryable error, reworded as final: what happened, how hard Keel tried, what next. */
function gaveUp(classified: ClassifiedError, attempts: number, elapsedMs: number): ClassifiedError {
  const tries = attempts === 1 ? "1 attempt" : `${attempts} attempts`;
  return {
    ...classified,
    message: `${classified.message} Keel gave up after ${tries} over ${formatDuration(elapsedMs)}; try again later.`,
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(callerCause(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(callerCause(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Runs `attempt` until it succeeds, a failure is terminal, the policy's budget is spent, or the
 * caller aborts. Throws the caller's cause when the caller aborted (whatever the attempt's error
 * said), otherwise a `ChatError` holding the last classified error.
 */
export async function retry<T>(attempt: Attempt<T>, options: RetryOptions): Promise<T> {
  const { signal, onRetry, provider, random } = options;
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
  const now = options.now ?? Date.now;
  const startedAt = now();

  for (let n = 1; ; n++) {
    if (signal.aborted) throw callerCause(signal);
    const child = childSignal(signal);
    try {
      return await attempt(child.signal, n);
    } catch (error) {
      if (signal.aborted) throw callerCause(signal);
      const classified = classifyFailure(error, provider);
      if (!classified.retryable) throw new ChatError(classified, n);

      const delayMs = retryDelay(n, classified.retryAfterMs, policy, random);
      const outOfAttempts = n >= policy.maxAttempts;
      const outOfTime = now() + delayMs - startedAt > policy.maxElapsedMs;
      if (outOfAttempts || outOfTime) {
        throw new ChatError(gaveUp(classified, n, now() - startedAt), n);
      }

      onRetry?.({ attempt: n, delayMs, error: classified, retryingAt: new Date(now() + delayMs) });
      await sleep(delayMs, signal);
    } finally {
      child.release();
    }
  }
}
