/**
 * classify() against the errors the real AI SDK really raises, over real sockets: for every wire
 * format and both transports (HTTP/1.1 over TLS, HTTP/2 over TLS), one scripted fault from the fake
 * provider, one `ChatModel.stream()` call, and the single error its iteration throws — no retry
 * loop, no waits. Each row asserts the verdict (kind, retryable, statusCode, retryAfterMs) and that
 * the message is fit for a person.
 */
import http2 from "node:http2";
import { describe, expect, it } from "vitest";
import { classify } from "../../src/chaterror/classify.ts";
import type { ErrorKind } from "../../src/chaterror/kinds.ts";
import { createChatModel, type StreamRequest } from "../../src/provider/index.ts";
import {
  errorReply,
  midStreamError,
  resetAfter,
  type Script,
  truncateAfter,
} from "../fakeprovider/index.ts";
import { useFakeProvider } from "./support/fake-fixture.ts";
import { FLAVOURS as ALL_FLAVOURS, type FlavourId, TRANSPORTS } from "./support/flavours.ts";

/** The flavours whose real error shapes the table knows (openai-compatible speaks Chat Completions). */
type Format = "openai-chat" | "openai-responses" | "anthropic" | "google" | "openai-compatible";
const FORMATS: readonly FlavourId[] = [
  "openai-chat",
  "openai-responses",
  "anthropic",
  "google",
  "openai-compatible",
];
const FLAVOURS = ALL_FLAVOURS.filter((f) => FORMATS.includes(f.id)).map((f) => ({
  ...f,
  format: f.id as Format,
}));

type TransportName = (typeof TRANSPORTS)[number]["name"];

const PROMPT: StreamRequest = {
  messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
};

interface Expected {
  kind: ErrorKind;
  retryable: boolean;
  statusCode: number | undefined;
  retryAfterMs: number | undefined;
}

function verdict(
  kind: ErrorKind,
  retryable: boolean,
  extra: { statusCode?: number; retryAfterMs?: number } = {},
): Expected {
  return {
    kind,
    retryable,
    statusCode: extra.statusCode,
    retryAfterMs: extra.retryAfterMs,
  };
}

interface Row {
  fault: string;
  script: Script;
  expected: Expected;
}

/** Gemini's real way of asking for a delay: `RetryInfo` in the 429 body, not a header. */
function googleRetryInfo(seconds: number): unknown {
  return {
    error: {
      code: 429,
      message: "Resource has been exhausted (e.g. check quota).",
      status: "RESOURCE_EXHAUSTED",
      details: [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${seconds}s` }],
    },
  };
}

/**
 * The faults × expected verdicts for one format and transport. A combination the format or the
 * transport cannot express is not generated (each such case says why).
 */
function rows(format: Format, transport: TransportName): Row[] {
  const google = format === "google";
  const anthropic = format === "anthropic";
  const out: Row[] = [
    {
      // Gemini answers a bad key with 400 INVALID_ARGUMENT / API_KEY_INVALID, never 401.
      fault: "a rejected API key",
      script: errorReply("auth"),
      expected: verdict("auth", false, { statusCode: google ? 400 : 401 }),
    },
    {
      fault: "403 permission denied",
      script: errorReply("permission"),
      expected: verdict("auth", false, { statusCode: 403 }),
    },
    {
      fault: "404 model not found",
      script: errorReply("model_not_found"),
      expected: verdict("config", false, { statusCode: 404 }),
    },
    {
      fault: "400 invalid request",
      script: errorReply("invalid_request"),
      expected: verdict("config", false, { statusCode: 400 }),
    },
    {
      fault: "400 context length exceeded",
      script: errorReply("context_length"),
      expected: verdict("context_length", false, { statusCode: 400 }),
    },
    {
      // Anthropic reports an exhausted credit balance as 400 invalid_request_error ("credit
      // balance is too low"), never as a 429; the others send insufficient_quota /
      // RESOURCE_EXHAUSTED with a per-day QuotaFailure as a 429.
      fault: "quota exhausted (insufficient_quota)",
      script: errorReply("insufficient_quota"),
      expected: verdict("usage_limit", false, { statusCode: anthropic ? 400 : 429 }),
    },
    {
      // Only Anthropic has a 529; OpenAI and Gemini say "overloaded" in a 503.
      fault: "overloaded (Anthropic 529, others 503 'overloaded')",
      script: errorReply("overloaded"),
      expected: verdict("overloaded", true, { statusCode: anthropic ? 529 : 503 }),
    },
    {
      fault: "500 internal server error",
      script: errorReply("server"),
      expected: verdict("server_error", true, { statusCode: 500 }),
    },
    {
      fault: "503 service unavailable",
      script: errorReply("unavailable"),
      expected: verdict("timeout", true, { statusCode: 503 }),
    },
    google
      ? {
          // Gemini sends no Retry-After header; it puts RetryInfo.retryDelay in the body.
          fault: "429 rate limit with RetryInfo retryDelay 7s",
          script: errorReply("rate_limit", { body: googleRetryInfo(7) }),
          expected: verdict("rate_limit", true, { statusCode: 429, retryAfterMs: 7000 }),
        }
      : {
          fault: "429 rate limit with Retry-After: 7",
          script: errorReply("rate_limit", { retryAfter: 7 }),
          expected: verdict("rate_limit", true, { statusCode: 429, retryAfterMs: 7000 }),
        },
  ];

  // retry-after-ms and x-should-retry are OpenAI- and Anthropic-family headers (their SDKs honour
  // both; Azure OpenAI sends retry-after-ms, both APIs send x-should-retry, and so do servers that
  // copy OpenAI's); Gemini sends neither.
  if (!google) {
    out.push(
      {
        fault: "429 rate limit with retry-after-ms: 1500",
        script: errorReply("rate_limit", { retryAfterMs: 1500 }),
        expected: verdict("rate_limit", true, { statusCode: 429, retryAfterMs: 1500 }),
      },
      {
        fault: "503 with x-should-retry: false",
        script: errorReply("unavailable", { shouldRetry: false }),
        expected: verdict("timeout", false, { statusCode: 503 }),
      },
      {
        fault: "400 with x-should-retry: true",
        script: errorReply("invalid_request", { shouldRetry: true }),
        expected: verdict("server_error", true, { statusCode: 400 }),
      },
    );
  }

  // Body faults: the response starts as a 200 stream, so no status code classifies them.
  if (transport === "HTTP/2") {
    // HTTP/1.1 has no stream to reset (the fake destroys the socket instead: the row below).
    out.push(
      {
        fault: "RST_STREAM(CANCEL) mid-body",
        script: resetAfter("Hello wor", 2, { resetCode: http2.constants.NGHTTP2_CANCEL }),
        expected: verdict("timeout", true),
      },
      {
        fault: "RST_STREAM(INTERNAL_ERROR) mid-body",
        script: resetAfter("Hello wor", 2, { resetCode: http2.constants.NGHTTP2_INTERNAL_ERROR }),
        expected: verdict("timeout", true),
      },
    );
  }
  out.push(
    {
      fault: "connection destroyed mid-body",
      script: { ...resetAfter("Hello wor", 2), end: "destroy" },
      expected: verdict("timeout", true),
    },
    {
      fault: "body ended before the end marker",
      script: truncateAfter("Hello wor", 2),
      expected: verdict("timeout", true),
    },
    {
      fault: "in-band overloaded error mid-stream",
      script: midStreamError("Hel", "overloaded"),
      expected: verdict("overloaded", true),
    },
    {
      fault: "in-band rate limit error mid-stream",
      script: midStreamError("Hel", "rate_limit"),
      expected: verdict("rate_limit", true),
    },
  );
  return out;
}

/** A stack line ("    at fn (file.ts:1:2)") or any line break. */
const STACK = /\n|\bat .+:\d+:\d+/;

describe.each(TRANSPORTS)("classify over $name", (transportCase) => {
  const provider = useFakeProvider(transportCase.server, { http2: transportCase.http2 });

  describe.each(FLAVOURS)("$name", (flavour) => {
    /** Streams once against `script`; returns what the iteration threw and the provider's name. */
    async function thrownBy(script: Script): Promise<{ error: unknown; providerName: string }> {
      provider.fake.enqueue(script);
      const model = createChatModel(
        flavour.config(provider.fake.url),
        "test-model",
        provider.transport,
      );
      try {
        for await (const _ of model.stream(PROMPT, new AbortController().signal)) {
          // drain
        }
      } catch (error) {
        return { error, providerName: model.providerName };
      }
      throw new Error("the stream finished without throwing");
    }

    it.each(rows(flavour.format, transportCase.name))(
      "$fault → $expected.kind",
      async ({ script, expected }) => {
        const { error, providerName } = await thrownBy(script);
        const classified = classify(error, { provider: providerName });
        expect({
          kind: classified.kind,
          retryable: classified.retryable,
          statusCode: classified.statusCode,
          retryAfterMs: classified.retryAfterMs,
        }).toEqual(expected);
        // The context-length message is about the conversation, not the provider ("Compact it or
        // start a new chat"), so it is the one kind that does not name the provider.
        if (expected.kind !== "context_length") expect(classified.message).toContain(providerName);
        expect(classified.message).not.toMatch(STACK);
      },
    );
  });
});
