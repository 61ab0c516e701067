/**
 * What surrounds a message's content (issue 12): who wrote it (the model's name on replies) and
 * when, its actions (Copy; Edit on the user's messages; Regenerate on the last reply), the quiet
 * notes about its step ("Stopped", "retried 2× — …"), a turn's error kept in place, and the
 * inline editor. Every sentence about an error or a retry is the server's: nothing here says what
 * went wrong in words of its own.
 */
import { type KeyboardEvent, useEffect, useRef, useState, useSyncExternalStore } from "react";
import type { Message, MessagePart } from "../api/types.ts";
import { Link } from "../router.tsx";
import { CopyButton } from "../ui/CopyButton.tsx";
import { fullTime, relativeTime } from "./time.ts";

export type ErrorPart = Extract<MessagePart, { type: "error" }>;

/** Error kinds an administrator fixes on the provider's page (its key, its model, its account). */
const PROVIDER_KINDS: ReadonlySet<string> = new Set(["auth", "config", "usage_limit"]);

/**
 * One clock for every message's time, ticking each minute while any is shown: a long transcript
 * does not run a timer per message.
 */
const minutes = (() => {
  const listeners = new Set<() => void>();
  let timer: number | undefined;
  let now = Date.now();
  return {
    subscribe(listener: () => void): () => void {
      listeners.add(listener);
      timer ??= window.setInterval(() => {
        now = Date.now();
        for (const l of listeners) l();
      }, 60_000);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) {
          window.clearInterval(timer);
          timer = undefined;
        }
      };
    },
    now: () => now,
  };
})();

/** The time beside a message: relative, the full date on hover; re-read every minute. */
export function MessageTime({ iso }: { iso: string }) {
  useSyncExternalStore(minutes.subscribe, minutes.now);
  return (
    <time className="msg-time" dateTime={iso} title={fullTime(iso)}>
      {relativeTime(iso)}
    </time>
  );
}

/** "You" or the model's name, and the time. */
export function MessageHeader({ who, iso }: { who: string; iso: string }) {
  return (
    <div className="msg-role">
      <span className="msg-author">{who}</span>
      <MessageTime iso={iso} />
    </div>
  );
}

/** "Stopped" and "retried 2× — Anthropic is overloaded (529)": facts about the step, quietly. */
export function StepNotes({ message }: { message: Pick<Message, "stopped" | "retries"> }) {
  const { stopped, retries } = message;
  if (!stopped && retries === null) return null;
  return (
    <div className="msg-notes">
      {stopped ? (
        <span className="msg-stopped" data-note="stopped">
          Stopped
        </span>
      ) : null}
      {retries ? (
        <span className="msg-retried" data-note="retried" data-kind={retries.kind}>
          retried {retries.count}× — {retries.message.replace(/\.$/, "")}
        </span>
      ) : null}
    </div>
  );
}

/** A turn's error where it happened: the server's sentence (what failed and what to do). */
export function ErrorNote({ part, admin }: { part: ErrorPart; admin: boolean }) {
  return (
    <div className="msg-error" data-kind={part.kind}>
      <strong>The turn failed.</strong> {part.message}
      {admin && PROVIDER_KINDS.has(part.kind) ? (
        <div>
          <Link to="/admin/providers" className="btn btn-small">
            Open the providers page
          </Link>
        </div>
      ) : null}
    </div>
  );
}

/** The text of a message's text parts, as Copy copies it. */
export function copyableText(parts: readonly MessagePart[]): string {
  return parts
    .flatMap((p) => (p.type === "text" ? [p.text] : []))
    .join("\n\n")
    .trim();
}

export interface MessageActionsProps {
  text: string;
  /** Shown for the user's own messages (not in an archived chat). */
  onEdit?: (() => void) | undefined;
  /** Shown on the last reply while no turn runs. */
  onRegenerate?: (() => void) | undefined;
  /** "Try again" under an error, "Regenerate" under a reply. */
  regenerateLabel?: string;
}

export function MessageActions({
  text,
  onEdit,
  onRegenerate,
  regenerateLabel = "Regenerate",
}: MessageActionsProps) {
  if (text === "" && !onEdit && !onRegenerate) return null;
  return (
    <div className="msg-actions">
      {text !== "" ? <CopyButton text={text} label="Copy the message" /> : null}
      {onEdit ? (
        <button type="button" className="btn-small" onClick={onEdit}>
          Edit
        </button>
      ) : null}
      {onRegenerate ? (
        <button type="button" className="btn-small" onClick={onRegenerate}>
          {regenerateLabel}
        </button>
      ) : null}
    </div>
  );
}

/**
 * A user message being edited. Saving says beforehand what it does: the later messages leave the
 * transcript (the server deletes them) and the chat runs again from here.
 */
export function MessageEditor({
  initial,
  later,
  running,
  onSave,
  onCancel,
}: {
  initial: string;
  /** How many messages come after this one (they leave the transcript). */
  later: number;
  running: boolean;
  onSave(text: string): Promise<void>;
  onCancel(): void;
}) {
  const [text, setText] = useState(initial);
  const [saving, setSaving] = useState(false);
  const box = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);
  const unchanged = text.trim() === "" || text.trim() === initial.trim();
  async function save() {
    if (unchanged || saving) return;
    setSaving(true);
    try {
      await onSave(text.trim());
    } catch {
      // The page shows why; the editor stays open with the text.
      setSaving(false);
    }
  }
  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Escape") {
      event.preventDefault();
      onCancel();
    } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void save();
    }
  }
  const consequence = [
    running ? "The reply being written is stopped. " : "",
    later === 0
      ? "The chat runs again from this message."
      : `The ${later === 1 ? "message" : `${later} messages`} after this one will leave the transcript, and the chat runs again from here.`,
  ].join("");
  return (
    <form
      className="msg-editor"
      aria-label="Edit the message"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <textarea
        ref={box}
        value={text}
        rows={Math.min(12, Math.max(2, text.split("\n").length))}
        aria-label="Message"
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
      />
      <p className="msg-editor-note" id="edit-consequence">
        {consequence}
      </p>
      <div className="msg-editor-actions">
        <button type="button" className="btn-small" onClick={onCancel}>
          Cancel
        </button>
        <button
          type="submit"
          className="btn-primary"
          disabled={unchanged || saving}
          aria-describedby="edit-consequence"
        >
          Save and rerun
        </button>
      </div>
    </form>
  );
}
