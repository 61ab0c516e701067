/**
 * The audit log's hazard, end to end: a chat a real daemon is running (the fake provider
 * streaming slowly, its events group-committed on the daemon's connection) is renamed and then
 * archived through the API, each audited in the transaction of its row's update. Both complete
 * — no request holds the chat's row while an append waits on a group commit — and leave their
 * audit rows.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { Client, obj, type Served, serveApi } from "../../src/api/testing.ts";
import { ChatDaemon } from "../../src/chatd/daemon.ts";
import type { ModelRecord } from "../../src/store/types.ts";
import { textReply } from "../fakeprovider/index.ts";
import { useChatdWorld } from "./support/chatd-world.ts";

describe("audit: changing a running chat", () => {
  const world = useChatdWorld();
  let model: ModelRecord;
  let daemon: ChatDaemon;
  let served: Served;
  let client: Client;
  let token: string;

  beforeAll(async () => {
    model = await world.store.createModel({ provider_id: world.providerId, model: "claude-test" });
  });

  beforeEach(async () => {
    daemon = new ChatDaemon({
      store: world.store,
      transport: world.transport,
      policy: { baseDelayMs: 1, maxDelayMs: 5 },
      pollIntervalMs: 100,
      titles: false,
      logger: { warn: () => {}, error: () => {} },
    });
    await daemon.start();
    served = await serveApi({ store: world.store, chats: world.service });
    client = new Client(served.url);
    const login = await client.post("/api/v1/users/login", {
      json: { email: "ada@example.com", password: "correct horse battery" },
    });
    token = obj(login).session_token as string;
  });

  afterEach(async () => {
    await served.close();
    await daemon.shutdown();
  });

  it("renames and archives it while it streams; both audited", async () => {
    // A long reply, a piece every 20 ms: the turn is running for seconds.
    const words = Array.from({ length: 400 }, (_, i) => `w${i}`).join(" ");
    world.fake.enqueue(textReply(words, { chunks: 400, chunkDelayMs: 20 }));
    const created = await client.post("/api/v1/chats", {
      token,
      json: { model_id: model.id, content: [{ type: "text", text: "talk" }] },
    });
    expect(created.status, created.text).toBe(201);
    const id = obj(created).id as string;
    await vi.waitFor(
      async () => {
        const chat = await world.store.getChat(id);
        expect(chat?.status).toBe("running");
        expect(chat?.last_event_seq ?? 0).toBeGreaterThan(5);
      },
      { timeout: 10_000, interval: 20 },
    );
    // The hazard is a request that never answers (a chat row held while the event log waits for
    // it): each PATCH below would then hang and the test fail on its own timeout — no clock here.
    const renamed = await client.patch(`/api/v1/chats/${id}`, {
      token,
      json: { title: "Renamed mid-turn" },
    });
    expect(renamed.status, renamed.text).toBe(200);
    const archived = await client.patch(`/api/v1/chats/${id}`, {
      token,
      json: { archived: true },
    });
    expect(archived.status, archived.text).toBe(200);
    const { events } = await world.store.audit.list({
      target: { type: "chat", id },
      limit: 10,
    });
    expect(events.map((e) => e.action)).toEqual(["chat.archive", "chat.rename", "chat.create"]);
    expect(events[1]?.changes).toEqual({
      title: { from: expect.any(String), to: "Renamed mid-turn" },
    });
  }, 30_000);
});
