/**
 * A user's spend limit on the Users page: the limit in force — their own, or everyone's default —
 * and "Change", which opens a small dialog to set their own or go back to the default.
 */
import * as Dialog from "@radix-ui/react-alert-dialog";
import { type FormEvent, useState } from "react";
import type { User } from "../api/types.ts";
import type { SpendLimit } from "../limits/api.ts";
import { limitsApi } from "../limits/api.ts";
import { limitText } from "../limits/format.ts";
import { draftOf, type LimitDraft, LimitInputs, limitOf } from "../limits/LimitInputs.tsx";
import "../limits/limits.css";
import { ErrorBox } from "../ui/ErrorBox.tsx";
import { useAction } from "../ui/useAction.ts";

export function UserLimitCell({
  user,
  own,
  fallback,
  onChanged,
}: {
  user: User;
  /** The user's own limit; undefined: none. */
  own: SpendLimit | undefined;
  /** The deployment's default; null: none. */
  fallback: SpendLimit | null;
  onChanged(): void;
}) {
  const [draft, setDraft] = useState<LimitDraft | null>(null);
  const inForce = own ?? fallback;
  return (
    <div className="user-limit">
      <span>
        {inForce ? limitText(inForce) : <span className="muted">No limit</span>}
        {own === undefined && fallback ? <span className="muted"> · default</span> : null}
      </span>
      <button
        type="button"
        className="btn-small"
        aria-label={`Change the spend limit of ${user.username}`}
        onClick={() => setDraft(draftOf(own))}
      >
        Change
      </button>
      {draft ? (
        <LimitDialog
          user={user}
          initial={draft}
          fallback={fallback}
          onClose={() => setDraft(null)}
          onSaved={onChanged}
        />
      ) : null}
    </div>
  );
}

/** The dialog of "Change": a form, Save sets the user's own limit or goes back to the default. */
function LimitDialog({
  user,
  initial,
  fallback,
  onClose,
  onSaved,
}: {
  user: User;
  initial: LimitDraft;
  fallback: SpendLimit | null;
  onClose(): void;
  onSaved(): void;
}) {
  const action = useAction();
  const [draft, setDraft] = useState(initial);
  // The "Change" button that opened it, to take the focus back.
  const [opener] = useState(() => document.activeElement as HTMLElement | null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const limit = limitOf(draft);
    const ok = await action.run(() =>
      limit ? limitsApi.setUserLimit(user.id, limit) : limitsApi.removeUserLimit(user.id),
    );
    if (ok) {
      onSaved();
      onClose();
    }
  }

  return (
    <Dialog.Root
      open
      onOpenChange={(open) => {
        if (!open && !action.busy) onClose();
      }}
    >
      <Dialog.Portal>
        <Dialog.Overlay className="dialog-overlay" />
        <Dialog.Content
          className="dialog"
          onCloseAutoFocus={(event) => {
            event.preventDefault();
            if (opener?.isConnected) opener.focus();
          }}
        >
          <Dialog.Title className="dialog-title">Spend limit of {user.username}</Dialog.Title>
          <Dialog.Description className="muted user-limit-hint">
            Their own limit replaces everyone's default. It applies at once, also to a turn that is
            running.
          </Dialog.Description>
          <form className="user-limit-form" onSubmit={submit}>
            <LimitInputs
              draft={draft}
              onChange={setDraft}
              label="They may spend"
              noneLabel={
                fallback
                  ? `Everyone's default (${limitText(fallback)})`
                  : "No limit (everyone's default)"
              }
            />
            <ErrorBox error={action.error} title="The limit was not saved." />
            <div className="dialog-actions">
              <Dialog.Cancel type="button" disabled={action.busy}>
                Cancel
              </Dialog.Cancel>
              <button type="submit" className="btn-primary" disabled={action.busy}>
                Save
              </button>
            </div>
          </form>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
