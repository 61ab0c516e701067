/**
 * Chats their owner manages: rename, model, pin, archive/unarchive (PATCH), delete for good
 * (DELETE ?permanent=true), search (GET /chats?q=), and what a new chat preselects.
 */
import { describe, expect, it } from "vitest";
import { claimChat, newUser, obj, until, useServedApi } from "./testing.ts";

const UNKNOWN = "0195c1a4-8f1e-7b7a-9c55-2f1d0e6a4b21";

describe("chat management", () => {
  const api = useServedApi({ heartbeatMs: 60_000 });

  const text = (t: string) => [{ type: "text", text: t }];

  async function createChat(token: string, message = "hello there"): Promise<string> {
    const res = await api.client.post("/api/v1/chats", {
      token,
      json: { model_id: api.s.modelId, content: text(message) },
    });
    expect(res.status).toBe(201);
    return obj(res).id as string;
  }

  const patch = (id: string, json: unknown, token = api.s.member) =>
    api.client.patch(`/api/v1/chats/${id}`, { token, json });
  const getChat = async (id: string, token = api.s.member) =>
    obj(await api.client.get(`/api/v1/chats/${id}`, { token })).chat as Record<string, unknown>;
  async function list(token: string, query = ""): Promise<Array<Record<string, unknown>>> {
    const res = await api.client.get(`/api/v1/chats${query}`, { token });
    expect(res.status, query).toBe(200);
    return obj(res).chats as Array<Record<string, unknown>>;
  }
  const ids = (chats: Array<Record<string, unknown>>) => chats.map((c) => c.id);

  describe("PATCH /chats/{id}", () => {
    it.each([
      ["nothing to change", {}, "title", "Send at least one of"],
      ["a blank title", { title: "  \n " }, "title", "A title cannot be blank."],
      ["a title over 200 characters", { title: "x".repeat(201) }, "title", "At most 200"],
      ["a title with U+0000", { title: "a\u0000b" }, "title", "U+0000"],
      ["a model id that is not a UUID", { model_id: "gpt" }, "model_id", ""],
      ["pinned that is not a boolean", { pinned: "yes" }, "pinned", ""],
      ["an unknown field", { color: "red" }, "color", "Unknown field."],
    ])("%s: 400 naming the field, nothing changed", async (_what, body, field, detail) => {
      const id = await createChat(api.s.member);
      const before = await getChat(id);
      const res = await patch(id, body);
      expect(res.status).toBe(400);
      const validations = obj(res).validations as Array<{ field: string; detail: string }>;
      expect(validations.map((v) => v.field)).toContain(field);
      expect(validations.find((v) => v.field === field)?.detail).toContain(detail);
      expect(await getChat(id)).toEqual(before);
    });

    it.each([
      ["an unknown model", "unknown", 404, "No model has this id."],
      ["a disabled model", "disabled", 400, "is disabled"],
    ])("refuses %s: %i naming model_id", async (_what, which, status, detail) => {
      const id = await createChat(api.s.member);
      const res = await patch(id, {
        model_id: which === "unknown" ? UNKNOWN : api.s.disabledModelId,
      });
      expect(res.status).toBe(status);
      expect(obj(res).validations).toEqual([
        { field: "model_id", detail: expect.stringContaining(detail) },
      ]);
      expect((await getChat(id)).model_id).toBe(api.s.modelId);
    });

    it("renames (trimmed) without moving the chat, and announces the title", async () => {
      const member = (await newUser(api.client, api.s.admin)).token;
      const older = await createChat(member, "first");
      const newer = await createChat(member, "second");
      const before = await getChat(older, member);
      const res = await patch(older, { title: "  Release notes  " }, member);
      expect(res.status).toBe(200);
      expect(obj(res)).toMatchObject({ title: "Release notes", updated_at: before.updated_at });
      expect(ids(await list(member))).toEqual([newer, older]);
      const events = await api.deps.store.events.listAfter(older, 0);
      expect(events.at(-1)).toMatchObject({ type: "title", data: { title: "Release notes" } });
      expect(api.served.logs.join("\n")).toContain("chat changed");
    });

    it("pins a chat to the top of the list, and unpins it", async () => {
      const member = (await newUser(api.client, api.s.admin)).token;
      const a = await createChat(member, "a");
      const b = await createChat(member, "b");
      expect(obj(await patch(a, { pinned: true }, member)).pinned).toBe(true);
      expect(ids(await list(member))).toEqual([a, b]);
      await patch(a, { pinned: false }, member);
      expect(ids(await list(member))).toEqual([b, a]);
    });

    it("archives and unarchives: the archived list, messages refused until then", async () => {
      const member = (await newUser(api.client, api.s.admin)).token;
      const id = await createChat(member);
      expect(obj(await patch(id, { archived: true }, member)).archived).toBe(true);
      expect(ids(await list(member))).toEqual([]);
      expect(ids(await list(member, "?archived=true"))).toEqual([id]);
      const send = () =>
        api.client.post(`/api/v1/chats/${id}/messages`, {
          token: member,
          json: { content: text("again") },
        });
      const refused = await send();
      expect(refused.status).toBe(409);
      expect(obj(refused).message).toBe("This chat is archived: unarchive it to send messages.");
      expect(obj(await patch(id, { archived: false }, member)).archived).toBe(false);
      expect(ids(await list(member))).toEqual([id]);
      expect((await send()).status).toBe(202);
    });

    it("archiving stops a running turn first", async () => {
      const id = await createChat(api.s.member);
      await claimChat(api.deps.store, id);
      const signals: string[] = [];
      const stop = api.deps.store.signals.listen((s) => {
        if (s.chat_id === id) signals.push(s.type);
      });
      try {
        expect((await patch(id, { archived: true })).status).toBe(200);
        await until(() => signals.includes("interrupt"), 5_000, "the interrupt signal");
      } finally {
        stop();
      }
    });

    it("a chat whose model was disabled goes on with another one", async () => {
      const admin = api.s.admin;
      const provider = api.s.providerId;
      const made = obj(
        await api.client.post("/api/v1/models", {
          token: admin,
          json: { provider_id: provider, model: "soon-off" },
        }),
      );
      const res = await api.client.post("/api/v1/chats", {
        token: api.s.member,
        json: { model_id: made.id, content: text("hi") },
      });
      const id = obj(res).id as string;
      await api.client.post(`/api/v1/chats/${id}/interrupt`, { token: api.s.member });
      await api.client.patch(`/api/v1/models/${made.id}`, {
        token: admin,
        json: { enabled: false },
      });
      const changed = await patch(id, { model_id: api.s.modelId });
      expect(changed.status).toBe(200);
      expect(obj(changed).model_id).toBe(api.s.modelId);
      const sent = await api.client.post(`/api/v1/chats/${id}/messages`, {
        token: api.s.member,
        json: { content: text("go on") },
      });
      expect(sent.status).toBe(202);
    });
  });

  describe("DELETE /chats/{id}?permanent=true", () => {
    it("deletes the chat, its messages and events; it is gone for everyone", async () => {
      const id = await createChat(api.s.member);
      const res = await api.client.delete(`/api/v1/chats/${id}?permanent=true`, {
        token: api.s.member,
      });
      expect(res.status).toBe(204);
      for (const token of [api.s.member, api.s.admin]) {
        expect((await api.client.get(`/api/v1/chats/${id}`, { token })).status).toBe(404);
      }
      expect(await api.deps.store.listMessages(id)).toEqual([]);
      expect(await api.deps.store.events.listAfter(id, 0)).toEqual([]);
      expect(api.served.logs.join("\n")).toContain("chat deleted");
    });

    it("an admin may delete a member's chat for good", async () => {
      const id = await createChat(api.s.member);
      const res = await api.client.delete(`/api/v1/chats/${id}?permanent=true`, {
        token: api.s.admin,
      });
      expect(res.status).toBe(204);
      expect(await api.deps.store.getChat(id)).toBeNull();
    });

    it("stops a running turn, waits for it to stop, then deletes", async () => {
      const id = await createChat(api.s.member);
      const worker = await claimChat(api.deps.store, id);
      // The worker running it: on the interrupt, it ends the turn as a daemon does.
      const stop = api.deps.store.signals.listen((s) => {
        if (s.chat_id === id && s.type === "interrupt") {
          void api.deps.store.releaseChat(id, worker, "waiting");
        }
      });
      try {
        const res = await api.client.delete(`/api/v1/chats/${id}?permanent=true`, {
          token: api.s.member,
        });
        expect(res.status).toBe(204);
        expect(await api.deps.store.getChat(id)).toBeNull();
      } finally {
        stop();
      }
    });

    it("without permanent (or permanent=false) it archives, as before", async () => {
      for (const query of ["", "?permanent=false"]) {
        const id = await createChat(api.s.member);
        const res = await api.client.delete(`/api/v1/chats/${id}${query}`, {
          token: api.s.member,
        });
        expect(res.status, query).toBe(204);
        expect((await getChat(id)).archived, query).toBe(true);
      }
      const id = await createChat(api.s.member);
      const bad = await api.client.delete(`/api/v1/chats/${id}?permanent=yes`, {
        token: api.s.member,
      });
      expect(bad.status).toBe(400);
      expect((obj(bad).validations as Array<{ field: string }>)[0]?.field).toBe("permanent");
    });
  });

  describe("authorization", () => {
    it.each([
      ["PATCH a title", "patch", "", { title: "mine now" }],
      ["PATCH archived", "patch", "", { archived: false }],
      ["PATCH pinned", "patch", "", { pinned: true }],
      ["PATCH the model", "patch", "", { model_id: "MODEL" }],
      ["DELETE (archive)", "delete", "", undefined],
      ["DELETE permanently", "delete", "?permanent=true", undefined],
    ])("another member's chat is 404 for %s, and unchanged", async (_what, method, query, body) => {
      const id = await createChat(api.s.member);
      const before = await api.deps.store.getChat(id);
      const json =
        body && "model_id" in body ? { model_id: api.s.modelId } : (body as unknown | undefined);
      const res = await api.client.request(method.toUpperCase(), `/api/v1/chats/${id}${query}`, {
        token: api.s.other,
        ...(json === undefined ? {} : { json }),
      });
      expect(res.status).toBe(404);
      expect(await api.deps.store.getChat(id)).toEqual(before);
    });

    it("an archived chat of another member is 404 too", async () => {
      const id = await createChat(api.s.member);
      await patch(id, { archived: true });
      for (const [method, path] of [
        ["GET", `/api/v1/chats/${id}`],
        ["PATCH", `/api/v1/chats/${id}`],
        ["DELETE", `/api/v1/chats/${id}?permanent=true`],
      ] as const) {
        const res = await api.client.request(method, path, {
          token: api.s.other,
          ...(method === "PATCH" ? { json: { archived: false } } : {}),
        });
        expect(res.status, method).toBe(404);
      }
      expect(await api.deps.store.getChat(id)).not.toBeNull();
    });
  });

  describe("GET /chats?q=", () => {
    it("finds the caller's chats by title and message text, with a snippet", async () => {
      const member = (await newUser(api.client, api.s.admin)).token;
      const byText = await createChat(member, "the quarterly budget spreadsheet is wrong");
      const byTitle = await createChat(member, "unrelated");
      await patch(byTitle, { title: "Budget review" }, member);
      await createChat(member, "nothing to see");
      const hits = await list(member, "?q=budg");
      expect(ids(hits)).toEqual([byTitle, byText]);
      expect(hits[0]?.snippet).toBeNull();
      expect(hits[1]?.snippet).toContain("budget");
      expect(Object.keys(hits[1] ?? {})).toEqual(expect.arrayContaining(["pinned", "archived"]));
      // Blank: the plain list (no snippets).
      const plain = await list(member, "?q=%20%20");
      expect(plain).toHaveLength(3);
      expect(plain.every((c) => !("snippet" in c))).toBe(true);
    });

    it("never returns another user's chats, not even to an admin", async () => {
      const secret = `zanzibar${Date.now()}`;
      await createChat(api.s.other, `the ${secret} plan`);
      const adminsOwn = await createChat(api.s.admin, "nothing");
      await patch(adminsOwn, { title: "admin notes" }, api.s.admin);
      for (const token of [api.s.member, api.s.admin]) {
        expect(await list(token, `?q=${secret}`)).toEqual([]);
        expect(await list(token, `?q=${secret}&archived=true`)).toEqual([]);
      }
      expect(await list(api.s.other, `?q=${secret}`)).toHaveLength(1);
    });

    it("searches the archived chats with archived=true", async () => {
      const member = (await newUser(api.client, api.s.admin)).token;
      const id = await createChat(member, "an old receipt");
      await createChat(member, "a new receipt");
      await patch(id, { archived: true }, member);
      expect(ids(await list(member, "?q=receipt&archived=true"))).toEqual([id]);
      expect(await list(member, "?q=receipt")).toHaveLength(1);
    });

    it("pages results with its own cursors", async () => {
      const member = (await newUser(api.client, api.s.admin)).token;
      const made: string[] = [];
      for (let i = 0; i < 3; i++) made.push(await createChat(member, `mango ${i}`));
      const seen: unknown[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `?q=mango&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
        const body = obj(await api.client.get(`/api/v1/chats${query}`, { token: member }));
        seen.push(...ids(body.chats as Array<Record<string, unknown>>));
        cursor = body.next_cursor as string | null;
      } while (cursor !== null);
      expect(seen).toEqual([...made].reverse());
      // A cursor of the plain list is not one of the search, and the reverse.
      const first = obj(await api.client.get("/api/v1/chats?limit=1", { token: member }));
      const mixed = await api.client.get(
        `/api/v1/chats?q=mango&cursor=${encodeURIComponent(first.next_cursor as string)}`,
        { token: member },
      );
      expect(mixed.status).toBe(400);
      expect(obj(mixed).validations).toEqual([
        { field: "cursor", detail: "Not a cursor from a previous page." },
      ]);
    });

    it.each([
      ["a query over 200 characters", `q=${"x".repeat(201)}`, "q"],
      ["archived that is not true or false", "archived=yes", "archived"],
    ])("refuses %s: 400 naming it", async (_what, query, field) => {
      const res = await api.client.get(`/api/v1/chats?${query}`, { token: api.s.member });
      expect(res.status).toBe(400);
      expect((obj(res).validations as Array<{ field: string }>)[0]?.field).toBe(field);
    });
  });

  describe("the model a new chat preselects", () => {
    it("GET /users/me: the last model used, and the admins' default", async () => {
      const member = await newUser(api.client, api.s.admin);
      const me = async () =>
        (obj(await api.client.get("/api/v1/users/me", { token: member.token })).user ??
          {}) as Record<string, unknown>;
      expect(await me()).toMatchObject({ last_model_id: null, default_model_id: null });
      const set = await api.client.patch("/api/v1/settings", {
        token: api.s.admin,
        json: { default_model_id: api.s.modelId },
      });
      expect(set.status).toBe(200);
      await createChat(member.token);
      expect(await me()).toMatchObject({
        last_model_id: api.s.modelId,
        default_model_id: api.s.modelId,
      });
      const disabled = await api.client.patch("/api/v1/settings", {
        token: api.s.admin,
        json: { default_model_id: api.s.disabledModelId },
      });
      expect(disabled.status).toBe(400);
      expect(obj(disabled).validations).toEqual([
        { field: "default_model_id", detail: expect.stringContaining("is disabled") },
      ]);
      await api.client.patch("/api/v1/settings", {
        token: api.s.admin,
        json: { default_model_id: null },
      });
    });
  });
});
