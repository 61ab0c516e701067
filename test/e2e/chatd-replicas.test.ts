/**
 * Two replicas on one PostgreSQL (DESIGN.md §5): chats are claimed by exactly one daemon, events
 * cross replicas through LISTEN/NOTIFY, and Stop reaches the replica that runs the turn. On a
 * database of the test run's PostgreSQL (embedded or `KEEL_TEST_POSTGRES_URL`).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { ChatService } from "../../src/chatd/contract.ts";
import { ChatDaemon } from "../../src/chatd/daemon.ts";
import { createChatService } from "../../src/chatd/service.ts";
import { Transport } from "../../src/provider/index.ts";
import type { Store } from "../../src/store/contract.ts";
import { openStore } from "../../src/store/index.ts";
import { createPostgresDatabase, dropPostgresDatabase } from "../../src/store/test-support.ts";
import type { Chat, ChatEvent, ChatStatus, ModelRecord, User } from "../../src/store/types.ts";
import {
  type FakeProvider,
  hangAfter,
  startFakeProvider,
  textReply,
} from "../fakeprovider/index.ts";

const silentLogger = { warn: () => {}, error: () => {} };

describe("chatd across replicas", () => {
  let fake: FakeProvider;
  let transport: Transport;
  let dataDir: string;
  let url: string;
  let a: Store;
  let b: Store;
  let serviceA: ChatService;
  let owner: User;
  let model: ModelRecord;
  const daemons: ChatDaemon[] = [];

  beforeAll(async () => {
    fake = await startFakeProvider();
    transport = new Transport({ http2: false });
  });
  afterAll(async () => {
    await transport.close();
    await fake.close();
  });

  beforeEach(async () => {
    fake.reset();
    dataDir = await mkdtemp(join(tmpdir(), "keel-replicas-"));
    url = await createPostgresDatabase();
    // Two replicas: two stores (pools, LISTEN connections) on one database and one server key.
    a = await openStore({ dataDir, postgresUrl: url });
    b = await openStore({ dataDir, postgresUrl: url });
    owner = await a.createFirstUser({
      username: "ada",
      email: "ada@example.com",
      password: "correct horse battery",
    });
    const provider = await a.createProvider({
      type: "anthropic",
      name: "Fake",
      base_url: `${fake.url}/v1`,
      api_key: "k",
    });
    model = await a.createModel({ provider_id: provider.id, model: "claude-test" });
    serviceA = createChatService(a);
  });

  afterEach(async () => {
    for (const daemon of daemons.splice(0)) await daemon.shutdown();
    await a.close();
    await b.close();
    await dropPostgresDatabase(url);
    await rm(dataDir, { recursive: true, force: true });
  });

  async function daemonOn(store: Store): Promise<ChatDaemon> {
    const daemon = new ChatDaemon({
      store,
      transport,
      policy: { baseDelayMs: 1, maxDelayMs: 5 },
      pollIntervalMs: 200,
      heartbeatIntervalMs: 200,
      staleMs: 2_000,
      logger: silentLogger,
    });
    daemons.push(daemon);
    await daemon.start();
    return daemon;
  }

  const create = (text: string): Promise<Chat> =>
    serviceA.createChat(owner, { model_id: model.id, content: [{ type: "text", text }] });

  async function waitForStatus(chatId: string, status: ChatStatus): Promise<void> {
    await vi.waitFor(async () => expect((await a.getChat(chatId))?.status).toBe(status), {
      timeout: 10_000,
      interval: 20,
    });
  }

  it("runs each chat on exactly one of two competing daemons", async () => {
    const n = 12;
    for (let i = 0; i < n; i++) fake.enqueue(textReply(`Reply ${i}.`, { chunkDelayMs: 5 }));
    const da = await daemonOn(a);
    const db = await daemonOn(b);
    const chats = await Promise.all(Array.from({ length: n }, (_, i) => create(`Question ${i}`)));
    for (const chat of chats) await waitForStatus(chat.id, "waiting");
    expect(fake.requests).toHaveLength(n);
    for (const chat of chats) {
      const messages = await a.listMessages(chat.id);
      expect(messages.map((m) => m.role)).toEqual(["user", "assistant"]);
      const running = (await a.events.listAfter(chat.id, 0)).filter(
        (e) => e.type === "status" && (e.data as { status: string }).status === "running",
      );
      expect(running).toHaveLength(1);
    }
    expect(da.activeChats).toEqual([]);
    expect(db.activeChats).toEqual([]);
  });

  it("streams a turn run on the other replica, and stops it from this one", async () => {
    fake.enqueue(hangAfter("Working on", 2));
    await daemonOn(b); // only replica B runs chats
    const chat = await create("Start");
    const seen: ChatEvent[] = [];
    const stop = await serviceA.stream(chat.id, 0, (event) => seen.push(event));
    await vi.waitFor(() => expect(seen.some((e) => e.type === "message_part")).toBe(true), {
      timeout: 10_000,
    });
    await new Promise((r) => setTimeout(r, 150));
    await serviceA.interrupt((await a.getChat(chat.id)) as Chat);
    await waitForStatus(chat.id, "waiting");
    const messages = await a.listMessages(chat.id);
    expect(messages.at(-1)?.parts).toEqual([{ type: "text", text: "Working on" }]);
    await vi.waitFor(() =>
      expect(seen.at(-1)).toMatchObject({ type: "status", data: { status: "waiting" } }),
    );
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));
    expect(seen.some((e) => e.type === "error")).toBe(false);
    stop();
  });
});
