import type {
  LanguageModelV4,
  LanguageModelV4FinishReason,
  LanguageModelV4StreamPart,
  LanguageModelV4Usage,
} from "@ai-sdk/provider";
import { ProviderTransportReset } from "../chaterror/causes.ts";
import { toLanguageModelPrompt, toLanguageModelTools } from "./prompt.ts";
import type { CallSettings } from "./settings.ts";
import type { FinishReason, ProviderMetadata, StreamPart, StreamRequest, Usage } from "./types.ts";

/**
 * An in-band error the provider sent inside a 200 stream (Anthropic's `overloaded_error` event,
 * an OpenAI `{"error": …}` chunk). The provider's own object stays in `cause` for classify.
 */
export class ProviderStreamError extends Error {
  override readonly name = "ProviderStreamError";
}

function streamError(error: unknown): Error {
  if (error instanceof Error) return error;
  const message =
    typeof error === "object" && error !== null && "message" in error
      ? String(error.message)
      : "The provider reported an error mid-stream.";
  return new ProviderStreamError(message, { cause: error });
}

/**
 * Models whose real end marker carries no reason of its own: OpenAI Responses ends with
 * `response.completed`, reported with no raw reason (the SDK says `interrupted` when it is
 * missing). Every other wire's end marker names its reason (`finish_reason`, `stop_reason`,
 * `finishReason`, `stopReason`).
 */
const END_MARKER_WITHOUT_REASON = /\.responses$/;

/**
 * Whether the wire carried the provider's end marker — the wire's word, not the package's. The
 * SDK reports `interrupted` when a body ended without it; older packages report `other` with no
 * raw reason; `@openrouter/ai-sdk-provider` reports `tool-calls` with no raw reason when a stream
 * ended after a tool call started. So, apart from `END_MARKER_WITHOUT_REASON`, a finish without
 * the provider's raw reason is no end marker at all.
 */
function endedCleanly(model: LanguageModelV4, reason: LanguageModelV4FinishReason): boolean {
  if (reason.unified === "interrupted" || reason.unified === "error") return false;
  if (reason.raw !== undefined) return true;
  return reason.unified !== "other" && END_MARKER_WITHOUT_REASON.test(model.provider);
}

const FINISH_REASONS: Record<LanguageModelV4FinishReason["unified"], FinishReason> = {
  stop: "stop",
  length: "length",
  "content-filter": "content-filter",
  "tool-calls": "tool-calls",
  other: "other",
  error: "other",
  interrupted: "other",
};

function toUsage(usage: LanguageModelV4Usage): Usage {
  return {
    inputTokens: usage.inputTokens.total ?? 0,
    outputTokens: usage.outputTokens.total ?? 0,
    reasoningTokens: usage.outputTokens.reasoning ?? 0,
    cacheReadTokens: usage.inputTokens.cacheRead ?? 0,
    cacheWriteTokens: usage.inputTokens.cacheWrite ?? 0,
  };
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/**
 * A tool call's input: its arguments as the wire streamed them when they were streamed, else the
 * call's own. Some packages replace arguments they cannot parse with `{}` (OpenRouter); the
 * streamed text keeps them broken, so the tool layer reports them to the model and never runs
 * the tool. Broken JSON is handed over as the raw string.
 */
function toolInput(input: string, streamed: string | undefined): unknown {
  const text = streamed !== undefined && streamed.trim() !== "" ? streamed : input;
  if (text.trim() === "") return {};
  const parsed = parseJson(text);
  if (parsed.ok) return parsed.value;
  // A model can emit broken JSON; the tool layer reports that back to the model.
  return text;
}

function lowest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : Math.min(a, b);
}

/**
 * Streams one model call and yields Keel's parts. Every failure is thrown: an HTTP error, an
 * in-band provider error, a transport error from the body, and a body that ended without the
 * provider's end marker (as `ProviderTransportReset`, whatever the HTTP client said). The model's
 * own settings (`call`) win over the request's, except that the output limit is the lower of the
 * two: the model's caps every step, and a caller that wants less (a chat title) gets less.
 */
export async function* streamLanguageModel(
  model: LanguageModelV4,
  request: StreamRequest,
  signal: AbortSignal,
  call: CallSettings = {},
): AsyncGenerator<StreamPart> {
  const { stream } = await model.doStream({
    prompt: toLanguageModelPrompt(request.messages),
    tools: request.tools?.length ? toLanguageModelTools(request.tools) : undefined,
    maxOutputTokens: lowest(call.maxOutputTokens, request.maxOutputTokens),
    temperature: call.temperature ?? request.temperature,
    ...(call.providerOptions ? { providerOptions: call.providerOptions } : {}),
    abortSignal: signal,
  });

  let finish: Extract<LanguageModelV4StreamPart, { type: "finish" }> | undefined;
  /** Each tool call's arguments as streamed so far, by call id. */
  const streamedArgs = new Map<string, string>();
  for await (const part of stream) {
    switch (part.type) {
      case "text-delta":
        if (part.delta) yield { type: "text-delta", delta: part.delta };
        break;
      case "reasoning-delta":
        if (part.providerMetadata) {
          const providerMetadata = part.providerMetadata as ProviderMetadata;
          yield { type: "reasoning-delta", delta: part.delta, providerMetadata };
        } else if (part.delta) {
          yield { type: "reasoning-delta", delta: part.delta };
        }
        break;
      case "tool-input-start":
        yield { type: "tool-input-start", toolCallId: part.id, toolName: part.toolName };
        break;
      case "tool-input-delta":
        streamedArgs.set(part.id, (streamedArgs.get(part.id) ?? "") + part.delta);
        yield { type: "tool-input-delta", toolCallId: part.id, delta: part.delta };
        break;
      case "tool-call":
        yield {
          type: "tool-call",
          toolCallId: part.toolCallId,
          toolName: part.toolName,
          input: toolInput(part.input, streamedArgs.get(part.toolCallId)),
          ...(part.providerMetadata
            ? { providerMetadata: part.providerMetadata as ProviderMetadata }
            : {}),
        };
        break;
      case "finish":
        finish = part;
        break;
      case "error":
        throw streamError(part.error);
      default:
        break;
    }
  }
  if (!finish || !endedCleanly(model, finish.finishReason)) {
    throw new ProviderTransportReset(
      "The provider's stream ended before its end-of-stream marker; the reply was cut short.",
    );
  }
  yield {
    type: "finish",
    finishReason: FINISH_REASONS[finish.finishReason.unified],
    usage: toUsage(finish.usage),
  };
}
