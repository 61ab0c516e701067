import type {
  LanguageModelV4,
  LanguageModelV4FinishReason,
  LanguageModelV4StreamPart,
  LanguageModelV4Usage,
} from "@ai-sdk/provider";
import { ProviderTransportReset } from "../chaterror/causes.ts";
import { toLanguageModelPrompt, toLanguageModelTools } from "./prompt.ts";
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
 * Whether the provider really said it was done. The SDK reports `interrupted` when a body ended
 * without the provider's end marker; providers that predate that report `other` with no raw
 * reason, which no real end marker produces.
 */
function endedCleanly(reason: LanguageModelV4FinishReason): boolean {
  if (reason.unified === "interrupted") return false;
  return !(reason.unified === "other" && reason.raw === undefined);
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

function parseToolInput(input: string): unknown {
  if (input.trim() === "") return {};
  try {
    return JSON.parse(input);
  } catch {
    // A model can emit broken JSON; the tool layer reports that back to the model.
    return input;
  }
}

/**
 * Streams one model call and yields Keel's parts. Every failure is thrown: an HTTP error, an
 * in-band provider error, a transport error from the body, and a body that ended without the
 * provider's end marker (as `ProviderTransportReset`, whatever the HTTP client said).
 */
export async function* streamLanguageModel(
  model: LanguageModelV4,
  request: StreamRequest,
  signal: AbortSignal,
): AsyncGenerator<StreamPart> {
  const { stream } = await model.doStream({
    prompt: toLanguageModelPrompt(request.messages),
    tools: request.tools?.length ? toLanguageModelTools(request.tools) : undefined,
    maxOutputTokens: request.maxOutputTokens,
    temperature: request.temperature,
    abortSignal: signal,
  });

  let finish: Extract<LanguageModelV4StreamPart, { type: "finish" }> | undefined;
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
        yield { type: "tool-input-delta", toolCallId: part.id, delta: part.delta };
        break;
      case "tool-call":
        yield {
          type: "tool-call",
          toolCallId: part.toolCallId,
          toolName: part.toolName,
          input: parseToolInput(part.input),
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
  if (!finish || !endedCleanly(finish.finishReason)) {
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
