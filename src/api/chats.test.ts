import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  Client,
  MemoryChatService,
  makeDeps,
  obj,
  type Seeded,
  type Served,
  seed,
  serveApi,
  type TestDeps,
} from "./testing.ts";

let deps: TestDeps;
let served: Served;
let client: Client;
let s: Seeded;

beforeEach(async () => {
  deps = await makeDeps();
  served = await serveApi(deps, { heartbeatMs: 60_000 });
  client = new Client(served.url);
  s = await seed(client);
});

afterEach(async () => {
  await served.close();
  await deps.close();
});

const text = (t: string) => [{ type: "text", text: t }];

async function createChat(token: string, message = "hello there"): Promise<string> {
  const res = await client.post("/api/v1/chats", {
    token,
    json: { model_id: s.modelId, content: text(message) },
  });
  expect(res.status).toBe(201);
  return obj(res).id as string;
}

describe("chats", () => {
  it("creates a chat and shows it with its first message", async () => {
    const res = await client.post("/api/v1/chats", {
      token: s.member,
      json: { model_id: s.modelId, content: text("Fix the flaky test") },
    });
    expect(res.status).toBe(201);
    const chat = obj(res);
    expect(Object.keys(chat).sort()).toEqual(
      [
        "created_at",
        "id",
        "last_error",
        "last_event_seq",
        "model_id",
        "status",
        "title",
        "updated_at",
        "workspace_id",
      ].sort(),
    );
    expect(chat).toMatchObject({ model_id: s.modelId, workspace_id: null, last_error: null });
    expect(typeof chat.title).toBe("string");

    const shown = obj(await client.get(`/api/v1/chats/${chat.id}`, { token: s.member }));
    expect(shown.chat).toEqual(chat);
    const messages = shown.messages as Array<Record<string, unknown>>;
    expect(messages).toHaveLength(1);
    expect(Object.keys(messages[0] ?? {}).sort()).toEqual(["created_at", "id", "parts", "role"]);
    expect(messages[0]).toMatchObject({ role: "user", parts: text("Fix the flaky test") });
  });

  it("refuses a disabled or unknown model (chatd's 4xx) and a missing one (400)", async () => {
    for (const model_id of [s.disabledModelId, "00000000-0000-4000-8000-000000000000"]) {
      const res = await client.post("/api/v1/chats", {
        token: s.member,
        json: { model_id, content: text("hi") },
      });
      expect([400, 404]).toContain(res.status);
      expect(typeof obj(res).message).toBe("string");
    }
    const missing = await client.post("/api/v1/chats", {
      token: s.member,
      json: { content: text("hi") },
    });
    expect(missing.status).toBe(400);
    expect(obj(missing).validations).toEqual([{ field: "model_id", detail: "Required." }]);
  });

  it("refuses non-text content parts and empty content", async () => {
    for (const content of [
      [],
      [{ type: "image", url: "http://x" }],
      [{ type: "text", text: "" }],
      [{ type: "text", text: "x", extra: 1 }],
    ]) {
      const res = await client.post("/api/v1/chats", {
        token: s.member,
        json: { model_id: s.modelId, content },
      });
      expect(res.status, JSON.stringify(content)).toBe(400);
      expect((obj(res).validations as unknown[]).length).toBeGreaterThan(0);
    }
  });

  it("lists the caller's chats, newest first, in pages", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await createChat(s.member, `chat ${i}`));
    await createChat(s.other, "not yours");
    const first = obj(await client.get("/api/v1/chats?limit=2", { token: s.member }));
    const chats = first.chats as Array<{ id: string }>;
    expect(chats.map((c) => c.id)).toEqual([ids[4], ids[3]]);
    expect(typeof first.next_cursor).toBe("string");
    const seen = chats.map((c) => c.id);
    let cursor = first.next_cursor as string | null;
    while (cursor !== null) {
      const page = obj(
        await client.get(`/api/v1/chats?limit=2&cursor=${encodeURIComponent(cursor)}`, {
          token: s.member,
        }),
      );
      seen.push(...(page.chats as Array<{ id: string }>).map((c) => c.id));
      cursor = page.next_cursor as string | null;
    }
    expect(seen).toEqual([...ids].reverse());
    // An admin's list is the admin's own chats.
    expect(obj(await client.get("/api/v1/chats", { token: s.admin })).chats).toEqual([]);
    // Bad query values and unknown parameters are 400.
    for (const q of ["limit=0", "limit=1000", "limit=abc", "sort=asc"]) {
      expect((await client.get(`/api/v1/chats?${q}`, { token: s.member })).status, q).toBe(400);
    }
  });

  it("accepts messages (202) and interrupts (202); archive is 204 and then 404", async () => {
    const id = await createChat(s.member);
    const sent = await client.post(`/api/v1/chats/${id}/messages`, {
      token: s.member,
      json: { content: text("and another thing") },
    });
    expect(sent.status).toBe(202);
    const stopped = await client.post(`/api/v1/chats/${id}/interrupt`, { token: s.member });
    expect(stopped.status).toBe(202);
    const archived = await client.delete(`/api/v1/chats/${id}`, { token: s.member });
    expect(archived.status).toBe(204);
    expect((await client.get(`/api/v1/chats/${id}`, { token: s.member })).status).toBe(404);
    const list = obj(await client.get("/api/v1/chats", { token: s.member }));
    expect((list.chats as Array<{ id: string }>).map((c) => c.id)).not.toContain(id);
  });
});

describe("authorization", () => {
  it("another member's chat is 404 for read, stream, send, interrupt and delete", async () => {
    const id = await createChat(s.member, "private");
    const chats = deps.chats instanceof MemoryChatService ? deps.chats : undefined;
    const before = chats?.calls.length ?? 0;
    const attempts: Array<[string, string, unknown]> = [
      ["GET", `/api/v1/chats/${id}`, undefined],
      ["GET", `/api/v1/chats/${id}/stream`, undefined],
      ["POST", `/api/v1/chats/${id}/messages`, { content: text("let me in") }],
      ["POST", `/api/v1/chats/${id}/interrupt`, undefined],
      ["DELETE", `/api/v1/chats/${id}`, undefined],
    ];
    for (const [method, path, json] of attempts) {
      const res = await client.request(method, path, { token: s.other, json });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(obj(res)).toEqual({ message: "Chat not found." });
      expect(res.text).not.toContain("private");
    }
    // Same answer as for an id that does not exist.
    const missing = await client.get("/api/v1/chats/00000000-0000-4000-8000-000000000000", {
      token: s.other,
    });
    expect(missing.status).toBe(404);
    expect(obj(missing)).toEqual({ message: "Chat not found." });
    // Nothing reached chatd, and the chat is intact for its owner.
    expect(chats?.calls.length ?? 0).toBe(before);
    expect((await client.get(`/api/v1/chats/${id}`, { token: s.member })).status).toBe(200);
  });

  it("an admin can act on any chat", async () => {
    const id = await createChat(s.member);
    expect((await client.get(`/api/v1/chats/${id}`, { token: s.admin })).status).toBe(200);
    const send = await client.post(`/api/v1/chats/${id}/messages`, {
      token: s.admin,
      json: { content: text("admin here") },
    });
    expect(send.status).toBe(202);
    expect((await client.post(`/api/v1/chats/${id}/interrupt`, { token: s.admin })).status).toBe(
      202,
    );
    const stream = await fetch(`${served.url}/api/v1/chats/${id}/stream`, {
      headers: { authorization: `Bearer ${s.admin}` },
    });
    expect(stream.status).toBe(200);
    await stream.body?.cancel();
    expect((await client.delete(`/api/v1/chats/${id}`, { token: s.admin })).status).toBe(204);
  });

  it("every chat route needs authentication", async () => {
    const id = await createChat(s.member);
    for (const [method, path] of [
      ["POST", "/api/v1/chats"],
      ["GET", "/api/v1/chats"],
      ["GET", `/api/v1/chats/${id}`],
      ["GET", `/api/v1/chats/${id}/stream`],
      ["POST", `/api/v1/chats/${id}/messages`],
      ["POST", `/api/v1/chats/${id}/interrupt`],
      ["DELETE", `/api/v1/chats/${id}`],
    ] as const) {
      const res = await client.request(method, path);
      expect(res.status, `${method} ${path}`).toBe(401);
    }
  });
});
