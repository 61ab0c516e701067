/** One message of the transcript: user text, or an assistant's text, reasoning and tool cards. */
import { memo } from "react";
import type { Message, MessagePart, Usage } from "../api/types.ts";
import { Markdown } from "./Markdown.tsx";
import type { DraftPart, PendingMessage } from "./reducer.ts";
import { textOf } from "./reducer.ts";
import { ToolCard } from "./tools/ToolCard.tsx";

export type ToolResults = ReadonlyMap<string, Extract<MessagePart, { type: "tool_result" }>>;

function Reasoning({ text }: { text: string }) {
  return (
    <details className="reasoning">
      <summary>Reasoning</summary>
      <div className="body">{text}</div>
    </details>
  );
}

/** Tokens, and the cost when the model has pricing (`cost_usd` is null without it). */
export function formatUsage(usage: Usage, cost?: number | null): string {
  const n = (v: number) => v.toLocaleString("en-US");
  const tokens = `${n(usage.inputTokens)} in · ${n(usage.outputTokens)} out`;
  return cost === undefined || cost === null
    ? `${tokens} tokens`
    : `${tokens} tokens · $${cost.toFixed(4)}`;
}

function UserBubble({ text, note }: { text: string; note?: string }) {
  return (
    <>
      <div className="msg-role">You{note ? ` · ${note}` : ""}</div>
      <div className="bubble">{text}</div>
    </>
  );
}

export const MessageView = memo(function MessageView({
  message,
  results,
  usage,
  cost,
  live,
}: {
  message: Message;
  results: ToolResults;
  usage: Usage | undefined;
  cost: number | undefined;
  /** Output streaming from this message's running tool calls, by call id. */
  live?: ReadonlyMap<string, string> | undefined;
}) {
  if (message.role === "user") {
    return (
      <article className="msg msg-user" data-message-id={message.id}>
        <UserBubble text={textOf(message.parts)} />
      </article>
    );
  }
  if (message.role === "tool") return null; // shown inside the call's card
  return (
    <article className="msg msg-assistant" data-message-id={message.id} aria-label="Agent reply">
      <div className="msg-role">Agent</div>
      {message.parts.map((part, i) => {
        const key = `${i}`;
        switch (part.type) {
          case "text":
            return <Markdown key={key} text={part.text} />;
          case "reasoning":
            return <Reasoning key={key} text={part.text} />;
          case "tool_call": {
            const result = results.get(part.tool_call_id);
            return (
              <ToolCard
                key={key}
                callId={part.tool_call_id}
                name={part.name}
                input={part.input}
                output={result ? result.output : live?.get(part.tool_call_id)}
                isError={result?.is_error ?? false}
                running={result === undefined}
                watching
              />
            );
          }
          default: // tool results render inside their call's card
            return null;
        }
      })}
      {usage ? <div className="msg-meta">{formatUsage(usage, cost)}</div> : null}
    </article>
  );
});

/** A message still streaming: the same rendering, with the growing part re-rendered per frame. */
export function DraftView({ parts }: { parts: DraftPart[] }) {
  const outputs = new Map<string, string>();
  for (const p of parts) if (p.type === "tool_result") outputs.set(p.tool_call_id, p.output_text);
  return (
    <article className="msg msg-assistant msg-draft" aria-busy="true" aria-label="Agent reply">
      <div className="msg-role">Agent</div>
      {parts.map((part, i) => {
        const key = `${i}`;
        const last = i === parts.length - 1;
        switch (part.type) {
          case "text":
            return <Markdown key={key} text={part.text} streaming={last} />;
          case "reasoning":
            return <Reasoning key={key} text={part.text} />;
          case "tool_call":
            return (
              <ToolCard
                key={key}
                callId={part.tool_call_id}
                name={part.name}
                input={part.input_text}
                output={outputs.get(part.tool_call_id)}
                isError={false}
                running
                watching={false}
              />
            );
          default: // tool results render inside their call's card
            return null;
        }
      })}
      <span className="caret" aria-hidden="true" />
    </article>
  );
}

export function PendingView({ entry, running }: { entry: PendingMessage; running: boolean }) {
  return (
    <article className="msg msg-user msg-queued" data-pending-id={entry.id}>
      <UserBubble text={textOf(entry.parts)} note={running ? "queued" : "sending…"} />
    </article>
  );
}
