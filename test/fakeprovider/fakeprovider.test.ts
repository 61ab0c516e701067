import { createAnthropic } from "@ai-sdk/anthropic";
import { createGoogleGenerativeAI } from "@ai-sdk/google";
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import {
  APICallError,
  type LanguageModelV4,
  type LanguageModelV4Prompt,
  type LanguageModelV4StreamPart,
} from "@ai-sdk/provider";
import { StreamProviderError, streamText } from "ai";
import { Agent, fetch } from "undici";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import {
  destroyAfter,
  type ErrorType,
  errorReply,
  type FakeProvider,
  fetchWith,
  hangAfter,
  midStreamError,
  type ProviderFormat,
  promptTokensOf,
  resetAfter,
  startFakeProvider,
  textReply,
  toolCallReply,
  truncateAfter,
} from "./index.ts";

// ---------------------------------------------------------------------------------------------
// Helpers

interface SseFrame {
  event: string | undefined;
  data: string;
}

function parseSse(text: string): SseFrame[] {
  return text
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim() !== "")
    .map((block) => {
      let event: string | undefined;
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      return { event, data: data.join("\n") };
    });
}

function json(frame: SseFrame | undefined): Record<string, unknown> {
  if (!frame) throw new Error("no frame");
  return JSON.parse(frame.data) as Record<string, unknown>;
}

const routes: Record<ProviderFormat, string> = {
  "openai-chat": "/v1/chat/completions",
  "openai-responses": "/v1/responses",
  anthropic: "/v1/messages",
  google: "/v1beta/models/gemini-x:streamGenerateContent?alt=sse",
};

async function post(fake: FakeProvider, agent: Agent, path: string, body: unknown = {}) {
  return fetch(`${fake.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer sk-test" },
    body: JSON.stringify(body),
    dispatcher: agent,
  });
}

/** Runs `fn` and returns what it threw (fails if it did not throw). */
async function thrown(fn: () => Promise<unknown>): Promise<Error & { cause?: unknown }> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`threw a non-Error: ${String(error)}`);
  }
  throw new Error("did not throw");
}

const prompt: LanguageModelV4Prompt = [{ role: "user", content: [{ type: "text", text: "hi" }] }];

interface Collected {
  parts: LanguageModelV4StreamPart[];
  text: string;
  reasoning: string;
  finish: Extract<LanguageModelV4StreamPart, { type: "finish" }> | undefined;
  errors: unknown[];
  /** What reading the stream threw, if it did. */
  thrown: unknown;
}

async function drive(model: LanguageModelV4): Promise<Collected> {
  const out: Collected = {
    parts: [],
    text: "",
    reasoning: "",
    finish: undefined,
    errors: [],
    thrown: undefined,
  };
  const { stream } = await model.doStream({ prompt });
  try {
    for await (const part of stream) {
      out.parts.push(part);
      if (part.type === "text-delta") out.text += part.delta;
      else if (part.type === "reasoning-delta") out.reasoning += part.delta;
      else if (part.type === "finish") out.finish = part;
      else if (part.type === "error") out.errors.push(part.error);
    }
  } catch (error) {
    out.thrown = error;
  }
  return out;
}

function models(fake: FakeProvider, agent: Agent) {
  const f = fetchWith(agent);
  const openai = createOpenAI({ baseURL: `${fake.url}/v1`, apiKey: "k", fetch: f });
  return {
    "openai-chat": openai.chat("gpt-x"),
    "openai-responses": openai.responses("gpt-x"),
    anthropic: createAnthropic({ baseURL: `${fake.url}/v1`, apiKey: "k", fetch: f })("claude-x"),
    google: createGoogleGenerativeAI({ baseURL: `${fake.url}/v1beta`, apiKey: "k", fetch: f })(
      "gemini-x",
    ),
    "openai-compatible": createOpenAICompatible({
      name: "compat",
      baseURL: `${fake.url}/v1`,
      apiKey: "k",
      fetch: f,
      includeUsage: true,
    }).chatModel("compat-x"),
  } satisfies Record<string, LanguageModelV4>;
}

type ModelName = keyof ReturnType<typeof models>;
const allModels: ModelName[] = [
  "openai-chat",
  "openai-responses",
  "anthropic",
  "google",
  "openai-compatible",
];
/** The providers that report a stream ending without its end marker as finishReason "interrupted". */
const interruptingModels: ModelName[] = ["openai-chat", "openai-responses", "anthropic", "google"];

function expectApiCallError(error: unknown): APICallError {
  expect(APICallError.isInstance(error)).toBe(true);
  return error as APICallError;
}

// ---------------------------------------------------------------------------------------------
// Servers: one per transport, shared by the tests of this file.

let h1: FakeProvider;
let h2: FakeProvider;
let agent: Agent;

beforeAll(async () => {
  [h1, h2] = await Promise.all([startFakeProvider(), startFakeProvider({ http2: true })]);
  agent = new Agent({ allowH2: true, connect: { ca: h2.ca } });
});

afterAll(async () => {
  await Promise.all([h1.close(), h2.close()]);
  await agent.close();
});

beforeEach(() => {
  h1.reset();
  h2.reset();
});

// ---------------------------------------------------------------------------------------------

describe("wire formats", () => {
  it("OpenAI Chat Completions: chunks, finish_reason, usage chunk, [DONE]", async () => {
    h1.enqueue(
      textReply("Hello world", {
        usage: { inputTokens: 7, outputTokens: 3, cachedInputTokens: 2 },
      }),
    );
    const res = await post(h1, agent, routes["openai-chat"], { model: "gpt-x", stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const frames = parseSse(await res.text());
    expect(frames.every((f) => f.event === undefined)).toBe(true);
    expect(frames.at(-1)?.data).toBe("[DONE]");
    const chunks = frames.slice(0, -1).map(json);
    for (const c of chunks)
      expect(c).toMatchObject({ object: "chat.completion.chunk", model: "gpt-x" });
    const content = chunks
      .map((c) => (c.choices as { delta?: { content?: string } }[])[0]?.delta?.content ?? "")
      .join("");
    expect(content).toBe("Hello world");
    expect(chunks.at(-2)).toMatchObject({ choices: [{ finish_reason: "stop", delta: {} }] });
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: {
        prompt_tokens: 7,
        completion_tokens: 3,
        prompt_tokens_details: { cached_tokens: 2 },
      },
    });
  });

  it("OpenAI Chat Completions: tool call deltas", async () => {
    h1.enqueue(toolCallReply({ name: "get_weather", args: { city: "Paris" }, id: "call_1" }));
    const frames = parseSse(await (await post(h1, agent, routes["openai-chat"])).text());
    const toolDeltas = frames
      .slice(0, -1)
      .map(json)
      .flatMap(
        (c) =>
          (c.choices as { delta?: { tool_calls?: Record<string, unknown>[] } }[])[0]?.delta
            ?.tool_calls ?? [],
      );
    expect(toolDeltas[0]).toMatchObject({
      index: 0,
      id: "call_1",
      type: "function",
      function: { name: "get_weather", arguments: "" },
    });
    const args = toolDeltas.map((d) => (d.function as { arguments: string }).arguments).join("");
    expect(JSON.parse(args)).toEqual({ city: "Paris" });
    expect(frames.map((f) => f.data).join()).toContain('"finish_reason":"tool_calls"');
  });

  it("OpenAI Responses: named events, sequence numbers, response.completed", async () => {
    h1.enqueue(textReply("Hello world", { reasoning: "Thinking" }));
    const frames = parseSse(await (await post(h1, agent, routes["openai-responses"])).text());
    const events = frames.map((f) => {
      const data = json(f);
      expect(data.type).toBe(f.event);
      return data;
    });
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const types = events.map((e) => e.type);
    expect(types.slice(0, 2)).toEqual(["response.created", "response.in_progress"]);
    expect(types).toContain("response.reasoning_summary_text.delta");
    expect(types).toContain("response.output_text.delta");
    expect(types.at(-1)).toBe("response.completed");
    expect(events.at(-1)).toMatchObject({
      response: {
        status: "completed",
        usage: {
          input_tokens: h1.requests.at(-1)?.promptTokens,
          output_tokens: expect.any(Number),
          input_tokens_details: { cached_tokens: 0 },
        },
      },
    });
  });

  it("Anthropic Messages: message_start … message_stop, thinking with signature", async () => {
    h1.enqueue(textReply("Hello world", { reasoning: "Thinking" }));
    const frames = parseSse(await (await post(h1, agent, routes.anthropic)).text());
    const events = frames.map((f) => {
      const data = json(f);
      expect(data.type).toBe(f.event);
      return data;
    });
    const types = events.map((e) => e.type);
    expect(types[0]).toBe("message_start");
    expect(types.at(-2)).toBe("message_delta");
    expect(types.at(-1)).toBe("message_stop");
    const deltaTypes = events
      .filter((e) => e.type === "content_block_delta")
      .map((e) => (e.delta as { type: string }).type);
    expect(deltaTypes).toContain("thinking_delta");
    expect(deltaTypes).toContain("signature_delta");
    expect(deltaTypes).toContain("text_delta");
    expect(events.at(-2)).toMatchObject({
      delta: { stop_reason: "end_turn" },
      usage: { output_tokens: 5 },
    });
  });

  it("Gemini: data-only CRLF frames, finishReason on the last chunk", async () => {
    h1.enqueue(toolCallReply({ name: "f", args: { a: 1 } }, { text: "Hi" }));
    const res = await post(h1, agent, routes.google);
    const raw = await res.text();
    expect(raw).toContain("\r\n\r\n");
    const chunks = parseSse(raw).map(json);
    expect(chunks[0]).toMatchObject({
      candidates: [{ content: { parts: [{ text: "Hi" }], role: "model" } }],
    });
    expect(chunks.at(-2)).toMatchObject({
      candidates: [{ content: { parts: [{ functionCall: { name: "f", args: { a: 1 } } }] } }],
    });
    expect(chunks.at(-1)).toMatchObject({
      candidates: [{ finishReason: "STOP" }],
      usageMetadata: { promptTokenCount: h1.requests.at(-1)?.promptTokens },
    });
    expect(h1.requests[0]?.model).toBe("gemini-x");
  });

  it("reports the prompt's size as input tokens, and refuses a prompt past its context window", async () => {
    h1.enqueue(textReply("Hello there, world"));
    const frames = parseSse(await (await post(h1, agent, routes.anthropic)).text()).map(json);
    const request = h1.requests.at(-1);
    expect(request?.promptTokens).toBe(promptTokensOf(request?.rawBody ?? ""));
    expect(request?.promptTokens).toBeGreaterThan(0);
    expect(frames[0]).toMatchObject({
      message: { usage: { input_tokens: request?.promptTokens } },
    });
    expect(frames.at(-2)).toMatchObject({ usage: { output_tokens: 5 } });

    h1.setContextWindow(10);
    h1.enqueue(textReply("never sent"));
    const long = { messages: [{ role: "user", content: "word ".repeat(20) }] };
    const refused = await post(h1, agent, routes.anthropic, long);
    h1.setContextWindow(undefined);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/prompt is too long/);
    expect(h1.queued).toBe(1);
    h1.reset();
  });

  it("a responder picks the script from the request, else the queue answers", async () => {
    h1.enqueue(textReply("from the queue"));
    h1.setResponder((request) =>
      request.rawBody.includes("pick me") ? textReply("from the responder") : undefined,
    );
    const picked = await (await post(h1, agent, routes.anthropic, { note: "pick me" })).text();
    const queued = await (await post(h1, agent, routes.anthropic, { note: "other" })).text();
    expect(picked).toContain("from");
    expect(picked).toContain("responder");
    expect(queued).toContain("queue");
    expect(h1.queued).toBe(0);
    h1.reset();
  });

  it("truncate ends cleanly without any end marker", async () => {
    const markers: Record<ProviderFormat, string> = {
      "openai-chat": "[DONE]",
      "openai-responses": "response.completed",
      anthropic: "message_stop",
      google: "finishReason",
    };
    for (const [format, marker] of Object.entries(markers)) {
      h1.enqueue(truncateAfter("Hello world", 2));
      const body = await (await post(h1, agent, routes[format as ProviderFormat])).text();
      expect(body).toContain("world");
      expect(body).not.toContain(marker);
      expect(body).not.toContain('finish_reason":"');
    }
  });

  it("an in-band error frame in each format", async () => {
    h1.enqueue(
      midStreamError("Hi", "overloaded"),
      midStreamError("Hi", "overloaded"),
      midStreamError("Hi", "overloaded"),
      midStreamError("Hi", "overloaded"),
    );
    const anthropic = parseSse(await (await post(h1, agent, routes.anthropic)).text()).at(-1);
    expect(anthropic?.event).toBe("error");
    expect(json(anthropic)).toEqual({
      type: "error",
      error: { type: "overloaded_error", message: "Overloaded" },
    });
    const chat = parseSse(await (await post(h1, agent, routes["openai-chat"])).text()).at(-1);
    expect(json(chat)).toMatchObject({
      error: { type: "server_error", message: expect.any(String) },
    });
    const responses = parseSse(await (await post(h1, agent, routes["openai-responses"])).text()).at(
      -1,
    );
    expect(responses?.event).toBe("error");
    expect(json(responses)).toMatchObject({ type: "error", code: "server_error" });
    const google = parseSse(await (await post(h1, agent, routes.google)).text()).at(-1);
    expect(json(google)).toMatchObject({ error: { code: 503, status: "UNAVAILABLE" } });
  });
});

describe("transports and faults", () => {
  it("negotiates HTTP/2 when the client allows it, HTTP/1.1 otherwise", async () => {
    // undici v8 enables h2 by default (allowH2 defaults to true): only an explicit false opts out.
    const h1Agent = new Agent({ allowH2: false, connect: { ca: h2.ca } });
    try {
      h2.enqueue(textReply("a"), textReply("b"));
      await (await post(h2, agent, routes.anthropic)).text();
      await (await post(h2, h1Agent, routes.anthropic)).text();
      expect(h2.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(h2.requests.map((r) => r.httpVersion)).toEqual(["2.0", "1.1"]);
    } finally {
      await h1Agent.close();
    }
  });

  it("serves HTTP/1.1 over TLS", async () => {
    const tls = await startFakeProvider({ tls: true });
    try {
      tls.enqueue(textReply("a"));
      const res = await post(tls, agent, routes.anthropic);
      expect(await res.text()).toContain("message_stop");
      expect(tls.url.startsWith("https://")).toBe(true);
      expect(tls.requests[0]?.httpVersion).toBe("1.1");
    } finally {
      await tls.close();
    }
  });

  it("HTTP/2 RST_STREAM(CANCEL) mid-body: undici ends the body early, no error", async () => {
    h2.enqueue(resetAfter("Hello world", 2));
    const res = await post(h2, agent, routes["openai-chat"]);
    const body = await res.text();
    expect(body).toContain("world");
    expect(body).not.toContain("[DONE]");
    expect(h2.requests[0]?.httpVersion).toBe("2.0");
  });

  it("HTTP/2 RST_STREAM(INTERNAL_ERROR) mid-body: TypeError terminated", async () => {
    h2.enqueue(resetAfter("Hello world", 2, { resetCode: 2 }));
    const res = await post(h2, agent, routes["openai-chat"]);
    const error = await thrown(() => res.text());
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe("terminated");
    expect(error.cause).toMatchObject({
      code: "ERR_HTTP2_STREAM_ERROR",
      message: "Stream closed with error code NGHTTP2_INTERNAL_ERROR",
    });
  });

  it("HTTP/1.1 socket destroyed mid-body: TypeError terminated ← other side closed", async () => {
    h1.enqueue(destroyAfter("Hello world", 2));
    const res = await post(h1, agent, routes.anthropic);
    expect(res.status).toBe(200);
    const error = await thrown(() => res.text());
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe("terminated");
    expect(error.cause).toMatchObject({ code: "UND_ERR_SOCKET", message: "other side closed" });
  });

  it("HTTP/2 connection destroyed mid-body: TypeError terminated", async () => {
    h2.enqueue(destroyAfter("Hello world", 2));
    const res = await post(h2, agent, routes.anthropic);
    const error = await thrown(() => res.text());
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe("terminated");
  });

  it("error statuses carry the provider's body and the retry headers", async () => {
    const date = new Date(Date.now() + 60_000);
    h1.enqueue(
      errorReply("rate_limit", { retryAfter: 2, retryAfterMs: 1500, shouldRetry: true }),
      errorReply("overloaded", { retryAfter: date }),
      errorReply("context_length"),
      errorReply("insufficient_quota"),
      errorReply("auth", { status: 401 }),
    );
    const rate = await post(h1, agent, routes["openai-chat"], { model: "gpt-x" });
    expect(rate.status).toBe(429);
    expect(rate.headers.get("retry-after")).toBe("2");
    expect(rate.headers.get("retry-after-ms")).toBe("1500");
    expect(rate.headers.get("x-should-retry")).toBe("true");
    expect(rate.headers.get("content-type")).toBe("application/json");
    expect(await rate.json()).toMatchObject({
      error: { type: "tokens", code: "rate_limit_exceeded", param: null },
    });

    const overloaded = await post(h1, agent, routes.anthropic);
    expect(overloaded.status).toBe(529);
    expect(overloaded.headers.get("retry-after")).toBe(date.toUTCString());
    expect(await overloaded.json()).toMatchObject({
      type: "error",
      error: { type: "overloaded_error", message: "Overloaded" },
    });

    const context = await post(h1, agent, routes.anthropic);
    expect(context.status).toBe(400);
    expect(await context.json()).toMatchObject({
      error: {
        type: "invalid_request_error",
        message: "prompt is too long: 210000 tokens > 200000 maximum",
      },
    });

    const quota = await post(h1, agent, routes.google);
    expect(quota.status).toBe(429);
    expect(await quota.json()).toMatchObject({
      error: { code: 429, status: "RESOURCE_EXHAUSTED" },
    });

    const auth = await post(h1, agent, routes.google);
    expect(auth.status).toBe(401);
    expect(await auth.json()).toMatchObject({ error: { status: "INVALID_ARGUMENT" } });
  });

  it("a custom body and status are sent verbatim", async () => {
    h1.enqueue({
      kind: "error",
      status: 503,
      body: "upstream connect error or disconnect/reset before headers",
    });
    const res = await post(h1, agent, routes["openai-chat"]);
    expect(res.status).toBe(503);
    expect(await res.text()).toBe("upstream connect error or disconnect/reset before headers");
  });

  it("records every request; answers 500 when no script is queued and 404 off-route", async () => {
    const first = await post(h2, agent, routes.anthropic, { model: "claude-x", stream: true });
    expect(first.status).toBe(500);
    expect(await first.json()).toMatchObject({
      type: "error",
      error: {
        type: "api_error",
        message: "fake provider: no script queued for POST /v1/messages",
      },
    });
    const off = await post(h2, agent, "/v1/nope");
    expect(off.status).toBe(404);
    await off.text();
    expect(h2.requests).toHaveLength(2);
    expect(h2.requests[0]).toMatchObject({
      n: 1,
      method: "POST",
      path: "/v1/messages",
      format: "anthropic",
      model: "claude-x",
      body: { model: "claude-x", stream: true },
      httpVersion: "2.0",
      headers: { authorization: "Bearer sk-test", "content-type": "application/json" },
    });
    expect(h2.requests[1]).toMatchObject({ path: "/v1/nope", format: null });
    expect(typeof h2.requests[0]?.time).toBe("number");
    expect(h2.queued).toBe(0);
  });

  it("silence and slow trickle delay the stream", async () => {
    h1.enqueue(
      {
        kind: "stream",
        events: [
          { type: "text", text: "a" },
          { type: "silence", ms: 120 },
        ],
      },
      textReply("one two three four", { chunkDelayMs: 40 }),
    );
    let start = Date.now();
    await (await post(h1, agent, routes.anthropic)).text();
    expect(Date.now() - start).toBeGreaterThanOrEqual(110);
    start = Date.now();
    await (await post(h1, agent, routes.anthropic)).text();
    expect(Date.now() - start).toBeGreaterThanOrEqual(150);
  });

  it("a hanging stream ends when the client aborts", async () => {
    h2.enqueue(hangAfter("Hello", 1));
    const ac = new AbortController();
    const res = await fetch(`${h2.url}${routes.anthropic}`, {
      method: "POST",
      body: "{}",
      dispatcher: agent,
      signal: ac.signal,
    });
    const reader = res.body?.getReader();
    await reader?.read();
    expect(h2.inFlight).toBe(1);
    ac.abort();
    await vi.waitFor(() => expect(h2.inFlight).toBe(0));
  });

  it("close() tears down hanging streams at once", async () => {
    for (const options of [{}, { http2: true }]) {
      const fake = await startFakeProvider(options);
      fake.enqueue(hangAfter("Hello", 1));
      const res = await post(fake, agent, routes["openai-chat"]);
      const body = res.text();
      await vi.waitFor(() => expect(fake.inFlight).toBe(1));
      const start = Date.now();
      await fake.close();
      expect(Date.now() - start).toBeLessThan(500);
      const error = await thrown(() => body);
      expect(error.message).toBe("terminated");
    }
  });
});

describe("the AI SDK parses the fake's streams", () => {
  for (const transport of ["h1", "h2"] as const) {
    it.each(allModels)(`%s over ${transport}: text, reasoning, finish, usage`, async (name) => {
      const fake = transport === "h1" ? h1 : h2;
      fake.enqueue(
        textReply("Hello world", {
          reasoning: "Let me think",
          usage: { inputTokens: 100, outputTokens: 20, cachedInputTokens: 30, reasoningTokens: 5 },
        }),
      );
      const got = await drive(models(fake, agent)[name]);
      expect(got.thrown).toBeUndefined();
      expect(got.errors).toEqual([]);
      expect(got.text).toBe("Hello world");
      // OpenAI's own Chat Completions provider ignores `delta.reasoning_content` (the
      // OpenAI-compatible provider reads it).
      expect(got.reasoning).toBe(name === "openai-chat" ? "" : "Let me think");
      expect(got.finish?.finishReason.unified).toBe("stop");
      expect(got.finish?.usage.inputTokens.total).toBe(100);
      expect(got.finish?.usage.inputTokens.cacheRead).toBe(30);
      expect(got.finish?.usage.outputTokens.total).toBe(20);
      expect(fake.requests[0]?.httpVersion).toBe(transport === "h1" ? "1.1" : "2.0");
    });
  }

  it.each(allModels)("%s: tool calls", async (name) => {
    h2.enqueue(
      toolCallReply({ name: "get_weather", args: { city: "Paris" } }, { text: "Checking." }),
    );
    const got = await drive(models(h2, agent)[name]);
    expect(got.text).toBe("Checking.");
    const calls = got.parts.filter((p) => p.type === "tool-call");
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ toolName: "get_weather" });
    expect(JSON.parse(calls[0]?.type === "tool-call" ? calls[0].input : "")).toEqual({
      city: "Paris",
    });
    expect(got.finish?.finishReason.unified).toBe("tool-calls");
  });

  it.each(allModels)(
    "%s: HTTP/1.1 socket destroyed mid-body throws from the stream",
    async (name) => {
      h1.enqueue(destroyAfter("Hello world", 2));
      const got = await drive(models(h1, agent)[name]);
      expect(got.text).toBe("Hello world");
      expect(got.finish).toBeUndefined();
      const error = expectApiCallError(got.thrown);
      expect(error.message).toBe("Failed to process successful response");
      expect(error.statusCode).toBe(200);
      expect(error.isRetryable).toBe(true);
      expect(error.cause).toBeInstanceOf(TypeError);
      expect((error.cause as TypeError).message).toBe("terminated");
      expect((error.cause as TypeError).cause).toMatchObject({ code: "UND_ERR_SOCKET" });
    },
  );

  it.each(interruptingModels)(
    "%s: HTTP/2 RST_STREAM(CANCEL) mid-body looks like a clean end, finishReason interrupted",
    async (name) => {
      h2.enqueue(resetAfter("Hello world", 2));
      const got = await drive(models(h2, agent)[name]);
      expect(got.thrown).toBeUndefined();
      expect(got.errors).toEqual([]);
      expect(got.text).toBe("Hello world");
      expect(got.finish?.finishReason).toEqual({ unified: "interrupted", raw: undefined });
    },
  );

  it.each(interruptingModels)(
    "%s: a truncated body also ends with finishReason interrupted",
    async (name) => {
      h1.enqueue(truncateAfter("Hello world", 2));
      const got = await drive(models(h1, agent)[name]);
      expect(got.thrown).toBeUndefined();
      expect(got.errors).toEqual([]);
      expect(got.finish?.finishReason.unified).toBe("interrupted");
    },
  );

  it("openai-compatible: RST_STREAM(CANCEL) gives an error part, no finish reason", async () => {
    h2.enqueue(resetAfter("Hello world", 2));
    const got = await drive(models(h2, agent)["openai-compatible"]);
    expect(got.text).toBe("Hello world");
    expect(got.errors).toHaveLength(1);
    expect(got.errors[0]).toMatchObject({
      name: "AI_InvalidResponseDataError",
      message: "Response stream ended without a finish reason.",
    });
    expect(got.finish?.finishReason.unified).toBe("error");
  });

  it("HTTP/2 RST_STREAM(INTERNAL_ERROR) throws like a destroyed socket", async () => {
    h2.enqueue(resetAfter("Hello world", 2, { resetCode: 2 }));
    const got = await drive(models(h2, agent)["openai-chat"]);
    const error = expectApiCallError(got.thrown);
    expect(error.message).toBe("Failed to process successful response");
    expect((error.cause as TypeError).cause).toMatchObject({
      code: "ERR_HTTP2_STREAM_ERROR",
      http2ErrorCode: 2,
    });
  });

  it("anthropic: in-band overloaded_error is an error part (a plain object), no finish", async () => {
    h2.enqueue(midStreamError("Hello", "overloaded"));
    const got = await drive(models(h2, agent).anthropic);
    expect(got.text).toBe("Hello");
    expect(got.finish).toBeUndefined();
    expect(got.errors).toHaveLength(1);
    expect(got.errors[0]).not.toBeInstanceOf(Error);
    expect(got.errors[0]).toMatchObject({
      message: "Overloaded",
      type: "overloaded_error",
      statusCode: 529,
      isRetryable: true,
    });
  });

  it.each([
    ["openai-chat", { statusCode: 500, type: "server_error" }],
    ["openai-responses", { statusCode: 500, code: "server_error" }],
    ["google", { statusCode: 503, type: "UNAVAILABLE" }],
  ] as const)("%s: in-band error is an error part, then finish 'error'", async (name, fields) => {
    h1.enqueue(midStreamError("Hello", "overloaded"));
    const got = await drive(models(h1, agent)[name]);
    expect(got.text).toBe("Hello");
    expect(got.errors).toHaveLength(1);
    expect(got.errors[0]).toMatchObject({ isRetryable: true, ...fields });
    expect(got.finish?.finishReason.unified).toBe("error");
  });

  it("openai: an in-band error before any output is thrown as APICallError", async () => {
    h1.enqueue(midStreamError("", "rate_limit"));
    const error = await thrown(() => drive(models(h1, agent)["openai-chat"]));
    expect(expectApiCallError(error).statusCode).toBe(429);
  });

  it("streamText surfaces an in-band error as StreamProviderError", async () => {
    h1.enqueue(midStreamError("Hello", "overloaded"));
    const errors: unknown[] = [];
    const result = streamText({
      model: models(h1, agent).anthropic,
      prompt: "hi",
      maxRetries: 0,
      onError: () => {},
    });
    for await (const part of result.fullStream) if (part.type === "error") errors.push(part.error);
    expect(errors).toHaveLength(1);
    expect(StreamProviderError.isInstance(errors[0])).toBe(true);
    expect(errors[0]).toMatchObject({
      name: "AI_StreamProviderError",
      message: "Overloaded",
      type: "overloaded_error",
      statusCode: 529,
      isRetryable: true,
    });
  });

  // The SDK's isRetryable is its 408/409/429/5xx rule: a quota error (429) still says true.
  const errorCases: [ModelName, ErrorType, number, string, boolean][] = [
    ["openai-chat", "insufficient_quota", 429, "You exceeded your current quota", true],
    ["openai-responses", "model_not_found", 404, "The model `gpt-x` does not exist", false],
    ["anthropic", "overloaded", 529, "Overloaded", true],
    ["anthropic", "context_length", 400, "prompt is too long", false],
    ["google", "rate_limit", 429, "Resource has been exhausted", true],
    ["openai-compatible", "auth", 401, "Incorrect API key provided", false],
  ];
  it.each(errorCases)(
    "%s: HTTP %s → APICallError with status, body and headers",
    async (name, errorType, status, message, retryable) => {
      h2.enqueue(errorReply(errorType, { retryAfter: 3 }));
      const error = expectApiCallError(await thrown(() => drive(models(h2, agent)[name])));
      expect(error.statusCode).toBe(status);
      expect(error.message).toContain(message);
      expect(error.responseHeaders?.["retry-after"]).toBe("3");
      expect(error.responseBody).toContain(message);
      expect(error.data).toBeDefined();
      expect(error.isRetryable).toBe(retryable);
    },
  );
});
