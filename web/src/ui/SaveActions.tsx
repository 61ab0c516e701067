/**
 * A settings form's footer: its Save button (off while saving) and, once saved, "Saved." as a
 * status that a screen reader announces. Every settings form ends with it.
 */
export function SaveActions({ busy, saved }: { busy: boolean; saved: boolean }) {
  return (
    <div className="form-actions">
      <button className="btn-primary" type="submit" disabled={busy}>
        Save
      </button>
      {saved ? (
        <span className="muted" role="status">
          Saved.
        </span>
      ) : null}
    </div>
  );
}
