/**
 * DESIGN.md §2's end-to-end behaviours, over real sockets: Keel's full stream path (provider →
 * retry → silence guard → step) against the fake provider, for every wire format, over HTTP/1.1
 * (TLS) and HTTP/2 (TLS, ALPN).
 */
import { describe, expect, it } from "vitest";
import {
  ChatInterrupted,
  ServerShutdown,
  StreamSilenceTimeout,
} from "../../src/chaterror/causes.ts";
import { runStep, type StepOptions, type StepOutcome } from "../../src/chatloop/step.ts";
import type { RetryEvent } from "../../src/chatretry/retry.ts";
import {
  createChatModel,
  type StreamPart,
  type StreamRequest,
  Transport,
} from "../../src/provider/index.ts";
import {
  errorReply,
  hangAfter,
  midStreamError,
  resetAfter,
  startFakeProvider,
  textReply,
  toolCallReply,
  truncateAfter,
} from "../fakeprovider/index.ts";
import { useFakeProvider } from "./support/fake-fixture.ts";
import { FLAVOURS, flavour, TRANSPORTS } from "./support/flavours.ts";

const PROMPT: StreamRequest = {
  messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
};
const FAST = { baseDelayMs: 1, maxDelayMs: 5 };

function textOf(outcome: StepOutcome): string {
  const parts = outcome.status === "finished" ? outcome.parts : outcome.partial;
  return parts.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("");
}

describe.each(TRANSPORTS)("over $name", (transportCase) => {
  const provider = useFakeProvider(transportCase.server, { http2: transportCase.http2 });

  describe.each(FLAVOURS)("$name", (flavour) => {
    /** Runs one step and records its retries; `options` may stop it. */
    async function step(options: Partial<StepOptions> & { controller?: AbortController } = {}) {
      const controller = options.controller ?? new AbortController();
      const retries: RetryEvent[] = [];
      const model = createChatModel(
        flavour.config(provider.fake.url),
        "test-model",
        provider.transport,
      );
      const outcome = await runStep(model, PROMPT, {
        policy: FAST,
        silenceMs: 5_000,
        ...options,
        signal: controller.signal,
        onRetry: (event) => {
          retries.push(event);
          options.onRetry?.(event);
        },
      });
      return { outcome, retries };
    }

    it("streams a complete reply with usage", async () => {
      provider.fake.enqueue(
        textReply("Hello world, from the provider.fake.", { reasoning: "Think first." }),
      );
      const { outcome, retries } = await step();
      expect(outcome.status).toBe("finished");
      expect(textOf(outcome)).toBe("Hello world, from the provider.fake.");
      expect(retries).toEqual([]);
      expect(provider.fake.requests.map((r) => r.httpVersion)).toEqual([transportCase.httpVersion]);
      if (outcome.status === "finished") {
        expect(outcome.finishReason).toBe("stop");
        expect(outcome.usage.inputTokens).toBeGreaterThan(0);
        expect(outcome.usage.outputTokens).toBeGreaterThan(0);
      }
    });

    it("streams tool calls whole, with their parsed input", async () => {
      provider.fake.enqueue(
        toolCallReply({ name: "read_file", args: { path: "a.txt" }, id: "call_1" }),
      );
      const { outcome } = await step();
      expect(outcome.status === "finished" && outcome.finishReason).toBe("tool-calls");
      const calls =
        outcome.status === "finished" ? outcome.parts.filter((p) => p.type === "tool_call") : [];
      expect(calls).toMatchObject([
        { type: "tool_call", name: "read_file", input: { path: "a.txt" } },
      ]);
    });

    it.each([
      ["reset mid-body", resetAfter("Hello wor", 2)],
      ["connection destroyed mid-body", { ...resetAfter("Hello wor", 2), end: "destroy" as const }],
      ["body ended before the end marker", truncateAfter("Hello wor", 2)],
    ])("retries a %s and keeps the reply exactly once", async (_, fault) => {
      provider.fake.enqueue(fault, textReply("Hello world"));
      const { outcome, retries } = await step();
      expect(outcome.status).toBe("finished");
      expect(textOf(outcome)).toBe("Hello world");
      expect(retries.map((r) => [r.attempt, r.error.kind, r.error.retryable])).toEqual([
        [1, "timeout", true],
      ]);
      expect(provider.fake.requests).toHaveLength(2);
    });

    it("retries a stream that goes silent", async () => {
      provider.fake.enqueue(hangAfter("Hel", 1), textReply("Hello"));
      const { outcome, retries } = await step({ silenceMs: 300 });
      expect(textOf(outcome)).toBe("Hello");
      expect(retries).toHaveLength(1);
      expect(retries[0]?.error.kind).toBe("timeout");
      expect(StreamSilenceTimeout.isInstance(retries[0]?.error.cause)).toBe(true);
    });

    it("retries an overloaded error sent inside the stream", async () => {
      provider.fake.enqueue(midStreamError("Hel", "overloaded"), textReply("Hello"));
      const { outcome, retries } = await step();
      expect(textOf(outcome)).toBe("Hello");
      expect(retries.map((r) => r.error.retryable)).toEqual([true]);
    });

    it("stops at once on Stop mid-stream, keeping the partial text, without retrying", async () => {
      provider.fake.enqueue(hangAfter("Hello wor", 2));
      const controller = new AbortController();
      let seen = "";
      const { outcome, retries } = await step({
        controller,
        onPart: (part: StreamPart) => {
          if (part.type === "text-delta") seen += part.delta;
          if (seen === "Hello wor") controller.abort(new ChatInterrupted());
        },
      });
      expect(outcome.status).toBe("stopped");
      expect(outcome.status === "stopped" && ChatInterrupted.isInstance(outcome.cause)).toBe(true);
      expect(textOf(outcome)).toBe("Hello wor");
      expect(retries).toEqual([]);
      expect(provider.fake.requests).toHaveLength(1);
      await expect.poll(() => provider.fake.inFlight).toBe(0); // the upstream request was cancelled
    });

    it("stops at once on Stop during the backoff wait", async () => {
      provider.fake.enqueue(errorReply("unavailable", { retryAfter: 60 }));
      const controller = new AbortController();
      const started = performance.now();
      const { outcome, retries } = await step({
        controller,
        onRetry: () => setTimeout(() => controller.abort(new ChatInterrupted()), 50),
      });
      expect(outcome.status === "stopped" && ChatInterrupted.isInstance(outcome.cause)).toBe(true);
      expect(retries[0]?.delayMs).toBeGreaterThanOrEqual(60_000);
      expect(performance.now() - started).toBeLessThan(30_000); // far below the 60 s wait
      expect(provider.fake.requests).toHaveLength(1);
    });

    it("keeps the failed attempt's partial text when Stop comes during the backoff", async () => {
      provider.fake.enqueue(resetAfter("Hello wor", 2));
      const controller = new AbortController();
      const { outcome } = await step({
        controller,
        onRetry: () => controller.abort(new ChatInterrupted()),
      });
      expect(outcome.status).toBe("stopped");
      expect(textOf(outcome)).toBe("Hello wor");
    });

    it("propagates a server shutdown without retrying", async () => {
      provider.fake.enqueue(hangAfter("Hello", 1));
      const controller = new AbortController();
      const { outcome, retries } = await step({
        controller,
        onPart: () => controller.abort(new ServerShutdown()),
      });
      expect(outcome.status === "stopped" && ServerShutdown.isInstance(outcome.cause)).toBe(true);
      expect(textOf(outcome)).toBe("Hello");
      expect(retries).toEqual([]);
      expect(provider.fake.requests).toHaveLength(1);
    });

    it.each([
      ["a rejected API key", "auth" as const, "auth"],
      ["an unknown model", "model_not_found" as const, "config"],
      ["a prompt longer than the context window", "context_length" as const, "context_length"],
      ["an exhausted quota", "insufficient_quota" as const, "usage_limit"],
    ])("fails at once, without retrying, on %s", async (_, errorType, kind) => {
      provider.fake.enqueue(errorReply(errorType), textReply("never sent"));
      const { outcome, retries } = await step();
      expect(outcome.status).toBe("failed");
      if (outcome.status === "failed") {
        expect(outcome.error.kind).toBe(kind);
        expect(outcome.error.classified.retryable).toBe(false);
        expect(outcome.error.message).not.toMatch(/\n\s+at /);
      }
      expect(retries).toEqual([]);
      expect(provider.fake.requests).toHaveLength(1);
    });
  });
});

describe("Retry-After over real sockets", () => {
  const provider = useFakeProvider({ http2: true });

  it.each(FLAVOURS)(
    "$name: a 429 with Retry-After: 2 waits at least 2 s, then succeeds",
    async (flavour) => {
      provider.fake.enqueue(errorReply("rate_limit", { retryAfter: 2 }), textReply("Hello"));
      const retries: RetryEvent[] = [];
      const model = createChatModel(
        flavour.config(provider.fake.url),
        "test-model",
        provider.transport,
      );
      const outcome = await runStep(model, PROMPT, {
        signal: new AbortController().signal,
        policy: FAST,
        onRetry: (event) => retries.push(event),
      });
      expect(textOf(outcome)).toBe("Hello");
      expect(retries.map((r) => [r.error.kind, r.error.statusCode])).toEqual([["rate_limit", 429]]);
      expect(retries[0]?.delayMs).toBeGreaterThanOrEqual(2_000);
      const [first, second] = provider.fake.requests;
      expect((second?.time ?? 0) - (first?.time ?? 0)).toBeGreaterThanOrEqual(1_950);
    },
  );
});

describe("the shared transport", () => {
  it("multiplexes concurrent chats onto one HTTP/2 connection", async () => {
    const fake = await startFakeProvider({ http2: true });
    const transport = new Transport({ extraCaCerts: [fake.ca] });
    try {
      const chats = 20;
      for (let i = 0; i < chats; i++) fake.enqueue(textReply(`reply ${i}`, { chunkDelayMs: 5 }));
      const model = createChatModel(flavour("anthropic").config(fake.url), "m", transport);
      const outcomes = await Promise.all(
        Array.from({ length: chats }, () =>
          runStep(model, PROMPT, { signal: new AbortController().signal, policy: FAST }),
        ),
      );
      expect(outcomes.every((o) => o.status === "finished")).toBe(true);
      expect(fake.requests.every((r) => r.httpVersion === "2.0")).toBe(true);
      expect(new Set(fake.requests.map((r) => r.clientPort)).size).toBe(1);
    } finally {
      await transport.close();
      await fake.close();
    }
  });

  it("reuses HTTP/1.1 connections between requests", async () => {
    const fake = await startFakeProvider({ tls: true });
    const transport = new Transport({ http2: false, extraCaCerts: [fake.ca] });
    try {
      const model = createChatModel(flavour("openai-chat").config(fake.url), "m", transport);
      for (let i = 0; i < 5; i++) {
        fake.enqueue(textReply("hi"));
        await runStep(model, PROMPT, { signal: new AbortController().signal, policy: FAST });
      }
      // undici may open a second socket while the first is finishing its body; never one per request.
      expect(new Set(fake.requests.map((r) => r.clientPort)).size).toBeLessThanOrEqual(2);
    } finally {
      await transport.close();
      await fake.close();
    }
  });
});

describe("transport deadlines", () => {
  it("retries a provider that sends no headers within the headers timeout", async () => {
    const fake = await startFakeProvider({ tls: true });
    const transport = new Transport({ headersTimeoutMs: 200, extraCaCerts: [fake.ca] });
    try {
      fake.enqueue({ ...textReply("late"), delayMs: 2_000 }, textReply("on time"));
      const retries: RetryEvent[] = [];
      const model = createChatModel(flavour("anthropic").config(fake.url), "m", transport);
      const outcome = await runStep(model, PROMPT, {
        signal: new AbortController().signal,
        policy: FAST,
        onRetry: (event) => retries.push(event),
      });
      expect(textOf(outcome)).toBe("on time");
      expect(retries.map((r) => [r.error.kind, r.error.retryable])).toEqual([["timeout", true]]);
    } finally {
      await transport.close();
      await fake.close();
    }
  });

  it("retries a refused connection, and gives up with the last error when attempts run out", async () => {
    const fake = await startFakeProvider();
    const url = fake.url;
    await fake.close(); // nothing listens there any more
    const transport = new Transport();
    try {
      const retries: RetryEvent[] = [];
      const model = createChatModel(flavour("anthropic").config(url), "m", transport);
      const outcome = await runStep(model, PROMPT, {
        signal: new AbortController().signal,
        policy: { ...FAST, maxAttempts: 3 },
        onRetry: (event) => retries.push(event),
      });
      expect(outcome.status).toBe("failed");
      expect(outcome.status === "failed" && [outcome.error.kind, outcome.error.attempts]).toEqual([
        "timeout",
        3,
      ]);
      expect(retries).toHaveLength(2);
    } finally {
      await transport.close();
    }
  });
});
