/**
 * `keel groups`: groups of users, to which admins restrict models (admin), via the HTTP API.
 * Groups are named by name or id, users by username, email or id, as a person would type them.
 */
import { Command } from "commander";
import type { ApiClient } from "./client.ts";
import type { CliIO } from "./io.ts";
import { collect } from "./options.ts";
import { listOf, loggedInClient, runCommand, UserError } from "./session.ts";

interface GroupSummary {
  id: string;
  name: string;
  user_ids: string[];
  member_count: number;
  model_ids: string[];
}

interface UserSummary {
  id: string;
  username: string;
  email: string;
}

async function users(client: ApiClient): Promise<UserSummary[]> {
  return listOf<UserSummary>(await client.get("/users"), "users");
}

/** The ids of `names` (username, email or id, case aside), or a UserError naming the unknown. */
function userIds(all: UserSummary[], names: string[]): string[] {
  return names.map((name) => {
    const key = name.toLowerCase();
    const user = all.find(
      (u) => u.id === name || u.username.toLowerCase() === key || u.email.toLowerCase() === key,
    );
    if (!user) throw new UserError(`No user "${name}" (a username, email or id).`);
    return user.id;
  });
}

async function findGroup(client: ApiClient, which: string): Promise<GroupSummary> {
  const list = listOf<GroupSummary>(await client.get("/groups"), "groups");
  const group = list.find((g) => g.id === which || g.name.toLowerCase() === which.toLowerCase());
  if (!group) throw new UserError(`No group "${which}". See \`keel groups list\`.`);
  return group;
}

/** Sets `group`'s members to what `change` makes of them; prints the count. */
async function changeMembers(
  io: CliIO,
  which: string,
  names: string[],
  change: (current: string[], named: string[]) => string[],
): Promise<number> {
  const client = await loggedInClient();
  const [group, all] = await Promise.all([findGroup(client, which), users(client)]);
  const named = userIds(all, names);
  const updated = await client.patch<GroupSummary>(`/groups/${encodeURIComponent(group.id)}`, {
    user_ids: change(group.user_ids, named),
  });
  io.stderr(`${updated.name}: ${plural(updated.member_count, "member")}.\n`);
  return 0;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

interface ModelSummary {
  id: string;
  model: string;
  display_name: string;
  group_ids?: string[];
}

/** Restricts a model (by id, display name or model id) to `groupNames`; none: everyone's. */
async function restrictModel(io: CliIO, which: string, groupNames: string[]): Promise<number> {
  const client = await loggedInClient();
  const models = listOf<ModelSummary>(await client.get("/models"), "models");
  const key = which.toLowerCase();
  const model = models.find(
    (m) => m.id === which || m.display_name.toLowerCase() === key || m.model.toLowerCase() === key,
  );
  if (!model) throw new UserError(`No model "${which}". See \`keel models list\`.`);
  const groups = await Promise.all(groupNames.map((name) => findGroup(client, name)));
  await client.patch(`/models/${encodeURIComponent(model.id)}`, {
    group_ids: groups.map((g) => g.id),
  });
  io.stderr(
    groups.length
      ? `${model.display_name}: only ${groups.map((g) => g.name).join(", ")} (and admins).\n`
      : `${model.display_name}: everyone.\n`,
  );
  return 0;
}

export function groupsCommand(io: CliIO): Command {
  const groups = new Command("groups").description(
    "Manage groups of users; a model restricted to groups is for their members (admin).",
  );
  groups
    .command("list")
    .description("List groups: id, name, members.")
    .action(() =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        const [list, all] = await Promise.all([
          client.get("/groups").then((body) => listOf<GroupSummary>(body, "groups")),
          users(client),
        ]);
        for (const g of list) {
          const names = g.user_ids.map((id) => all.find((u) => u.id === id)?.username ?? id);
          const models = g.model_ids.length ? `  ${plural(g.model_ids.length, "model")}` : "";
          io.stdout(
            `${g.id}  ${g.name}  ${plural(g.member_count, "member")}${models}${names.length ? `  ${names.join(", ")}` : ""}\n`,
          );
        }
        return 0;
      }),
    );
  groups
    .command("create")
    .description("Create a group; prints its id.")
    .argument("<name>", "unique, case aside")
    .option("--member <user>", "a member: username, email or id (repeatable)", collect, [])
    .action((name: string, options: { member: string[] }) =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        const ids = options.member.length ? userIds(await users(client), options.member) : [];
        const created = await client.post<GroupSummary>("/groups", { name, user_ids: ids });
        io.stdout(`${created.id}\n`);
        return 0;
      }),
    );
  groups
    .command("add")
    .description("Add users to a group.")
    .argument("<group>", "the group's name or id")
    .argument("<users...>", "usernames, emails or ids")
    .action((which: string, names: string[]) =>
      runCommand(io, () =>
        changeMembers(io, which, names, (current, named) => [...new Set([...current, ...named])]),
      ),
    );
  groups
    .command("remove")
    .description("Remove users from a group; they lose its models from their next turn.")
    .argument("<group>", "the group's name or id")
    .argument("<users...>", "usernames, emails or ids")
    .action((which: string, names: string[]) =>
      runCommand(io, () =>
        changeMembers(io, which, names, (current, named) =>
          current.filter((id) => !named.includes(id)),
        ),
      ),
    );
  groups
    .command("restrict")
    .description("Let only these groups' members (and admins) use a model.")
    .argument("<model>", "the model's id, display name or model id")
    .argument("<groups...>", "group names or ids")
    .action((which: string, names: string[]) =>
      runCommand(io, () => restrictModel(io, which, names)),
    );
  groups
    .command("unrestrict")
    .description("Let everyone use a model again.")
    .argument("<model>", "the model's id, display name or model id")
    .action((which: string) => runCommand(io, () => restrictModel(io, which, [])));
  groups
    .command("delete")
    .description("Delete a group (refused while it is the only group a model is restricted to).")
    .argument("<group>", "the group's name or id")
    .action((which: string) =>
      runCommand(io, async () => {
        const client = await loggedInClient();
        const group = await findGroup(client, which);
        await client.delete(`/groups/${encodeURIComponent(group.id)}`);
        io.stderr(`Deleted ${group.name}.\n`);
        return 0;
      }),
    );
  return groups;
}
