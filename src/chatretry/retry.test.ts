import { APICallError } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import { ChatInterrupted, ProviderTransportReset, ServerShutdown } from "../chaterror/causes.ts";
import { ChatError } from "../chaterror/chat-error.ts";
import { backoffDelay, retryDelay } from "./policy.ts";
import { type RetryEvent, retry } from "./retry.ts";

const fast = { baseDelayMs: 1, maxDelayMs: 1 };

function apiError(statusCode: number, headers: Record<string, string> = {}): APICallError {
  return new APICallError({
    message: `HTTP ${statusCode}`,
    url: "https://provider.test/v1/messages",
    requestBodyValues: {},
    statusCode,
    responseHeaders: headers,
    responseBody: "{}",
  });
}

/** An attempt that fails with the given errors in turn, then returns "ok". */
function failing(...errors: unknown[]) {
  const calls: number[] = [];
  const attempt = async (_signal: AbortSignal, n: number) => {
    calls.push(n);
    const error = errors[n - 1];
    if (error !== undefined) throw error;
    return "ok";
  };
  return { attempt, calls };
}

describe("retry", () => {
  it("retries transient failures and reports each retry before waiting", async () => {
    const { attempt, calls } = failing(new ProviderTransportReset(), apiError(503));
    const events: RetryEvent[] = [];
    const result = await retry(attempt, {
      signal: new AbortController().signal,
      policy: fast,
      onRetry: (e) => events.push(e),
    });
    expect(result).toBe("ok");
    expect(calls).toEqual([1, 2, 3]);
    expect(events.map((e) => [e.attempt, e.error.kind])).toEqual([
      [1, "timeout"],
      [2, "timeout"],
    ]);
  });

  it("stops at once on a terminal error with the classified error", async () => {
    const { attempt, calls } = failing(apiError(401));
    const events: RetryEvent[] = [];
    const error = await retry(attempt, {
      signal: new AbortController().signal,
      policy: fast,
      onRetry: (e) => events.push(e),
    }).catch((e: unknown) => e);
    expect(ChatError.isInstance(error) && error.kind).toBe("auth");
    expect(calls).toEqual([1]);
    expect(events).toEqual([]);
  });

  it("never starts an attempt when the caller already stopped", async () => {
    const controller = new AbortController();
    controller.abort(new ServerShutdown());
    const { attempt, calls } = failing();
    await expect(retry(attempt, { signal: controller.signal })).rejects.toBeInstanceOf(
      ServerShutdown,
    );
    expect(calls).toEqual([]);
  });

  it.each([
    ["an abort error", new DOMException("aborted", "AbortError")],
    ["a retryable 500", apiError(500)],
    ["a terminal 401", apiError(401)],
  ])(
    "reports the caller's cause when the caller stopped, even if the attempt threw %s",
    async (_, thrown) => {
      const controller = new AbortController();
      const attempt = async () => {
        controller.abort(new ChatInterrupted());
        throw thrown;
      };
      await expect(
        retry(attempt, { signal: controller.signal, policy: fast }),
      ).rejects.toBeInstanceOf(ChatInterrupted);
    },
  );

  it("treats a bare abort while the caller is healthy as a provider reset, and retries", async () => {
    const { attempt, calls } = failing(
      new DOMException("This operation was aborted", "AbortError"),
    );
    const events: RetryEvent[] = [];
    await retry(attempt, {
      signal: new AbortController().signal,
      policy: fast,
      onRetry: (e) => events.push(e),
    });
    expect(calls).toEqual([1, 2]);
    expect(events[0]?.error.kind).toBe("timeout");
    expect(ProviderTransportReset.isInstance(events[0]?.error.cause)).toBe(true);
  });

  it("stops during the backoff wait at once with the caller's cause", async () => {
    const controller = new AbortController();
    const { attempt, calls } = failing(new ProviderTransportReset());
    const started = performance.now();
    const stopped = retry(attempt, {
      signal: controller.signal,
      policy: { baseDelayMs: 60_000, maxDelayMs: 60_000 },
      random: () => 1,
      onRetry: () => setTimeout(() => controller.abort(new ChatInterrupted()), 10),
    });
    await expect(stopped).rejects.toBeInstanceOf(ChatInterrupted);
    // Far below the 60 s wait it cut short, however busy the machine.
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(calls).toEqual([1]);
  });

  it("waits at least the provider's Retry-After", async () => {
    const controller = new AbortController();
    const events: RetryEvent[] = [];
    const { attempt } = failing(apiError(429, { "retry-after": "20" }));
    const started = performance.now();
    const result = retry(attempt, {
      signal: controller.signal,
      policy: fast,
      onRetry: (e) => {
        events.push(e);
        controller.abort(new ChatInterrupted()); // the figure is what matters, not the wait
      },
    });
    await expect(result).rejects.toBeInstanceOf(ChatInterrupted);
    // A Stop in onRetry skips the wait: far below the 20 s it would have lasted.
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(events[0]?.delayMs).toBeGreaterThanOrEqual(20_000);
    expect(events[0]?.error.kind).toBe("rate_limit");
  });

  it("gives up after maxAttempts with the last classified error", async () => {
    const { attempt, calls } = failing(apiError(502), apiError(503), apiError(529));
    const error = await retry(attempt, {
      signal: new AbortController().signal,
      policy: { ...fast, maxAttempts: 3 },
    }).catch((e: unknown) => e);
    expect(calls).toEqual([1, 2, 3]);
    expect(ChatError.isInstance(error) && [error.kind, error.attempts]).toEqual(["overloaded", 3]);
    expect(ChatError.isInstance(error) && error.message).toMatch(
      /overloaded \(529\)\. Keel gave up after 3 attempts over \d+ s; try again later\.$/,
    );
  });

  it("gives up when the next wait would pass maxElapsedMs", async () => {
    let clock = 0;
    const attempt = async () => {
      clock += 10_000;
      throw apiError(503);
    };
    const error = await retry(attempt, {
      signal: new AbortController().signal,
      policy: { ...fast, maxElapsedMs: 25_000 },
      now: () => clock,
    }).catch((e: unknown) => e);
    expect(ChatError.isInstance(error) && error.attempts).toBe(3);
  });
});

describe("backoff", () => {
  const policy = {
    baseDelayMs: 1_000,
    maxDelayMs: 60_000,
    maxRetryAfterMs: 300_000,
    maxAttempts: 25,
    maxElapsedMs: 1_800_000,
  };

  it.each([
    [1, 1_000],
    [2, 2_000],
    [3, 4_000],
    [7, 60_000],
    [40, 60_000],
  ])("after failure %i the ceiling is %i ms", (failure, ceiling) => {
    expect(backoffDelay(failure, policy, () => 1)).toBe(ceiling);
    expect(backoffDelay(failure, policy, () => 0)).toBe(0);
  });

  it("never waits less than Retry-After, and caps Retry-After", () => {
    expect(retryDelay(1, 5_000, policy, () => 0)).toBe(5_000);
    expect(retryDelay(1, 3_600_000, policy, () => 0)).toBe(300_000);
    expect(retryDelay(3, 100, policy, () => 1)).toBe(4_000);
  });
});
