import { ProviderTransportReset } from "../chaterror/causes.ts";
import { ChatError } from "../chaterror/chat-error.ts";
import { type RetryEvent, type RetryPolicy, retry } from "../chatretry/index.ts";
import type {
  ChatModel,
  FinishReason,
  StreamPart,
  StreamRequest,
  Usage,
} from "../provider/types.ts";
import { type AssistantPart, ContentBuilder } from "./content.ts";
import { SilenceGuard } from "./silence.ts";

export const DEFAULT_STREAM_SILENCE_MS = 60_000;

export interface StepOptions {
  /** The chat's signal: aborted with `ChatInterrupted` on Stop, `ServerShutdown` on shutdown. */
  signal: AbortSignal;
  policy?: Partial<RetryPolicy>;
  silenceMs?: number;
  /** A new attempt begins: whatever the previous attempt streamed is void. */
  onAttempt?: (attempt: number) => void;
  /** Every part as it arrives (the hot path: keep it cheap). */
  onPart?: (part: StreamPart, attempt: number) => void;
  /**
   * A part of the attempt's message completed (see `ContentBuilder.completed`): `parts` are the
   * complete ones, in order. Called at part boundaries only, never per delta.
   */
  onPartsComplete?: (parts: AssistantPart[], attempt: number) => void;
  onRetry?: (event: RetryEvent) => void;
}

export type StepOutcome =
  | {
      status: "finished";
      parts: AssistantPart[];
      finishReason: FinishReason;
      usage: Usage;
      attempts: number;
    }
  /** The caller aborted: `cause` is its reason; `partial` is what the last attempt streamed. */
  | { status: "stopped"; cause: unknown; partial: AssistantPart[] }
  /** A terminal error, or retries ran out. */
  | { status: "failed"; error: ChatError; partial: AssistantPart[] };

/**
 * One model step: stream the reply through chatretry with the silence guard, and collect it.
 * A retried attempt starts from an empty reply, so the result holds the text exactly once.
 */
export async function runStep(
  model: ChatModel,
  request: StreamRequest,
  options: StepOptions,
): Promise<StepOutcome> {
  const silenceMs = options.silenceMs ?? DEFAULT_STREAM_SILENCE_MS;
  let content = new ContentBuilder();
  try {
    return await retry(
      async (signal, attempt) => {
        content = new ContentBuilder();
        options.onAttempt?.(attempt);
        let finish: Extract<StreamPart, { type: "finish" }> | undefined;
        const onComplete = options.onPartsComplete;
        let completed = 0;
        using guard = new SilenceGuard(signal, silenceMs);
        try {
          for await (const part of model.stream(request, guard.signal)) {
            guard.touch();
            if (part.type === "finish") finish = part;
            else content.add(part);
            options.onPart?.(part, attempt);
            if (onComplete && content.completed > completed) {
              completed = content.completed;
              onComplete(content.parts(completed), attempt);
            }
          }
        } catch (error) {
          throw guard.explain(error);
        }
        if (!finish) throw new ProviderTransportReset("The model stream ended without finishing.");
        return {
          status: "finished",
          parts: content.parts(),
          finishReason: finish.finishReason,
          usage: finish.usage,
          attempts: attempt,
        } as const;
      },
      {
        signal: options.signal,
        policy: options.policy,
        onRetry: options.onRetry,
        provider: model.providerName,
      },
    );
  } catch (error) {
    if (options.signal.aborted) {
      return { status: "stopped", cause: error, partial: content.partialParts() };
    }
    if (ChatError.isInstance(error)) {
      return { status: "failed", error, partial: content.partialParts() };
    }
    throw error;
  }
}
