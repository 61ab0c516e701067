/**
 * A spend limit in an admin table's row (a user's, a group's): the limit in force and where it
 * comes from, and "Change", which opens a small dialog to set it or remove it.
 */
import * as Dialog from "@radix-ui/react-alert-dialog";
import { type FormEvent, useState } from "react";
import { ErrorBox } from "../ui/ErrorBox.tsx";
import { useAction } from "../ui/useAction.ts";
import type { SpendLimit } from "./api.ts";
import { limitText } from "./format.ts";
import { draftOf, type LimitDraft, LimitInputs, limitOf } from "./LimitInputs.tsx";
import "./limits.css";

export interface LimitLabels {
  /** The period's label in the dialog: "They may spend". */
  label: string;
  /** The "no limit of its own" choice: "Everyone's default ($20 a month)". */
  none: string;
  /** Under the dialog's title: what the limit does. */
  hint: string;
}

export function LimitCell({
  subject,
  own,
  inForce,
  source,
  labels,
  save,
  remove,
  onChanged,
}: {
  /** Whose limit: a username, a group's name. */
  subject: string;
  /** The limit of its own; undefined: none. */
  own: SpendLimit | undefined;
  /** The limit that applies (its own or another); null: none. */
  inForce: SpendLimit | null;
  /** Where `inForce` comes from when it is not its own ("default", "group"). */
  source?: string;
  labels: LimitLabels;
  save(limit: SpendLimit): Promise<unknown>;
  remove(): Promise<unknown>;
  onChanged(): void;
}) {
  const [draft, setDraft] = useState<LimitDraft | null>(null);
  return (
    <div className="user-limit">
      <span>
        {inForce ? limitText(inForce) : <span className="muted">No limit</span>}
        {inForce && source ? <span className="muted"> · {source}</span> : null}
      </span>
      <button
        type="button"
        className="btn-small"
        aria-label={`Change the spend limit of ${subject}`}
        onClick={() => setDraft(draftOf(own))}
      >
        Change
      </button>
      {draft ? (
        <LimitDialog
          subject={subject}
          initial={draft}
          labels={labels}
          save={save}
          remove={remove}
          onClose={() => setDraft(null)}
          onSaved={onChanged}
        />
      ) : null}
    </div>
  );
}

/** The dialog of "Change": a form; Save sets the limit, or removes it ("none"). */
function LimitDialog({
  subject,
  initial,
  labels,
  save,
  remove,
  onClose,
  onSaved,
}: {
  subject: string;
  initial: LimitDraft;
  labels: LimitLabels;
  save(limit: SpendLimit): Promise<unknown>;
  remove(): Promise<unknown>;
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
    const ok = await action.run(() => (limit ? save(limit) : remove()));
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
          <Dialog.Title className="dialog-title">Spend limit of {subject}</Dialog.Title>
          <Dialog.Description className="muted user-limit-hint">{labels.hint}</Dialog.Description>
          <form className="user-limit-form" onSubmit={submit}>
            <LimitInputs
              draft={draft}
              onChange={setDraft}
              label={labels.label}
              noneLabel={labels.none}
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
