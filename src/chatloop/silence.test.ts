import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { ChatInterrupted, StreamSilenceTimeout } from "../chaterror/causes.ts";
import { SilenceGuard } from "./silence.ts";

/** Iterates `open(signal)` under a guard the way runStep does. */
async function* guardSilence<T>(
  open: (signal: AbortSignal) => AsyncIterable<T>,
  options: { signal: AbortSignal; silenceMs: number },
): AsyncGenerator<T> {
  using guard = new SilenceGuard(options.signal, options.silenceMs);
  try {
    for await (const part of open(guard.signal)) {
      guard.touch();
      yield part;
    }
  } catch (error) {
    throw guard.explain(error);
  }
}

/** Yields one part per entry of `gapsMs` after that gap; then, if `hang`, waits for abort. */
function source(gapsMs: number[], hang = false) {
  return async function* (signal: AbortSignal) {
    for (const [i, gap] of gapsMs.entries()) {
      await sleep(gap, undefined, { signal });
      yield i;
    }
    if (hang) await sleep(60_000, undefined, { signal });
  };
}

async function collect(iterable: AsyncIterable<number>): Promise<number[]> {
  const out: number[] = [];
  for await (const part of iterable) out.push(part);
  return out;
}

describe("guardSilence", () => {
  it("lets a stream through whose gaps are all shorter than the limit", async () => {
    const signal = new AbortController().signal;
    const parts = await collect(
      guardSilence(source([20, 20, 20, 20, 20]), { signal, silenceMs: 60 }),
    );
    expect(parts).toEqual([0, 1, 2, 3, 4]);
  });

  it("aborts a stream that goes quiet with StreamSilenceTimeout", async () => {
    const signal = new AbortController().signal;
    const seen: number[] = [];
    const run = async () => {
      for await (const part of guardSilence(source([5], true), { signal, silenceMs: 50 })) {
        seen.push(part);
      }
    };
    await expect(run()).rejects.toBeInstanceOf(StreamSilenceTimeout);
    expect(seen).toEqual([0]);
  });

  it("counts the wait for the first part as silence", async () => {
    const signal = new AbortController().signal;
    await expect(
      collect(guardSilence(source([], true), { signal, silenceMs: 30 })),
    ).rejects.toBeInstanceOf(StreamSilenceTimeout);
  });

  it("passes the caller's own abort through untouched", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new ChatInterrupted()), 20);
    const error = await collect(
      guardSilence(source([], true), { signal: controller.signal, silenceMs: 10_000 }),
    ).catch((e: unknown) => e);
    expect(StreamSilenceTimeout.isInstance(error)).toBe(false);
    expect(controller.signal.aborted).toBe(true);
  });
});
