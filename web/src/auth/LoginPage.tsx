import { type FormEvent, useState } from "react";
import { api } from "../api/client.ts";
import { ErrorBox } from "../ui/ErrorBox.tsx";
import { Field } from "../ui/Field.tsx";

export function LoginPage({ onDone }: { onDone(): void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    try {
      await api.login({ email: String(form.get("email")), password: String(form.get("password")) });
      onDone();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <main className="center-page">
      <form className="card" onSubmit={submit}>
        <h1>Sign in to Keel</h1>
        <Field label="Email">
          <input name="email" type="email" required autoComplete="username" />
        </Field>
        <Field label="Password">
          <input name="password" type="password" required autoComplete="current-password" />
        </Field>
        <ErrorBox error={error} />
        <button className="btn-primary" type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
