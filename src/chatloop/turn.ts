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
import { TurnDeadlineExceeded } from "../chaterror/causes.ts";
import type { ChatError } from "../chaterror/chat-error.ts";
import { classify } from "../chaterror/classify.ts";
import type { RetryEvent } from "../chatretry/index.ts";
import type { RetryPolicy } from "../chatretry/policy.ts";
import type {
  ChatModel,
  PromptMessage,
  ToolCallPart,
  ToolResultPart,
  Usage,
} from "../provider/types.ts";
import type { NewMessage, Store } from "../store/contract.ts";
import type { Chat, ChatErrorRecord, Message, Pricing } from "../store/types.ts";
import type { TurnBudget } from "./budget.ts";
import {
  activeHistory,
  type CompactionReason,
  compactionRequest,
  summaryPromptMessage,
} from "./compaction.ts";
import type { AssistantPart } from "./content.ts";
import {
  type ContextBudget,
  ContextMeter,
  estimatePromptTokens,
  pruneToolOutputs,
} from "./context.ts";
import { publicMessage } from "./events.ts";
import {
  buildPrompt,
  costUsd,
  type InstructionLayer,
  initialPromptTokens,
  SYSTEM_PROMPT,
  systemMessages,
  turnAnswered,
  turnIsOpen,
  unansweredToolCalls,
} from "./history.ts";
import { errorNote } from "./notes.ts";
import {
  type CompactionOutcome,
  errorRecord,
  OwnershipLost,
  stopStatus,
  type TurnOutcome,
} from "./outcome.ts";
import { interruptedOutput, OutputSoFar } from "./output-so-far.ts";
import { DEFAULT_FLUSH_INTERVAL_MS, DeltaCoalescer, type Publish } from "./publish.ts";
import { settleInterrupted } from "./settle.ts";
import { runStep, type StepOutcome } from "./step.ts";
import { PartKeys, StreamingMessage, whenAborted } from "./streaming.ts";
import { errorText, type ToolRegistry } from "./tools.ts";

export {
  type CompactionOutcome,
  errorRecord,
  OwnershipLost,
  type TurnOutcome,
} from "./outcome.ts";

export const DEFAULT_MAX_STEPS = 50;

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
  /** The model's pricing now: each step's `cost_usd`, saved with its message and in its `usage` event. */
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
  /**
   * How full the prompt may get (DESIGN.md §7): above `threshold`, old tool outputs are pruned,
   * then the conversation is compacted. Absent: never compacted, except after a provider's
   * `context_length` error.
   */
  context?: ContextBudget;
  /** The model that writes compaction summaries (an admin's choice; default the chat's model). */
  summaryModel?: { model: ChatModel; modelId: string; pricing: Pricing | null };
  /** Spend limits: asked before every model step, told each step's cost (default: none). */
  budget?: TurnBudget;
}

/** The newest tool output kept whole when a prompt is pruned: a quarter of the threshold, at most this. */
const PRUNE_KEEP_TOKENS_MAX = 40_000;
/** The share of the summary model's window the summary request's transcript may take. */
const SUMMARY_INPUT_SHARE = 0.6;

export async function runTurn(options: TurnOptions): Promise<TurnOutcome> {
  const turn = new Turn(options);
  try {
    return await turn.run();
  } finally {
    turn.dispose();
  }
}

/**
 * Compacts the chat now (`POST /chats/{id}/compact`): one summary step, retried and stoppable
 * like any other; nothing else runs. A transcript with nothing after its latest summary is left
 * as it is.
 */
export async function runCompaction(options: TurnOptions): Promise<CompactionOutcome> {
  const turn = new Turn(options);
  try {
    return await turn.compactOnly();
  } finally {
    turn.dispose();
  }
}

class Turn {
  readonly #o: TurnOptions;
  readonly #signal: AbortSignal;
  readonly #coalescer: DeltaCoalescer;
  readonly #deadline: { controller: AbortController; timer: NodeJS.Timeout } | undefined;
  #steps = 0;
  /** The saved history ended with the turn's final answer (see `run`). */
  #answered = false;
  #meter: ContextMeter | undefined;

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

  /** The transcript as the model sees it: from the latest compaction on. */
  async #prompt(): Promise<{ history: Message[]; prompt: PromptMessage[] }> {
    const { store, chat } = this.#o;
    const saved = await store.listMessages(chat.id);
    // Before settling: a step a dead process left `in_progress` was cut short, not answered.
    this.#answered = turnAnswered(saved);
    const history = activeHistory(await this.#settleInterrupted(saved));
    const prompt = buildPrompt(history, this.#instructions);
    this.#meter = new ContextMeter(prompt, initialPromptTokens(history, prompt));
    return { history, prompt };
  }

  get #instructions(): string | readonly InstructionLayer[] {
    return this.#o.instructions ?? SYSTEM_PROMPT;
  }

  async compactOnly(): Promise<CompactionOutcome> {
    const { history, prompt } = await this.#prompt();
    if (OwnershipLost.isInstance(this.#signal.reason)) return this.#outcome("abandoned");
    const open = turnIsOpen(history);
    // Nothing since the latest summary (or nothing at all): there is nothing to compact.
    const said = history.filter((message, index) => index > 0 || message.role === "user");
    if (said.length === 0) return { status: "compacted", steps: 0, open };
    const refused = await this.#o.budget?.refusal();
    if (refused) return this.#fail(refused);
    const stopped = await this.#compact(prompt, "manual");
    return stopped ?? { status: "compacted", steps: 0, open };
  }

  async run(): Promise<TurnOutcome> {
    const { history, prompt } = await this.#prompt();
    if (OwnershipLost.isInstance(this.#signal.reason)) return this.#outcome("abandoned");

    // A step whose tool calls were persisted but never run (the process died): run them now.
    const open = unansweredToolCalls(history);
    if (open.length > 0) {
      const stopped = await this.#runTools(open, prompt);
      if (stopped) return stopped;
    } else if (this.#answered) {
      // The history ends with the turn's final answer: its server died after saving it and
      // before the chat's status said so. Asking the model again would answer twice.
      return this.#outcome("completed");
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
      // Over the spend limit: the step before this one was the last (it finished, and is kept).
      const refused = await this.#o.budget?.refusal();
      if (refused) return this.#fail(refused);
      this.#steps += 1;
      const full = await this.#fit(prompt);
      if (full) return full;
      const ended = await this.#step(prompt);
      if (ended) return ended;
    }
  }

  /**
   * Keeps the prompt under the context threshold before a step: old tool outputs are pruned
   * first; when that is not enough, the conversation is compacted. Undefined when the turn goes on.
   */
  async #fit(prompt: PromptMessage[]): Promise<TurnOutcome | undefined> {
    const budget = this.#o.context;
    const meter = this.#meter;
    if (!budget || !meter || meter.estimate(prompt) <= budget.threshold) return undefined;
    const keep = Math.min(PRUNE_KEEP_TOKENS_MAX, Math.floor(budget.threshold / 4));
    const saved = pruneToolOutputs(prompt, keep);
    if (saved > 0) meter.shrank(saved);
    if (meter.estimate(prompt) <= budget.threshold) return undefined;
    return this.#compact(prompt, "threshold");
  }

  /**
   * Summarises the conversation so far (`compaction.ts`), persists the summary, and makes the
   * prompt the instructions and the summary. Undefined when it worked; else how the turn ends
   * (Stop, shutdown, a terminal error — a partial summary is never kept).
   */
  async #compact(
    prompt: PromptMessage[],
    reason: CompactionReason,
  ): Promise<TurnOutcome | undefined> {
    const summary = this.#o.summaryModel ?? {
      model: this.#o.model,
      modelId: this.#o.chat.model_id,
      pricing: this.#o.pricing ?? null,
    };
    const tokens = this.#meter?.estimate(prompt);
    await this.#o.publish("compaction", {
      reason,
      ...(tokens !== undefined ? { prompt_tokens: tokens } : {}),
    });
    const window = this.#o.context?.window;
    let budget = window ? Math.floor(window * SUMMARY_INPUT_SHARE) : estimatePromptTokens(prompt);
    let outcome: StepOutcome;
    for (let attempt = 1; ; attempt++) {
      outcome = await runStep(
        summary.model,
        compactionRequest(prompt, budget, this.#o.maxOutputTokens),
        {
          signal: this.#signal,
          policy: this.#o.policy,
          silenceMs: this.#o.silenceMs,
          onRetry: (event) => this.#publishRetry(event),
        },
      );
      // The summary request did not fit either (the model's real window is smaller than Keel
      // was told): once more, with a quarter of the transcript.
      const tooLong =
        outcome.status === "failed" && outcome.error.classified.kind === "context_length";
      if (!tooLong || attempt > 1) break;
      budget = Math.floor(budget / 4);
    }
    if (outcome.status === "stopped") return this.#stopped(outcome.cause, []);
    if (outcome.status === "failed") {
      if (OwnershipLost.isInstance(this.#signal.reason)) return this.#outcome("abandoned");
      const error = errorRecord(outcome.error.classified);
      return this.#fail({
        ...error,
        message: `Compacting the conversation failed: ${error.message}`,
      });
    }
    if (OwnershipLost.isInstance(this.#signal.reason)) return this.#outcome("abandoned");
    const text = outcome.parts
      .flatMap((part) => (part.type === "text" ? [part.text] : []))
      .join("")
      .trim();
    if (text === "") {
      return this.#fail({
        kind: "generic",
        message:
          "Compacting the conversation failed: the model wrote no summary. Send a message to try again, or start a new chat.",
      });
    }
    const id = randomUUID();
    await this.#persist(
      {
        id,
        role: "assistant",
        parts: [{ type: "compaction", text }],
        usage: outcome.usage,
        model_id: summary.modelId,
      },
      summary.pricing,
    );
    await this.#publishUsage(id, outcome.usage, summary.pricing);
    prompt.splice(
      0,
      prompt.length,
      ...systemMessages(this.#instructions),
      summaryPromptMessage(text),
    );
    this.#meter?.reset(prompt);
    return undefined;
  }

  /** One model step and its tool calls; undefined when the turn goes on. */
  async #step(prompt: PromptMessage[], overflowed = false): Promise<TurnOutcome | undefined> {
    const { model, tools } = this.#o;
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
          draft.retried(event.error.kind, event.error.message);
          this.#publishRetry(event);
        },
      },
    );
    this.#coalescer.flush();

    if (outcome.status === "stopped") return this.#stopped(outcome.cause, outcome.partial, draft);
    if (
      outcome.status === "failed" &&
      outcome.error.classified.kind === "context_length" &&
      !overflowed &&
      !OwnershipLost.isInstance(this.#signal.reason)
    ) {
      // The prompt did not fit after all: compact, and try the step once more.
      await this.#finishMessage(draft, []);
      const ended = await this.#compact(prompt, "context_length");
      return ended ?? this.#step(prompt, true);
    }
    if (outcome.status === "failed") return this.#failed(outcome.error, outcome.partial, draft);

    if (OwnershipLost.isInstance(this.#signal.reason)) {
      draft.abandon();
      return this.#outcome("abandoned");
    }
    await this.#finishMessage(draft, outcome.parts, outcome.usage);
    await this.#publishUsage(messageId, outcome.usage);
    this.#meter?.counted(prompt, outcome.usage);

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
    const streamed = calls.map(() => new OutputSoFar());
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
          streamed[index]?.push(delta);
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
          // What it streamed stays: the user saw it, and the model reads how far it got.
          output: interruptedOutput(streamed[index]?.text() ?? "", errorText(signal.reason)),
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
    if (draft && status === "shutdown") await this.#leaveInProgress(draft, partial);
    else if (draft) await this.#finishMessage(draft, partial, undefined, status === "interrupted");
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
   * The step's message is final: written over what was saved while it streamed, and announced,
   * with its retries and whether Stop cut it short. With no parts nothing is kept (a save of an
   * earlier attempt's parts is deleted) — unless it was stopped: "Stopped" is shown in place.
   */
  async #finishMessage(
    draft: StreamingMessage,
    parts: AssistantPart[],
    usage?: Usage,
    stopped = false,
  ): Promise<void> {
    const saved = await draft.settle();
    if (parts.length > 0 || stopped) {
      await this.#persist({
        id: draft.id,
        role: "assistant",
        parts,
        ...(usage ? { usage } : {}),
        model_id: this.#o.chat.model_id,
        stopped,
        retries: draft.retries,
      });
    } else if (saved) {
      await this.#o.store.deleteMessage(this.#o.chat.id, draft.id);
    }
  }

  /**
   * A shutdown cut the step short: what streamed stays saved `in_progress`, as if the process had
   * died, for the run that takes the chat back to settle (its text kept) and go on from. Saved as
   * final it would read as the turn's answer, and the turn would never be finished.
   */
  async #leaveInProgress(draft: StreamingMessage, parts: AssistantPart[]): Promise<void> {
    const saved = await draft.settle();
    if (parts.length > 0) {
      await this.#o.store.saveMessage(this.#o.chat.id, {
        id: draft.id,
        role: "assistant",
        parts,
        model_id: this.#o.chat.model_id,
        in_progress: true,
        retries: draft.retries,
      });
    } else if (saved) {
      await this.#o.store.deleteMessage(this.#o.chat.id, draft.id);
    }
  }

  /** The history with what a process that died mid-step left `in_progress` settled (`settle.ts`). */
  #settleInterrupted(history: Message[]): Promise<Message[]> {
    return settleInterrupted(history, {
      persist: (message) => this.#persist(message),
      remove: (id) => this.#o.store.deleteMessage(this.#o.chat.id, id),
    });
  }

  /** Keeps the error in the transcript (`notes.ts`) and publishes the one `error` event. */
  async #fail(error: ChatErrorRecord): Promise<TurnOutcome> {
    await this.#persist(errorNote(error));
    await this.#o.publish("error", {
      kind: error.kind,
      message: error.message,
      ...(error.status_code !== undefined ? { status_code: error.status_code } : {}),
    });
    return { status: "failed", steps: this.#steps, error };
  }

  /**
   * Writes a message final (over any save made while it streamed) and announces it. A step's cost
   * is computed here, with the pricing in force now, and saved with it (a later price change
   * never rewrites it).
   */
  async #persist(
    message: NewMessage & { id: string },
    pricing: Pricing | null | undefined = this.#o.pricing,
  ): Promise<Message> {
    const cost = message.usage ? (costUsd(message.usage, pricing) ?? null) : null;
    const persisted = await this.#o.store.saveMessage(this.#o.chat.id, {
      ...message,
      cost_usd: cost,
    });
    await this.#o.publish("message", { message: publicMessage(persisted) });
    return persisted;
  }

  #publishRetry(event: RetryEvent): void {
    void this.#o.publish("retry", {
      attempt: event.attempt,
      delay_ms: event.delayMs,
      kind: event.error.kind,
      message: event.error.message,
      retrying_at: event.retryingAt.toISOString(),
    });
  }

  async #publishUsage(
    messageId: string,
    usage: Usage,
    pricing: Pricing | null | undefined = this.#o.pricing,
  ): Promise<void> {
    const cost = costUsd(usage, pricing);
    if (cost !== undefined) this.#o.budget?.spent(cost);
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
