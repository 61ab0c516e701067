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

export const SYSTEM_PROMPT = [
  "You are Keel, an AI coding agent working for a software team.",
  "Be direct and precise. Use the tools you are given when they help; read their results",
  "carefully, and say plainly when something failed or you are unsure.",
].join(" ");

/** Heads the deployment's system prompt, so the model (and a reader) can tell it from Keel's. */
export const DEPLOYMENT_PROMPT_HEADING = "# Instructions from this deployment's administrators";

/**
 * The system messages, in DESIGN.md §7's order: Keel's built-in prompt, then the deployment's
 * (admins'), each its own message, the deployment's under its heading; none when blank.
 */
export function systemMessages(builtIn: string, deploymentPrompt?: string | null): PromptMessage[] {
  const messages: PromptMessage[] = [{ role: "system", content: builtIn }];
  const deployment = deploymentPrompt?.trim();
  if (deployment) {
    messages.push({ role: "system", content: `${DEPLOYMENT_PROMPT_HEADING}\n\n${deployment}` });
  }
  return messages;
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
 * The prompt for a transcript, after the system messages (`systemMessages`). Every tool call gets a result (providers reject a call without
 * one): a call whose result was never persisted gets `MISSING_RESULT` as an error.
 */
export function buildPrompt(
  history: readonly Message[],
  systemPrompt: string,
  deploymentPrompt?: string | null,
): PromptMessage[] {
  const prompt = systemMessages(systemPrompt, deploymentPrompt);
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
