/** First run: the server has no user, so the person here creates the owner (an admin). */
import { type FormEvent, useState } from "react";
import { api } from "../api/client.ts";
import type { User } from "../api/types.ts";
import { ErrorBox } from "../ui/ErrorBox.tsx";
import { Field } from "../ui/Field.tsx";

export function SetupPage({ onDone }: { onDone(user: User): void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    try {
      const { user } = await api.createFirstUser({
        username: String(form.get("username")),
        email: String(form.get("email")),
        password: String(form.get("password")),
      });
      onDone(user);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <main className="center-page">
      <form className="card" onSubmit={submit}>
        <h1>Welcome to Keel</h1>
        <p className="muted">
          Create the owner account. The owner is an administrator: next you add a model provider and
          a model, then chat.
        </p>
        <Field label="Username">
          <input name="username" required autoComplete="username" maxLength={64} />
        </Field>
        <Field label="Email">
          <input name="email" type="email" required autoComplete="email" />
        </Field>
        <Field label="Password" hint="At least 8 characters.">
          <input
            name="password"
            type="password"
            required
            minLength={8}
            autoComplete="new-password"
          />
        </Field>
        <ErrorBox error={error} />
        <button className="btn-primary" type="submit" disabled={busy}>
          Create owner account
        </button>
      </form>
    </main>
  );
}
