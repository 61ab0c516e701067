/**
 * "Your instructions": what every chat of yours tells its model after the deployment's system
 * prompt (`PATCH /users/me {instructions}`), from each chat's next turn; and how early your chats
 * are compacted (`CompactAtForm`). The server validates; its refusal is shown as it says it.
 */
import { type FormEvent, useState } from "react";
import { api } from "../api/client.ts";
import { SpendCard } from "../limits/SpendCard.tsx";
import { CharacterCount } from "../ui/CharacterCount.tsx";
import { ErrorBox } from "../ui/ErrorBox.tsx";
import { Field } from "../ui/Field.tsx";
import { SaveActions } from "../ui/SaveActions.tsx";
import { useAction } from "../ui/useAction.ts";
import { useAsync } from "../ui/useAsync.ts";
import { CompactAtForm } from "./CompactAtForm.tsx";

/** The server's limit (`MAX_USER_INSTRUCTIONS_CHARS`), shown beside the count; the server enforces it. */
const INSTRUCTIONS_LIMIT = 10_000;

function InstructionsForm({ initial }: { initial: string | null }) {
  const action = useAction();
  const [text, setText] = useState(initial ?? "");
  const [saved, setSaved] = useState(false);
  const length = text.length;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSaved(false);
    const ok = await action.run(async () => {
      const { user } = await api.updateMe({ instructions: text.trim() === "" ? null : text });
      setText(user.instructions ?? "");
    });
    setSaved(ok);
  }

  return (
    <form className="card settings-form" onSubmit={submit} aria-labelledby="instructions-title">
      <h2 id="instructions-title">Instructions for your chats</h2>
      <Field
        label="Your instructions"
        hint="Told to the model of every chat of yours, after Keel's built-in instructions and this deployment's, and before a workspace's AGENTS.md — from each chat's next turn. For example: the languages you prefer, how you like answers, what to avoid."
      >
        <textarea
          name="instructions"
          rows={12}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setSaved(false);
          }}
        />
      </Field>
      <CharacterCount length={length} limit={INSTRUCTIONS_LIMIT} />
      <ErrorBox error={action.error} title="Your instructions were not saved." />
      <SaveActions busy={action.busy} saved={saved} />
    </form>
  );
}

export function InstructionsPage() {
  const me = useAsync(() => api.me());
  return (
    <div className="page">
      <h1>Your instructions</h1>
      <p className="muted">
        Each chat shows what its model is told under “Instructions in effect” at the top.
      </p>
      <ErrorBox error={me.error} />
      {me.data ? (
        <>
          <InstructionsForm initial={me.data.user.instructions} />
          <CompactAtForm initial={me.data.user.compact_at} />
          <SpendCard />
        </>
      ) : me.loading ? (
        <p className="muted">Loading…</p>
      ) : null}
    </div>
  );
}
