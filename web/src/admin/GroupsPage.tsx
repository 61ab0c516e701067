/**
 * Groups: named sets of people. On the Models page a model can be limited to groups; then only
 * their members (and admins) see it in their model picker. A group that is the only one a model
 * is limited to cannot be deleted: the server's refusal says which model, shown under the row.
 */
import { type FormEvent, useState } from "react";
import { api } from "../api/client.ts";
import type { Model, User } from "../api/types.ts";
import { type LimitList, limitsApi } from "../limits/api.ts";
import { Link } from "../router.tsx";
import { DeleteButton } from "../ui/DeleteButton.tsx";
import { ErrorBox } from "../ui/ErrorBox.tsx";
import { Field } from "../ui/Field.tsx";
import { SaveOrCancel, WideRow } from "../ui/RecordEditing.tsx";
import { RecordTable } from "../ui/RecordTable.tsx";
import { useAction } from "../ui/useAction.ts";
import { useAsync } from "../ui/useAsync.ts";
import { GroupLimitCell } from "./GroupLimitCell.tsx";
import { type Group, groupsApi } from "./groups/api.ts";
import { MemberPicker } from "./groups/MemberPicker.tsx";
import "./groups/groups.css";

const COLUMNS = ["Name", "Members", "Models limited to it", "Spend limit", "Actions"];
/** Names shown in the Members cell before "and N more". */
const NAMES_SHOWN = 3;

function NameField({ defaultValue }: { defaultValue?: string }) {
  return (
    <Field label="Name" hint="Unique; for example a team: Research, Platform, Contractors.">
      <input name="name" required maxLength={100} autoComplete="off" defaultValue={defaultValue} />
    </Field>
  );
}

function AddGroupForm({ users, onAdded }: { users: User[]; onAdded(): void }) {
  const action = useAction();
  const [members, setMembers] = useState<string[]>([]);
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const name = String(new FormData(formElement).get("name")).trim();
    const ok = await action.run(() => groupsApi.create({ name, user_ids: members }));
    if (ok) {
      formElement.reset();
      setMembers([]);
      onAdded();
    }
  }
  return (
    <form className="card" onSubmit={submit} aria-labelledby="add-group-title">
      <h2 id="add-group-title">Create a group</h2>
      <NameField />
      <MemberPicker users={users} value={members} onChange={setMembers} />
      <ErrorBox error={action.error} title="The group was not created." />
      <button className="btn-primary" type="submit" disabled={action.busy}>
        Create group
      </button>
    </form>
  );
}

function EditGroupForm({
  group,
  users,
  onDone,
}: {
  group: Group;
  users: User[];
  onDone(changed: boolean): void;
}) {
  const action = useAction();
  const [members, setMembers] = useState<string[]>(group.user_ids);
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const name = String(new FormData(event.currentTarget).get("name")).trim();
    const ok = await action.run(() => groupsApi.update(group.id, { name, user_ids: members }));
    if (ok) onDone(true);
  }
  return (
    <form className="edit-form" onSubmit={submit} aria-label={`Edit ${group.name}`}>
      <h3>Edit {group.name}</h3>
      <NameField defaultValue={group.name} />
      <MemberPicker users={users} value={members} onChange={setMembers} />
      <SaveOrCancel action={action} onCancel={() => onDone(false)} />
    </form>
  );
}

function membersText(group: Group, users: User[]): string {
  const names = group.user_ids.map((id) => users.find((u) => u.id === id)?.username ?? "?");
  if (names.length === 0) return "Nobody yet";
  const shown = names.slice(0, NAMES_SHOWN).join(", ");
  const more = names.length - NAMES_SHOWN;
  return more > 0 ? `${shown} and ${more} more` : shown;
}

function GroupRow({
  group,
  users,
  models,
  onChanged,
  limits,
  onLimitChanged,
}: {
  group: Group;
  users: User[];
  models: Model[];
  onChanged(): void;
  /** Every limit (`GET /limits`); undefined while loading. */
  limits: LimitList | undefined;
  onLimitChanged(): void;
}) {
  const action = useAction();
  const [editing, setEditing] = useState(false);
  const modelNames = group.model_ids.map(
    (id) => models.find((m) => m.id === id)?.display_name ?? "a model",
  );
  async function remove() {
    if (await action.run(() => groupsApi.remove(group.id))) onChanged();
  }
  return (
    <>
      <tr>
        <td>
          <strong>{group.name}</strong>
        </td>
        <td data-label="Members" className="group-members-cell">
          <span className="badge" title={`${group.member_count} members`}>
            {group.member_count}
          </span>{" "}
          <span className={group.member_count === 0 ? "muted" : undefined}>
            {membersText(group, users)}
          </span>
        </td>
        <td data-label="Models limited to it">
          {modelNames.length > 0 ? modelNames.join(", ") : <span className="muted">None</span>}
        </td>
        <td data-label="Spend limit">
          {limits ? (
            <GroupLimitCell group={group} limits={limits} onChanged={onLimitChanged} />
          ) : null}
        </td>
        <td>
          <div className="row-actions">
            <button
              type="button"
              className="btn-small"
              onClick={() => setEditing(!editing)}
              aria-expanded={editing}
              aria-label={`Edit ${group.name}`}
            >
              Edit
            </button>
            <DeleteButton
              kind="group"
              name={group.name}
              disabled={action.busy}
              onConfirmed={() => void remove()}
            />
          </div>
        </td>
      </tr>
      {action.error ? (
        <WideRow span={COLUMNS.length} className="notice-row">
          <ErrorBox error={action.error} />
        </WideRow>
      ) : null}
      {editing ? (
        <WideRow span={COLUMNS.length} className="edit-row">
          <EditGroupForm
            group={group}
            users={users}
            onDone={(changed) => {
              setEditing(false);
              if (changed) onChanged();
            }}
          />
        </WideRow>
      ) : null}
    </>
  );
}

export function GroupsPage() {
  const groups = useAsync(() => groupsApi.list());
  const users = useAsync(() => api.listUsers());
  const models = useAsync(() => api.listModels());
  const limits = useAsync(() => limitsApi.list());
  const list = groups.data?.groups ?? [];
  const userList = users.data?.users ?? [];
  const modelList = models.data?.models ?? [];
  return (
    <div className="page">
      <h1>Groups</h1>
      <p className="muted groups-intro">
        Put people in groups, then limit a model to some groups on the{" "}
        <Link to="/admin/models">Models</Link> page: only their members (and admins) can pick it.
        Models limited to no group are everyone's.
      </p>
      <ErrorBox error={groups.error ?? users.error ?? models.error} />
      <RecordTable
        columns={COLUMNS}
        count={list.length}
        loading={groups.loading}
        empty="No group yet."
      >
        {list.map((g) => (
          <GroupRow
            key={g.id}
            group={g}
            users={userList}
            models={modelList}
            onChanged={() => void groups.reload()}
            limits={limits.data}
            onLimitChanged={() => void limits.reload()}
          />
        ))}
      </RecordTable>
      <AddGroupForm users={userList} onAdded={() => void groups.reload()} />
    </div>
  );
}
