/**
 * How full the model's context is (DESIGN.md §7). Before each model step the turn knows the
 * prompt's size: the input tokens the provider reported for the previous step plus an estimate of
 * what was added since (`ContextMeter`). Above the compaction threshold, old tool outputs are
 * pruned from the prompt first (`pruneToolOutputs`: cheap, and often enough); only when that does
 * not bring it under is the conversation compacted (`compaction.ts`).
 *
 * The estimate is deliberately simple — about four characters per token — because it only ever
 * covers the few messages since the provider last counted; the provider's own count carries the
 * rest. Nothing here re-reads the history: the meter is fed as the prompt grows.
 */
import type { PromptMessage, ToolResultPart, Usage } from "../provider/types.ts";

/** The share of the context window a prompt may fill before Keel compacts (per model; users may lower it). */
export const DEFAULT_COMPACT_AT = 0.8;
/** The lowest and highest `compact_at` Keel accepts. */
export const COMPACT_AT_MIN = 0.1;
export const COMPACT_AT_MAX = 0.95;

const CHARS_PER_TOKEN = 4;
/** Role, separators and the like, per message. */
const MESSAGE_OVERHEAD_TOKENS = 4;

export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

function valueText(value: unknown): string {
  if (typeof value === "string") return value;
  return JSON.stringify(value ?? null) ?? "";
}

/** About how many tokens one prompt message takes. */
export function estimateMessageTokens(message: PromptMessage): number {
  if (message.role === "system") {
    return MESSAGE_OVERHEAD_TOKENS + estimateTextTokens(message.content);
  }
  let tokens = MESSAGE_OVERHEAD_TOKENS;
  for (const part of message.content) {
    switch (part.type) {
      case "text":
      case "reasoning":
        tokens += estimateTextTokens(part.text);
        break;
      case "tool_call":
        tokens += estimateTextTokens(part.name) + estimateTextTokens(valueText(part.input));
        break;
      case "tool_result":
        tokens += estimateTextTokens(part.name) + estimateTextTokens(valueText(part.output));
        break;
    }
  }
  return tokens;
}

export function estimatePromptTokens(messages: readonly PromptMessage[]): number {
  let tokens = 0;
  for (const message of messages) tokens += estimateMessageTokens(message);
  return tokens;
}

/** When a chat's prompt is too full. */
export interface ContextBudget {
  /** The model's context window, in tokens. */
  window: number;
  /** Above this many prompt tokens, prune, then compact. */
  threshold: number;
}

/**
 * The threshold is `compactAt` of the window, and never so high that the step's output would not
 * fit after it.
 */
export function contextBudget(
  window: number,
  compactAt: number = DEFAULT_COMPACT_AT,
  maxOutputTokens?: number,
): ContextBudget {
  const share = Math.min(COMPACT_AT_MAX, Math.max(COMPACT_AT_MIN, compactAt));
  let threshold = Math.floor(window * share);
  if (maxOutputTokens !== undefined && maxOutputTokens > 0) {
    threshold = Math.min(threshold, Math.max(1, window - maxOutputTokens));
  }
  return { window, threshold };
}

/**
 * The prompt's size as the provider last counted it, plus an estimate of the messages appended
 * since. `counted(prompt, usage)` after a step: the provider counted `prompt` as
 * `usage.inputTokens`, and its answer (`usage.outputTokens`) is the next message.
 */
export class ContextMeter {
  /** Tokens of `prompt[0 .. #countedUpTo)`, as last counted or estimated. */
  #tokens: number;
  #countedUpTo: number;

  /** `baseline`: the best known size of `prompt` as it is now (see `initialPromptTokens`). */
  constructor(prompt: readonly PromptMessage[], baseline?: number) {
    this.#tokens = baseline ?? estimatePromptTokens(prompt);
    this.#countedUpTo = prompt.length;
  }

  /**
   * A step ran on `prompt` (without its answer, which the caller appends next): the provider's
   * count replaces the estimate. A provider that reports no input tokens leaves the estimate.
   */
  counted(prompt: readonly PromptMessage[], usage: Usage): void {
    const estimated = this.estimate(prompt);
    this.#tokens =
      usage.inputTokens > 0 ? usage.inputTokens + Math.max(0, usage.outputTokens) : estimated;
    // The answer is counted by `outputTokens`: skip it when it is appended.
    this.#countedUpTo = prompt.length + 1;
  }

  /** The prompt shrank by about `tokens` (pruned outputs). */
  shrank(tokens: number): void {
    this.#tokens = Math.max(0, this.#tokens - tokens);
  }

  /** The prompt was rebuilt (compaction): start over from an estimate of it. */
  reset(prompt: readonly PromptMessage[]): void {
    this.#tokens = estimatePromptTokens(prompt);
    this.#countedUpTo = prompt.length;
  }

  /** About how many tokens `prompt` (the one the meter follows, maybe grown since) holds. */
  estimate(prompt: readonly PromptMessage[]): number {
    let tokens = this.#tokens;
    for (let i = this.#countedUpTo; i < prompt.length; i++) {
      const message = prompt[i];
      if (message) tokens += estimateMessageTokens(message);
    }
    return tokens;
  }
}

/** What replaces a pruned tool output in the prompt (the transcript keeps the output). */
export function elidedOutput(output: unknown): string {
  const text = valueText(output);
  const lines = text === "" ? 0 : text.split("\n").length;
  return `[output elided to save context: ${lines} line${lines === 1 ? "" : "s"}, ${text.length} characters. Run the tool again if you need it.]`;
}

/** Outputs smaller than this are never pruned: the note would save nothing. */
const PRUNE_MIN_TOKENS = 100;

/**
 * Replaces old, large tool outputs in `prompt` by a note (`elidedOutput`), newest first kept:
 * the newest `keepTokens` of tool output stay as they are, and so do the latest results (the
 * model has not read them yet). The calls stay, so the model knows what it ran. Returns about how many tokens were saved. Replaces messages, never mutates them
 * (they are the transcript's objects).
 */
export function pruneToolOutputs(prompt: PromptMessage[], keepTokens: number): number {
  let kept = 0;
  let saved = 0;
  let latest = true;
  for (let i = prompt.length - 1; i >= 0; i--) {
    const message = prompt[i];
    if (message?.role !== "tool") continue;
    if (latest) {
      latest = false;
      for (const part of message.content) kept += estimateTextTokens(valueText(part.output));
      continue;
    }
    let changed = false;
    const content = [...message.content];
    for (let j = content.length - 1; j >= 0; j--) {
      const part = content[j];
      if (!part || isElided(part)) continue;
      const tokens = estimateTextTokens(valueText(part.output));
      if (kept + tokens <= keepTokens || tokens < PRUNE_MIN_TOKENS) {
        kept += tokens;
        continue;
      }
      const note = elidedOutput(part.output);
      content[j] = { ...part, output: note };
      saved += tokens - estimateTextTokens(note);
      changed = true;
    }
    if (changed) prompt[i] = { role: "tool", content };
  }
  return saved;
}

function isElided(part: ToolResultPart): boolean {
  return (
    typeof part.output === "string" && part.output.startsWith("[output elided to save context:")
  );
}
