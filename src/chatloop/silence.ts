import { StreamSilenceTimeout } from "../chaterror/causes.ts";

export interface SilenceGuardOptions {
  /** The attempt's signal; the guard's own signal aborts with it. */
  signal: AbortSignal;
  /** Abandon the stream after this long without a part (the wait for headers included). */
  silenceMs: number;
}

/**
 * Runs `open(signal)` under a silence guard: an attempt-level AbortController that is aborted
 * with `StreamSilenceTimeout` when no part arrived for `silenceMs`. While the parent signal is
 * healthy, the abort error the stream then throws is replaced by that `StreamSilenceTimeout`,
 * which classifies as a retryable timeout.
 *
 * Hot path: a part only stamps the time. One timer checks the stamp when it fires and re-arms
 * for the remainder, instead of clearing and re-creating a timer per token.
 */
export async function* guardSilence<T>(
  open: (signal: AbortSignal) => AsyncIterable<T>,
  { signal, silenceMs }: SilenceGuardOptions,
): AsyncGenerator<T> {
  const controller = new AbortController();
  const forward = () => controller.abort(signal.reason);
  signal.addEventListener("abort", forward, { once: true });
  if (signal.aborted) forward();

  let lastPartAt = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    const quietFor = performance.now() - lastPartAt;
    if (quietFor >= silenceMs) controller.abort(new StreamSilenceTimeout(silenceMs));
    else timer = setTimeout(check, silenceMs - quietFor);
  };
  timer = setTimeout(check, silenceMs);

  try {
    for await (const part of open(controller.signal)) {
      lastPartAt = performance.now();
      yield part;
    }
  } catch (error) {
    const reason: unknown = controller.signal.reason;
    if (!signal.aborted && StreamSilenceTimeout.isInstance(reason)) {
      throw new StreamSilenceTimeout(silenceMs, { cause: error });
    }
    throw error;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", forward);
  }
}
