/**
 * "Compact my chats earlier": the user's own compaction threshold (`PATCH /users/me
 * {compact_at}`), a share of the model's context window. It can only make compaction come
 * earlier: the server takes the lower of it and the model's threshold.
 */
import { type FormEvent, useState } from "react";
import { api } from "../api/client.ts";
import { ErrorBox } from "../ui/ErrorBox.tsx";
import { Field } from "../ui/Field.tsx";
import { SaveActions } from "../ui/SaveActions.tsx";
import { useAction } from "../ui/useAction.ts";

/** The shares offered. The server takes 0.1–0.95; the model's default is 0.8. */
const CHOICES = [0.3, 0.4, 0.5, 0.6, 0.7] as const;

const percent = (share: number) => `${Math.round(share * 1000) / 10}%`;

export function CompactAtForm({ initial }: { initial: number | null }) {
  const action = useAction();
  const [value, setValue] = useState(initial === null ? "" : String(initial));
  const [saved, setSaved] = useState(false);
  // A share set through the API that is not offered is still shown as the current choice.
  const choices: number[] = [...CHOICES];
  if (value !== "" && !choices.includes(Number(value))) {
    choices.push(Number(value));
    choices.sort((a, b) => a - b);
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSaved(false);
    const ok = await action.run(async () => {
      const { user } = await api.updateMe({ compact_at: value === "" ? null : Number(value) });
      setValue(user.compact_at === null ? "" : String(user.compact_at));
    });
    setSaved(ok);
  }

  return (
    <form className="card settings-form" onSubmit={submit} aria-labelledby="compact-at-title">
      <h2 id="compact-at-title">Context compaction</h2>
      <Field
        label="Compact my chats earlier"
        hint="When a chat's prompt fills this share of its model's context window, Keel summarises the earlier conversation (the transcript keeps every message). This can only make it happen earlier than the model's own threshold (80% unless an administrator changed it), never later."
      >
        <select
          className="compact-at-select"
          name="compact_at"
          value={value}
          onChange={(e) => {
            setValue(e.target.value);
            setSaved(false);
          }}
        >
          <option value="">Model default</option>
          {choices.map((share) => (
            <option key={share} value={String(share)}>
              At {percent(share)} of the context window
            </option>
          ))}
        </select>
      </Field>
      <ErrorBox error={action.error} title="Your compaction setting was not saved." />
      <SaveActions busy={action.busy} saved={saved} />
    </form>
  );
}
