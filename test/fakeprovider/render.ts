// Renders neutral scripts in each provider's real wire format: SSE frames for streams, JSON bodies
// for errors. The shapes follow the providers' documented streams and what the AI SDK providers
// (@ai-sdk/openai, @ai-sdk/anthropic, @ai-sdk/google) validate.

import type { ErrorType, FinishReason, ProviderFormat, StreamEvent, Usage } from "./script.ts";

// ---------------------------------------------------------------------------------------------
// Error bodies

interface ErrorSpec {
  status: number;
  body: unknown;
}

type Json = Record<string, unknown>;

function openaiError(
  status: number,
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
): ErrorSpec {
  return { status, body: { error: { message, type, param, code } } };
}

function openaiErrorSpec(errorType: ErrorType, model: string): ErrorSpec {
  switch (errorType) {
    case "overloaded":
      return openaiError(
        503,
        "The engine is currently overloaded, please try again later.",
        "server_error",
        null,
      );
    case "rate_limit":
      return openaiError(
        429,
        `Rate limit reached for ${model} in organization org-fake on tokens per min (TPM): Limit 30000, Used 29500, Requested 1200. Please try again in 1.4s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
        "tokens",
        "rate_limit_exceeded",
      );
    case "insufficient_quota":
      return openaiError(
        429,
        "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
        "insufficient_quota",
        "insufficient_quota",
      );
    case "auth":
      return openaiError(
        401,
        "Incorrect API key provided: sk-fake***. You can find your API key at https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        "invalid_api_key",
      );
    case "permission":
      return openaiError(
        403,
        "You are not allowed to sample from this model",
        "invalid_request_error",
        null,
      );
    case "model_not_found":
      return openaiError(
        404,
        `The model \`${model}\` does not exist or you do not have access to it.`,
        "invalid_request_error",
        "model_not_found",
      );
    case "context_length":
      return openaiError(
        400,
        "This model's maximum context length is 128000 tokens. However, your messages resulted in 210000 tokens. Please reduce the length of the messages.",
        "invalid_request_error",
        "context_length_exceeded",
        "messages",
      );
    case "invalid_request":
      return openaiError(
        400,
        "Unsupported parameter: 'temperature' is not supported with this model.",
        "invalid_request_error",
        "unsupported_parameter",
        "temperature",
      );
    case "unavailable":
      return openaiError(503, "Service Unavailable", "server_error", null);
    case "server":
      return openaiError(
        500,
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        null,
      );
  }
}

function anthropicError(status: number, type: string, message: string): ErrorSpec {
  return {
    status,
    body: { type: "error", error: { type, message }, request_id: "req_fake" },
  };
}

function anthropicErrorSpec(errorType: ErrorType, model: string): ErrorSpec {
  switch (errorType) {
    case "overloaded":
      return anthropicError(529, "overloaded_error", "Overloaded");
    case "rate_limit":
      return anthropicError(
        429,
        "rate_limit_error",
        "This request would exceed the rate limit for your organization (fake) of 50,000 input tokens per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase.",
      );
    case "insufficient_quota":
      return anthropicError(
        400,
        "invalid_request_error",
        "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.",
      );
    case "auth":
      return anthropicError(401, "authentication_error", "invalid x-api-key");
    case "permission":
      return anthropicError(
        403,
        "permission_error",
        "Your API key does not have permission to use the specified resource.",
      );
    case "model_not_found":
      return anthropicError(404, "not_found_error", `model: ${model}`);
    case "context_length":
      return anthropicError(
        400,
        "invalid_request_error",
        "prompt is too long: 210000 tokens > 200000 maximum",
      );
    case "invalid_request":
      return anthropicError(
        400,
        "invalid_request_error",
        "messages.0.content: Input should be a valid list",
      );
    case "unavailable":
      return anthropicError(503, "api_error", "Service Unavailable");
    case "server":
      return anthropicError(500, "api_error", "Internal server error");
  }
}

function googleError(
  status: number,
  grpcStatus: string,
  message: string,
  details?: Json[],
): ErrorSpec {
  const error: Json = { code: status, message, status: grpcStatus };
  if (details) error.details = details;
  return { status, body: { error } };
}

function googleErrorSpec(errorType: ErrorType, model: string): ErrorSpec {
  switch (errorType) {
    case "overloaded":
      return googleError(503, "UNAVAILABLE", "The model is overloaded. Please try again later.");
    case "rate_limit":
      return googleError(
        429,
        "RESOURCE_EXHAUSTED",
        "Resource has been exhausted (e.g. check quota).",
      );
    case "insufficient_quota":
      return googleError(
        429,
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
        [
          {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            violations: [
              {
                quotaMetric:
                  "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
              },
            ],
          },
        ],
      );
    case "auth":
      // Gemini answers a bad API key with 400 INVALID_ARGUMENT, not 401.
      return googleError(
        400,
        "INVALID_ARGUMENT",
        "API key not valid. Please pass a valid API key.",
        [
          {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            reason: "API_KEY_INVALID",
            domain: "googleapis.com",
            metadata: { service: "generativelanguage.googleapis.com" },
          },
        ],
      );
    case "permission":
      return googleError(403, "PERMISSION_DENIED", "The caller does not have permission");
    case "model_not_found":
      return googleError(
        404,
        "NOT_FOUND",
        `models/${model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`,
      );
    case "context_length":
      return googleError(
        400,
        "INVALID_ARGUMENT",
        "The input token count (1195710) exceeds the maximum number of tokens allowed (1048576).",
      );
    case "invalid_request":
      return googleError(400, "INVALID_ARGUMENT", "Request contains an invalid argument.");
    case "unavailable":
      return googleError(503, "UNAVAILABLE", "The service is currently unavailable.");
    case "server":
      return googleError(
        500,
        "INTERNAL",
        "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
      );
  }
}

function withMessage(body: unknown, message: string | undefined): unknown {
  if (message === undefined) return body;
  // Every format nests the message at `error.message`.
  const b = body as { error: Json };
  return { ...b, error: { ...b.error, message } };
}

/** The provider's real status and body for an error type. */
export function errorResponse(
  format: ProviderFormat,
  errorType: ErrorType,
  model: string,
  message?: string,
): ErrorSpec {
  const spec =
    format === "anthropic"
      ? anthropicErrorSpec(errorType, model)
      : format === "google"
        ? googleErrorSpec(errorType, model)
        : openaiErrorSpec(errorType, model);
  return { status: spec.status, body: withMessage(spec.body, message) };
}

/** Realistic headers sent with every response of a format. */
export function providerHeaders(
  format: ProviderFormat,
  requestNumber: number,
): Record<string, string> {
  const id = `req_fake_${requestNumber}`;
  switch (format) {
    case "anthropic":
      return { "request-id": id, "anthropic-organization-id": "org-fake" };
    case "google":
      return { "x-goog-request-id": id, server: "scaffolding on HTTPServer2" };
    default:
      return {
        "x-request-id": id,
        "openai-organization": "org-fake",
        "openai-version": "2020-10-01",
      };
  }
}

// ---------------------------------------------------------------------------------------------
// Streams

/** Renders one script's events as SSE text; each method returns the frames for one write. */
export interface StreamRenderer {
  /** Frames sent right after the headers (message_start, response.created, …); may be "". */
  start(): string;
  /** Frames for one event ("" for silence). */
  event(event: Exclude<StreamEvent, { type: "silence" }>): string;
}

export interface RenderContext {
  model: string;
  requestNumber: number;
  /** Usage the stream will report (from the script's finish event, else defaults). */
  usage: Usage;
}

const created = () => Math.floor(Date.now() / 1000);

function sse(data: unknown, eventName?: string): string {
  const json = typeof data === "string" ? data : JSON.stringify(data);
  return eventName ? `event: ${eventName}\ndata: ${json}\n\n` : `data: ${json}\n\n`;
}

function fullUsage(u: Usage): Required<Usage> {
  return {
    inputTokens: u.inputTokens,
    outputTokens: u.outputTokens,
    cachedInputTokens: u.cachedInputTokens ?? 0,
    reasoningTokens: u.reasoningTokens ?? 0,
  };
}

export function createRenderer(format: ProviderFormat, ctx: RenderContext): StreamRenderer {
  switch (format) {
    case "openai-chat":
      return openaiChatRenderer(ctx);
    case "openai-responses":
      return openaiResponsesRenderer(ctx);
    case "anthropic":
      return anthropicRenderer(ctx);
    case "google":
      return googleRenderer(ctx);
  }
}

// OpenAI Chat Completions ---------------------------------------------------------------------

function openaiChatRenderer(ctx: RenderContext): StreamRenderer {
  const id = `chatcmpl-fake${ctx.requestNumber}`;
  const ts = created();
  let toolIndex = 0;
  const chunk = (choices: unknown[], extra: Json = {}) =>
    sse({
      id,
      object: "chat.completion.chunk",
      created: ts,
      model: ctx.model,
      service_tier: "default",
      system_fingerprint: "fp_fake",
      choices,
      ...extra,
    });
  const delta = (d: Json, finish: string | null = null) =>
    chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finish }]);
  return {
    start: () => delta({ role: "assistant", content: "", refusal: null }),
    event(event) {
      switch (event.type) {
        case "text":
          return delta({ content: event.text });
        case "reasoning":
          // Not OpenAI's own field; DeepSeek and other OpenAI-compatible servers send it.
          return delta({ reasoning_content: event.text });
        case "tool-call": {
          const index = toolIndex++;
          let out = delta({
            tool_calls: [
              {
                index,
                id: event.id,
                type: "function",
                function: { name: event.name, arguments: "" },
              },
            ],
          });
          for (const piece of event.args) {
            out += delta({ tool_calls: [{ index, function: { arguments: piece } }] });
          }
          return out;
        }
        case "error": {
          const { body } = errorResponse("openai-chat", event.errorType, ctx.model, event.message);
          return sse(body);
        }
        case "raw":
          return event.data;
        case "finish": {
          const u = fullUsage(event.usage ?? ctx.usage);
          const reason = event.reason ?? (toolIndex > 0 ? "tool-calls" : "stop");
          return (
            delta({}, openaiChatFinish(reason)) +
            chunk([], {
              usage: {
                prompt_tokens: u.inputTokens,
                completion_tokens: u.outputTokens,
                total_tokens: u.inputTokens + u.outputTokens,
                prompt_tokens_details: { cached_tokens: u.cachedInputTokens, audio_tokens: 0 },
                completion_tokens_details: {
                  reasoning_tokens: u.reasoningTokens,
                  audio_tokens: 0,
                  accepted_prediction_tokens: 0,
                  rejected_prediction_tokens: 0,
                },
              },
            }) +
            sse("[DONE]")
          );
        }
      }
    },
  };
}

function openaiChatFinish(reason: FinishReason): string {
  switch (reason) {
    case "stop":
      return "stop";
    case "length":
      return "length";
    case "tool-calls":
      return "tool_calls";
    case "content-filter":
      return "content_filter";
  }
}

// OpenAI Responses ----------------------------------------------------------------------------

function openaiResponsesRenderer(ctx: RenderContext): StreamRenderer {
  const responseId = `resp_fake${ctx.requestNumber}`;
  const ts = created();
  let seq = 0;
  let outputIndex = -1;
  let itemCounter = 0;
  let hasToolCall = false;
  const output: Json[] = [];
  let open: { kind: "message" | "reasoning"; id: string; index: number; text: string } | null =
    null;

  const frame = (type: string, fields: Json) =>
    sse({ type, sequence_number: seq++, ...fields }, type);
  const response = (status: string, extra: Json = {}) => ({
    id: responseId,
    object: "response",
    created_at: ts,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    model: ctx.model,
    output: status === "in_progress" ? [] : output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    service_tier: "default",
    store: true,
    temperature: 1,
    text: { format: { type: "text" } },
    tool_choice: "auto",
    tools: [],
    top_p: 1,
    truncation: "disabled",
    usage: null,
    metadata: {},
    ...extra,
  });

  const closeOpen = (): string => {
    if (!open) return "";
    const item = open;
    open = null;
    if (item.kind === "message") {
      const part = { type: "output_text", annotations: [], logprobs: [], text: item.text };
      const done = {
        id: item.id,
        type: "message",
        status: "completed",
        content: [part],
        role: "assistant",
      };
      output.push(done);
      return (
        frame("response.output_text.done", {
          item_id: item.id,
          output_index: item.index,
          content_index: 0,
          text: item.text,
          logprobs: [],
        }) +
        frame("response.content_part.done", {
          item_id: item.id,
          output_index: item.index,
          content_index: 0,
          part,
        }) +
        frame("response.output_item.done", { output_index: item.index, item: done })
      );
    }
    const part = { type: "summary_text", text: item.text };
    const done = { id: item.id, type: "reasoning", summary: [part] };
    output.push(done);
    return (
      frame("response.reasoning_summary_text.done", {
        item_id: item.id,
        output_index: item.index,
        summary_index: 0,
        text: item.text,
      }) +
      frame("response.reasoning_summary_part.done", {
        item_id: item.id,
        output_index: item.index,
        summary_index: 0,
        part,
      }) +
      frame("response.output_item.done", { output_index: item.index, item: done })
    );
  };

  const openItem = (kind: "message" | "reasoning"): string => {
    if (open?.kind === kind) return "";
    let out = closeOpen();
    outputIndex += 1;
    itemCounter += 1;
    const id = `${kind === "message" ? "msg" : "rs"}_fake${ctx.requestNumber}_${itemCounter}`;
    open = { kind, id, index: outputIndex, text: "" };
    if (kind === "message") {
      out +=
        frame("response.output_item.added", {
          output_index: outputIndex,
          item: { id, type: "message", status: "in_progress", content: [], role: "assistant" },
        }) +
        frame("response.content_part.added", {
          item_id: id,
          output_index: outputIndex,
          content_index: 0,
          part: { type: "output_text", annotations: [], logprobs: [], text: "" },
        });
    } else {
      out +=
        frame("response.output_item.added", {
          output_index: outputIndex,
          item: { id, type: "reasoning", summary: [] },
        }) +
        frame("response.reasoning_summary_part.added", {
          item_id: id,
          output_index: outputIndex,
          summary_index: 0,
          part: { type: "summary_text", text: "" },
        });
    }
    return out;
  };

  return {
    start: () =>
      frame("response.created", { response: response("in_progress") }) +
      frame("response.in_progress", { response: response("in_progress") }),
    event(event) {
      switch (event.type) {
        case "text": {
          const out = openItem("message");
          const item = open;
          if (!item) return out;
          item.text += event.text;
          return (
            out +
            frame("response.output_text.delta", {
              item_id: item.id,
              output_index: item.index,
              content_index: 0,
              delta: event.text,
              logprobs: [],
            })
          );
        }
        case "reasoning": {
          const out = openItem("reasoning");
          const item = open;
          if (!item) return out;
          item.text += event.text;
          return (
            out +
            frame("response.reasoning_summary_text.delta", {
              item_id: item.id,
              output_index: item.index,
              summary_index: 0,
              delta: event.text,
            })
          );
        }
        case "tool-call": {
          let out = closeOpen();
          hasToolCall = true;
          outputIndex += 1;
          itemCounter += 1;
          const id = `fc_fake${ctx.requestNumber}_${itemCounter}`;
          const args = event.args.join("");
          const base = { id, type: "function_call", call_id: event.id, name: event.name };
          out += frame("response.output_item.added", {
            output_index: outputIndex,
            item: { ...base, status: "in_progress", arguments: "" },
          });
          for (const piece of event.args) {
            out += frame("response.function_call_arguments.delta", {
              item_id: id,
              output_index: outputIndex,
              delta: piece,
            });
          }
          if (event.open) return out;
          const done = { ...base, status: "completed", arguments: args };
          output.push(done);
          out +=
            frame("response.function_call_arguments.done", {
              item_id: id,
              output_index: outputIndex,
              arguments: args,
            }) + frame("response.output_item.done", { output_index: outputIndex, item: done });
          return out;
        }
        case "error": {
          const { body } = errorResponse(
            "openai-responses",
            event.errorType,
            ctx.model,
            event.message,
          );
          const error = (body as { error: Json }).error;
          return frame("error", {
            code: error.code ?? error.type,
            message: error.message,
            param: error.param ?? null,
          });
        }
        case "raw":
          return event.data;
        case "finish": {
          const out = closeOpen();
          const u = fullUsage(event.usage ?? ctx.usage);
          const usage = {
            input_tokens: u.inputTokens,
            input_tokens_details: { cached_tokens: u.cachedInputTokens },
            output_tokens: u.outputTokens,
            output_tokens_details: { reasoning_tokens: u.reasoningTokens },
            total_tokens: u.inputTokens + u.outputTokens,
          };
          const reason = event.reason ?? (hasToolCall ? "tool-calls" : "stop");
          if (reason === "length" || reason === "content-filter") {
            const incomplete = reason === "length" ? "max_output_tokens" : "content_filter";
            return (
              out +
              frame("response.incomplete", {
                response: response("incomplete", {
                  incomplete_details: { reason: incomplete },
                  usage,
                }),
              })
            );
          }
          return out + frame("response.completed", { response: response("completed", { usage }) });
        }
      }
    },
  };
}

// Anthropic Messages --------------------------------------------------------------------------

function anthropicRenderer(ctx: RenderContext): StreamRenderer {
  let index = -1;
  let open: "text" | "thinking" | null = null;
  let hasToolUse = false;
  const frame = (data: Json) => sse(data, String(data.type));
  const closeBlock = (): string => {
    if (open === null) return "";
    let out = "";
    if (open === "thinking") {
      out += frame({
        type: "content_block_delta",
        index,
        delta: {
          type: "signature_delta",
          signature: `fake-signature-${ctx.requestNumber}-${index}`,
        },
      });
    }
    open = null;
    return out + frame({ type: "content_block_stop", index });
  };
  const openBlock = (kind: "text" | "thinking"): string => {
    if (open === kind) return "";
    const out = closeBlock();
    index += 1;
    open = kind;
    const block =
      kind === "text"
        ? { type: "text", text: "" }
        : { type: "thinking", thinking: "", signature: "" };
    return out + frame({ type: "content_block_start", index, content_block: block });
  };
  const usage = fullUsage(ctx.usage);
  return {
    start: () =>
      frame({
        type: "message_start",
        message: {
          id: `msg_fake${ctx.requestNumber}`,
          type: "message",
          role: "assistant",
          model: ctx.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: {
            input_tokens: usage.inputTokens - usage.cachedInputTokens,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: usage.cachedInputTokens,
            output_tokens: 1,
            service_tier: "standard",
          },
        },
      }) + frame({ type: "ping" }),
    event(event) {
      switch (event.type) {
        case "text":
          return (
            openBlock("text") +
            frame({
              type: "content_block_delta",
              index,
              delta: { type: "text_delta", text: event.text },
            })
          );
        case "reasoning":
          return (
            openBlock("thinking") +
            frame({
              type: "content_block_delta",
              index,
              delta: { type: "thinking_delta", thinking: event.text },
            })
          );
        case "tool-call": {
          let out = closeBlock();
          hasToolUse = true;
          index += 1;
          out += frame({
            type: "content_block_start",
            index,
            content_block: { type: "tool_use", id: event.id, name: event.name, input: {} },
          });
          out += frame({
            type: "content_block_delta",
            index,
            delta: { type: "input_json_delta", partial_json: "" },
          });
          for (const piece of event.args) {
            out += frame({
              type: "content_block_delta",
              index,
              delta: { type: "input_json_delta", partial_json: piece },
            });
          }
          return event.open ? out : out + frame({ type: "content_block_stop", index });
        }
        case "error": {
          const { body } = errorResponse("anthropic", event.errorType, ctx.model, event.message);
          const error = (body as { error: Json }).error;
          return frame({ type: "error", error });
        }
        case "raw":
          return event.data;
        case "finish": {
          const u = fullUsage(event.usage ?? ctx.usage);
          const reason = event.reason ?? (hasToolUse ? "tool-calls" : "stop");
          return (
            closeBlock() +
            frame({
              type: "message_delta",
              delta: { stop_reason: anthropicStopReason(reason), stop_sequence: null },
              usage: {
                input_tokens: u.inputTokens - u.cachedInputTokens,
                cache_creation_input_tokens: 0,
                cache_read_input_tokens: u.cachedInputTokens,
                output_tokens: u.outputTokens,
              },
            }) +
            frame({ type: "message_stop" })
          );
        }
      }
    },
  };
}

function anthropicStopReason(reason: FinishReason): string {
  switch (reason) {
    case "stop":
      return "end_turn";
    case "length":
      return "max_tokens";
    case "tool-calls":
      return "tool_use";
    case "content-filter":
      return "refusal";
  }
}

// Google Gemini -------------------------------------------------------------------------------

function googleRenderer(ctx: RenderContext): StreamRenderer {
  const responseId = `fakeResp${ctx.requestNumber}`;
  const u0 = fullUsage(ctx.usage);
  // Gemini separates SSE events with CRLF CRLF.
  const frame = (data: unknown) => `data: ${JSON.stringify(data)}\r\n\r\n`;
  const usageMetadata = (u: Required<Usage>, final: boolean): Json => {
    const meta: Json = {
      promptTokenCount: u.inputTokens,
      totalTokenCount: final ? u.inputTokens + u.outputTokens : u.inputTokens,
      promptTokensDetails: [{ modality: "TEXT", tokenCount: u.inputTokens }],
    };
    if (final) {
      meta.candidatesTokenCount = u.outputTokens - u.reasoningTokens;
      if (u.reasoningTokens > 0) meta.thoughtsTokenCount = u.reasoningTokens;
    }
    if (u.cachedInputTokens > 0) meta.cachedContentTokenCount = u.cachedInputTokens;
    return meta;
  };
  const chunk = (parts: Json[], extra: Json = {}, final = false, usage = u0) =>
    frame({
      candidates: [{ content: { parts, role: "model" }, index: 0, ...extra }],
      usageMetadata: usageMetadata(usage, final),
      modelVersion: ctx.model,
      responseId,
    });
  return {
    start: () => "",
    event(event) {
      switch (event.type) {
        case "text":
          return chunk([{ text: event.text }]);
        case "reasoning":
          return chunk([{ text: event.text, thought: true }]);
        case "tool-call": {
          if (event.open) return "";
          const json = event.args.join("");
          let args: unknown;
          try {
            args = JSON.parse(json);
          } catch {
            args = json;
          }
          return chunk([{ functionCall: { name: event.name, args } }]);
        }
        case "error": {
          const { body } = errorResponse("google", event.errorType, ctx.model, event.message);
          return frame(body);
        }
        case "raw":
          return event.data;
        case "finish": {
          const u = fullUsage(event.usage ?? ctx.usage);
          return chunk(
            [{ text: "" }],
            { finishReason: googleFinish(event.reason ?? "stop") },
            true,
            u,
          );
        }
      }
    },
  };
}

function googleFinish(reason: FinishReason): string {
  switch (reason) {
    case "stop":
    case "tool-calls":
      return "STOP";
    case "length":
      return "MAX_TOKENS";
    case "content-filter":
      return "SAFETY";
  }
}
