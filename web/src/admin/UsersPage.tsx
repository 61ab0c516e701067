/** Users: create accounts, make admins, deactivate people who left. */
import type { FormEvent } from "react";
import { api } from "../api/client.ts";
import type { Role, User } from "../api/types.ts";
import { type LimitList, limitsApi } from "../limits/api.ts";
import { useSession } from "../session.tsx";
import { ErrorBox } from "../ui/ErrorBox.tsx";
import { Field } from "../ui/Field.tsx";
import { RecordTable } from "../ui/RecordTable.tsx";
import { useAction } from "../ui/useAction.ts";
import { useAsync } from "../ui/useAsync.ts";
import { UserLimitCell } from "./UserLimitCell.tsx";

function AddUserForm({ onAdded }: { onAdded(): void }) {
  const action = useAction();
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const ok = await action.run(() =>
      api.createUser({
        username: String(form.get("username")).trim(),
        email: String(form.get("email")).trim(),
        password: String(form.get("password")),
        role: String(form.get("role")) as Role,
      }),
    );
    if (ok) {
      formElement.reset();
      onAdded();
    }
  }
  return (
    <form className="card" onSubmit={submit} aria-labelledby="add-user-title">
      <h2 id="add-user-title">Add a user</h2>
      <div className="form-row">
        <Field label="Username">
          <input name="username" required maxLength={64} autoComplete="off" />
        </Field>
        <Field label="Email">
          <input name="email" type="email" required autoComplete="off" />
        </Field>
      </div>
      <div className="form-row">
        <Field label="Password" hint="At least 8 characters; share it with them privately.">
          <input
            name="password"
            type="password"
            required
            minLength={8}
            autoComplete="new-password"
          />
        </Field>
        <Field label="Role">
          <select name="role" defaultValue="member">
            <option value="member">member</option>
            <option value="admin">admin</option>
          </select>
        </Field>
      </div>
      <ErrorBox error={action.error} title="The user was not added." />
      <button className="btn-primary" type="submit" disabled={action.busy}>
        Add user
      </button>
    </form>
  );
}

function UserRow({
  user,
  isMe,
  onChanged,
  limits,
  onLimitChanged,
}: {
  user: User;
  isMe: boolean;
  onChanged(): void;
  /** Every user's own limit and the default (`GET /limits`); undefined while loading. */
  limits: LimitList | undefined;
  onLimitChanged(): void;
}) {
  const action = useAction();
  async function update(body: { role?: Role; active?: boolean }) {
    if (await action.run(() => api.updateUser(user.id, body))) onChanged();
  }
  return (
    <tr>
      <td>
        {user.username}
        {isMe ? <span className="muted"> (you)</span> : null}
      </td>
      <td>{user.email}</td>
      <td>
        <select
          value={user.role}
          disabled={action.busy}
          aria-label={`Role for ${user.username}`}
          onChange={(e) => void update({ role: e.target.value as Role })}
        >
          <option value="member">member</option>
          <option value="admin">admin</option>
        </select>
      </td>
      <td>
        {user.active ? (
          <span className="badge badge-waiting">active</span>
        ) : (
          <span className="badge">deactivated</span>
        )}
      </td>
      <td>
        {limits ? <UserLimitCell user={user} limits={limits} onChanged={onLimitChanged} /> : null}
      </td>
      <td>
        <button
          type="button"
          className={user.active ? "btn-small btn-danger" : "btn-small"}
          disabled={action.busy}
          aria-label={`${user.active ? "Deactivate" : "Activate"} ${user.username}`}
          onClick={() => void update({ active: !user.active })}
        >
          {user.active ? "Deactivate" : "Activate"}
        </button>
        <ErrorBox error={action.error} />
      </td>
    </tr>
  );
}

export function UsersPage() {
  const { user: me } = useSession();
  const users = useAsync(() => api.listUsers());
  const limits = useAsync(() => limitsApi.list());
  return (
    <div className="page">
      <h1>Users</h1>
      <ErrorBox error={users.error} />
      <RecordTable
        columns={["Username", "Email", "Role", "Status", "Spend limit", "Actions"]}
        count={users.data?.users.length ?? 0}
        loading={users.loading}
        empty="No user yet."
      >
        {(users.data?.users ?? []).map((u) => (
          <UserRow
            key={u.id}
            user={u}
            isMe={u.id === me.id}
            onChanged={() => void users.reload()}
            limits={limits.data}
            onLimitChanged={() => void limits.reload()}
          />
        ))}
      </RecordTable>
      <AddUserForm onAdded={() => void users.reload()} />
    </div>
  );
}
