/**
 * In-memory limiter for failed sign-ins, keyed by email + client address: after `maxFailures`
 * failures within `windowMs` of the first one, further attempts are refused until the window
 * ends. A success clears the key. Memory stays bounded: expired keys are swept as new ones arrive.
 */
export interface RateLimitOptions {
  maxFailures: number;
  windowMs: number;
  /** Keys kept at most; the oldest windows are dropped beyond it. */
  maxKeys?: number;
  now?: () => number;
}

interface Window {
  failures: number;
  resetAt: number;
}

export class LoginRateLimiter {
  readonly #windows = new Map<string, Window>();
  readonly #max: number;
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;

  constructor(options: RateLimitOptions) {
    this.#max = options.maxFailures;
    this.#windowMs = options.windowMs;
    this.#maxKeys = options.maxKeys ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  /** Milliseconds until `key` may try again; 0 when it may try now. */
  blockedFor(key: string): number {
    const w = this.#windows.get(key);
    if (w === undefined) return 0;
    const now = this.#now();
    if (now >= w.resetAt) {
      this.#windows.delete(key);
      return 0;
    }
    return w.failures >= this.#max ? w.resetAt - now : 0;
  }

  fail(key: string): void {
    const now = this.#now();
    const w = this.#windows.get(key);
    if (w !== undefined && now < w.resetAt) {
      w.failures++;
      return;
    }
    if (w === undefined && this.#windows.size >= this.#maxKeys) this.#sweep(now);
    this.#windows.set(key, { failures: 1, resetAt: now + this.#windowMs });
  }

  succeed(key: string): void {
    this.#windows.delete(key);
  }

  get size(): number {
    return this.#windows.size;
  }

  #sweep(now: number): void {
    for (const [key, w] of this.#windows) if (now >= w.resetAt) this.#windows.delete(key);
    // Still full: drop the oldest insertions (Map iterates in insertion order).
    for (const key of this.#windows.keys()) {
      if (this.#windows.size < this.#maxKeys) break;
      this.#windows.delete(key);
    }
  }
}
