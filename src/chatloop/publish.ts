/**
 * Getting a turn's events out: in order, and without a database write per token.
 *
 * `SerialPublisher` appends events one after another (each append gets the chat's next `seq`, and
 * an event other than a delta resolves only once it is persisted, so two in flight at once could
 * be numbered out of call order). `DeltaCoalescer` sits
 * in front of it on the hot path: the first delta of a part goes out at once (time to first token),
 * later deltas of the same part are merged and flushed at most once per interval (and not while
 * the previous flush is still being written), and at part boundaries and at the end of a step. Per delta it does a map lookup and an array push; one timer
 * per flush window, never one per delta.
 */
import type { ChatEventPayloads, ChatEventType, MessageDelta } from "./events.ts";

/** Publishes one event of the running chat. Implementations must keep call order. */
export type Publish = <T extends ChatEventType>(
  type: T,
  data: ChatEventPayloads[T],
) => Promise<void>;

export interface SerialPublisherOptions {
  /** While false, events are dropped (the chat's ownership was lost). */
  isOpen?: () => boolean;
  /** A failed append: reported here; later events still go out. */
  onError?: (error: unknown, type: string) => void;
}

export class SerialPublisher {
  readonly #append: (type: string, data: unknown) => Promise<unknown>;
  readonly #options: SerialPublisherOptions;
  #tail: Promise<void> = Promise.resolve();
  #count = 0;

  constructor(
    append: (type: string, data: unknown) => Promise<unknown>,
    options: SerialPublisherOptions = {},
  ) {
    this.#append = append;
    this.#options = options;
  }

  /** How many events were handed to `append`. */
  get count(): number {
    return this.#count;
  }

  readonly publish: Publish = (type, data) => {
    const run = async (): Promise<void> => {
      if (this.#options.isOpen && !this.#options.isOpen()) return;
      this.#count += 1;
      try {
        await this.#append(type, data);
      } catch (error) {
        this.#options.onError?.(error, type);
      }
    };
    const next = this.#tail.then(run);
    this.#tail = next;
    return next;
  };

  /** Resolves when every event published so far was appended (or failed). */
  drain(): Promise<void> {
    return this.#tail;
  }
}

export const DEFAULT_FLUSH_INTERVAL_MS = 75;

interface Pending {
  messageId: string;
  delta: MessageDelta;
  chunks: string[];
}

export class DeltaCoalescer {
  readonly #publish: Publish;
  readonly #intervalMs: number;
  /** Parts that already sent their first delta, by the caller's part key. */
  readonly #seen = new Set<string>();
  /** Merged deltas waiting for the next flush, in the order their parts first buffered. */
  #pending = new Map<string, Pending>();
  #timer: NodeJS.Timeout | undefined;
  /** Flushed deltas whose append has not finished yet. */
  #writing = 0;
  readonly #written = (): void => {
    this.#writing -= 1;
  };

  constructor(publish: Publish, intervalMs = DEFAULT_FLUSH_INTERVAL_MS) {
    this.#publish = publish;
    this.#intervalMs = intervalMs;
  }

  /**
   * One delta of the part `key` (unique within the turn: a new text part after a tool call gets
   * a new key). A part's first delta is published at once, after anything buffered before it.
   */
  push(key: string, messageId: string, delta: MessageDelta): void {
    if (!this.#seen.has(key)) {
      this.#seen.add(key);
      this.flush();
      void this.#publish("message_part", { message_id: messageId, part: delta });
      return;
    }
    // Sequential parts (text, a tool call, text) never come back to an earlier key; parallel tool
    // outputs do, and are merged per key within the window.
    const pending = this.#pending.get(key);
    if (pending) {
      pending.chunks.push(deltaText(delta));
    } else {
      this.#pending.set(key, { messageId, delta, chunks: [deltaText(delta)] });
    }
    this.#timer ??= setTimeout(this.#onTimer, this.#intervalMs);
  }

  /** Publishes everything buffered now (part boundary, step end). */
  flush(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#pending.size === 0) return;
    const pending = this.#pending;
    this.#pending = new Map();
    for (const { messageId, delta, chunks } of pending.values()) {
      this.#writing += 1;
      void this.#publish("message_part", {
        message_id: messageId,
        part: withText(delta, chunks.length === 1 ? (chunks[0] ?? "") : chunks.join("")),
      }).finally(this.#written);
    }
  }

  /** Drops what is buffered and forgets every part (a retried attempt streams from the start). */
  reset(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#pending = new Map();
    this.#seen.clear();
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    // The previous flush is still being written (a slow database): keep merging instead of
    // queueing more appends behind it.
    if (this.#writing > 0) {
      this.#timer = setTimeout(this.#onTimer, this.#intervalMs);
      return;
    }
    this.flush();
  };
}

function deltaText(delta: MessageDelta): string {
  switch (delta.type) {
    case "text":
    case "reasoning":
      return delta.text;
    case "tool_call":
      return delta.input_delta;
    case "tool_result":
      return delta.output_delta;
  }
}

function withText(delta: MessageDelta, text: string): MessageDelta {
  switch (delta.type) {
    case "text":
    case "reasoning":
      return { type: delta.type, text };
    case "tool_call":
      return { ...delta, input_delta: text };
    case "tool_result":
      return { ...delta, output_delta: text };
  }
}
