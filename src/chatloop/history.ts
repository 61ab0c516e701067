/**
 * The persisted transcript → the model's prompt, and the cost of a step. Built once per turn from
 * `store.listMessages`; within the turn each new message is appended to the prompt as it is
 * persisted, so the history is never re-read or re-parsed per step or per token.
 */
import type {
  PromptMessage,
  ReasoningPart,
  TextPart,
  ToolCallPart,
  ToolResultPart,
  Usage,
} from "../provider/types.ts";
import type { Message, MessagePart, Pricing } from "../store/types.ts";
import { isCompaction, summaryPromptMessage } from "./compaction.ts";
import { estimateMessageTokens, estimatePromptTokens } from "./context.ts";
import { isNote } from "./notes.ts";

export const SYSTEM_PROMPT = `You are Keel, an AI coding agent working for a software team. You help the person in this chat with their code: you read it, change it, run it and report back what you found and did.

When this chat is bound to a workspace, your tools act on that workspace: read_file, list_files and search_files to look at its files, write_file and edit_file to change them, execute to run commands there (tests, builds, git; with background: true for a dev server or a watcher, then process_output, process_list and process_signal to follow and stop it). Without a workspace you have no tools: answer from what you know and from the conversation.

How to work:
- Read before you edit: look at the code you are about to change and at the code that uses it, and follow the conventions you find.
- Keep changes small and focused on what was asked; do not rewrite, rename or reformat what you were not asked to touch.
- After a change, run the tests (and the build or linter when the project has them) and read their output.
- Say plainly what failed, what you did not do and what you are unsure of. Never claim something works when you have not checked it.
- Be direct and precise. When a request is ambiguous and a wrong guess would be costly, ask.`;

/** Where a layer of the instructions comes from (DESIGN.md §7), in the order they are told. */
export type InstructionSource = "keel" | "deployment" | "user" | "workspace";

/** One system message of the prompt, exactly as the model gets it, and where it comes from. */
export interface InstructionLayer {
  source: InstructionSource;
  text: string;
  /** The source was longer than Keel sends (a workspace's AGENTS.md past 32 KB). */
  truncated?: boolean;
}

/** Heads the deployment's system prompt, so the model (and a reader) can tell it from Keel's. */
export const DEPLOYMENT_PROMPT_HEADING = "# Instructions from this deployment's administrators";
/** Heads the user's own instructions (`PATCH /users/me {instructions}`). */
export const USER_INSTRUCTIONS_HEADING = "# Instructions from the user you work for";
/** Heads the workspace's instruction file: `AGENTS.md`, else `CLAUDE.md`. */
export const workspaceInstructionsHeading = (file: string) =>
  `# Instructions from the workspace's ${file}`;
/** The most of a workspace's instruction file told to the model, in UTF-8 bytes. */
export const MAX_WORKSPACE_INSTRUCTIONS_BYTES = 32 * 1024;

/** What Keel knows of where the agent works, for the built-in prompt's environment section. */
export interface AgentEnvironment {
  /** Today, as the server sees it (UTC). */
  now: Date;
  /** The workspace agent's OS, when a connected agent said. */
  platform?: string | null;
  /** The workspace agent's working directory, when a connected agent said. */
  directory?: string | null;
}

/** Keel's built-in prompt followed by its environment section (date; the workspace's OS and directory). */
export function keelPrompt(builtIn: string, environment: AgentEnvironment): string {
  const lines = [`- Today's date: ${environment.now.toISOString().slice(0, 10)} (UTC)`];
  if (environment.platform)
    lines.push(`- The workspace's operating system: ${environment.platform}`);
  if (environment.directory) {
    lines.push(
      `- The workspace's working directory: ${environment.directory} (relative paths in tools are resolved against it, and commands run there)`,
    );
  }
  return `${builtIn}\n\n# Environment\n\n${lines.join("\n")}`;
}

/**
 * A workspace instruction file's text as told: at most `MAX_WORKSPACE_INSTRUCTIONS_BYTES` (cut at
 * a line break when one is near, never inside a character), with a note saying so when cut.
 * `more`: the text read is already only the start of the file.
 */
export function capWorkspaceInstructions(
  file: string,
  text: string,
  more = false,
): { text: string; truncated: boolean } {
  const bytes = Buffer.from(text, "utf8");
  let kept = text;
  let cut = more;
  if (bytes.length > MAX_WORKSPACE_INSTRUCTIONS_BYTES) {
    cut = true;
    // Back off to the start of a UTF-8 character (continuation bytes are 10xxxxxx).
    let end = MAX_WORKSPACE_INSTRUCTIONS_BYTES;
    while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
    kept = bytes.subarray(0, end).toString("utf8");
    const lineEnd = kept.lastIndexOf("\n");
    if (lineEnd >= kept.length - 1024 && lineEnd > 0) kept = kept.slice(0, lineEnd);
  }
  if (!cut) return { text: kept, truncated: false };
  const note =
    `[${file} is longer than ${MAX_WORKSPACE_INSTRUCTIONS_BYTES / 1024} KB: only its start is ` +
    "shown here. Read the file itself for the rest.]";
  return { text: `${kept.trimEnd()}\n\n${note}`, truncated: true };
}

/** The sources of a turn's instructions, as read at its start. */
export interface InstructionInputs {
  /** Keel's built-in prompt (default `SYSTEM_PROMPT`). */
  builtIn?: string;
  environment: AgentEnvironment;
  /** The deployment's system prompt (admins'). */
  deploymentPrompt?: string | null;
  /** The chat owner's own instructions. */
  userInstructions?: string | null;
  /** The workspace's instruction file, as read through its agent. */
  workspaceFile?: { name: string; text: string; more?: boolean } | null;
}

/**
 * The instructions in DESIGN.md §7's order, each its own system message: Keel's built-in prompt
 * (with its environment), the deployment's, the user's, the workspace's `AGENTS.md`; a blank or
 * absent one is no layer (no empty section is sent).
 */
export function instructionLayers(inputs: InstructionInputs): InstructionLayer[] {
  const layers: InstructionLayer[] = [
    { source: "keel", text: keelPrompt(inputs.builtIn ?? SYSTEM_PROMPT, inputs.environment) },
  ];
  const deployment = inputs.deploymentPrompt?.trim();
  if (deployment) {
    layers.push({ source: "deployment", text: `${DEPLOYMENT_PROMPT_HEADING}\n\n${deployment}` });
  }
  const user = inputs.userInstructions?.trim();
  if (user) layers.push({ source: "user", text: `${USER_INSTRUCTIONS_HEADING}\n\n${user}` });
  const file = inputs.workspaceFile;
  if (file && file.text.trim() !== "") {
    const capped = capWorkspaceInstructions(file.name, file.text.trim(), file.more ?? false);
    layers.push({
      source: "workspace",
      text: `${workspaceInstructionsHeading(file.name)}\n\n${capped.text}`,
      ...(capped.truncated ? { truncated: true } : {}),
    });
  }
  return layers;
}

/** The layers as system messages, in order. A string is Keel's prompt alone, as it is. */
export function systemMessages(
  instructions: string | readonly InstructionLayer[],
): PromptMessage[] {
  if (typeof instructions === "string") return [{ role: "system", content: instructions }];
  return instructions.map((layer) => ({ role: "system", content: layer.text }));
}

/**
 * The result of a call that was started when the server running it died: it is never run again
 * (a tool call runs at most once), and the model is told it may have had effects.
 */
export const STARTED_WITHOUT_RESULT =
  "The server stopped while this tool call was running, so its result is unknown: it may have " +
  "partly or fully run. Check its effects before running it again.";

/** The result recorded for a tool call that never got one (the process running it died). */
export const MISSING_RESULT =
  "The tool call did not complete: the server running it stopped before it finished.";

type AssistantContent = Array<TextPart | ReasoningPart | ToolCallPart>;

/** `withCalls` false: a message saved mid-step, whose tool calls never ran and never will. */
function assistantContent(parts: readonly MessagePart[], withCalls: boolean): AssistantContent {
  const content: AssistantContent = [];
  for (const part of parts) {
    if (part.type === "text") {
      if (part.text !== "") content.push({ type: "text", text: part.text });
    } else if (part.type === "reasoning") {
      content.push(part);
    } else if (part.type === "tool_call" && withCalls) {
      content.push(part);
    }
  }
  return content;
}

/**
 * One persisted message as the model sees it; null when it has nothing to say. A message still
 * `in_progress` (its process died mid-step, before the turn that settles it) counts with its text
 * and reasoning only: its tool calls came from a stream that never finished.
 */
export function toPromptMessage(
  message: Pick<Message, "role" | "parts"> & { in_progress?: boolean },
): PromptMessage | null {
  switch (message.role) {
    case "user": {
      const content = message.parts.flatMap((part): TextPart[] =>
        part.type === "text" && part.text !== "" ? [{ type: "text", text: part.text }] : [],
      );
      return content.length > 0 ? { role: "user", content } : null;
    }
    case "assistant": {
      const summary = message.parts.find((part) => part.type === "compaction");
      if (summary) return summaryPromptMessage(summary.text);
      const content = assistantContent(message.parts, message.in_progress !== true);
      return content.length > 0 ? { role: "assistant", content } : null;
    }
    case "tool": {
      const content = message.parts.flatMap((part): ToolResultPart[] =>
        part.type === "tool_result" ? [part] : [],
      );
      return content.length > 0 ? { role: "tool", content } : null;
    }
  }
}

/**
 * The prompt for a transcript (pass its `activeHistory`: from the latest compaction on): the
 * instructions' system messages (`systemMessages`), then the conversation — a compaction as its
 * summary. Every tool call gets a result (providers reject a call without one): a call whose
 * result was never persisted gets `MISSING_RESULT` as an error.
 */
export function buildPrompt(
  history: readonly Message[],
  instructions: string | readonly InstructionLayer[],
): PromptMessage[] {
  const prompt = systemMessages(instructions);
  for (let i = 0; i < history.length; i++) {
    const message = history[i];
    if (!message) continue;
    const converted = toPromptMessage(message);
    if (!converted) continue;
    prompt.push(converted);
    if (converted.role !== "assistant") continue;
    const calls = converted.content.filter((p): p is ToolCallPart => p.type === "tool_call");
    if (calls.length === 0) continue;
    const next = history[i + 1];
    // The last message's calls are left open: the turn runs them (see `unansweredToolCalls`).
    if (!next) continue;
    const answered = new Set(
      next.role === "tool"
        ? next.parts.flatMap((p) => (p.type === "tool_result" ? [p.tool_call_id] : []))
        : [],
    );
    const missing = calls.filter((call) => !answered.has(call.tool_call_id)).map(missingResult);
    if (missing.length === 0) continue;
    if (next.role === "tool") {
      const results = toPromptMessage(next);
      prompt.push({
        role: "tool",
        content: [...(results?.role === "tool" ? results.content : []), ...missing],
      });
      i += 1;
    } else {
      prompt.push({ role: "tool", content: missing });
    }
  }
  return prompt;
}

/**
 * Tool calls of a transcript's last message when it is an assistant message whose step finished:
 * never executed (the process died between the step and its tools). A message still
 * `in_progress` has none to run.
 */
export function unansweredToolCalls(history: readonly Message[]): ToolCallPart[] {
  const last = history.at(-1);
  if (last?.role !== "assistant" || last.in_progress) return [];
  return last.parts.filter((p): p is ToolCallPart => p.type === "tool_call");
}

/**
 * Whether a transcript ends mid-turn — a user message not yet answered, tool results the model
 * has not read, calls not yet run, a step cut off — so that a turn has work to do.
 */
export function turnIsOpen(history: readonly Message[]): boolean {
  for (let i = history.length - 1; i >= 0; i--) {
    const message = history[i];
    // An error or a Stop with nothing streamed says nothing to the model: look past it.
    if (!message || isCompaction(message) || isNote(message)) continue;
    if (message.role !== "assistant" || message.in_progress) return true;
    return message.parts.some((part) => part.type === "tool_call");
  }
  return false;
}

/**
 * Whether the saved history ends with a turn's final answer: an assistant message complete (not
 * `in_progress`, not cut short by a Stop or a shutdown) with no tool call. Its turn is over even
 * if the chat's status did not get to say so (its server died in between).
 */
export function turnAnswered(history: readonly Message[]): boolean {
  for (let i = history.length - 1; i >= 0; i--) {
    const message = history[i];
    if (!message || isCompaction(message) || isNote(message)) continue;
    if (message.role !== "assistant" || message.in_progress || message.stopped) return false;
    return !message.parts.some((part) => part.type === "tool_call");
  }
  return false;
}

/**
 * The best known size of a turn's first prompt, in tokens: the provider's count for the latest
 * step of the (active) history plus an estimate of what came after it — or, when the whole
 * prompt's estimate is larger (instructions grew, a pruned prompt is sent whole again), that.
 */
export function initialPromptTokens(
  history: readonly Message[],
  prompt: readonly PromptMessage[],
): number {
  const estimate = estimatePromptTokens(prompt);
  for (let i = history.length - 1; i >= 0; i--) {
    const message = history[i];
    if (message?.role !== "assistant" || isCompaction(message)) continue;
    const usage = message.usage;
    if (!usage || usage.inputTokens <= 0) continue;
    let counted = usage.inputTokens + usage.outputTokens;
    for (const later of history.slice(i + 1)) {
      const converted = toPromptMessage(later);
      if (converted) counted += estimateMessageTokens(converted);
    }
    return Math.max(counted, estimate);
  }
  return estimate;
}

function missingResult(call: ToolCallPart): ToolResultPart {
  return {
    type: "tool_result",
    tool_call_id: call.tool_call_id,
    name: call.name,
    output: MISSING_RESULT,
    is_error: true,
  };
}

/**
 * What a step cost in US dollars, from the model's pricing per million tokens. Input tokens
 * include cache reads and writes, which are charged at their own rates when the pricing has them.
 */
export function costUsd(usage: Usage, pricing: Pricing | null | undefined): number | undefined {
  if (!pricing) return undefined;
  const cacheRead = usage.cacheReadTokens;
  const cacheWrite = usage.cacheWriteTokens;
  const freshInput = Math.max(0, usage.inputTokens - cacheRead - cacheWrite);
  const dollars =
    freshInput * pricing.input_per_mtok +
    cacheRead * (pricing.cache_read_per_mtok ?? pricing.input_per_mtok) +
    cacheWrite * (pricing.cache_write_per_mtok ?? pricing.input_per_mtok) +
    usage.outputTokens * pricing.output_per_mtok;
  return dollars / 1_000_000;
}
