// Scripts: what the fake provider answers to one request. Format-neutral — the server renders a
// script in the wire format of the route the request hit (OpenAI Chat Completions, OpenAI
// Responses, Anthropic Messages, Google Gemini).

/** The wire format, chosen by the request's route. */
export type ProviderFormat = "openai-chat" | "openai-responses" | "anthropic" | "google";

/** Neutral finish reasons, rendered as each provider's own value. */
export type FinishReason = "stop" | "length" | "tool-calls" | "content-filter";

/**
 * Token usage, with OpenAI's meaning: `inputTokens` includes cached input, `outputTokens` includes
 * reasoning. Each format splits it its own way (Anthropic's `input_tokens` excludes cache reads;
 * Gemini's `candidatesTokenCount` excludes thoughts).
 */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number;
  reasoningTokens?: number;
}

/**
 * Neutral error types. Each renders as the provider's real error body (and a realistic default
 * status) — see `errorBody` in render.ts.
 */
export type ErrorType =
  | "overloaded"
  | "rate_limit"
  | "insufficient_quota"
  | "auth"
  | "permission"
  | "model_not_found"
  | "context_length"
  | "invalid_request"
  | "server"
  | "unavailable";

export type StreamEvent =
  /** A text delta. */
  | { type: "text"; text: string }
  /** A reasoning delta (Anthropic thinking, Responses reasoning summary, Gemini thought,
   *  `delta.reasoning_content` on Chat Completions). */
  | { type: "reasoning"; text: string }
  /**
   * One whole tool call; `args` are the pieces of its JSON arguments, sent one frame each. With
   * `open`, the call is never closed (a stream cut inside it): Anthropic gets no
   * `content_block_stop`, Responses no `function_call_arguments.done`/`output_item.done`; Gemini
   * only ever sends a call whole, so an open call sends nothing there.
   */
  | { type: "tool-call"; id: string; name: string; args: string[]; open?: boolean }
  /** An in-band error frame (Anthropic `event: error`, OpenAI `data: {"error":…}`, …). */
  | { type: "error"; errorType: ErrorType; message?: string }
  /** Pause this long before the next event (no bytes sent). */
  | { type: "silence"; ms: number }
  /** Bytes written verbatim (an escape hatch for odd frames, e.g. malformed JSON). */
  | { type: "raw"; data: string }
  /**
   * The provider's end sequence (finish reason, usage, end marker). With `end: "complete"` it is
   * appended automatically when the events have none.
   */
  | { type: "finish"; reason?: FinishReason; usage?: Usage };

/**
 * How the response ends after the last event:
 * - `complete`: the end sequence (appended if absent), then the body ends cleanly.
 * - `truncate`: the body ends cleanly with no end marker.
 * - `reset`: HTTP/2: RST_STREAM (`resetCode`, default CANCEL); HTTP/1.1: the socket is destroyed.
 * - `destroy`: the TCP/TLS connection is destroyed (HTTP/2: the whole session).
 * - `hang`: nothing more is sent; the response stays open until the client goes away or `close()`.
 */
export type StreamEnd = "complete" | "truncate" | "reset" | "destroy" | "hang";

export interface StreamScript {
  kind: "stream";
  events: StreamEvent[];
  end?: StreamEnd;
  /** Extra response headers. */
  headers?: Record<string, string>;
  /** Delay before the response headers are sent. */
  delayMs?: number;
  /** Delay before every event write (a slow trickle). */
  chunkDelayMs?: number;
  /** RST_STREAM code for `end: "reset"` on HTTP/2 (default `NGHTTP2_CANCEL`). */
  resetCode?: number;
}

export interface ErrorScript {
  kind: "error";
  /** Default: the provider's usual status for `errorType`. */
  status?: number;
  /** Default: "server". Chooses the provider's real error body. */
  errorType?: ErrorType;
  /** Replaces the message inside the default body. */
  message?: string;
  /** Replaces the whole body (a string is sent verbatim, anything else as JSON). */
  body?: unknown;
  headers?: Record<string, string>;
  /** Delay before the response is sent. */
  delayMs?: number;
}

export type Script = StreamScript | ErrorScript;

// ---------------------------------------------------------------------------------------------
// Helpers

/** Splits text into `n` pieces of near-equal length (fewer if the text is shorter). */
export function splitText(text: string, n: number): string[] {
  const count = Math.max(1, Math.min(n, text.length));
  const size = Math.ceil(text.length / count);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length > 0 ? out : [""];
}

/** Splits text at word boundaries, keeping the spaces ("Hello world" → ["Hello", " world"]). */
export function splitWords(text: string): string[] {
  const words = text.match(/\s*\S+|\s+$/g);
  return words ?? [text];
}

function textPieces(text: string, chunks: number | string[] | undefined): string[] {
  if (Array.isArray(chunks)) return chunks;
  if (typeof chunks === "number") return splitText(text, chunks);
  return splitWords(text);
}

export interface ReplyOptions {
  /** How to split the text: a count, explicit pieces, or (default) at word boundaries. */
  chunks?: number | string[];
  /** Reasoning text sent (as one delta per word) before the reply. */
  reasoning?: string;
  reason?: FinishReason;
  usage?: Usage;
  headers?: Record<string, string>;
  chunkDelayMs?: number;
  delayMs?: number;
}

export const defaultUsage: Usage = {
  inputTokens: 10,
  outputTokens: 5,
  cachedInputTokens: 0,
  reasoningTokens: 0,
};

function streamOptions(opts: ReplyOptions): Omit<StreamScript, "kind" | "events" | "end"> {
  const out: Omit<StreamScript, "kind" | "events" | "end"> = {};
  if (opts.headers) out.headers = opts.headers;
  if (opts.chunkDelayMs !== undefined) out.chunkDelayMs = opts.chunkDelayMs;
  if (opts.delayMs !== undefined) out.delayMs = opts.delayMs;
  return out;
}

function replyEvents(text: string, opts: ReplyOptions): StreamEvent[] {
  const events: StreamEvent[] = [];
  if (opts.reasoning) {
    for (const piece of splitWords(opts.reasoning)) events.push({ type: "reasoning", text: piece });
  }
  if (text.length > 0) {
    for (const piece of textPieces(text, opts.chunks)) events.push({ type: "text", text: piece });
  }
  return events;
}

/** A complete streamed text reply. */
export function textReply(text: string, opts: ReplyOptions = {}): StreamScript {
  const finish: StreamEvent = { type: "finish", reason: opts.reason ?? "stop" };
  if (opts.usage) finish.usage = opts.usage;
  return {
    kind: "stream",
    events: [...replyEvents(text, opts), finish],
    end: "complete",
    ...streamOptions(opts),
  };
}

export interface ToolCallSpec {
  name: string;
  /** The arguments object (serialised) or its JSON text. */
  args: unknown;
  id?: string;
}

export interface ToolCallReplyOptions extends ReplyOptions {
  /** Text before the tool calls. */
  text?: string;
  /** Number of pieces each tool call's JSON arguments are split into (default 2). */
  argPieces?: number;
}

let toolCallCounter = 0;

/** A complete streamed reply that calls one or more tools (finish reason "tool-calls"). */
export function toolCallReply(
  calls: ToolCallSpec | ToolCallSpec[],
  opts: ToolCallReplyOptions = {},
): StreamScript {
  const list = Array.isArray(calls) ? calls : [calls];
  const events = replyEvents(opts.text ?? "", opts);
  for (const call of list) {
    const json = typeof call.args === "string" ? call.args : JSON.stringify(call.args);
    toolCallCounter += 1;
    events.push({
      type: "tool-call",
      id: call.id ?? `call_fake_${toolCallCounter}`,
      name: call.name,
      args: splitText(json, opts.argPieces ?? 2),
    });
  }
  const finish: StreamEvent = { type: "finish", reason: opts.reason ?? "tool-calls" };
  if (opts.usage) finish.usage = opts.usage;
  events.push(finish);
  return { kind: "stream", events, end: "complete", ...streamOptions(opts) };
}

function partial(
  text: string,
  nChunks: number,
  end: StreamEnd,
  opts: Omit<ReplyOptions, "chunks" | "reason" | "usage">,
): StreamScript {
  return {
    kind: "stream",
    events: replyEvents(text, { ...opts, chunks: nChunks }),
    end,
    ...streamOptions(opts),
  };
}

type PartialOptions = Omit<ReplyOptions, "chunks" | "reason" | "usage">;

/**
 * Sends `text` in `nChunks` deltas, then resets: HTTP/2 RST_STREAM (CANCEL unless `resetCode`),
 * HTTP/1.1 socket destroyed. The client has seen all of `text` when the fault hits.
 */
export function resetAfter(
  text: string,
  nChunks: number,
  opts: PartialOptions & { resetCode?: number } = {},
): StreamScript {
  const script = partial(text, nChunks, "reset", opts);
  if (opts.resetCode !== undefined) script.resetCode = opts.resetCode;
  return script;
}

/** Sends `text` in `nChunks` deltas, then destroys the connection. */
export function destroyAfter(
  text: string,
  nChunks: number,
  opts: PartialOptions = {},
): StreamScript {
  return partial(text, nChunks, "destroy", opts);
}

/** Sends `text` in `nChunks` deltas, then ends the body cleanly without the end marker. */
export function truncateAfter(
  text: string,
  nChunks: number,
  opts: PartialOptions = {},
): StreamScript {
  return partial(text, nChunks, "truncate", opts);
}

/** Sends `text` in `nChunks` deltas, then goes silent until the client leaves or `close()`. */
export function hangAfter(text: string, nChunks: number, opts: PartialOptions = {}): StreamScript {
  return partial(text, nChunks, "hang", opts);
}

/**
 * Starts a tool call, sends `argsSent` (the beginning of its JSON arguments) and ends the body
 * cleanly with neither the call's closing frames nor the end marker: a stream cut mid-arguments.
 */
export function cutInToolCall(
  call: { name: string; id?: string },
  argsSent: string,
  opts: PartialOptions & { text?: string } = {},
): StreamScript {
  toolCallCounter += 1;
  return {
    kind: "stream",
    events: [
      ...replyEvents(opts.text ?? "", opts),
      {
        type: "tool-call",
        id: call.id ?? `call_fake_${toolCallCounter}`,
        name: call.name,
        args: splitText(argsSent, 2),
        open: true,
      },
    ],
    end: "truncate",
    ...streamOptions(opts),
  };
}

/** Sends `text` word by word, then an in-band error frame, then ends the body (no end marker). */
export function midStreamError(
  text: string,
  errorType: ErrorType = "overloaded",
  opts: PartialOptions & { message?: string } = {},
): StreamScript {
  const error: StreamEvent = { type: "error", errorType };
  if (opts.message !== undefined) error.message = opts.message;
  return {
    kind: "stream",
    events: [...replyEvents(text, opts), error],
    end: "truncate",
    ...streamOptions(opts),
  };
}

export interface ErrorReplyOptions {
  status?: number;
  message?: string;
  body?: unknown;
  /** `Retry-After`: seconds, an HTTP date, or a raw header value. */
  retryAfter?: number | Date | string;
  /** `retry-after-ms`. */
  retryAfterMs?: number;
  /** `x-should-retry: true|false`. */
  shouldRetry?: boolean;
  headers?: Record<string, string>;
  delayMs?: number;
}

/** An HTTP error status with the provider's real error body. */
export function errorReply(errorType: ErrorType, opts: ErrorReplyOptions = {}): ErrorScript {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.retryAfter !== undefined) {
    headers["retry-after"] =
      opts.retryAfter instanceof Date ? opts.retryAfter.toUTCString() : String(opts.retryAfter);
  }
  if (opts.retryAfterMs !== undefined) headers["retry-after-ms"] = String(opts.retryAfterMs);
  if (opts.shouldRetry !== undefined) headers["x-should-retry"] = String(opts.shouldRetry);
  const script: ErrorScript = { kind: "error", errorType, headers };
  if (opts.status !== undefined) script.status = opts.status;
  if (opts.message !== undefined) script.message = opts.message;
  if (opts.body !== undefined) script.body = opts.body;
  if (opts.delayMs !== undefined) script.delayMs = opts.delayMs;
  return script;
}
