/**
 * Groups of users, and the models restricted to groups (migration 18): a model with no group is
 * everyone's; a model with groups is for admins and the members of any of them.
 *
 * Who may use a model is asked on every new chat, model change and turn, so the one thing read
 * there is cached (`read-cache.ts`): which models are restricted, to which groups (a small map,
 * every row of `model_groups`). An unrestricted model — the usual case — then costs no query; a
 * restricted one costs one (is the user an admin or in one of its groups). Membership is read
 * from the database each time, so a user removed from a group loses access at their next turn.
 * The map is dropped, here and on every replica, whenever `model_groups` changes: a model's
 * groups set, or a group deleted (its rows cascade).
 */
import { randomUUID } from "node:crypto";
import { ConflictError, type Store } from "./contract.ts";
import { type Database, FOREIGN_KEY_VIOLATION, type Queryable, sqlState } from "./db.ts";
import type { Migration } from "./migrations.ts";
import { cacheKeys, type ReadCache } from "./read-cache.ts";
import { iso } from "./rows.ts";
import { conflict, must } from "./sql.ts";

export const GROUPS_MIGRATION: Migration = {
  version: 18,
  name: "groups and model access",
  sql: `
CREATE TABLE groups (
  id text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  name text NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX groups_name_key ON groups (lower(name));

CREATE TABLE group_members (
  group_id text NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, user_id)
);
-- "Which groups is this user in", asked when a restricted model is checked.
CREATE INDEX group_members_user ON group_members (user_id);

-- A model with rows here is restricted to those groups; without any, everyone may use it.
CREATE TABLE model_groups (
  model_id text NOT NULL REFERENCES models (id) ON DELETE CASCADE,
  group_id text NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  PRIMARY KEY (model_id, group_id)
);
CREATE INDEX model_groups_group ON model_groups (group_id);
`,
};

export interface Group {
  id: string;
  name: string;
  /** Its members, by username. */
  user_ids: string[];
  /** The models restricted to it (among other groups, maybe). */
  model_ids: string[];
  created_at: string;
  updated_at: string;
}

export interface NewGroup {
  name: string;
  user_ids?: string[];
}

/** Some ids named no user (or no group): the caller's input, not a conflict. */
export class UnknownIdsError extends Error {
  override readonly name = "UnknownIdsError";
  readonly field: "user_ids" | "group_ids";
  readonly ids: string[];
  constructor(field: "user_ids" | "group_ids", ids: string[]) {
    super(`no ${field === "user_ids" ? "user" : "group"} has the id ${ids.join(", ")}`);
    this.field = field;
    this.ids = ids;
  }
}

/** The `Store` methods this module implements. */
export const GROUP_METHODS = [
  "createGroup",
  "getGroup",
  "listGroups",
  "updateGroup",
  "deleteGroup",
  "modelGroupIds",
  "setModelGroups",
  "mayUseModel",
] as const satisfies ReadonlyArray<keyof Store>;

/** What `Store` declares of groups (its methods are these). */
export interface GroupMethods {
  /** ConflictError for a name taken (case aside); UnknownIdsError for an unknown user id. */
  createGroup(input: NewGroup): Promise<Group>;
  getGroup(id: string): Promise<Group | null>;
  /** Every group, by name. */
  listGroups(): Promise<Group[]>;
  /** `user_ids` replaces the members. Null for an unknown group; errors as `createGroup`. */
  updateGroup(id: string, patch: Partial<NewGroup>): Promise<Group | null>;
  /**
   * False for an unknown group. ConflictError when it is the only group some model is restricted
   * to: deleting it would open that model to everyone.
   */
  deleteGroup(id: string): Promise<boolean>;
  /** Model id → the groups it is restricted to, for every restricted model (cached). */
  modelGroupIds(): Promise<Record<string, string[]>>;
  /** Restricts a model to `groupIds` (empty: everyone). UnknownIdsError for an unknown group. */
  setModelGroups(modelId: string, groupIds: string[]): Promise<void>;
  /** Whether the user may use the model: an admin, the model unrestricted, or in one of its groups. */
  mayUseModel(userId: string, modelId: string): Promise<boolean>;
}

type GroupRow = {
  id: string;
  name: string;
  user_ids: string[] | null;
  model_ids: string[] | null;
  created_at: unknown;
  updated_at: unknown;
};

const GROUP_COLUMNS = `g.id, g.name, g.created_at, g.updated_at,
  ARRAY(SELECT m.user_id FROM group_members m JOIN users u ON u.id = m.user_id
         WHERE m.group_id = g.id ORDER BY lower(u.username)) AS user_ids,
  ARRAY(SELECT mg.model_id FROM model_groups mg WHERE mg.group_id = g.id ORDER BY mg.model_id)
    AS model_ids`;

function toGroup(row: GroupRow): Group {
  return {
    id: row.id,
    name: row.name,
    user_ids: row.user_ids ?? [],
    model_ids: row.model_ids ?? [],
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

export class SqlGroups implements GroupMethods {
  readonly #db: Database;
  readonly #cache: ReadCache;

  constructor(db: Database, cache: ReadCache) {
    this.#db = db;
    this.#cache = cache;
  }

  async createGroup(input: NewGroup): Promise<Group> {
    const id = randomUUID();
    const userIds = distinct(input.user_ids ?? []);
    return this.#db.transaction(async (tx) => {
      await checkUsers(tx, userIds);
      await tx
        .query("INSERT INTO groups (id, name) VALUES ($1, $2)", [id, input.name])
        .catch(nameTaken(input.name));
      await setMembers(tx, id, userIds);
      return must((await readGroup(tx, id)) ?? undefined);
    });
  }

  async getGroup(id: string): Promise<Group | null> {
    return readGroup(this.#db, id);
  }

  async listGroups(): Promise<Group[]> {
    const rows = await this.#db.query<GroupRow>(
      `SELECT ${GROUP_COLUMNS} FROM groups g ORDER BY lower(g.name), g.id`,
    );
    return rows.map(toGroup);
  }

  async updateGroup(id: string, patch: Partial<NewGroup>): Promise<Group | null> {
    return this.#db.transaction(async (tx) => {
      const [found] = await tx.query("SELECT id FROM groups WHERE id = $1 FOR UPDATE", [id]);
      if (!found) return null;
      if (patch.user_ids !== undefined) {
        const userIds = distinct(patch.user_ids);
        await checkUsers(tx, userIds);
        await setMembers(tx, id, userIds);
      }
      await tx
        .query("UPDATE groups SET name = coalesce($2, name), updated_at = now() WHERE id = $1", [
          id,
          patch.name ?? null,
        ])
        .catch(nameTaken(patch.name ?? ""));
      return readGroup(tx, id);
    });
  }

  async deleteGroup(id: string): Promise<boolean> {
    const deleted = await this.#db.transaction(async (tx) => {
      // Locked against `setModelGroups`, which holds its groups' rows (FOR SHARE) while it writes:
      // no model can gain this group as its only one between the check and the delete.
      const [found] = await tx.query("SELECT id FROM groups WHERE id = $1 FOR UPDATE", [id]);
      if (!found) return false;
      const only = await tx.query<{ display_name: string }>(
        `SELECT m.display_name FROM models m
          WHERE EXISTS (SELECT 1 FROM model_groups mg WHERE mg.model_id = m.id AND mg.group_id = $1)
            AND NOT EXISTS (SELECT 1 FROM model_groups mg
                             WHERE mg.model_id = m.id AND mg.group_id <> $1)
          ORDER BY m.display_name`,
        [id],
      );
      if (only.length > 0) throw onlyGroupOf(only.map((row) => row.display_name));
      await tx.query("DELETE FROM groups WHERE id = $1", [id]);
      return true;
    });
    // Its `model_groups` rows went with it.
    if (deleted) await this.#cache.changed(cacheKeys.modelGroups);
    return deleted;
  }

  modelGroupIds(): Promise<Record<string, string[]>> {
    return this.#cache.get(cacheKeys.modelGroups, async () => {
      const rows = await this.#db.query<{ model_id: string; group_ids: string[] }>(
        `SELECT model_id, array_agg(group_id ORDER BY group_id) AS group_ids
           FROM model_groups GROUP BY model_id`,
      );
      return Object.fromEntries(rows.map((row) => [row.model_id, row.group_ids]));
    });
  }

  async setModelGroups(modelId: string, groupIds: string[]): Promise<void> {
    const ids = distinct(groupIds);
    await this.#db.transaction(async (tx) => {
      const found = await tx.query<{ id: string }>(
        "SELECT id FROM groups WHERE id = ANY($1::text[]) FOR SHARE",
        [ids],
      );
      const known = new Set(found.map((row) => row.id));
      const unknown = ids.filter((gid) => !known.has(gid));
      if (unknown.length > 0) throw new UnknownIdsError("group_ids", unknown);
      await tx.query(
        "DELETE FROM model_groups WHERE model_id = $1 AND group_id <> ALL($2::text[])",
        [modelId, ids],
      );
      await tx
        .query(
          `INSERT INTO model_groups (model_id, group_id)
           SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`,
          [modelId, ids],
        )
        .catch(conflict("no model with this id"));
      await tx.query("UPDATE models SET updated_at = now() WHERE id = $1", [modelId]);
    });
    await this.#cache.changed(cacheKeys.modelGroups, cacheKeys.model(modelId));
  }

  async mayUseModel(userId: string, modelId: string): Promise<boolean> {
    const groups = (await this.modelGroupIds())[modelId];
    if (groups === undefined || groups.length === 0) return true;
    const [row] = await this.#db.query<{ ok: boolean }>(
      `SELECT u.role = 'admin' OR EXISTS (
                SELECT 1 FROM group_members gm
                 WHERE gm.user_id = u.id AND gm.group_id = ANY($2::text[])) AS ok
         FROM users u WHERE u.id = $1`,
      [userId, groups],
    );
    return row?.ok === true;
  }
}

async function readGroup(q: Queryable, id: string): Promise<Group | null> {
  const [row] = await q.query<GroupRow>(`SELECT ${GROUP_COLUMNS} FROM groups g WHERE g.id = $1`, [
    id,
  ]);
  return row ? toGroup(row) : null;
}

/** UnknownIdsError naming the ids no user has (deactivated users are users). */
async function checkUsers(q: Queryable, userIds: string[]): Promise<void> {
  if (userIds.length === 0) return;
  const found = await q.query<{ id: string }>("SELECT id FROM users WHERE id = ANY($1::text[])", [
    userIds,
  ]);
  const known = new Set(found.map((row) => row.id));
  const unknown = userIds.filter((id) => !known.has(id));
  if (unknown.length > 0) throw new UnknownIdsError("user_ids", unknown);
}

/** Makes `userIds` the group's members (and nobody else). */
async function setMembers(q: Queryable, groupId: string, userIds: string[]): Promise<void> {
  await q.query("DELETE FROM group_members WHERE group_id = $1 AND user_id <> ALL($2::text[])", [
    groupId,
    userIds,
  ]);
  // A user deleted since `checkUsers` is a foreign-key violation: reported as unknown.
  await q
    .query(
      `INSERT INTO group_members (group_id, user_id)
       SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`,
      [groupId, userIds],
    )
    .catch((error: unknown) => {
      if (sqlState(error) === FOREIGN_KEY_VIOLATION) {
        throw new UnknownIdsError("user_ids", userIds);
      }
      throw error;
    });
}

function distinct(ids: string[]): string[] {
  return [...new Set(ids)];
}

function nameTaken(name: string): (error: unknown) => never {
  return conflict(`A group named "${name}" already exists: choose another name.`);
}

function onlyGroupOf(models: string[]): ConflictError {
  const list = models.map((name) => `"${name}"`).join(", ");
  const it = models.length === 1 ? "it" : "them";
  return new ConflictError(
    `This group is the only one allowed to use ${list}: deleting it would open ${it} to everyone. ` +
      `Give ${it} another group, or make ${it} everyone's, first.`,
  );
}
