/** "Delete" for one row of an admin table: asks first, names what it deletes for screen readers. */
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
  onConfirmed(): void;
}) {
  return (
    <button
      type="button"
      className="btn-small btn-danger"
      disabled={disabled}
      aria-label={`Delete ${name}`}
      onClick={() => {
        if (window.confirm(`Delete the ${kind} “${name}”?`)) onConfirmed();
      }}
    >
      Delete
    </button>
  );
}
