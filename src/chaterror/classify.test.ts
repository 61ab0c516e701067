import {
  APICallError,
  InvalidResponseDataError,
  LoadAPIKeyError,
  NoSuchModelError,
} from "@ai-sdk/provider";
import { NoOutputGeneratedError, RetryError, StreamProviderError } from "ai";
import { errors as undici } from "undici";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ChatInterrupted,
  ProviderTransportReset,
  ServerShutdown,
  StreamSilenceTimeout,
  TurnDeadlineExceeded,
} from "./causes.ts";
import { ChatError } from "./chat-error.ts";
import { classify, DETAIL_LIMIT } from "./classify.ts";
import type { ClassifiedError, ErrorKind } from "./kinds.ts";

// ---------------------------------------------------------------------------------------------
// Builders for the errors the SDK and Node really raise.

interface HttpFailure {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  message?: string;
  cause?: unknown;
  isRetryable?: boolean;
}

/** An `APICallError` as provider-utils builds it: `data` is the parsed body, headers lower-case. */
function apiError({ status, body, headers = {}, message, cause, isRetryable }: HttpFailure) {
  const responseBody = body === undefined || typeof body === "string" ? body : JSON.stringify(body);
  const data = typeof body === "object" && body !== null ? body : undefined;
  const inner = (data as { error?: { message?: unknown } } | undefined)?.error?.message;
  return new APICallError({
    message: message ?? (typeof inner === "string" ? inner : `HTTP ${status}`),
    url: "https://api.provider.test/v1/chat",
    requestBodyValues: { model: "m" },
    statusCode: status,
    responseHeaders: { "content-type": "application/json", ...headers },
    responseBody,
    data,
    cause,
    ...(isRetryable === undefined ? {} : { isRetryable }),
  });
}

function openai(
  status: number,
  error: { message: string; type?: string | null; code?: string | number | null },
  headers: Record<string, string> = {},
) {
  return apiError({
    status,
    body: { error: { type: null, code: null, param: null, ...error } },
    headers: { "x-request-id": "req_1", ...headers },
  });
}

function anthropic(
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
) {
  return apiError({
    status,
    body: { type: "error", error: { type, message } },
    headers: { "request-id": "req_1", ...headers },
  });
}

function google(
  status: number,
  error: { status: string; message: string; details?: unknown[] },
  headers: Record<string, string> = {},
) {
  return apiError({ status, body: { error: { code: status, ...error } }, headers });
}

/** Bedrock names the error in `x-amzn-errortype`; the body holds only the message. */
function bedrock(status: number, type: string, message: string) {
  return apiError({
    status,
    body: { message },
    message,
    headers: {
      "x-amzn-errortype": `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
      "x-amzn-requestid": "req_1",
    },
  });
}

/** A Node system error as `net`/`dns` raise it. */
function sysError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, errno: -1, syscall: "read" });
}

/** Node's HTTP/2 stream error, with the code undici copies onto it. */
function h2StreamError(name: string, number: number): Error {
  return Object.assign(new Error(`Stream closed with error code NGHTTP2_${name}`), {
    code: "ERR_HTTP2_STREAM_ERROR",
    http2ErrorCode: number,
  });
}

/** undici's `fetch` body failure: `TypeError: terminated` caused by the socket's error. */
function terminated(cause: unknown): TypeError {
  return new TypeError("terminated", { cause });
}

/** What provider-utils throws when a 2xx body fails mid-read. */
function bodyFailed(cause: unknown): APICallError {
  return new APICallError({
    message: "Failed to process successful response",
    url: "https://api.provider.test/v1/chat",
    requestBodyValues: {},
    statusCode: 200,
    responseHeaders: { "content-type": "text/event-stream" },
    cause,
  });
}

/** What handleFetchError makes of a connection failure: no status, retryable. */
function cannotConnect(cause: Error): APICallError {
  return new APICallError({
    message: `Cannot connect to API: ${cause.message}`,
    url: "https://api.provider.test/v1/chat",
    requestBodyValues: {},
    cause,
    isRetryable: true,
  });
}

/** An in-band error as `createProviderStreamError` builds it (a plain object, not an Error). */
function providerStreamObject(fields: {
  message: string;
  type?: string;
  code?: string | number;
  statusCode?: number;
  isRetryable?: boolean;
  data?: unknown;
}) {
  const error = { ...fields };
  Object.defineProperty(error, Symbol.for("vercel.ai.providerStreamError"), { value: true });
  return error;
}

/** src/provider/stream.ts wraps a non-Error `error` part so it can be thrown. */
function wrappedInBand(object: { message?: string }): Error {
  const error = new Error(object.message ?? "The provider reported an error mid-stream.", {
    cause: object,
  });
  error.name = "ProviderStreamError";
  return error;
}

function domAbort(): DOMException {
  return new DOMException("This operation was aborted", "AbortError");
}

// ---------------------------------------------------------------------------------------------

interface Expected {
  kind: ErrorKind;
  retryable: boolean;
  statusCode?: number;
  retryAfterMs?: number;
}

interface Case {
  name: string;
  error: unknown;
  expected: Expected;
}

function verdict(c: ClassifiedError): Expected {
  return {
    kind: c.kind,
    retryable: c.retryable,
    statusCode: c.statusCode,
    retryAfterMs: c.retryAfterMs,
  } as Expected;
}

const ok = (kind: ErrorKind, retryable: boolean, extra: Partial<Expected> = {}): Expected => ({
  kind,
  retryable,
  statusCode: undefined,
  retryAfterMs: undefined,
  ...extra,
});

const cases: Case[] = [
  // --- OpenAI --------------------------------------------------------------------------------
  {
    name: "OpenAI 429 insufficient_quota is a usage limit, not a rate limit",
    error: openai(429, {
      message: "You exceeded your current quota, please check your plan and billing details.",
      type: "insufficient_quota",
      code: "insufficient_quota",
    }),
    expected: ok("usage_limit", false, { statusCode: 429 }),
  },
  {
    name: "OpenAI 429 rate_limit_exceeded honours retry-after-ms",
    error: openai(
      429,
      {
        message: "Rate limit reached for gpt-4o on requests per min (RPM): Limit 500.",
        type: "requests",
        code: "rate_limit_exceeded",
      },
      { "retry-after-ms": "1500", "retry-after": "2" },
    ),
    expected: ok("rate_limit", true, { statusCode: 429, retryAfterMs: 1500 }),
  },
  {
    name: "OpenAI rate_limit_exceeded whose prose mentions billing stays a rate limit",
    error: openai(429, {
      message:
        "Rate limit reached for default-gpt-3.5-turbo on requests per min. Please add a payment method to your account to increase your rate limit. Visit https://platform.openai.com/account/billing to add a payment method.",
      type: "requests",
      code: "rate_limit_exceeded",
    }),
    expected: ok("rate_limit", true, { statusCode: 429 }),
  },
  {
    name: "OpenAI 429 'Request too large … must be reduced' is a context-length failure",
    error: openai(429, {
      message:
        "Request too large for gpt-4o in organization org-1 on tokens per min (TPM): Limit 30000, Requested 52000. The input or output tokens must be reduced in order to run successfully.",
      type: "tokens",
      code: "rate_limit_exceeded",
    }),
    expected: ok("context_length", false, { statusCode: 429 }),
  },
  {
    name: "OpenAI 401 invalid_api_key",
    error: openai(401, {
      message: "Incorrect API key provided: sk-proj-****abcd.",
      type: "invalid_request_error",
      code: "invalid_api_key",
    }),
    expected: ok("auth", false, { statusCode: 401 }),
  },
  {
    name: "OpenAI 404 model_not_found",
    error: openai(404, {
      message: "The model `gpt-9` does not exist or you do not have access to it.",
      type: "invalid_request_error",
      code: "model_not_found",
    }),
    expected: ok("config", false, { statusCode: 404 }),
  },
  {
    name: "OpenAI 400 context_length_exceeded",
    error: openai(400, {
      message:
        "This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens. Please reduce the length of the messages.",
      type: "invalid_request_error",
      code: "context_length_exceeded",
    }),
    expected: ok("context_length", false, { statusCode: 400 }),
  },
  {
    name: "OpenAI 400 unsupported_parameter",
    error: openai(400, {
      message: "Unsupported parameter: 'temperature' is not supported with this model.",
      type: "invalid_request_error",
      code: "unsupported_parameter",
    }),
    expected: ok("config", false, { statusCode: 400 }),
  },
  {
    name: "OpenAI 400 content_filter",
    error: openai(400, {
      message: "The response was filtered due to the prompt triggering the content policy.",
      type: "invalid_request_error",
      code: "content_filter",
    }),
    expected: ok("content_filter", false, { statusCode: 400 }),
  },
  {
    // OpenAI's catch-all `invalid_request_error` type explains nothing: the 403 says auth.
    name: "OpenAI 403 invalid_request_error 'not allowed to sample from this model' is auth",
    error: openai(403, {
      message: "You are not allowed to sample from this model",
      type: "invalid_request_error",
    }),
    expected: ok("auth", false, { statusCode: 403 }),
  },
  {
    name: "OpenAI 403 invalid_request_error whose message says the model is not enabled is config",
    error: openai(403, {
      message: "The model `o3-pro` is not enabled for this project.",
      type: "invalid_request_error",
    }),
    expected: ok("config", false, { statusCode: 403 }),
  },
  {
    name: "OpenAI 503 invalid_request_error is config, not a transient 503",
    error: openai(503, { message: "Invalid 'tools[0]'.", type: "invalid_request_error" }),
    expected: ok("config", false, { statusCode: 503 }),
  },
  {
    name: "OpenAI 500 server_error",
    error: openai(500, {
      message: "The server had an error while processing your request. Sorry about that!",
      type: "server_error",
    }),
    expected: ok("server_error", true, { statusCode: 500 }),
  },
  {
    name: "OpenAI 503 'engine is currently overloaded' is overloaded",
    error: openai(503, {
      message: "The engine is currently overloaded, please try again later",
      type: "server_error",
    }),
    expected: ok("overloaded", true, { statusCode: 503 }),
  },
  {
    name: "OpenAI in-band stream error object with code rate_limit_exceeded",
    error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" },
    expected: ok("rate_limit", true),
  },

  // --- Anthropic -----------------------------------------------------------------------------
  {
    name: "Anthropic 529 overloaded_error",
    error: anthropic(529, "overloaded_error", "Overloaded", { "x-should-retry": "true" }),
    expected: ok("overloaded", true, { statusCode: 529 }),
  },
  {
    name: "Anthropic 429 rate_limit_error with retry-after seconds",
    error: anthropic(
      429,
      "rate_limit_error",
      "Number of request tokens has exceeded your per-minute rate limit",
      { "retry-after": "7" },
    ),
    expected: ok("rate_limit", true, { statusCode: 429, retryAfterMs: 7000 }),
  },
  {
    name: "Anthropic 401 authentication_error",
    error: anthropic(401, "authentication_error", "invalid x-api-key"),
    expected: ok("auth", false, { statusCode: 401 }),
  },
  {
    name: "Anthropic 403 permission_error without a config signal is auth",
    error: anthropic(
      403,
      "permission_error",
      "Your API key does not have permission to use the specified resource.",
    ),
    expected: ok("auth", false, { statusCode: 403 }),
  },
  {
    name: "Anthropic 403 whose message says the model is not enabled is config",
    error: anthropic(
      403,
      "permission_error",
      "The model claude-opus-4 is not enabled for your account.",
    ),
    expected: ok("config", false, { statusCode: 403 }),
  },
  {
    name: "Anthropic 404 not_found_error (model)",
    error: anthropic(404, "not_found_error", "model: claude-nope"),
    expected: ok("config", false, { statusCode: 404 }),
  },
  {
    name: "Anthropic 400 'prompt is too long' is context_length",
    error: anthropic(
      400,
      "invalid_request_error",
      "prompt is too long: 212345 tokens > 200000 maximum",
    ),
    expected: ok("context_length", false, { statusCode: 400 }),
  },
  {
    name: "Anthropic 400 'credit balance is too low' is a usage limit",
    error: anthropic(
      400,
      "invalid_request_error",
      "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.",
    ),
    expected: ok("usage_limit", false, { statusCode: 400 }),
  },
  {
    name: "Anthropic 400 invalid_request_error is config",
    error: anthropic(400, "invalid_request_error", "max_tokens: Field required"),
    expected: ok("config", false, { statusCode: 400 }),
  },
  {
    name: "Anthropic 413 request_too_large is context_length",
    error: anthropic(
      413,
      "request_too_large",
      "Request exceeds the maximum allowed number of bytes.",
    ),
    expected: ok("context_length", false, { statusCode: 413 }),
  },
  {
    name: "Anthropic 500 api_error",
    error: anthropic(500, "api_error", "Internal server error"),
    expected: ok("server_error", true, { statusCode: 500 }),
  },
  {
    name: "Anthropic in-band SSE error: the inner plain object",
    error: { type: "overloaded_error", message: "Overloaded" },
    expected: ok("overloaded", true),
  },
  {
    name: "Anthropic in-band SSE error: the whole event object",
    error: { type: "error", error: { type: "overloaded_error", message: "Overloaded" } },
    expected: ok("overloaded", true),
  },
  {
    name: "Anthropic in-band error as the provider builds it, wrapped by Keel's stream",
    error: wrappedInBand(
      providerStreamObject({
        message: "Overloaded",
        type: "overloaded_error",
        statusCode: 529,
        isRetryable: true,
        data: { type: "overloaded_error", message: "Overloaded" },
      }),
    ),
    expected: ok("overloaded", true),
  },
  {
    name: "Anthropic in-band error normalised by streamText (StreamProviderError)",
    error: new StreamProviderError({
      message: "Overloaded",
      type: "overloaded_error",
      statusCode: 529,
      isRetryable: true,
      data: { type: "overloaded_error", message: "Overloaded" },
    }),
    expected: ok("overloaded", true),
  },
  {
    name: "Anthropic first-chunk error re-thrown by the SDK as an APICallError",
    error: apiError({
      status: 529,
      body: { type: "overloaded_error", message: "Overloaded" },
      message: "Overloaded",
      headers: { "content-type": "text/event-stream" },
      isRetryable: true,
    }),
    expected: ok("overloaded", true, { statusCode: 529 }),
  },

  // --- Google --------------------------------------------------------------------------------
  {
    name: "Google 429 RESOURCE_EXHAUSTED takes its delay from RetryInfo",
    error: google(429, {
      status: "RESOURCE_EXHAUSTED",
      message:
        "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
      details: [
        {
          "@type": "type.googleapis.com/google.rpc.QuotaFailure",
          violations: [{ quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier" }],
        },
        { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "26s" },
      ],
    }),
    expected: ok("rate_limit", true, { statusCode: 429, retryAfterMs: 26_000 }),
  },
  {
    name: "Google 429 RESOURCE_EXHAUSTED on a per-day quota is a usage limit",
    error: google(429, {
      status: "RESOURCE_EXHAUSTED",
      message: "You exceeded your current quota.",
      details: [
        {
          "@type": "type.googleapis.com/google.rpc.QuotaFailure",
          violations: [{ quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier" }],
        },
      ],
    }),
    expected: ok("usage_limit", false, { statusCode: 429 }),
  },
  {
    name: "Google 400 input token count exceeds the maximum",
    error: google(400, {
      status: "INVALID_ARGUMENT",
      message:
        "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
    }),
    expected: ok("context_length", false, { statusCode: 400 }),
  },
  {
    name: "Google 400 API_KEY_INVALID is auth",
    error: google(400, {
      status: "INVALID_ARGUMENT",
      message: "API key not valid. Please pass a valid API key.",
      details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID" }],
    }),
    expected: ok("auth", false, { statusCode: 400 }),
  },
  {
    name: "Google 401 UNAUTHENTICATED",
    error: google(401, {
      status: "UNAUTHENTICATED",
      message: "Request had invalid authentication credentials.",
    }),
    expected: ok("auth", false, { statusCode: 401 }),
  },
  {
    name: "Google 403 PERMISSION_DENIED",
    error: google(403, {
      status: "PERMISSION_DENIED",
      message: "Permission denied: Consumer 'api_key:x' has been suspended.",
    }),
    expected: ok("auth", false, { statusCode: 403 }),
  },
  {
    name: "Google 404 NOT_FOUND model",
    error: google(404, {
      status: "NOT_FOUND",
      message: "models/gemini-9 is not found for API version v1beta.",
    }),
    expected: ok("config", false, { statusCode: 404 }),
  },
  {
    name: "Google 503 UNAVAILABLE 'model is overloaded' is overloaded",
    error: google(503, {
      status: "UNAVAILABLE",
      message: "The model is overloaded. Please try again later.",
    }),
    expected: ok("overloaded", true, { statusCode: 503 }),
  },
  {
    name: "Google 503 UNAVAILABLE is a timeout",
    error: google(503, { status: "UNAVAILABLE", message: "The service is currently unavailable." }),
    expected: ok("timeout", true, { statusCode: 503 }),
  },
  {
    name: "Google 500 INTERNAL",
    error: google(500, { status: "INTERNAL", message: "An internal error has occurred." }),
    expected: ok("server_error", true, { statusCode: 500 }),
  },
  {
    name: "Google in-band error chunk as the provider builds it",
    error: providerStreamObject({
      message: "Resource has been exhausted (e.g. check quota).",
      type: "RESOURCE_EXHAUSTED",
      code: 429,
      statusCode: 429,
      isRetryable: true,
      data: { code: 429, message: "Resource has been exhausted", status: "RESOURCE_EXHAUSTED" },
    }),
    expected: ok("rate_limit", true),
  },
  {
    name: "Google prompt blocked for SAFETY",
    error: { promptFeedback: { blockReason: "SAFETY" } },
    expected: ok("content_filter", false),
  },

  // --- Amazon Bedrock ------------------------------------------------------------------------
  {
    name: "Bedrock 429 ThrottlingException (x-amzn-errortype)",
    error: bedrock(
      429,
      "ThrottlingException",
      "Too many requests, please wait before trying again.",
    ),
    expected: ok("rate_limit", true, { statusCode: 429 }),
  },
  {
    name: "Bedrock 400 ValidationException 'Input is too long'",
    error: bedrock(400, "ValidationException", "Input is too long for requested model."),
    expected: ok("context_length", false, { statusCode: 400 }),
  },
  {
    name: "Bedrock 403 AccessDeniedException for a model is config",
    error: bedrock(
      403,
      "AccessDeniedException",
      "You don't have access to the model with the specified model ID.",
    ),
    expected: ok("config", false, { statusCode: 403 }),
  },
  {
    name: "Bedrock 503 ServiceUnavailableException",
    error: bedrock(
      503,
      "ServiceUnavailableException",
      "Bedrock is unable to process your request.",
    ),
    expected: ok("timeout", true, { statusCode: 503 }),
  },
  {
    name: "Bedrock in-band modelStreamErrorException is retried, not config by its 424",
    error: new StreamProviderError({
      message: "Model stream error",
      type: "modelStreamErrorException",
      statusCode: 424,
      isRetryable: true,
    }),
    expected: ok("server_error", true),
  },

  // --- Azure / OpenRouter --------------------------------------------------------------------
  {
    name: "Azure 400 content_filter / ResponsibleAIPolicyViolation",
    error: apiError({
      status: 400,
      body: {
        error: {
          message:
            "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
          type: null,
          param: "prompt",
          code: "content_filter",
          status: 400,
          innererror: { code: "ResponsibleAIPolicyViolation", content_filter_result: {} },
        },
      },
    }),
    expected: ok("content_filter", false, { statusCode: 400 }),
  },
  {
    name: "Azure 429 with code '429' and retry-after-ms",
    error: apiError({
      status: 429,
      body: {
        error: {
          code: "429",
          message:
            "Requests to the ChatCompletions_Create Operation have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds.",
        },
      },
      headers: { "retry-after": "6", "retry-after-ms": "6000" },
    }),
    expected: ok("rate_limit", true, { statusCode: 429, retryAfterMs: 6000 }),
  },
  {
    name: "Azure 404 DeploymentNotFound",
    error: apiError({
      status: 404,
      body: {
        error: {
          code: "DeploymentNotFound",
          message: "The API deployment for this resource does not exist.",
        },
      },
    }),
    expected: ok("config", false, { statusCode: 404 }),
  },
  {
    name: "OpenRouter 402 out of credits",
    error: apiError({
      status: 402,
      body: {
        error: {
          code: 402,
          message:
            "This request requires more credits, or fewer max_tokens. You requested up to 4096 tokens, but can only afford 1000.",
        },
      },
    }),
    expected: ok("usage_limit", false, { statusCode: 402 }),
  },
  {
    name: "OpenRouter 502 whose upstream raw error is Anthropic overloaded",
    error: apiError({
      status: 502,
      body: {
        error: {
          code: 502,
          message: "Provider returned error",
          metadata: {
            provider_name: "Anthropic",
            raw: '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
          },
        },
      },
    }),
    expected: ok("overloaded", true, { statusCode: 502 }),
  },
  {
    name: "OpenRouter in-band {error:{code:402}} counts by its numeric code",
    error: { error: { code: 402, message: "Insufficient credits" } },
    expected: ok("usage_limit", false),
  },

  // --- Status codes alone --------------------------------------------------------------------
  {
    name: "400 with no body is config",
    error: apiError({ status: 400, body: "" }),
    expected: ok("config", false, { statusCode: 400 }),
  },
  {
    name: "402 Payment Required is a usage limit",
    error: apiError({ status: 402, body: "", message: "Payment Required" }),
    expected: ok("usage_limit", false, { statusCode: 402 }),
  },
  {
    name: "408 is a timeout",
    error: apiError({ status: 408, body: "" }),
    expected: ok("timeout", true, { statusCode: 408 }),
  },
  {
    name: "409 is a retryable server_error (the SDK retries it)",
    error: apiError({ status: 409, body: "" }),
    expected: ok("server_error", true, { statusCode: 409 }),
  },
  {
    name: "502 with an HTML body is a timeout",
    error: apiError({ status: 502, body: "<html><body>502 Bad Gateway</body></html>" }),
    expected: ok("timeout", true, { statusCode: 502 }),
  },
  {
    name: "503 proxy 'upstream connect error' is a timeout",
    error: apiError({
      status: 503,
      body: "upstream connect error or disconnect/reset before headers. reset reason: connection termination",
    }),
    expected: ok("timeout", true, { statusCode: 503 }),
  },
  {
    name: "504 is a timeout",
    error: apiError({ status: 504, body: "" }),
    expected: ok("timeout", true, { statusCode: 504 }),
  },
  {
    name: "507 is a server_error",
    error: apiError({ status: 507, body: "" }),
    expected: ok("server_error", true, { statusCode: 507 }),
  },
  {
    name: "503 'invalid model' fails fast as config",
    error: apiError({ status: 503, body: "invalid model: gpt-nine" }),
    expected: ok("config", false, { statusCode: 503 }),
  },
  {
    name: "503 whose JSON body says the model does not exist fails fast as config",
    error: apiError({
      status: 503,
      body: { error: { message: "The model `llama-9` does not exist." } },
    }),
    expected: ok("config", false, { statusCode: 503 }),
  },
  {
    name: "500 whose cause is an abort is a retryable server_error",
    error: apiError({ status: 500, body: "", cause: domAbort() }),
    expected: ok("server_error", true, { statusCode: 500 }),
  },
  {
    name: "503 whose cause is an abort is a retryable timeout",
    error: apiError({ status: 503, body: "", cause: domAbort() }),
    expected: ok("timeout", true, { statusCode: 503 }),
  },

  // --- Coder's cases: wording without a status, config inside a transient wrapper -------------
  {
    name: "flattened text 'overloaded_error' with no status is overloaded",
    error: new Error("stream error: overloaded_error"),
    expected: ok("overloaded", true),
  },
  {
    name: "an in-band error object whose only word is 'overloaded_error' is overloaded",
    error: wrappedInBand({ message: "overloaded_error" }),
    expected: ok("overloaded", true),
  },
  {
    name: "flattened text 'unsupported model' inside a 503 wrapper fails fast as config",
    error: new Error("503 Service Unavailable: unsupported model: gpt-nine"),
    expected: ok("config", false),
  },
  {
    name: "a 503 whose plain-text body says 'unsupported model' fails fast as config",
    error: apiError({ status: 503, body: "unsupported model: gpt-nine" }),
    expected: ok("config", false, { statusCode: 503 }),
  },
  {
    name: "a 502 caused by a 'model not found' error fails fast as config",
    error: apiError({ status: 502, body: "", cause: new Error("model not found: gpt-nine") }),
    expected: ok("config", false, { statusCode: 502 }),
  },
  {
    name: "a connection reset caused by an 'unsupported model' error fails fast as config",
    error: Object.assign(new Error("read ECONNRESET", { cause: new Error("unsupported model") }), {
      code: "ECONNRESET",
    }),
    expected: ok("config", false),
  },
  {
    name: "a 429 with no code whose body mentions billing is a retryable rate limit",
    error: apiError({
      status: 429,
      body: {
        error: {
          message: "Too many requests. See https://example.test/billing for your plan's limits.",
        },
      },
    }),
    expected: ok("rate_limit", true, { statusCode: 429 }),
  },
  {
    name: "a 429 with a plain-text body that mentions billing is a retryable rate limit",
    error: apiError({ status: 429, body: "Slow down; billing tiers raise this limit." }),
    expected: ok("rate_limit", true, { statusCode: 429 }),
  },
  {
    name: "a 429 with no code but an explicit credit phrase is a usage limit",
    error: apiError({
      status: 429,
      body: { error: { message: "You are out of credits. Add credits to continue." } },
    }),
    expected: ok("usage_limit", false, { statusCode: 429 }),
  },
  {
    name: "a 400 with no code whose message is about billing is still a usage limit",
    error: apiError({
      status: 400,
      body: { error: { message: "Your organization's billing is not set up." } },
    }),
    expected: ok("usage_limit", false, { statusCode: 400 }),
  },
  {
    name: "HTTP/2 RST_STREAM NGHTTP2_FLOW_CONTROL_ERROR is a retryable timeout",
    error: cannotConnect(h2StreamError("FLOW_CONTROL_ERROR", 3)),
    expected: ok("timeout", true),
  },
  {
    name: "flattened HTTP/2 'stream error … FLOW_CONTROL_ERROR' is a retryable timeout",
    error: new Error("stream error: stream ID 3; FLOW_CONTROL_ERROR; received from peer"),
    expected: ok("timeout", true),
  },

  // --- x-should-retry ------------------------------------------------------------------------
  {
    name: "x-should-retry: false stops a 429 from being retried",
    error: anthropic(429, "rate_limit_error", "Rate limited", { "x-should-retry": "false" }),
    expected: ok("rate_limit", false, { statusCode: 429 }),
  },
  {
    name: "x-should-retry: false (any case) stops a 503",
    error: apiError({ status: 503, body: "", headers: { "X-Should-Retry": "FALSE" } }),
    expected: ok("timeout", false, { statusCode: 503 }),
  },
  {
    name: "x-should-retry: true turns a 401 into a retryable server_error",
    error: anthropic(401, "authentication_error", "invalid x-api-key", {
      "x-should-retry": "true",
    }),
    expected: ok("server_error", true, { statusCode: 401 }),
  },
  {
    name: "x-should-retry: true keeps a retryable kind",
    error: apiError({ status: 500, body: "", headers: { "x-should-retry": "true" } }),
    expected: ok("server_error", true, { statusCode: 500 }),
  },
  {
    name: "the turn deadline beats x-should-retry: true",
    error: apiError({
      status: 503,
      body: "",
      headers: { "x-should-retry": "true" },
      cause: new TurnDeadlineExceeded(600_000),
    }),
    expected: ok("timeout", false, { statusCode: 503 }),
  },

  // --- Transport -----------------------------------------------------------------------------
  {
    name: "HTTP/1.1 socket destroyed mid-body: 2xx 'Failed to process successful response'",
    error: bodyFailed(terminated(new undici.SocketError("other side closed"))),
    expected: ok("timeout", true),
  },
  {
    name: "undici TypeError: terminated ← SocketError",
    error: terminated(new undici.SocketError("other side closed")),
    expected: ok("timeout", true),
  },
  {
    name: "undici TypeError: terminated wrapping an abort is still a transport failure",
    error: terminated(domAbort()),
    expected: ok("timeout", true),
  },
  {
    name: "ECONNRESET",
    error: sysError("ECONNRESET", "read ECONNRESET"),
    expected: ok("timeout", true),
  },
  {
    name: "ECONNREFUSED behind the SDK's 'Cannot connect to API'",
    error: cannotConnect(sysError("ECONNREFUSED", "connect ECONNREFUSED 10.0.0.1:443")),
    expected: ok("timeout", true),
  },
  {
    name: "EPIPE under fetch failed",
    error: new TypeError("fetch failed", { cause: sysError("EPIPE", "write EPIPE") }),
    expected: ok("timeout", true),
  },
  {
    name: "ETIMEDOUT",
    error: sysError("ETIMEDOUT", "connect ETIMEDOUT 10.0.0.1:443"),
    expected: ok("timeout", true),
  },
  {
    name: "AggregateError of ECONNREFUSED (happy eyeballs)",
    error: Object.assign(
      new AggregateError([
        sysError("ECONNREFUSED", "connect ECONNREFUSED ::1:443"),
        sysError("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:443"),
      ]),
      { code: "ECONNREFUSED" },
    ),
    expected: ok("timeout", true),
  },
  {
    name: "undici ConnectTimeoutError",
    error: new TypeError("fetch failed", { cause: new undici.ConnectTimeoutError() }),
    expected: ok("timeout", true),
  },
  {
    name: "undici HeadersTimeoutError",
    error: new undici.HeadersTimeoutError(),
    expected: ok("timeout", true),
  },
  {
    name: "undici BodyTimeoutError",
    error: terminated(new undici.BodyTimeoutError()),
    expected: ok("timeout", true),
  },
  {
    name: "undici ClientClosedError",
    error: new undici.ClientClosedError(),
    expected: ok("timeout", true),
  },
  {
    name: "HTTP/2 RST_STREAM NGHTTP2_CANCEL",
    error: cannotConnect(h2StreamError("CANCEL", 8)),
    expected: ok("timeout", true),
  },
  {
    name: "HTTP/2 RST_STREAM NGHTTP2_REFUSED_STREAM",
    error: cannotConnect(h2StreamError("REFUSED_STREAM", 7)),
    expected: ok("timeout", true),
  },
  {
    name: "HTTP/2 RST_STREAM NGHTTP2_INTERNAL_ERROR",
    error: cannotConnect(h2StreamError("INTERNAL_ERROR", 2)),
    expected: ok("timeout", true),
  },
  {
    name: "HTTP/2 RST_STREAM NGHTTP2_ENHANCE_YOUR_CALM",
    error: cannotConnect(h2StreamError("ENHANCE_YOUR_CALM", 11)),
    expected: ok("timeout", true),
  },
  {
    name: "HTTP/2 RST_STREAM NGHTTP2_NO_ERROR (no http2ErrorCode for 0)",
    error: Object.assign(new Error("Stream closed with error code NGHTTP2_NO_ERROR"), {
      code: "ERR_HTTP2_STREAM_ERROR",
    }),
    expected: ok("timeout", true),
  },
  {
    name: "HTTP/2 RST_STREAM NGHTTP2_PROTOCOL_ERROR is config",
    error: cannotConnect(h2StreamError("PROTOCOL_ERROR", 1)),
    expected: ok("config", false),
  },
  {
    name: "HTTP/2 session closed with a numeric code mid-body",
    error: bodyFailed(
      terminated(
        Object.assign(new Error("Session closed with error code 2"), {
          code: "ERR_HTTP2_SESSION_ERROR",
          http2ErrorCode: 2,
        }),
      ),
    ),
    expected: ok("timeout", true),
  },
  {
    name: "HTTP/2 ERR_HTTP2_GOAWAY_SESSION",
    error: Object.assign(new Error("New streams cannot be created after receiving a GOAWAY"), {
      code: "ERR_HTTP2_GOAWAY_SESSION",
    }),
    expected: ok("timeout", true),
  },
  {
    name: "undici GOAWAY SocketError",
    error: terminated(new undici.SocketError('HTTP/2: "GOAWAY" frame received with code 1')),
    expected: ok("timeout", true),
  },
  {
    name: "a flattened proxy 'upstream connect error' message",
    error: new Error(
      "upstream connect error or disconnect/reset before headers. reset reason: overflow",
    ),
    expected: ok("timeout", true),
  },
  {
    name: "HTTP/2 cancel seen through the OpenAI-compatible provider: no finish reason",
    error: new InvalidResponseDataError({
      data: undefined,
      message: "Response stream ended without a finish reason.",
    }),
    expected: ok("timeout", true),
  },
  {
    name: "streamText: the model stream ended without a finish chunk",
    error: new NoOutputGeneratedError({
      message: "No output generated. The model stream ended without a finish chunk.",
    }),
    expected: ok("timeout", true),
  },
  {
    name: "ENOTFOUND (no such host) is config",
    error: cannotConnect(sysError("ENOTFOUND", "getaddrinfo ENOTFOUND api.typo.test")),
    expected: ok("config", false),
  },
  {
    name: "AbortSignal.timeout's TimeoutError is a timeout",
    error: new DOMException("The operation was aborted due to timeout", "TimeoutError"),
    expected: ok("timeout", true),
  },

  // --- Keel causes ---------------------------------------------------------------------------
  {
    name: "ProviderTransportReset",
    error: new ProviderTransportReset(),
    expected: ok("timeout", true),
  },
  {
    name: "StreamSilenceTimeout",
    error: new StreamSilenceTimeout(90_000),
    expected: ok("timeout", true),
  },
  {
    name: "StreamSilenceTimeout as the abort reason under a 2xx body failure",
    error: bodyFailed(new StreamSilenceTimeout(90_000)),
    expected: ok("timeout", true),
  },
  {
    name: "TurnDeadlineExceeded is a timeout that is not retried",
    error: new TurnDeadlineExceeded(600_000),
    expected: ok("timeout", false),
  },

  // --- Aborts --------------------------------------------------------------------------------
  {
    name: "DOMException AbortError",
    error: domAbort(),
    expected: ok("canceled", false),
  },
  {
    name: "an AbortController's own default reason",
    error: (() => {
      const controller = new AbortController();
      controller.abort();
      return controller.signal.reason;
    })(),
    expected: ok("canceled", false),
  },
  {
    name: "undici RequestAbortedError",
    error: new undici.RequestAbortedError(),
    expected: ok("canceled", false),
  },
  {
    name: "ChatInterrupted",
    error: new ChatInterrupted(),
    expected: ok("canceled", false),
  },
  {
    name: "ServerShutdown",
    error: new ServerShutdown(),
    expected: ok("canceled", false),
  },
  {
    name: "ChatInterrupted as the abort reason under a 2xx body failure",
    error: bodyFailed(new ChatInterrupted()),
    expected: ok("canceled", false),
  },
  {
    name: "an abort whose cause carries a 429 is a rate limit",
    error: new DOMException("This operation was aborted", {
      name: "AbortError",
      cause: anthropic(429, "rate_limit_error", "Rate limited", { "retry-after": "3" }),
    }),
    expected: ok("rate_limit", true, { statusCode: 429, retryAfterMs: 3000 }),
  },

  // --- SDK errors and text of last resort ----------------------------------------------------
  {
    name: "LoadAPIKeyError is auth",
    error: new LoadAPIKeyError({ message: "Anthropic API key is missing." }),
    expected: ok("auth", false),
  },
  {
    name: "NoSuchModelError is config",
    error: new NoSuchModelError({ modelId: "gpt-9", modelType: "languageModel" }),
    expected: ok("config", false),
  },
  {
    name: "RetryError classifies its last error",
    error: new RetryError({
      message: "Failed after 3 attempts.",
      reason: "maxRetriesExceeded",
      errors: [
        apiError({ status: 500, body: "" }),
        anthropic(529, "overloaded_error", "Overloaded"),
      ],
    }),
    expected: ok("overloaded", true, { statusCode: 529 }),
  },
  {
    name: "flattened text: 'status code 503'",
    error: new Error("Request failed with status code 503"),
    expected: ok("timeout", true),
  },
  {
    name: "flattened text: 'Too Many Requests'",
    error: new Error("429 Too Many Requests"),
    expected: ok("rate_limit", true),
  },
  {
    name: "flattened text: 'Overloaded'",
    error: new Error("Anthropic API error: Overloaded"),
    expected: ok("overloaded", true),
  },
  {
    name: "a thrown string 'fetch failed'",
    error: "fetch failed",
    expected: ok("timeout", true),
  },
  {
    name: "an unknown error is generic",
    error: new Error("Cannot read properties of undefined (reading 'content')"),
    expected: ok("generic", false),
  },
  {
    name: "null is generic",
    error: null,
    expected: ok("generic", false),
  },
];

describe("classify: the table", () => {
  it("has enough cases to mean something", () => {
    expect(cases.length).toBeGreaterThanOrEqual(50);
  });

  it.each(cases)("$name", ({ error, expected }) => {
    expect(verdict(classify(error, { provider: "Acme" }))).toEqual(expected);
  });
});

describe("classify: Retry-After", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const rateLimited = (headers: Record<string, string>) =>
    apiError({ status: 429, body: "", headers });

  it("reads retry-after as seconds", () => {
    expect(classify(rateLimited({ "retry-after": "2" })).retryAfterMs).toBe(2000);
  });

  it("prefers retry-after-ms, a float, over retry-after", () => {
    expect(
      classify(rateLimited({ "retry-after-ms": "1234.5", "retry-after": "9" })).retryAfterMs,
    ).toBe(1234.5);
  });

  it("falls back to retry-after when retry-after-ms is garbage", () => {
    expect(
      classify(rateLimited({ "retry-after-ms": "soon", "retry-after": "3" })).retryAfterMs,
    ).toBe(3000);
  });

  it("reads an HTTP date relative to now", () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date("2025-06-01T12:00:00Z"));
    expect(
      classify(rateLimited({ "retry-after": "Sun, 01 Jun 2025 12:00:30 GMT" })).retryAfterMs,
    ).toBe(30_000);
  });

  it.each(["soon", "-5", "", "1e3", "5 seconds"])("ignores garbage retry-after %j", (value) => {
    expect(classify(rateLimited({ "retry-after": value })).retryAfterMs).toBeUndefined();
  });

  it("keeps a long Retry-After uncapped (chatretry caps it)", () => {
    expect(classify(rateLimited({ "retry-after": "86400" })).retryAfterMs).toBe(86_400_000);
  });
});

describe("classify: detail and cause", () => {
  it("keeps the provider's own message as detail", () => {
    const error = anthropic(
      400,
      "invalid_request_error",
      "prompt is too long: 5 tokens > 4 maximum",
    );
    expect(classify(error).detail).toBe("prompt is too long: 5 tokens > 4 maximum");
  });

  it(`caps detail at ${DETAIL_LIMIT} characters`, () => {
    const long = `The model is unavailable. ${"x".repeat(5000)}`;
    const detail = classify(openai(400, { message: long, type: "invalid_request_error" })).detail;
    expect(detail?.length).toBeLessThanOrEqual(DETAIL_LIMIT);
  });

  it("marks a capped detail with an ellipsis", () => {
    const detail = classify(openai(400, { message: "y".repeat(2000) })).detail;
    expect(detail?.endsWith("…")).toBe(true);
  });

  it("summarises a transport chain as detail when the provider said nothing", () => {
    const error = bodyFailed(terminated(new undici.SocketError("other side closed")));
    expect(classify(error).detail).toBe(
      "Failed to process successful response ← terminated ← other side closed (UND_ERR_SOCKET)",
    );
  });

  it("keeps the original error as cause", () => {
    const error = anthropic(529, "overloaded_error", "Overloaded");
    expect(classify(error).cause).toBe(error);
  });

  it("returns a ChatError's own classification", () => {
    const classified = classify(anthropic(401, "authentication_error", "invalid x-api-key"));
    expect(classify(new ChatError(classified))).toBe(classified);
  });
});

describe("classify: the cause chain", () => {
  it("survives a cycle and still finds the facts in it", () => {
    const outer = new Error("request failed");
    const inner = sysError("ECONNRESET", "read ECONNRESET");
    outer.cause = inner;
    inner.cause = outer;
    expect(classify(outer).kind).toBe("timeout");
  });

  it("survives a self-referencing AggregateError", () => {
    const error = new AggregateError([], "many");
    error.errors.push(error);
    expect(classify(error).kind).toBe("generic");
  });

  it("stops walking a very deep chain", () => {
    let error: Error = new Error("bottom");
    for (let i = 0; i < 10_000; i++) error = new Error(`level ${i}`, { cause: error });
    expect(classify(error).kind).toBe("generic");
  });

  it("finds a status a few wrappers down", () => {
    const error = new Error("stream failed", {
      cause: new Error("step failed", { cause: anthropic(401, "authentication_error", "bad key") }),
    });
    expect(verdict(classify(error))).toEqual(ok("auth", false, { statusCode: 401 }));
  });
});

describe("classify: messages for people", () => {
  const named: Array<[string, unknown]> = [
    ["overloaded", anthropic(529, "overloaded_error", "Overloaded")],
    ["usage_limit", openai(429, { message: "quota", code: "insufficient_quota" })],
    ["auth", anthropic(401, "authentication_error", "invalid x-api-key")],
    ["rate_limit", anthropic(429, "rate_limit_error", "slow down")],
    ["timeout", bodyFailed(terminated(new undici.SocketError("other side closed")))],
    ["config", openai(404, { message: "no such model", code: "model_not_found" })],
    ["content_filter", openai(400, { message: "filtered", code: "content_filter" })],
    ["server_error", anthropic(500, "api_error", "Internal server error")],
    ["generic", new Error("Something odd")],
  ];

  it.each(named)("a %s message names the provider", (_kind, error) => {
    expect(classify(error, { provider: "Anthropic" }).message).toContain("Anthropic");
  });

  it.each(named)("a %s message has no stack trace", (_kind, error) => {
    expect(classify(error, { provider: "Anthropic" }).message).not.toMatch(/\n|\bat .+:\d+:\d+/);
  });

  it("says what to do about a bad key", () => {
    expect(
      classify(anthropic(401, "authentication_error", "x"), { provider: "Anthropic" }),
    ).toEqual(
      expect.objectContaining({
        message:
          "Anthropic rejected the API key (401). Ask an administrator to check the provider's API key.",
      }),
    );
  });

  it("offers compaction for a context-length failure", () => {
    expect(classify(openai(400, { message: "x", code: "context_length_exceeded" })).message).toBe(
      "The conversation is longer than the model's context window. Compact it or start a new chat.",
    );
  });

  it("gives advice only when the failure is final", () => {
    const error = anthropic(529, "overloaded_error", "Overloaded", { "x-should-retry": "false" });
    expect(classify(error, { provider: "Anthropic" }).message).toBe(
      "Anthropic is overloaded (529). Try again in a few minutes.",
    );
  });

  it("defaults the provider's name", () => {
    expect(classify(anthropic(529, "overloaded_error", "Overloaded")).message).toBe(
      "The provider is overloaded (529).",
    );
  });

  it("keeps only the first line of an unknown error's message", () => {
    const error = new Error("boom\n    at handler (/srv/keel/src/x.ts:10:5)");
    expect(classify(error).message).toBe("The request to the provider failed: boom");
  });
});
