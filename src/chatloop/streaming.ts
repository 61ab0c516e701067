/**
 * What a turn writes while a model step streams: the step's message saved at part boundaries
 * (`StreamingMessage`), and the stream's parts as coalesced deltas under keys that match the
 * message's parts (`PartKeys`).
 */
import type { StreamPart } from "../provider/types.ts";
import type { Chat, RetryRecord } from "../store/types.ts";
import type { AssistantPart } from "./content.ts";
import type { MessageDelta } from "./events.ts";
import type { DeltaCoalescer } from "./publish.ts";
import type { TurnStore } from "./turn.ts";

/**
 * A step's assistant message while it streams, saved (upserted by id, `in_progress`, no event) as
 * its parts complete — at part boundaries, never per delta. One save runs at a time; saves asked
 * for meanwhile collapse into one with the newest parts. A new attempt empties what was saved
 * (the failed attempt's parts are void: the retry replaces them, never adds to them). A failed
 * save is not retried: the next one, or the step's final write, carries every part anyway.
 */
export class StreamingMessage {
  readonly id: string;
  readonly #store: TurnStore;
  readonly #chat: Pick<Chat, "id" | "model_id">;
  /** A save was started: a row may exist. */
  #saved = false;
  /** Parts waiting for the save in flight to finish. */
  #next: AssistantPart[] | undefined;
  #writing: Promise<void> | undefined;
  #closed = false;
  #retries: RetryRecord | null = null;

  constructor(store: TurnStore, chat: Pick<Chat, "id" | "model_id">, id: string) {
    this.#store = store;
    this.#chat = chat;
    this.id = id;
  }

  readonly save = (parts: AssistantPart[]): void => {
    if (this.#closed) return;
    this.#next = parts;
    this.#writing ??= this.#write();
  };

  /** The step's attempts retried so far, and why the last one failed; kept on the message. */
  get retries(): RetryRecord | null {
    return this.#retries;
  }

  /** An attempt failed (`kind`, `message`: its classified error) and is retried. */
  retried(kind: string, message: string): void {
    this.#retries = { count: (this.#retries?.count ?? 0) + 1, kind, message };
  }

  /** A new attempt begins: the parts saved from the previous one are void. */
  restart(): void {
    if (this.#saved) this.save([]);
  }

  /** No more saves; resolves when the one in flight is done, with whether a row may exist. */
  async settle(): Promise<boolean> {
    this.#closed = true;
    this.#next = undefined;
    await this.#writing;
    return this.#saved;
  }

  /** Ownership is gone: nothing more is written. */
  abandon(): void {
    this.#closed = true;
    this.#next = undefined;
  }

  async #write(): Promise<void> {
    while (this.#next !== undefined) {
      const parts = this.#next;
      this.#next = undefined;
      this.#saved = true;
      try {
        await this.#store.saveMessage(this.#chat.id, {
          id: this.id,
          role: "assistant",
          parts,
          model_id: this.#chat.model_id,
          in_progress: true,
          retries: this.#retries,
        });
      } catch {
        // Best effort (see above).
      }
    }
    this.#writing = undefined;
  }
}

/**
 * Turns stream parts into coalesced deltas under part keys that match the message's parts: a text
 * or reasoning part runs until the kind changes; each tool call is its own part.
 */
export class PartKeys {
  readonly #messageId: string;
  readonly #coalescer: DeltaCoalescer;
  #attempt = 0;
  #ordinal = 0;
  #kind = "";
  #key = "";
  /** Tool calls whose input streams, by id → tool name (every delta of a call carries it). */
  readonly #calls = new Map<string, string>();

  constructor(messageId: string, coalescer: DeltaCoalescer) {
    this.#messageId = messageId;
    this.#coalescer = coalescer;
  }

  restart(): void {
    this.#coalescer.reset();
    this.#attempt += 1;
    this.#ordinal = 0;
    this.#kind = "";
    this.#key = "";
    this.#calls.clear();
  }

  readonly onPart = (part: StreamPart): void => {
    switch (part.type) {
      case "text-delta":
        if (part.delta !== "") this.#push("text", { type: "text", text: part.delta });
        break;
      case "reasoning-delta":
        if (part.delta !== "") this.#push("reasoning", { type: "reasoning", text: part.delta });
        break;
      case "tool-input-start":
        this.#calls.set(part.toolCallId, part.toolName);
        this.#push(`call:${part.toolCallId}`, {
          type: "tool_call",
          tool_call_id: part.toolCallId,
          name: part.toolName,
          input_delta: "",
        });
        break;
      case "tool-input-delta":
        if (part.delta !== "") {
          this.#push(`call:${part.toolCallId}`, {
            type: "tool_call",
            tool_call_id: part.toolCallId,
            name: this.#calls.get(part.toolCallId) ?? "",
            input_delta: part.delta,
          });
        }
        break;
      case "tool-call":
        // A provider that sends calls whole: publish the call as one delta.
        if (!this.#calls.has(part.toolCallId)) {
          this.#push(`call:${part.toolCallId}`, {
            type: "tool_call",
            tool_call_id: part.toolCallId,
            name: part.toolName,
            input_delta: JSON.stringify(part.input ?? {}),
          });
        }
        break;
      default:
        break;
    }
  };

  /**
   * Text and reasoning parts run until the kind changes (as in `ContentBuilder`); a tool call's
   * key is its id, so interleaved calls still merge per call.
   */
  #push(kind: string, delta: MessageDelta): void {
    if (kind !== this.#kind) {
      this.#kind = kind;
      this.#ordinal += 1;
      this.#key = kind.startsWith("call:")
        ? `${this.#attempt}:${kind}`
        : `${this.#attempt}:${this.#ordinal}`;
    }
    this.#coalescer.push(this.#key, this.#messageId, delta);
  }
}

/** A promise that settles when `signal` aborts; `dispose` removes its listener. */
export function whenAborted(signal: AbortSignal): { promise: Promise<void>; dispose: () => void } {
  let dispose = (): void => {};
  const promise = new Promise<void>((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const onAbort = (): void => resolve();
    signal.addEventListener("abort", onAbort, { once: true });
    dispose = () => signal.removeEventListener("abort", onAbort);
  });
  return { promise, dispose };
}
