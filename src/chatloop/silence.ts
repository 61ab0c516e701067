import { StreamSilenceTimeout } from "../chaterror/causes.ts";

/**
 * The silence guard: an attempt-level AbortController, aborted with `StreamSilenceTimeout` when
 * no stream part arrived for `silenceMs` (the wait for response headers included). Pass
 * `guard.signal` to the stream, call `touch()` on every part, and hand any error the stream
 * throws to `explain()`: while the parent is healthy, the abort error caused by the guard becomes
 * a `StreamSilenceTimeout`, which classifies as a retryable timeout.
 *
 * Hot path: `touch()` only stamps the time. One timer checks the stamp when it fires and re-arms
 * for the remainder, instead of clearing and re-creating a timer per token; and the guard is not
 * a stream wrapper, so it adds no async hop per part.
 */
export class SilenceGuard implements Disposable {
  readonly #parent: AbortSignal;
  readonly #controller = new AbortController();
  readonly #silenceMs: number;
  readonly #forward = () => this.#controller.abort(this.#parent.reason);
  #lastPartAt = performance.now();
  #timer: NodeJS.Timeout | undefined;

  constructor(parent: AbortSignal, silenceMs: number) {
    this.#parent = parent;
    this.#silenceMs = silenceMs;
    parent.addEventListener("abort", this.#forward, { once: true });
    if (parent.aborted) this.#forward();
    this.#timer = setTimeout(this.#check, silenceMs);
  }

  /** The signal for the guarded stream: aborts with the parent, or on silence. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** A part arrived. */
  touch(): void {
    this.#lastPartAt = performance.now();
  }

  /** The error to report for one the guarded stream threw. */
  explain(error: unknown): unknown {
    const reason: unknown = this.#controller.signal.reason;
    if (!this.#parent.aborted && StreamSilenceTimeout.isInstance(reason)) {
      return new StreamSilenceTimeout(this.#silenceMs, { cause: error });
    }
    return error;
  }

  [Symbol.dispose](): void {
    clearTimeout(this.#timer);
    this.#parent.removeEventListener("abort", this.#forward);
  }

  readonly #check = () => {
    const quietFor = performance.now() - this.#lastPartAt;
    if (quietFor >= this.#silenceMs) {
      this.#controller.abort(new StreamSilenceTimeout(this.#silenceMs));
    } else {
      this.#timer = setTimeout(this.#check, this.#silenceMs - quietFor);
    }
  };
}
