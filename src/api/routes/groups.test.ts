import { describe, expect, it } from "vitest";
import { ChatDaemon } from "../../chatd/index.ts";
import { newUser, obj, until, useServedApi } from "../testing.ts";

describe("groups and model access", () => {
  const api = useServedApi();
  let n = 0;
  const name = (prefix: string) => `${prefix} ${++n}`;

  const groups = {
    create: (json: Record<string, unknown>, token = api.s.admin) =>
      api.client.post("/api/v1/groups", { token, json }),
    patch: (id: string, json: Record<string, unknown>) =>
      api.client.patch(`/api/v1/groups/${id}`, { token: api.s.admin, json }),
    get: (id: string) => api.client.get(`/api/v1/groups/${id}`, { token: api.s.admin }),
    delete: (id: string) => api.client.delete(`/api/v1/groups/${id}`, { token: api.s.admin }),
  };

  /** A model of the seeded provider, restricted to `groupIds` (when given) at creation. */
  async function newModel(json: Record<string, unknown> = {}): Promise<string> {
    const created = await api.client.post("/api/v1/models", {
      token: api.s.admin,
      json: { provider_id: api.s.providerId, model: `m-${++n}`, ...json },
    });
    expect(created.status).toBe(201);
    return obj(created).id as string;
  }

  const restrict = (modelId: string, groupIds: string[]) =>
    api.client.patch(`/api/v1/models/${modelId}`, {
      token: api.s.admin,
      json: { group_ids: groupIds },
    });

  const listedIds = async (token: string) =>
    (
      obj(await api.client.get("/api/v1/models", { token })).models as Array<{
        id: string;
        group_ids?: string[];
      }>
    ).map((m) => m.id);

  it("creates, lists, reads, renames, sets the members of and deletes a group", async () => {
    const groupName = name("Research");
    const created = await groups.create({ name: groupName, user_ids: [api.s.memberId] });
    expect(created.status).toBe(201);
    const group = obj(created);
    expect(group).toMatchObject({
      name: groupName,
      user_ids: [api.s.memberId],
      member_count: 1,
      model_ids: [],
    });
    const id = group.id as string;

    const list = obj(await api.client.get("/api/v1/groups", { token: api.s.admin }));
    expect(list.groups).toEqual(expect.arrayContaining([expect.objectContaining({ id })]));

    const other = await newUser(api.client, api.s.admin);
    const patched = await groups.patch(id, {
      name: `${groupName} (renamed)`,
      user_ids: [api.s.memberId, other.id],
    });
    expect(patched.status).toBe(200);
    expect(obj(patched)).toMatchObject({ name: `${groupName} (renamed)`, member_count: 2 });
    expect(obj(await groups.get(id)).user_ids).toEqual(
      expect.arrayContaining([api.s.memberId, other.id]),
    );

    expect((await groups.delete(id)).status).toBe(204);
    expect((await groups.get(id)).status).toBe(404);
    expect((await groups.delete(id)).status).toBe(404);
    expect((await groups.patch(id, { name: "x" })).status).toBe(404);
  });

  it("409 on a name taken (case aside), 400 naming the field for an unknown user", async () => {
    const groupName = name("Ops");
    expect((await groups.create({ name: groupName })).status).toBe(201);
    const twin = await groups.create({ name: groupName.toUpperCase() });
    expect(twin.status).toBe(409);
    expect(obj(twin).message).toContain("already exists");

    const ghost = "00000000-0000-4000-8000-000000000000";
    const unknown = await groups.create({ name: name("Ghosts"), user_ids: [ghost] });
    expect(unknown.status).toBe(400);
    expect(obj(unknown).validations).toEqual([
      { field: "user_ids", detail: expect.stringContaining(ghost) },
    ]);
    const bad = await groups.create({ name: "", user_ids: ["not-an-id"] });
    expect(bad.status).toBe(400);
    expect((obj(bad).validations as Array<{ field: string }>).map((v) => v.field).sort()).toEqual([
      "name",
      "user_ids[0]",
    ]);
  });

  it("is for admins only", async () => {
    expect((await api.client.get("/api/v1/groups", { token: api.s.member })).status).toBe(403);
    expect((await groups.create({ name: name("Sneaky") }, api.s.member)).status).toBe(403);
    expect((await api.client.get("/api/v1/groups")).status).toBe(401);
  });

  it("members see and use only the models they may; admins see all, with group_ids", async () => {
    const inside = await newUser(api.client, api.s.admin);
    const group = obj(await groups.create({ name: name("Inner"), user_ids: [inside.id] }));
    const open = await newModel();
    const closed = await newModel({ group_ids: [group.id] });

    expect(await listedIds(inside.token)).toEqual(expect.arrayContaining([open, closed]));
    const memberSees = await listedIds(api.s.member);
    expect(memberSees).toContain(open);
    expect(memberSees).not.toContain(closed);
    const adminList = obj(await api.client.get("/api/v1/models", { token: api.s.admin }))
      .models as Array<{ id: string; group_ids?: string[] }>;
    expect(adminList.find((m) => m.id === closed)?.group_ids).toEqual([group.id]);
    expect(adminList.find((m) => m.id === open)?.group_ids).toEqual([]);
    // Members are not told the groups.
    const seen = obj(await api.client.get(`/api/v1/models/${open}`, { token: api.s.member }));
    expect(seen).not.toHaveProperty("group_ids");

    expect((await api.client.get(`/api/v1/models/${closed}`, { token: api.s.member })).status).toBe(
      404,
    );
    expect((await api.client.get(`/api/v1/models/${closed}`, { token: inside.token })).status).toBe(
      200,
    );
    expect(
      obj(await api.client.get(`/api/v1/models/${closed}`, { token: api.s.admin })),
    ).toMatchObject({ group_ids: [group.id] });

    // A chat on it: 404 for the member, as for an unknown model; fine for the group and admins.
    const content = [{ type: "text", text: "hello" }];
    const refused = await api.client.post("/api/v1/chats", {
      token: api.s.member,
      json: { model_id: closed, content },
    });
    expect(refused.status).toBe(404);
    const allowed = await api.client.post("/api/v1/chats", {
      token: inside.token,
      json: { model_id: closed, content },
    });
    expect(allowed.status).toBe(201);
    expect(
      (
        await api.client.post("/api/v1/chats", {
          token: api.s.admin,
          json: { model_id: closed, content },
        })
      ).status,
    ).toBe(201);

    // Switching a chat to it: the same.
    const mine = obj(
      await api.client.post("/api/v1/chats", {
        token: api.s.member,
        json: { model_id: open, content },
      }),
    );
    const switched = await api.client.patch(`/api/v1/chats/${mine.id}`, {
      token: api.s.member,
      json: { model_id: closed },
    });
    expect(switched.status).toBe(404);
    expect(obj(switched).validations).toEqual([
      { field: "model_id", detail: "No model has this id." },
    ]);
    // An admin cannot put it on the member's chat either (its turns run as the member's).
    const byAdmin = await api.client.patch(`/api/v1/chats/${mine.id}`, {
      token: api.s.admin,
      json: { model_id: closed },
    });
    expect(byAdmin.status).toBe(400);

    // Joining the group opens it; an empty list makes it everyone's.
    await groups.patch(group.id as string, { user_ids: [inside.id, api.s.memberId] });
    expect(await listedIds(api.s.member)).toContain(closed);
    await groups.patch(group.id as string, { user_ids: [inside.id] });
    expect(await listedIds(api.s.member)).not.toContain(closed);
    const opened = await restrict(closed, []);
    expect(obj(opened).group_ids).toEqual([]);
    expect(await listedIds(api.s.member)).toContain(closed);
  });

  it("400 naming group_ids for an unknown group, on update and on create (nothing created)", async () => {
    const model = await newModel();
    const ghost = "00000000-0000-4000-8000-000000000001";
    const patched = await restrict(model, [ghost]);
    expect(patched.status).toBe(400);
    expect(obj(patched).validations).toEqual([
      { field: "group_ids", detail: expect.stringContaining(ghost) },
    ]);
    const before = (await api.deps.store.listModels()).length;
    const created = await api.client.post("/api/v1/models", {
      token: api.s.admin,
      json: { provider_id: api.s.providerId, model: "ghostly", group_ids: [ghost] },
    });
    expect(created.status).toBe(400);
    expect((await api.deps.store.listModels()).length).toBe(before);
  });

  it("refuses to delete a model's only group (409), not one it shares", async () => {
    const a = obj(await groups.create({ name: name("A") }));
    const b = obj(await groups.create({ name: name("B") }));
    const model = await newModel({ group_ids: [a.id] });
    const refused = await groups.delete(a.id as string);
    expect(refused.status).toBe(409);
    expect(obj(refused).message).toContain("only one allowed to use");
    await restrict(model, [a.id as string, b.id as string]);
    expect((await groups.delete(a.id as string)).status).toBe(204);
    const after = obj(await api.client.get(`/api/v1/models/${model}`, { token: api.s.admin }));
    expect(after.group_ids).toEqual([b.id]);
  });

  it("a member's new-chat defaults leave out a model they may not use", async () => {
    const group = obj(await groups.create({ name: name("Defaults") }));
    const model = await newModel({ group_ids: [group.id] });
    await api.client.patch("/api/v1/settings", {
      token: api.s.admin,
      json: { default_model_id: model },
    });
    const me = obj(await api.client.get("/api/v1/users/me", { token: api.s.other }));
    expect((me.user as Record<string, unknown>).default_model_id).toBeNull();
    const admin = obj(await api.client.get("/api/v1/users/me", { token: api.s.admin }));
    expect((admin.user as Record<string, unknown>).default_model_id).toBe(model);
    await api.client.patch("/api/v1/settings", {
      token: api.s.admin,
      json: { default_model_id: null },
    });
  });

  it("the next turn of a chat whose model got restricted is refused with a message", async () => {
    const model = await newModel();
    const created = await api.client.post("/api/v1/chats", {
      token: api.s.other,
      json: { model_id: model, content: [{ type: "text", text: "hi" }] },
    });
    const chatId = obj(created).id as string;
    const group = obj(await groups.create({ name: name("Late") }));
    expect((await restrict(model, [group.id as string])).status).toBe(200);

    // The other tests' chats wait: only this one is for the daemon to run.
    const { items } = await api.deps.store.listChats(undefined, { limit: 100 });
    for (const chat of items) {
      if (chat.id !== chatId && chat.status === "pending") {
        await api.deps.store.setStatus(chat.id, "waiting");
      }
    }
    const daemon = new ChatDaemon({ store: api.deps.store, pollIntervalMs: 50 });
    await daemon.start();
    try {
      await until(async () => (await api.deps.store.getChat(chatId))?.status === "error", 10_000);
    } finally {
      await daemon.shutdown();
    }
    const { chat } = obj(
      await api.client.get(`/api/v1/chats/${chatId}`, { token: api.s.other }),
    ) as { chat: Record<string, unknown> };
    expect(chat.status).toBe("error");
    expect((chat.last_error as { message: string }).message).toMatch(
      /The model "m-\d+" is not available to you .*choose another model or ask an administrator for access/,
    );
  });
});
