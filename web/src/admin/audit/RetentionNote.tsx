/**
 * How long the audit log keeps events (`audit_retention_days` of the deployment's settings),
 * said under the page's title and changed in place: a period, or "forever". Older events are
 * deleted by the server's hourly housekeeping (docs/governance.md).
 */
import { type FormEvent, useState } from "react";
import { api } from "../../api/client.ts";
import { ErrorBox } from "../../ui/ErrorBox.tsx";
import { useAction } from "../../ui/useAction.ts";
import { useAsync } from "../../ui/useAsync.ts";

const CHOICES: ReadonlyArray<[days: number | null, label: string]> = [
  [30, "30 days"],
  [90, "90 days"],
  [180, "180 days"],
  [365, "1 year"],
  [730, "2 years"],
  [2555, "7 years"],
  [null, "forever"],
];

function period(days: number | null): string {
  if (days === null) return "forever";
  return CHOICES.find(([d]) => d === days)?.[1] ?? `${days} ${days === 1 ? "day" : "days"}`;
}

export function RetentionNote() {
  const settings = useAsync(() => api.getSettings());
  const action = useAction();
  const [editing, setEditing] = useState(false);
  const days = settings.data?.audit_retention_days;
  if (days === undefined) return null;

  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const value = String(new FormData(event.currentTarget).get("days"));
    const chosen = value === "forever" ? null : Number(value);
    if (await action.run(() => api.updateSettings({ audit_retention_days: chosen }))) {
      await settings.reload();
      setEditing(false);
    }
  }

  const choices = CHOICES.some(([d]) => d === days) ? CHOICES : [...CHOICES, [days, period(days)]];
  if (!editing) {
    return (
      <p className="muted audit-retention">
        {days === null
          ? "Events are kept forever."
          : `Events are kept for ${period(days)}, then deleted.`}{" "}
        <button type="button" className="btn-small" onClick={() => setEditing(true)}>
          Change
        </button>
      </p>
    );
  }
  return (
    <form className="audit-retention" onSubmit={save}>
      <label htmlFor="audit-retention-days">Keep events for</label>{" "}
      <select id="audit-retention-days" name="days" defaultValue={days ?? "forever"}>
        {choices.map(([d, label]) => (
          <option key={label} value={d ?? "forever"}>
            {label}
          </option>
        ))}
      </select>{" "}
      <button type="submit" className="btn-primary btn-small" disabled={action.busy}>
        Save
      </button>{" "}
      <button
        type="button"
        className="btn-small"
        onClick={() => {
          action.clear();
          setEditing(false);
        }}
      >
        Cancel
      </button>
      <ErrorBox error={action.error} title="Not saved." />
    </form>
  );
}
