/**
 * The message box: Enter sends, Shift+Enter adds a line, Esc (or the Stop button) stops a running
 * turn, ↑ in the empty box edits the last message sent. Sending while a turn runs is allowed: the message is queued behind it.
 */
import { type FormEvent, type KeyboardEvent, useRef, useState } from "react";

export interface ComposerProps {
  onSend(text: string): Promise<void> | void;
  /** Shown while a turn runs. */
  onStop?: () => void;
  /** ↑ in the empty box: edit the last message sent (true when there was one to edit). */
  onEditLast?: () => boolean;
  running?: boolean;
  placeholder?: string;
  sendLabel?: string;
  /** Controls shown under the box, before the buttons (the new-chat page's pickers). */
  children?: React.ReactNode;
  autoFocus?: boolean;
  /** Said above the box (the spend limit's notice); with `blocked`, Send is off. */
  notice?: React.ReactNode;
  blocked?: boolean;
}

export function Composer({
  onSend,
  onStop,
  onEditLast,
  running = false,
  placeholder = "Message the agent",
  sendLabel = "Send",
  children,
  autoFocus = true,
  notice,
  blocked = false,
}: ComposerProps) {
  const [text, setText] = useState("");
  const [sending, setSending] = useState(false);
  const box = useRef<HTMLTextAreaElement>(null);

  async function send() {
    const message = text.trim();
    if (message === "" || sending || blocked) return;
    setSending(true);
    try {
      await onSend(message);
      setText("");
    } catch {
      // The page shows why; the text stays so nothing typed is lost.
    } finally {
      setSending(false);
      box.current?.focus();
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void send();
    } else if (event.key === "Escape" && running && onStop) {
      event.preventDefault();
      onStop();
    } else if (event.key === "ArrowUp" && text === "" && onEditLast?.()) {
      event.preventDefault();
    }
  }

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    void send();
  }

  // The box takes the composer's whole width; the pickers (children) and the buttons share the
  // row under it and wrap on a narrow window, so nothing squeezes the box.
  return (
    <div className="composer">
      {notice}
      <form onSubmit={onSubmit} aria-label="Compose a message">
        <label className="sr-only" htmlFor="composer-text">
          Message
        </label>
        <textarea
          id="composer-text"
          ref={box}
          rows={2}
          value={text}
          placeholder={placeholder}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
          // biome-ignore lint/a11y/noAutofocus: the composer is the page's purpose
          autoFocus={autoFocus}
        />
        <div className="composer-bar">
          {children}
          <div className="composer-actions">
            {running && onStop ? (
              <button type="button" className="btn-danger" onClick={onStop}>
                Stop
              </button>
            ) : null}
            <button
              type="submit"
              className="btn-primary"
              disabled={sending || blocked || text.trim() === ""}
            >
              {sendLabel}
            </button>
          </div>
        </div>
      </form>
      <p className="hint">
        Enter sends · Shift+Enter adds a line{onEditLast ? " · ↑ edits your last message" : ""}
        {running ? " · Esc stops the turn" : ""}
      </p>
    </div>
  );
}
