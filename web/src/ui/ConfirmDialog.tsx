/**
 * A modal confirmation on Radix's alert dialog: the rest of the page is inert, the focus stays
 * inside, Esc cancels (not while the action runs); the focus goes to Cancel first (the safe
 * choice) and, on closing, back to where it was when the dialog opened — or to `returnFocus()`
 * when the opener is gone (a menu item).
 */
import * as AlertDialog from "@radix-ui/react-alert-dialog";
import { type ReactNode, useState } from "react";
import { ErrorBox } from "./ErrorBox.tsx";

export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  onConfirm,
  onClose,
  returnFocus,
}: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  /** Runs the action; the dialog closes when it resolves and shows the error when it throws. */
  onConfirm(): Promise<void>;
  onClose(): void;
  /** Where the focus goes on closing when the element focused at opening has left the page. */
  returnFocus?: () => HTMLElement | null | undefined;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // The element focused as the dialog opens (its opener), read once.
  const [opener] = useState(() => document.activeElement as HTMLElement | null);

  async function confirm() {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <AlertDialog.Root
      open
      onOpenChange={(open) => {
        if (!open && !busy) onClose();
      }}
    >
      <AlertDialog.Portal>
        <AlertDialog.Overlay className="dialog-overlay" />
        <AlertDialog.Content
          className="dialog confirm-dialog"
          onEscapeKeyDown={(event) => {
            if (busy) event.preventDefault();
          }}
          onCloseAutoFocus={(event) => {
            event.preventDefault();
            const target = opener?.isConnected ? opener : returnFocus?.();
            target?.focus();
          }}
        >
          <AlertDialog.Title className="dialog-title">{title}</AlertDialog.Title>
          <AlertDialog.Description asChild>
            <div className="dialog-body">{children}</div>
          </AlertDialog.Description>
          <ErrorBox error={error} />
          <div className="dialog-actions">
            <AlertDialog.Cancel disabled={busy}>Cancel</AlertDialog.Cancel>
            <button
              type="button"
              className="btn-danger-solid"
              onClick={() => void confirm()}
              disabled={busy}
            >
              {confirmLabel}
            </button>
          </div>
        </AlertDialog.Content>
      </AlertDialog.Portal>
    </AlertDialog.Root>
  );
}
