/** How long and how often chatretry keeps trying. Defaults: DESIGN.md §2. */
export interface RetryPolicy {
  /** First backoff ceiling; doubles per attempt. */
  baseDelayMs: number;
  /** Backoff ceiling never grows past this. */
  maxDelayMs: number;
  /** A provider's Retry-After is honoured up to this long. */
  maxRetryAfterMs: number;
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Total time from the first attempt after which no retry is started. */
  maxElapsedMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseDelayMs: 1_000,
  maxDelayMs: 60_000,
  maxRetryAfterMs: 5 * 60_000,
  maxAttempts: 25,
  maxElapsedMs: 30 * 60_000,
};

/**
 * Exponential backoff with full jitter: a uniform draw in [0, min(cap, base·2^(n-1))].
 * `failedAttempt` is 1 for the first failure.
 */
export function backoffDelay(
  failedAttempt: number,
  policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(failedAttempt - 1, 30);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
  return Math.round(random() * ceiling);
}

/** The wait before the next attempt: backoff, but never shorter than a (capped) Retry-After. */
export function retryDelay(
  failedAttempt: number,
  retryAfterMs: number | undefined,
  policy: RetryPolicy,
  random?: () => number,
): number {
  const backoff = backoffDelay(failedAttempt, policy, random);
  if (retryAfterMs === undefined) return backoff;
  return Math.max(backoff, Math.min(retryAfterMs, policy.maxRetryAfterMs));
}
