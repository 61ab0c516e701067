/**
 * "Delete" for one row of an admin table: asks first in a dialog that names what goes, and names
 * what it deletes for screen readers.
 */
import { useState } from "react";
import { ConfirmDialog } from "./ConfirmDialog.tsx";

export function DeleteButton({
  kind,
  name,
  disabled,
  onConfirmed,
}: {
  /** What it is, for the question: "model", "provider". */
  kind: string;
  name: string;
  disabled: boolean;
  /** Deletes it; the page shows a refusal where it shows the row's other errors. */
  onConfirmed(): void;
}) {
  const [asking, setAsking] = useState(false);
  return (
    <>
      <button
        type="button"
        className="btn-small btn-danger"
        disabled={disabled}
        aria-label={`Delete ${name}`}
        onClick={() => setAsking(true)}
      >
        Delete
      </button>
      {asking ? (
        <ConfirmDialog
          title={`Delete the ${kind} “${name}”?`}
          confirmLabel="Delete"
          onClose={() => setAsking(false)}
          onConfirm={async () => onConfirmed()}
        >
          <p>This cannot be undone.</p>
        </ConfirmDialog>
      ) : null}
    </>
  );
}
