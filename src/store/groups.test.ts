import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConflictError } from "./contract.ts";
import { UnknownIdsError } from "./groups.ts";
import type { SqlStore } from "./store.ts";
import {
  createTestDatabase,
  type Opened,
  type TestDatabase,
  unique,
  until,
} from "./test-support.ts";
import type { Role } from "./types.ts";

describe("groups and model access in the store", () => {
  let database: TestDatabase;
  let opened: Opened;
  let store: SqlStore;
  beforeAll(async () => {
    database = await createTestDatabase();
    opened = await database.open();
    store = opened.store;
  });
  afterAll(async () => {
    await database?.cleanup();
  });

  const user = (role: Role = "member") => {
    const name = unique("u");
    return store.createUser({ username: name, email: `${name}@example.com`, password: "pw", role });
  };
  const model = async () => {
    const provider = await store.createProvider({ type: "openai-compatible", name: unique("p") });
    return store.createModel({ provider_id: provider.id, model: unique("m") });
  };

  it("creates, lists, renames and changes the members of a group", async () => {
    const [a, b, c] = await Promise.all([user(), user(), user()]);
    const group = await store.createGroup({ name: unique("Team"), user_ids: [a.id, b.id, a.id] });
    expect(new Set(group.user_ids)).toEqual(new Set([a.id, b.id]));
    expect(group.user_ids).toHaveLength(2);
    expect(group.model_ids).toEqual([]);

    const renamed = await store.updateGroup(group.id, {
      name: `${group.name}-2`,
      user_ids: [c.id],
    });
    expect(renamed).toMatchObject({ name: `${group.name}-2`, user_ids: [c.id] });
    // A rename alone keeps the members.
    expect((await store.updateGroup(group.id, { name: group.name }))?.user_ids).toEqual([c.id]);
    expect((await store.listGroups()).map((g) => g.id)).toContain(group.id);
    expect(await store.getGroup(group.id)).toMatchObject({ id: group.id, user_ids: [c.id] });
    expect(await store.updateGroup("no-such-group", { name: "x" })).toBeNull();
  });

  it("refuses a name taken (case aside) and unknown users, changing nothing", async () => {
    const name = unique("Ops");
    const group = await store.createGroup({ name });
    await expect(store.createGroup({ name: name.toUpperCase() })).rejects.toBeInstanceOf(
      ConflictError,
    );
    const other = await store.createGroup({ name: unique("Other") });
    await expect(store.updateGroup(other.id, { name: name.toLowerCase() })).rejects.toBeInstanceOf(
      ConflictError,
    );
    const error = await store
      .createGroup({ name: unique("Ghosts"), user_ids: ["no-such-user"] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownIdsError);
    expect(error).toMatchObject({ field: "user_ids", ids: ["no-such-user"] });
    const member = await user();
    await store.updateGroup(group.id, { user_ids: [member.id] });
    await expect(
      store.updateGroup(group.id, { user_ids: [member.id, "no-such-user"] }),
    ).rejects.toBeInstanceOf(UnknownIdsError);
    expect((await store.getGroup(group.id))?.user_ids).toEqual([member.id]);
  });

  it("a model with groups is for admins and their members only; without, for everyone", async () => {
    const [inside, outside, admin] = await Promise.all([user(), user(), user("admin")]);
    const m = await model();
    const group = await store.createGroup({ name: unique("Research"), user_ids: [inside.id] });
    for (const u of [inside, outside, admin])
      expect(await store.mayUseModel(u.id, m.id)).toBe(true);

    await store.setModelGroups(m.id, [group.id]);
    expect((await store.modelGroupIds())[m.id]).toEqual([group.id]);
    expect((await store.getGroup(group.id))?.model_ids).toEqual([m.id]);
    expect(await store.mayUseModel(inside.id, m.id)).toBe(true);
    expect(await store.mayUseModel(outside.id, m.id)).toBe(false);
    expect(await store.mayUseModel(admin.id, m.id)).toBe(true);
    const listed = async (userId: string) =>
      (await store.listModels({ enabledOnly: true, usableBy: userId })).map((x) => x.id);
    expect(await listed(inside.id)).toContain(m.id);
    expect(await listed(outside.id)).not.toContain(m.id);
    expect(await listed(admin.id)).toContain(m.id);

    // Membership is read each time: joining the group gives access at once.
    await store.updateGroup(group.id, { user_ids: [inside.id, outside.id] });
    expect(await store.mayUseModel(outside.id, m.id)).toBe(true);
    await store.updateGroup(group.id, { user_ids: [inside.id] });
    expect(await store.mayUseModel(outside.id, m.id)).toBe(false);

    await store.setModelGroups(m.id, []);
    expect((await store.modelGroupIds())[m.id]).toBeUndefined();
    expect(await store.mayUseModel(outside.id, m.id)).toBe(true);
    expect(await listed(outside.id)).toContain(m.id);
  });

  it("refuses an unknown group for a model, keeping its groups", async () => {
    const m = await model();
    const group = await store.createGroup({ name: unique("G") });
    await store.setModelGroups(m.id, [group.id]);
    await expect(store.setModelGroups(m.id, [group.id, "nope"])).rejects.toMatchObject({
      field: "group_ids",
      ids: ["nope"],
    });
    expect((await store.modelGroupIds())[m.id]).toEqual([group.id]);
  });

  it("refuses to delete a model's only group (it would open the model to everyone)", async () => {
    const m = await model();
    const only = await store.createGroup({ name: unique("Only") });
    const spare = await store.createGroup({ name: unique("Spare") });
    await store.setModelGroups(m.id, [only.id]);
    await expect(store.deleteGroup(only.id)).rejects.toThrow(/only one allowed to use/);
    expect(await store.getGroup(only.id)).not.toBeNull();

    await store.setModelGroups(m.id, [only.id, spare.id]);
    expect(await store.deleteGroup(only.id)).toBe(true);
    expect(await store.getGroup(only.id)).toBeNull();
    // Its rows went with it, and the cached map knows.
    expect((await store.modelGroupIds())[m.id]).toEqual([spare.id]);
    expect(await store.deleteGroup(only.id)).toBe(false);
  });

  it("a deleted user or model leaves the groups", async () => {
    const [gone, kept] = await Promise.all([user(), user()]);
    const m = await model();
    const group = await store.createGroup({ name: unique("G"), user_ids: [gone.id, kept.id] });
    await store.setModelGroups(m.id, [group.id]);
    await opened.db.query("DELETE FROM users WHERE id = $1", [gone.id]);
    await store.deleteModel(m.id);
    expect(await store.getGroup(group.id)).toMatchObject({ user_ids: [kept.id], model_ids: [] });
  });

  it("inside a transaction the restrictions are read as it sees them, and never cached", async () => {
    const m = await model();
    const group = await store.createGroup({ name: unique("G") });
    expect((await store.modelGroupIds())[m.id]).toBeUndefined(); // cached
    let seen: string[] | undefined;
    const rollBack = new Error("roll back");
    const outcome = await opened.db
      .ambient(async () => {
        await store.setModelGroups(m.id, [group.id]);
        seen = (await store.modelGroupIds())[m.id];
        throw rollBack;
      })
      .catch((error: unknown) => error);
    expect(outcome).toBe(rollBack);
    expect(seen).toEqual([group.id]);
    expect((await store.modelGroupIds())[m.id]).toBeUndefined();
    expect(await store.mayUseModel((await user()).id, m.id)).toBe(true);
  });

  it("another replica's cached restrictions are dropped when they change", async () => {
    const other = await database.open();
    const m = await model();
    const outsider = await user();
    const group = await store.createGroup({ name: unique("G") });
    expect(await other.store.mayUseModel(outsider.id, m.id)).toBe(true); // cached there now
    await store.setModelGroups(m.id, [group.id]);
    await until(async () => !(await other.store.mayUseModel(outsider.id, m.id)));
    expect((await other.store.modelGroupIds())[m.id]).toEqual([group.id]);
  });
});
