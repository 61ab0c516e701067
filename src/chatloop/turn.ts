/**
 * One chat turn (DESIGN.md §3): prompt from the persisted history → one model step through
 * chatretry and the silence guard → persist the assistant message → run its tool calls → persist
 * their results → repeat until the model answers without calling a tool.
 *
 * Writes: the step's assistant message is saved (upserted by id, `in_progress`, no event) each
 * time one of its parts completes, so a process killed mid-step keeps what was already streamed;
 * it is written once more, final, when the step ends, and only then announced with its `message`
 * event. A retried attempt's parts replace the failed attempt's, never add to them. Deltas are
 * published through a `DeltaCoalescer`, so the event log grows by a bounded number of rows per
 * second, not one per token. How a turn ends is the caller's (chatd's) business: it gets a
 * `TurnOutcome` and sets the chat's status accordingly.
 */
import { randomUUID } from "node:crypto";
import { ChatInterrupted, ServerShutdown, TurnDeadlineExceeded } from "../chaterror/causes.ts";
import type { ChatError } from "../chaterror/chat-error.ts";
import { classify } from "../chaterror/classify.ts";
import type { ClassifiedError } from "../chaterror/kinds.ts";
import type { RetryPolicy } from "../chatretry/policy.ts";
import type {
  ChatModel,
  PromptMessage,
  StreamPart,
  ToolCallPart,
  ToolResultPart,
  Usage,
} from "../provider/types.ts";
import type { NewMessage, Store } from "../store/contract.ts";
import type { Chat, ChatErrorRecord, Message, Pricing } from "../store/types.ts";
import type { AssistantPart } from "./content.ts";
import { type MessageDelta, pricedMessage } from "./events.ts";
import {
  buildPrompt,
  costUsd,
  type InstructionLayer,
  STARTED_WITHOUT_RESULT,
  SYSTEM_PROMPT,
  unansweredToolCalls,
} from "./history.ts";
import { DEFAULT_FLUSH_INTERVAL_MS, DeltaCoalescer, type Publish } from "./publish.ts";
import { runStep } from "./step.ts";
import { errorText, type ToolRegistry } from "./tools.ts";

export const DEFAULT_MAX_STEPS = 50;

const MARKER = Symbol.for("keel.ownership-lost");

/**
 * The abort reason chatd uses when the chat's ownership was lost (another worker took it over):
 * the turn ends at once and writes nothing more — not even its partial content.
 */
export class OwnershipLost extends Error {
  readonly [MARKER] = true;
  override readonly name = "OwnershipLost";
  constructor(message = "This worker no longer owns the chat.") {
    super(message);
  }
  static isInstance(error: unknown): error is OwnershipLost {
    return typeof error === "object" && error !== null && MARKER in error;
  }
}

/** The part of the store a turn uses. */
export type TurnStore = Pick<Store, "listMessages" | "saveMessage" | "deleteMessage">;

export interface TurnOptions {
  store: TurnStore;
  model: ChatModel;
  chat: Pick<Chat, "id" | "model_id">;
  tools: ToolRegistry;
  /**
   * The turn's signal. Its reason decides the ending: `ChatInterrupted` (Stop), `ServerShutdown`,
   * `OwnershipLost`; any other reason is a terminal error classified from it.
   */
  signal: AbortSignal;
  /** Publishes the chat's events, in call order (e.g. `SerialPublisher.publish`). */
  publish: Publish;
  policy?: Partial<RetryPolicy>;
  silenceMs?: number;
  /** The model's pricing, for `usage` events' `cost_usd`. */
  pricing?: Pricing | null;
  /** Model steps per turn before it ends as an error (default 50). */
  maxSteps?: number;
  /** How often buffered deltas are flushed (default 75 ms). */
  flushIntervalMs?: number;
  /**
   * The turn's instructions, each layer its own system message (`instructionLayers`), read once
   * at the start of the turn, never per step (default: Keel's built-in `SYSTEM_PROMPT` alone).
   */
  instructions?: string | readonly InstructionLayer[];
  /** The whole turn's deadline: a `timeout` error that is not retried. */
  deadlineMs?: number;
  maxOutputTokens?: number;
}

export type TurnOutcome =
  /** The model answered without calling a tool. */
  | { status: "completed"; steps: number }
  /** Stop: partial content persisted; the chat goes `waiting`. */
  | { status: "interrupted"; steps: number }
  /** Server shutdown: partial content persisted; the chat goes back to `pending`. */
  | { status: "shutdown"; steps: number }
  /** Ownership lost: nothing more was written; the chat is someone else's now. */
  | { status: "abandoned"; steps: number }
  /** A terminal error: one `error` event was published; the chat goes `error` with `error`. */
  | { status: "failed"; steps: number; error: ChatErrorRecord };

export function errorRecord(classified: ClassifiedError): ChatErrorRecord {
  return {
    kind: classified.kind,
    message: classified.message,
    ...(classified.statusCode !== undefined ? { status_code: classified.statusCode } : {}),
    ...(classified.detail !== undefined ? { detail: classified.detail } : {}),
  };
}

export async function runTurn(options: TurnOptions): Promise<TurnOutcome> {
  const turn = new Turn(options);
  try {
    return await turn.run();
  } finally {
    turn.dispose();
  }
}

type StopStatus = "interrupted" | "shutdown" | "abandoned" | "failed";

class Turn {
  readonly #o: TurnOptions;
  readonly #signal: AbortSignal;
  readonly #coalescer: DeltaCoalescer;
  readonly #deadline: { controller: AbortController; timer: NodeJS.Timeout } | undefined;
  #steps = 0;

  constructor(options: TurnOptions) {
    this.#o = options;
    this.#coalescer = new DeltaCoalescer(
      options.publish,
      options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS,
    );
    if (options.deadlineMs !== undefined) {
      const controller = new AbortController();
      const deadlineMs = options.deadlineMs;
      const timer = setTimeout(
        () => controller.abort(new TurnDeadlineExceeded(deadlineMs)),
        deadlineMs,
      );
      this.#deadline = { controller, timer };
      this.#signal = AbortSignal.any([options.signal, controller.signal]);
    } else {
      this.#signal = options.signal;
    }
  }

  dispose(): void {
    if (this.#deadline) clearTimeout(this.#deadline.timer);
    this.#coalescer.reset();
  }

  async run(): Promise<TurnOutcome> {
    const { store, chat } = this.#o;
    const history = await this.#settleInterrupted(await store.listMessages(chat.id));
    if (OwnershipLost.isInstance(this.#signal.reason)) return this.#outcome("abandoned");
    const prompt = buildPrompt(history, this.#o.instructions ?? SYSTEM_PROMPT);

    // A step whose tool calls were persisted but never run (the process died): run them now.
    const open = unansweredToolCalls(history);
    if (open.length > 0) {
      const stopped = await this.#runTools(open, prompt);
      if (stopped) return stopped;
    }

    const maxSteps = this.#o.maxSteps ?? DEFAULT_MAX_STEPS;
    for (;;) {
      if (this.#signal.aborted) return this.#stopped(this.#signal.reason, []);
      if (this.#steps >= maxSteps) {
        return this.#fail({
          kind: "generic",
          message: `The turn stopped after ${maxSteps} model steps without a final answer; send a message to continue.`,
        });
      }
      this.#steps += 1;
      const ended = await this.#step(prompt);
      if (ended) return ended;
    }
  }

  /** One model step and its tool calls; undefined when the turn goes on. */
  async #step(prompt: PromptMessage[]): Promise<TurnOutcome | undefined> {
    const { model, tools, publish } = this.#o;
    const messageId = randomUUID();
    const parts = new PartKeys(messageId, this.#coalescer);
    const draft = new StreamingMessage(this.#o.store, this.#o.chat, messageId);
    const tooled = tools.size > 0;
    const outcome = await runStep(
      model,
      {
        messages: prompt,
        ...(tooled ? { tools: tools.definitions() } : {}),
        ...(this.#o.maxOutputTokens ? { maxOutputTokens: this.#o.maxOutputTokens } : {}),
      },
      {
        signal: this.#signal,
        policy: this.#o.policy,
        silenceMs: this.#o.silenceMs,
        onAttempt: (attempt) => {
          if (attempt > 1) {
            parts.restart();
            draft.restart();
          }
        },
        onPart: parts.onPart,
        onPartsComplete: draft.save,
        onRetry: (event) => {
          // The failed attempt's deltas are void: clients drop them on the retry event.
          parts.restart();
          void publish("retry", {
            attempt: event.attempt,
            delay_ms: event.delayMs,
            kind: event.error.kind,
            message: event.error.message,
            retrying_at: event.retryingAt.toISOString(),
          });
        },
      },
    );
    this.#coalescer.flush();

    if (outcome.status === "stopped") return this.#stopped(outcome.cause, outcome.partial, draft);
    if (outcome.status === "failed") return this.#failed(outcome.error, outcome.partial, draft);

    if (OwnershipLost.isInstance(this.#signal.reason)) {
      draft.abandon();
      return this.#outcome("abandoned");
    }
    await this.#finishMessage(draft, outcome.parts, outcome.usage);
    await this.#publishUsage(messageId, outcome.usage);

    const calls = outcome.parts.filter((p): p is ToolCallPart => p.type === "tool_call");
    // Calls are run whatever the finish reason says: a call left without a result would make
    // the next prompt invalid. No calls: the model is done.
    if (calls.length === 0) return this.#outcome("completed");
    prompt.push({ role: "assistant", content: outcome.parts });
    return this.#runTools(calls, prompt);
  }

  /** Runs tool calls concurrently; persists one tool message with every result, in call order. */
  async #runTools(
    calls: ToolCallPart[],
    prompt: PromptMessage[],
  ): Promise<TurnOutcome | undefined> {
    const { tools, chat } = this.#o;
    const signal = this.#signal;
    const messageId = randomUUID();
    const results: Array<ToolResultPart | undefined> = calls.map(() => undefined);
    // Recorded before any call is sent: after a crash, these calls are known to have started,
    // and are answered as such instead of run again (a tool call runs at most once).
    await this.#o.store.saveMessage(chat.id, {
      id: messageId,
      role: "tool",
      parts: [],
      in_progress: true,
    });
    const aborted = whenAborted(signal);
    const runs = calls.map(async (call, index) => {
      const key = `result:${call.tool_call_id}`;
      const result = await tools.execute(call.name, call.input, {
        signal,
        chatId: chat.id,
        onOutput: (delta) => {
          if (signal.aborted || delta === "") return;
          this.#coalescer.push(key, messageId, {
            type: "tool_result",
            tool_call_id: call.tool_call_id,
            output_delta: delta,
          });
        },
      });
      // A result that arrives after the turn was stopped does not count: the turn moved on.
      if (signal.aborted) return;
      results[index] = {
        type: "tool_result",
        tool_call_id: call.tool_call_id,
        name: call.name,
        ...result,
      };
    });
    // Stop ends the turn at once, even when a tool does not honour its signal.
    try {
      await Promise.race([Promise.all(runs), aborted.promise]);
    } finally {
      aborted.dispose();
    }
    this.#coalescer.flush();

    if (OwnershipLost.isInstance(signal.reason)) return this.#outcome("abandoned");
    const parts = calls.map(
      (call, index): ToolResultPart =>
        results[index] ?? {
          type: "tool_result",
          tool_call_id: call.tool_call_id,
          name: call.name,
          output: `The tool call was interrupted: ${errorText(signal.reason)}`,
          is_error: true,
        },
    );
    await this.#persist({ id: messageId, role: "tool", parts });
    if (signal.aborted) return this.#stopped(signal.reason, []);
    prompt.push({ role: "tool", content: parts });
    return undefined;
  }

  /** The turn was aborted: keep what the attempt streamed (unless ownership is gone). */
  async #stopped(
    cause: unknown,
    partial: AssistantPart[],
    draft?: StreamingMessage,
  ): Promise<TurnOutcome> {
    const reason: unknown = this.#signal.aborted ? this.#signal.reason : cause;
    const status = stopStatus(reason);
    if (status === "abandoned") {
      draft?.abandon();
      return this.#outcome("abandoned");
    }
    if (draft) await this.#finishMessage(draft, partial);
    if (status === "failed") return this.#fail(errorRecord(classify(reason)));
    return this.#outcome(status);
  }

  async #failed(
    error: ChatError,
    partial: AssistantPart[],
    draft: StreamingMessage,
  ): Promise<TurnOutcome> {
    if (OwnershipLost.isInstance(this.#signal.reason)) {
      draft.abandon();
      return this.#outcome("abandoned");
    }
    await this.#finishMessage(draft, partial);
    return this.#fail(errorRecord(error.classified));
  }

  /**
   * The step's message is final: written over what was saved while it streamed, and announced.
   * With no parts nothing is kept (a save of an earlier attempt's parts is deleted).
   */
  async #finishMessage(
    draft: StreamingMessage,
    parts: AssistantPart[],
    usage?: Usage,
  ): Promise<void> {
    const saved = await draft.settle();
    if (parts.length > 0) {
      await this.#persist({
        id: draft.id,
        role: "assistant",
        parts,
        ...(usage ? { usage } : {}),
        model_id: this.#o.chat.model_id,
      });
    } else if (saved) {
      await this.#o.store.deleteMessage(this.#o.chat.id, draft.id);
    }
  }

  /**
   * Messages a process that died mid-step left `in_progress`, settled as a Stop would have left
   * them: text and reasoning kept, tool calls (from a stream that never finished) dropped, an
   * empty one deleted; each kept one is announced with the `message` event that process never
   * sent. Returns the history as it is now.
   */
  async #settleInterrupted(history: Message[]): Promise<Message[]> {
    if (!history.some((message) => message.in_progress)) return history;
    const settled: Message[] = [];
    for (const message of history) {
      if (!message.in_progress) {
        settled.push(message);
        continue;
      }
      if (message.role === "tool") {
        // Its calls were started when the process died: never run them again (at most once).
        settled.push(await this.#persist(startedCallsResults(message, settled.at(-1))));
        continue;
      }
      const parts = message.parts.filter((part) => part.type !== "tool_call");
      if (parts.length === 0) {
        await this.#o.store.deleteMessage(this.#o.chat.id, message.id);
        continue;
      }
      settled.push(
        await this.#persist({
          id: message.id,
          role: message.role,
          parts,
          usage: message.usage,
          model_id: message.model_id,
        }),
      );
    }
    return settled;
  }

  /** Publishes the one `error` event of a failed turn. */
  async #fail(error: ChatErrorRecord): Promise<TurnOutcome> {
    await this.#o.publish("error", {
      kind: error.kind,
      message: error.message,
      ...(error.status_code !== undefined ? { status_code: error.status_code } : {}),
    });
    return { status: "failed", steps: this.#steps, error };
  }

  /** Writes a message final (over any save made while it streamed) and announces it. */
  async #persist(message: NewMessage & { id: string }): Promise<Message> {
    const persisted = await this.#o.store.saveMessage(this.#o.chat.id, message);
    await this.#o.publish("message", { message: pricedMessage(persisted, this.#o.pricing) });
    return persisted;
  }

  async #publishUsage(messageId: string, usage: Usage): Promise<void> {
    const cost = costUsd(usage, this.#o.pricing);
    await this.#o.publish("usage", {
      message_id: messageId,
      usage,
      ...(cost !== undefined ? { cost_usd: cost } : {}),
    });
  }

  #outcome(status: Exclude<TurnOutcome["status"], "failed">): TurnOutcome {
    return { status, steps: this.#steps };
  }
}

/**
 * The final tool message for calls that were started by a process that died before their results:
 * each gets its result if one was saved, else an error saying it may have partly run.
 */
function startedCallsResults(
  message: Message,
  previous: Message | undefined,
): NewMessage & { id: string } {
  const calls =
    previous?.role === "assistant"
      ? previous.parts.filter((p): p is ToolCallPart => p.type === "tool_call")
      : [];
  const saved = new Map(
    message.parts.flatMap((p) => (p.type === "tool_result" ? [[p.tool_call_id, p] as const] : [])),
  );
  const parts = calls.map(
    (call): ToolResultPart =>
      saved.get(call.tool_call_id) ?? {
        type: "tool_result",
        tool_call_id: call.tool_call_id,
        name: call.name,
        output: STARTED_WITHOUT_RESULT,
        is_error: true,
      },
  );
  return { id: message.id, role: "tool", parts };
}

function stopStatus(reason: unknown): StopStatus {
  if (OwnershipLost.isInstance(reason)) return "abandoned";
  if (ChatInterrupted.isInstance(reason)) return "interrupted";
  if (ServerShutdown.isInstance(reason)) return "shutdown";
  return "failed";
}

/**
 * A step's assistant message while it streams, saved (upserted by id, `in_progress`, no event) as
 * its parts complete — at part boundaries, never per delta. One save runs at a time; saves asked
 * for meanwhile collapse into one with the newest parts. A new attempt empties what was saved
 * (the failed attempt's parts are void: the retry replaces them, never adds to them). A failed
 * save is not retried: the next one, or the step's final write, carries every part anyway.
 */
class StreamingMessage {
  readonly id: string;
  readonly #store: TurnStore;
  readonly #chat: Pick<Chat, "id" | "model_id">;
  /** A save was started: a row may exist. */
  #saved = false;
  /** Parts waiting for the save in flight to finish. */
  #next: AssistantPart[] | undefined;
  #writing: Promise<void> | undefined;
  #closed = false;

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
class PartKeys {
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
function whenAborted(signal: AbortSignal): { promise: Promise<void>; dispose: () => void } {
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
