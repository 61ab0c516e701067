/**
 * The pieces a record table's row uses when it is edited or refused: a row spanning the table's
 * width under the record (an edit form, a refusal — a cell is too narrow for either), and an
 * edit form's ending (why it was not saved, Save, Cancel).
 */
import type { ReactNode } from "react";
import { ErrorBox } from "./ErrorBox.tsx";
import type { Action } from "./useAction.ts";

export function WideRow({
  span,
  className,
  children,
}: {
  /** The table's number of columns. */
  span: number;
  className: "edit-row" | "notice-row";
  children: ReactNode;
}) {
  return (
    <tr className={className}>
      <td colSpan={span}>{children}</td>
    </tr>
  );
}

export function SaveOrCancel({ action, onCancel }: { action: Action; onCancel(): void }) {
  return (
    <>
      <ErrorBox error={action.error} title="Not saved." />
      <div className="form-actions">
        <button className="btn-primary" type="submit" disabled={action.busy}>
          Save
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </>
  );
}
