/**
 * Chat retention on the Settings page: archive chats nobody has touched for a while, and delete
 * archived chats some time after they were archived. Both are off until an admin picks a period;
 * the server's housekeeping applies them hourly (docs/governance.md, "Retention").
 */
import { type FormEvent, useState } from "react";
import { api } from "../api/client.ts";
import type { Settings } from "../api/types.ts";
import { ErrorBox } from "../ui/ErrorBox.tsx";
import { Field } from "../ui/Field.tsx";
import { SaveActions } from "../ui/SaveActions.tsx";
import { useAction } from "../ui/useAction.ts";

const PERIODS = [7, 14, 30, 60, 90, 180, 365, 730];

function label(days: number): string {
  if (days % 365 === 0) return days === 365 ? "1 year" : `${days / 365} years`;
  return days === 1 ? "1 day" : `${days} days`;
}

/** "Never", the presets, and the current value if an admin set another one through the API. */
function PeriodSelect({
  name,
  value,
  onChange,
  ...labelled
}: {
  name: string;
  value: number | null;
  onChange(value: number | null): void;
  id?: string;
  "aria-describedby"?: string;
}) {
  const options = value === null || PERIODS.includes(value) ? PERIODS : [...PERIODS, value];
  return (
    <select
      {...labelled}
      name={name}
      value={value === null ? "" : String(value)}
      onChange={(e) => onChange(e.target.value === "" ? null : Number(e.target.value))}
    >
      <option value="">Never</option>
      {[...options]
        .sort((a, b) => a - b)
        .map((days) => (
          <option key={days} value={String(days)}>
            After {label(days)}
          </option>
        ))}
    </select>
  );
}

export function RetentionSettings({ settings }: { settings: Settings }) {
  const action = useAction();
  const [archiveAfter, setArchiveAfter] = useState(settings.chat_archive_after_days);
  const [deleteAfter, setDeleteAfter] = useState(settings.chat_delete_after_days);
  const [saved, setSaved] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSaved(false);
    const ok = await action.run(async () => {
      const updated = await api.updateSettings({
        chat_archive_after_days: archiveAfter,
        chat_delete_after_days: deleteAfter,
      });
      setArchiveAfter(updated.chat_archive_after_days);
      setDeleteAfter(updated.chat_delete_after_days);
    });
    setSaved(ok);
  }

  return (
    <form className="card settings-form" onSubmit={submit} aria-labelledby="retention-title">
      <h2 id="retention-title">Retention</h2>
      <Field
        label="Archive idle chats"
        hint="Chats with no new message for this long move to their owner's Archived list. Running chats are never archived; owners can unarchive."
      >
        <PeriodSelect
          name="chat_archive_after_days"
          value={archiveAfter}
          onChange={(value) => {
            setArchiveAfter(value);
            setSaved(false);
          }}
        />
      </Field>
      <Field
        label="Delete archived chats"
        hint="Archived chats — their messages and events — are deleted this long after they were archived. This cannot be undone; each deletion is in the audit log."
      >
        <PeriodSelect
          name="chat_delete_after_days"
          value={deleteAfter}
          onChange={(value) => {
            setDeleteAfter(value);
            setSaved(false);
          }}
        />
      </Field>
      {deleteAfter !== null ? (
        <p className="notice">
          Chats archived more than {label(deleteAfter)} ago will be deleted within the hour after
          you save.
        </p>
      ) : null}
      <ErrorBox error={action.error} title="The retention settings were not saved." />
      <SaveActions busy={action.busy} saved={saved} />
    </form>
  );
}
