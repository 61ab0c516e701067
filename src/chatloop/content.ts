import type {
  ProviderMetadata,
  ReasoningPart,
  StreamPart,
  TextPart,
  ToolCallPart,
} from "../provider/types.ts";

export type AssistantPart = TextPart | ReasoningPart | ToolCallPart;

/** A text or reasoning part still receiving deltas. */
interface Draft {
  type: "text" | "reasoning";
  chunks: string[];
  metadata?: ProviderMetadata;
}

/**
 * Accumulates one attempt's stream into ordered message parts: consecutive deltas of one kind
 * join into a single part, tool calls are added whole. Deltas are kept as string arrays and
 * joined once, so a long reply costs O(n), not O(n²).
 */
export class ContentBuilder {
  readonly #parts: Array<Draft | ToolCallPart> = [];

  add(part: StreamPart): void {
    switch (part.type) {
      case "text-delta":
        this.#append("text", part.delta);
        break;
      case "reasoning-delta": {
        const current = this.#append("reasoning", part.delta);
        if (part.providerMetadata) {
          current.metadata = mergeMetadata(current.metadata, part.providerMetadata);
        }
        break;
      }
      case "tool-call":
        this.#parts.push({
          type: "tool_call",
          tool_call_id: part.toolCallId,
          name: part.toolName,
          input: part.input,
          ...(part.providerMetadata ? { provider_metadata: part.providerMetadata } : {}),
        });
        break;
      default:
        break;
    }
  }

  /**
   * How many parts are complete: every part but a last text or reasoning part, which may still
   * grow (it is complete once a part of another kind, or a tool call, follows); a tool call is
   * complete when it arrives. Cheap: callers may ask after every stream part.
   */
  get completed(): number {
    const n = this.#parts.length;
    return n > 0 && this.#parts[n - 1]?.type !== "tool_call" ? n - 1 : n;
  }

  /** Everything streamed so far, in order (the first `count` parts only, when given). */
  parts(count?: number): AssistantPart[] {
    const parts = count === undefined ? this.#parts : this.#parts.slice(0, count);
    return parts.map((part): AssistantPart => {
      if (part.type === "tool_call") return part;
      if (part.type === "text") return { type: "text", text: part.chunks.join("") };
      return {
        type: "reasoning",
        text: part.chunks.join(""),
        ...(part.metadata ? { provider_metadata: part.metadata } : {}),
      };
    });
  }

  /** What a stopped or failed attempt may keep: text and reasoning, never unexecuted tool calls. */
  partialParts(): AssistantPart[] {
    return this.parts().filter((part) => part.type !== "tool_call");
  }

  text(): string {
    return this.parts()
      .flatMap((part) => (part.type === "text" ? [part.text] : []))
      .join("");
  }

  #append(type: Draft["type"], delta: string): Draft {
    const last = this.#parts.at(-1);
    if (last && last.type === type) {
      last.chunks.push(delta);
      return last;
    }
    const fresh: Draft = { type, chunks: [delta] };
    this.#parts.push(fresh);
    return fresh;
  }
}

function mergeMetadata(a: ProviderMetadata | undefined, b: ProviderMetadata): ProviderMetadata {
  if (!a) return b;
  const merged: ProviderMetadata = { ...a };
  for (const [provider, values] of Object.entries(b)) {
    merged[provider] = { ...merged[provider], ...values };
  }
  return merged;
}
