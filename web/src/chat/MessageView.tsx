/**
 * One message of the transcript: user text, or an assistant's text, reasoning and tool cards —
 * with who wrote it and when, Copy, Edit (the user's) and Regenerate (the last reply), and the
 * step's notes (`MessageChrome.tsx`).
 */
import { memo } from "react";
import type { Message, MessagePart, Usage } from "../api/types.ts";
import { Markdown } from "./Markdown.tsx";
import {
  copyableText,
  ErrorNote,
  MessageActions,
  MessageEditor,
  MessageHeader,
  StepNotes,
} from "./MessageChrome.tsx";
import "./messages.css";
import type { DraftPart, PendingMessage } from "./reducer.ts";
import { textOf } from "./reducer.ts";
import type { StaleRemainder } from "./retryKeep.ts";
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

/**
 * What the page lets a message do. Callbacks take the message's id, so they stay the same from
 * one render to the next and a memoized message is not re-rendered per delta.
 */
export interface MessageControls {
  /** The display name of the model that wrote a reply. */
  modelName?: string | undefined;
  admin: boolean;
  /** This user message is open in the editor. */
  editing: boolean;
  /** How many messages follow this one (an edit removes them). */
  later: number;
  running: boolean;
  /** Absent: messages cannot be edited (an archived chat). */
  onEdit?: ((id: string) => void) | undefined;
  onSaveEdit(id: string, text: string): Promise<void>;
  onCancelEdit(): void;
  /** Only on the last reply, while no turn runs. */
  onRegenerate?: (() => void) | undefined;
}

export const MessageView = memo(function MessageView({
  message,
  results,
  usage,
  cost,
  live,
  modelName,
  admin,
  editing,
  later,
  running,
  onEdit,
  onSaveEdit,
  onCancelEdit,
  onRegenerate,
}: {
  message: Message;
  results: ToolResults;
  usage: Usage | undefined;
  cost: number | undefined;
  /** Output streaming from this message's running tool calls, by call id. */
  live?: ReadonlyMap<string, string> | undefined;
} & MessageControls) {
  if (message.role === "user") {
    const text = textOf(message.parts);
    return (
      <article className="msg msg-user" data-message-id={message.id}>
        <MessageHeader who="You" iso={message.created_at} />
        {editing ? (
          <MessageEditor
            initial={text}
            later={later}
            running={running}
            onSave={(edited) => onSaveEdit(message.id, edited)}
            onCancel={onCancelEdit}
          />
        ) : (
          <>
            <div className="bubble">{text}</div>
            <MessageActions
              text={copyableText(message.parts)}
              onEdit={onEdit ? () => onEdit(message.id) : undefined}
            />
          </>
        )}
      </article>
    );
  }
  if (message.role === "tool") return null; // shown inside the call's card
  // A turn's error kept in place: written by Keel, not by a model.
  const failed = message.parts.some((p) => p.type === "error");
  return (
    <article className="msg msg-assistant" data-message-id={message.id} aria-label="Agent reply">
      <MessageHeader who={modelName ?? (failed ? "Keel" : "Agent")} iso={message.created_at} />
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
          case "error":
            return <ErrorNote key={key} part={part} admin={admin} />;
          default: // tool results render inside their call's card
            return null;
        }
      })}
      <StepNotes message={message} />
      {usage ? <div className="msg-meta">{formatUsage(usage, cost)}</div> : null}
      <MessageActions
        text={copyableText(message.parts)}
        onRegenerate={onRegenerate}
        regenerateLabel={failed ? "Try again" : "Regenerate"}
      />
    </article>
  );
});

/**
 * A message still streaming: the same rendering, with the growing part re-rendered per frame.
 * After a retry, what the failed attempt had shown and the new one has not re-streamed yet
 * follows it, dimmed (`stale`).
 */
export function DraftView({
  parts,
  stale = null,
  modelName,
}: {
  parts: DraftPart[];
  stale?: StaleRemainder | null;
  modelName?: string | undefined;
}) {
  const outputs = new Map<string, string>();
  for (const p of parts) if (p.type === "tool_result") outputs.set(p.tool_call_id, p.output_text);
  return (
    <article className="msg msg-assistant msg-draft" aria-busy="true" aria-label="Agent reply">
      <div className="msg-role">
        <span className="msg-author">{modelName ?? "Agent"}</span>
      </div>
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
      {stale ? <StaleText stale={stale} /> : null}
      <span className="caret" aria-hidden="true" />
    </article>
  );
}

/** The failed attempt's text the retried one has not reached: shown, dimmed, not announced. */
function StaleText({ stale }: { stale: StaleRemainder }) {
  const rest = stale.rest.flatMap((p) =>
    p.type === "text" || p.type === "reasoning" ? [p.text] : [],
  );
  const text = [stale.tail, ...rest].filter((t) => t !== "").join("\n\n");
  if (text === "") return null;
  return (
    <div className="msg-stale" aria-hidden="true" data-stale="true">
      {text}
    </div>
  );
}

export function PendingView({ entry, running }: { entry: PendingMessage; running: boolean }) {
  return (
    <article className="msg msg-user msg-queued" data-pending-id={entry.id}>
      <UserBubble text={textOf(entry.parts)} note={running ? "queued" : "sending…"} />
    </article>
  );
}
