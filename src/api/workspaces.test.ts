import { describe, expect, it } from "vitest";
import { newUser, obj, useServedApi } from "./testing.ts";

describe("workspaces", () => {
  const api = useServedApi();

  async function create(token: string, json: Record<string, unknown> = { name: "repo" }) {
    return api.client.post("/api/v1/workspaces", { token, json });
  }

  it("creates a workspace: the agent token is shown once, never again", async () => {
    const res = await create(api.s.member, { name: "  my repo  " });
    expect(res.status).toBe(201);
    const created = obj(res);
    expect(created).toMatchObject({
      name: "my repo",
      owner: api.s.memberId,
      directory: null,
      agent: { connected: false, version: null, last_seen_at: null },
    });
    expect(String(created.agent_token)).toMatch(/^keelws_/);

    const shown = await api.client.get(`/api/v1/workspaces/${created.id}`, {
      token: api.s.member,
    });
    expect(shown.status).toBe(200);
    const { agent_token: _, ...view } = created;
    expect(obj(shown)).toEqual(view);
    expect(shown.text).not.toContain(String(created.agent_token));
    const list = await api.client.get("/api/v1/workspaces", { token: api.s.member });
    expect(list.text).not.toContain(String(created.agent_token));
    expect((obj(list).workspaces as Array<{ id: string }>).map((w) => w.id)).toContain(created.id);
  });

  it.each([
    ["no name", {}, "name"],
    ["an empty name", { name: " " }, "name"],
    ["a relative directory", { name: "w", directory: "srv/repo" }, "directory"],
    ["an unknown field", { name: "w", token: "x" }, ""],
  ])("%s is a 400 naming the field", async (_name, json, field) => {
    const res = await create(api.s.admin, json);
    expect(res.status).toBe(400);
    const body = obj(res);
    expect(typeof body.message).toBe("string");
    if (field) {
      expect((body.validations as Array<{ field: string }>).map((v) => v.field)).toContain(field);
    }
  });

  it("only an admin may give a directory on the server's machine", async () => {
    const member = await create(api.s.member, { name: "w", directory: "/" });
    expect(member.status).toBe(403);
    expect(obj(member).message).toMatch(/administrator/);
    const admin = await create(api.s.admin, { name: "w", directory: "/tmp" });
    expect(admin.status).toBe(201);
    expect(obj(admin).directory).toBe("/tmp");
  });

  it("another member's workspace is not found: not shown, listed, deleted or bound", async () => {
    const id = obj(await create(api.s.member)).id as string;
    for (const [method, path] of [
      ["get", `/api/v1/workspaces/${id}`],
      ["delete", `/api/v1/workspaces/${id}`],
    ] as const) {
      expect((await api.client[method](path, { token: api.s.other })).status).toBe(404);
    }
    const list = obj(await api.client.get("/api/v1/workspaces", { token: api.s.other }));
    expect((list.workspaces as Array<{ id: string }>).map((w) => w.id)).not.toContain(id);
    const chat = await api.client.post("/api/v1/chats", {
      token: api.s.other,
      json: { model_id: api.s.modelId, content: [{ type: "text", text: "hi" }], workspace_id: id },
    });
    expect(chat.status).toBe(404);
    expect(obj(chat).message).toMatch(/Workspace/);
  });

  it("the owner and an admin bind chats to it; deleting it keeps the chats", async () => {
    const id = obj(await create(api.s.member)).id as string;
    for (const token of [api.s.member, api.s.admin]) {
      const chat = await api.client.post("/api/v1/chats", {
        token,
        json: {
          model_id: api.s.modelId,
          content: [{ type: "text", text: "hi" }],
          workspace_id: id,
        },
      });
      expect(chat.status).toBe(201);
      expect(obj(chat).workspace_id).toBe(id);
    }
    expect(
      (await api.client.delete(`/api/v1/workspaces/${id}`, { token: api.s.admin })).status,
    ).toBe(204);
    expect((await api.client.get(`/api/v1/workspaces/${id}`, { token: api.s.member })).status).toBe(
      404,
    );
  });

  it("a server-side directory is for admins at the moment it runs: a demoted admin is refused (403)", async () => {
    const admin = await newUser(api.client, api.s.admin, "admin");
    const workspace = obj(await create(admin.token, { name: "srv", directory: "/tmp" }))
      .id as string;
    const chatIn = (token: string) =>
      api.client.post("/api/v1/chats", {
        token,
        json: {
          model_id: api.s.modelId,
          content: [{ type: "text", text: "run it" }],
          workspace_id: workspace,
        },
      });
    const chat = await chatIn(admin.token);
    expect(chat.status).toBe(201);
    const chatId = obj(chat).id as string;

    const demoted = await api.client.patch(`/api/v1/users/${admin.id}`, {
      token: api.s.admin,
      json: { role: "member" },
    });
    expect(demoted.status).toBe(200);
    const refused = await chatIn(admin.token);
    expect(refused.status).toBe(403);
    expect(obj(refused).message).toMatch(/runs commands on the server itself.*only admins/);
    // Their chat too, whoever sends to it: it runs as its owner.
    for (const token of [admin.token, api.s.admin]) {
      const sent = await api.client.post(`/api/v1/chats/${chatId}/messages`, {
        token,
        json: { content: [{ type: "text", text: "again" }] },
      });
      expect(sent.status).toBe(403);
    }
    // Made admin again, it works again.
    await api.client.patch(`/api/v1/users/${admin.id}`, {
      token: api.s.admin,
      json: { role: "admin" },
    });
    expect((await chatIn(admin.token)).status).toBe(201);
  });

  it("an agent token is not a user's: it cannot call the API", async () => {
    const token = obj(await create(api.s.member)).agent_token as string;
    expect((await api.client.get("/api/v1/users/me", { token })).status).toBe(401);
  });
});
