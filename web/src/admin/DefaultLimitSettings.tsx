/**
 * The default spend limit on the Settings page: what every user may spend per day, week or month
 * unless they have a limit of their own (set on the Users page). Off until an admin picks one;
 * it applies at once, to turns already running too (docs/governance.md, "Spend limits").
 */
import { type FormEvent, useState } from "react";
import { api } from "../api/client.ts";
import type { Settings } from "../api/types.ts";
import { draftOf, LimitInputs, limitOf } from "../limits/LimitInputs.tsx";
import { ErrorBox } from "../ui/ErrorBox.tsx";
import { SaveActions } from "../ui/SaveActions.tsx";
import { useAction } from "../ui/useAction.ts";

export function DefaultLimitSettings({ settings }: { settings: Settings }) {
  const action = useAction();
  const [draft, setDraft] = useState(() => draftOf(settings.default_limit));
  const [saved, setSaved] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSaved(false);
    const ok = await action.run(async () => {
      const updated = await api.updateSettings({ default_limit: limitOf(draft) });
      setDraft(draftOf(updated.default_limit));
    });
    setSaved(ok);
  }

  return (
    <form className="card settings-form" onSubmit={submit} aria-labelledby="default-limit-title">
      <h2 id="default-limit-title">Spend limit</h2>
      <LimitInputs
        draft={draft}
        onChange={(next) => {
          setDraft(next);
          setSaved(false);
        }}
        label="Every user may spend"
        noneLabel="No limit"
        hint="Calendar periods in UTC. A user over it can start no chat and send no message until it resets; a running turn stops before its next step. Admins keep the admin pages. A user's own limit (Users page) replaces this one."
      />
      <ErrorBox error={action.error} title="The spend limit was not saved." />
      <SaveActions busy={action.busy} saved={saved} />
    </form>
  );
}
