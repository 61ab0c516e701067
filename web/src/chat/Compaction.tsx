/**
 * Context compaction in the chat view: the summary that replaced the earlier conversation for the
 * model (a quiet, collapsed divider across the transcript — the messages above it stay shown),
 * the status line while one is written, and the Compact action of the chat's header.
 */
import { memo } from "react";
import type { CompactionNotice, CompactionReason, Message, Usage } from "../api/types.ts";
import { Markdown } from "./Markdown.tsx";
import { formatUsage } from "./MessageView.tsx";

const REASONS: Record<CompactionReason, string> = {
  threshold: "to fit the model's context window",
  context_length: "when the model's context window was full",
  manual: "on request",
};

/** The summary's text: a compaction message has one `compaction` part. */
function summaryOf(message: Message): string {
  return message.parts.map((p) => (p.type === "compaction" ? p.text : "")).join("\n\n");
}

/** Memoized like `MessageView`: a streaming reply below it re-renders the page every frame. */
export const CompactionDivider = memo(function CompactionDivider({
  message,
  reason,
  usage,
  cost,
}: {
  message: Message;
  /** Known only when the compaction was seen live (a loaded transcript does not say why). */
  reason: CompactionReason | undefined;
  usage: Usage | undefined;
  cost: number | undefined;
}) {
  return (
    <details className="compaction" data-message-id={message.id}>
      <summary>
        <span className="compaction-label">
          Earlier conversation summarised
          {reason ? <span className="compaction-reason"> · {REASONS[reason]}</span> : null}
        </span>
      </summary>
      <div className="compaction-body">
        <p className="compaction-note muted">
          {/* Also here: a narrow window leaves the reason out of the one-line label. */}
          {reason ? `Summarised ${REASONS[reason]}. ` : ""}From here on the model reads this summary
          instead of the messages above.
        </p>
        <Markdown text={summaryOf(message)} />
        {usage ? <div className="msg-meta">Summary: {formatUsage(usage, cost)}</div> : null}
      </div>
    </details>
  );
});

/** Where the streaming reply would be: a summary is being written (no deltas stream for it). */
export function CompactingNotice({ notice }: { notice: CompactionNotice }) {
  return (
    <div className="compacting" role="status" data-reason={notice.reason}>
      {notice.reason === "manual"
        ? "Summarising the conversation…"
        : "Summarising the conversation to fit the model's context…"}
    </div>
  );
}

const COMPACT_HINT =
  "Summarise the conversation so far: the model then reads the summary instead of the earlier " +
  "messages (they stay here), which frees room in its context window.";

/** What Compact does now, or why it is not available. */
function compactTitle(props: CompactButtonProps): string {
  if (props.busy) return "Summarising, or about to: the summary appears in the transcript.";
  if (props.compacted) return "Nothing new to summarise since the last summary.";
  if (!props.enabled) return "The chat is about to run a turn: compact it after.";
  return props.running ? `${COMPACT_HINT} It runs when the current turn ends.` : COMPACT_HINT;
}

interface CompactButtonProps {
  /** Whether a compaction would do anything (see `canCompact`). */
  enabled: boolean;
  /** Asked for, or running: the button waits for it. */
  busy: boolean;
  /** The last message is a summary already. */
  compacted: boolean;
  /** A turn runs: the compaction waits for its end. */
  running: boolean;
  onCompact(): void;
}

export function CompactButton(props: CompactButtonProps) {
  return (
    <button
      type="button"
      className="btn-small compact-button"
      disabled={!props.enabled}
      title={compactTitle(props)}
      onClick={props.onCompact}
    >
      {props.busy ? "Compacting…" : "Compact"}
    </button>
  );
}
