/**
 * Compaction (DESIGN.md §7): the conversation so far → a summary the model can continue from,
 * persisted as a message with one `{type: "compaction", text}` part. From then on the prompt is
 * the instructions, the latest summary (told as a user message) and the messages after it; the
 * transcript keeps everything.
 *
 * The summary request is self-contained: the conversation is rendered as a plain-text transcript
 * in one user message, so no provider sees a tool call without its tool definitions, a thinking
 * block without its signature, or a history that does not fit: each tool output is cut short in
 * the transcript, and when even that is too long the oldest entries are left out (the previous
 * summary, if any, always stays).
 */
import type { PromptMessage, StreamRequest } from "../provider/types.ts";
import type { Message } from "../store/types.ts";
import { estimateTextTokens } from "./context.ts";

/** Why a chat was compacted (the `compaction` event's `reason`). */
export type CompactionReason = "threshold" | "context_length" | "manual";

export const COMPACTION_SYSTEM_PROMPT = `You summarise a conversation between a user and Keel, an AI coding agent working in the user's workspace. The agent will continue the work with only your summary and the messages that come after it, so the summary must hold everything it needs and nothing it does not.

Write the summary in plain Markdown, under these headings:
## Goal
What the user asked for, in their terms, with every requirement and constraint they gave; their latest message quoted word for word.
## Decisions
What was decided and why, including approaches tried and rejected.
## Files
Every file read, created or changed, with what was done to it (paths exactly as they appeared).
## Work done
What was completed and verified (commands run, tests passed or failed, with the key output).
## Open work
What remains, and the very next step the agent was about to take.

Be specific: names, paths, commands, error messages and numbers verbatim. Do not address the user, do not add advice, do not invent anything that is not in the conversation.`;

export const COMPACTION_REQUEST =
  "Summarise the conversation above as instructed, so the agent can continue the work from your summary alone.";

/** How the summary is told to the model in later prompts. */
export const SUMMARY_PREAMBLE =
  "The conversation so far was summarised to fit the model's context window; the full transcript is kept, but only this summary of it is sent. The summary:";

/** How a summary reads in the prompt (a user message: every provider accepts one first). */
export function summaryPromptMessage(text: string): PromptMessage {
  return { role: "user", content: [{ type: "text", text: `${SUMMARY_PREAMBLE}\n\n${text}` }] };
}

export function isCompaction(message: Pick<Message, "parts">): boolean {
  return message.parts.some((part) => part.type === "compaction");
}

/**
 * The part of a transcript the model still sees: from its latest compaction message on (the
 * whole transcript when it was never compacted).
 */
export function activeHistory(history: readonly Message[]): Message[] {
  for (let i = history.length - 1; i >= 0; i--) {
    const message = history[i];
    if (message && isCompaction(message)) return history.slice(i);
  }
  return [...history];
}

/** The longest a tool output, a call's input or a reasoning block is in the summary's transcript. */
const TRANSCRIPT_OUTPUT_CHARS = 2_000;
const TRANSCRIPT_INPUT_CHARS = 1_000;

function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… [${text.length - max} more characters]`;
}

function valueText(value: unknown): string {
  return typeof value === "string" ? value : (JSON.stringify(value ?? null) ?? "");
}

/** One prompt message as a transcript entry; "" when it has nothing to say. */
function transcriptEntry(message: PromptMessage): string {
  if (message.role === "system") return "";
  const lines: string[] = [];
  for (const part of message.content) {
    switch (part.type) {
      case "text":
        if (part.text.trim() !== "") lines.push(part.text);
        break;
      case "reasoning":
        break;
      case "tool_call":
        lines.push(`[called ${part.name} ${clip(valueText(part.input), TRANSCRIPT_INPUT_CHARS)}]`);
        break;
      case "tool_result":
        lines.push(
          `[${part.name} ${part.is_error ? "failed" : "returned"}]\n${clip(valueText(part.output), TRANSCRIPT_OUTPUT_CHARS)}`,
        );
        break;
    }
  }
  if (lines.length === 0) return "";
  const who = message.role === "assistant" ? "Agent" : message.role === "tool" ? "Tools" : "User";
  return `### ${who}\n${lines.join("\n")}`;
}

/**
 * The summary request for a prompt (its system messages are the instructions: left out, they
 * stay in every prompt anyway). `budgetTokens`: the most the transcript may take; the oldest
 * entries after the first (the previous summary, or the user's first request) are left out first.
 */
export function compactionRequest(
  prompt: readonly PromptMessage[],
  budgetTokens: number,
  maxOutputTokens?: number,
): StreamRequest {
  const entries = prompt.map(transcriptEntry).filter((entry) => entry !== "");
  const sizes = entries.map((entry) => estimateTextTokens(entry) + 2);
  let total = sizes.reduce((sum, size) => sum + size, 0);
  let first = 1;
  while (total > budgetTokens && first < entries.length - 1) {
    total -= sizes[first] ?? 0;
    first += 1;
  }
  const omitted = first - 1;
  const kept = [
    ...entries.slice(0, 1),
    ...(omitted > 0
      ? [`[${omitted} earlier entries left out: too long to summarise at once]`]
      : []),
    ...entries.slice(first),
  ];
  const transcript = `<conversation>\n${kept.join("\n\n")}\n</conversation>\n\n${COMPACTION_REQUEST}`;
  return {
    messages: [
      { role: "system", content: COMPACTION_SYSTEM_PROMPT },
      { role: "user", content: [{ type: "text", text: transcript }] },
    ],
    ...(maxOutputTokens ? { maxOutputTokens } : {}),
  };
}
