/**
 * Spend limits where turns run (DESIGN.md §8), on two replicas of one PostgreSQL with the fake
 * provider on real sockets: a turn that crosses its owner's limit finishes the step that crossed
 * it (and runs its tool calls) and stops before the next one with the limit's message; the other
 * replica refuses the owner's next chat; a raised limit lets them go on.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import type { ChatService } from "../../src/chatd/contract.ts";
import { ChatDaemon } from "../../src/chatd/daemon.ts";
import { createChatService } from "../../src/chatd/service.ts";
import {
  SPEND_LIMIT_CODE,
  SPEND_LIMIT_KIND,
  SpendLimitReached,
  spendLimitMessage,
} from "../../src/chatd/spend-check.ts";
import { defineTool, ToolRegistry } from "../../src/chatloop/tools.ts";
import { Transport } from "../../src/provider/index.ts";
import type { Store } from "../../src/store/contract.ts";
import { openStore } from "../../src/store/index.ts";
import { createPostgresDatabase, dropPostgresDatabase } from "../../src/store/test-support.ts";
import type { Chat, ChatStatus, ModelRecord, User } from "../../src/store/types.ts";
import {
  type FakeProvider,
  startFakeProvider,
  textReply,
  toolCallReply,
} from "../fakeprovider/index.ts";

const add = defineTool({
  name: "add",
  description: "Adds two numbers.",
  inputSchema: z.object({ a: z.number(), b: z.number() }),
  execute: ({ a, b }) => ({ output: String(a + b), is_error: false }),
});

const silentLogger = { warn: () => {}, error: () => {} };
/** 100 output tokens at $10,000 per million: each scripted step costs $1. */
const PRICING = { input_per_mtok: 0, output_per_mtok: 10_000 };
const ONE_DOLLAR = { inputTokens: 100, outputTokens: 100 };

describe("spend limits across replicas", () => {
  let fake: FakeProvider;
  let transport: Transport;
  let dataDir: string;
  let url: string;
  let a: Store;
  let b: Store;
  let serviceA: ChatService;
  let serviceB: ChatService;
  let owner: User;
  let member: User;
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
    dataDir = await mkdtemp(join(tmpdir(), "keel-limits-"));
    url = await createPostgresDatabase();
    a = await openStore({ dataDir, postgresUrl: url });
    b = await openStore({ dataDir, postgresUrl: url });
    owner = await a.createFirstUser({
      username: "ada",
      email: "ada@example.com",
      password: "correct horse battery",
    });
    member = await a.createUser({
      username: "bob",
      email: "bob@example.com",
      password: "correct horse battery",
      role: "member",
    });
    const provider = await a.createProvider({
      type: "anthropic",
      name: "Fake",
      base_url: `${fake.url}/v1`,
      api_key: "k",
    });
    model = await a.createModel({
      provider_id: provider.id,
      model: "claude-test",
      pricing: PRICING,
    });
    serviceA = createChatService(a);
    serviceB = createChatService(b);
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
      tools: new ToolRegistry([add]),
      policy: { baseDelayMs: 1, maxDelayMs: 5 },
      pollIntervalMs: 100,
      heartbeatIntervalMs: 200,
      staleMs: 2_000,
      logger: silentLogger,
    });
    daemons.push(daemon);
    await daemon.start();
    return daemon;
  }

  const create = (service: ChatService, user: User, text: string): Promise<Chat> =>
    service.createChat(user, { model_id: model.id, content: [{ type: "text", text }] });

  async function waitForStatus(chatId: string, status: ChatStatus): Promise<Chat> {
    await vi.waitFor(async () => expect((await a.getChat(chatId))?.status).toBe(status), {
      timeout: 10_000,
      interval: 20,
    });
    return (await a.getChat(chatId)) as Chat;
  }

  it("a turn that crosses the limit finishes its step, runs its tools and stops before the next step", async () => {
    await a.spendLimits.setUserLimit(member.id, { usd: 0.5, period: "day" });
    fake.enqueue(
      toolCallReply({ name: "add", args: { a: 2, b: 3 }, id: "call_1" }, { usage: ONE_DOLLAR }),
      textReply("It is 5.", { usage: ONE_DOLLAR }),
    );
    await daemonOn(a);
    const chat = await create(serviceA, member, "What is 2+3?");
    const ended = await waitForStatus(chat.id, "error");

    // One model step ran (it cost $1, over $0.50): the second was never asked for.
    expect(fake.requests).toHaveLength(1);
    const status = await a.spendLimits.status(member.id);
    expect(status).toMatchObject({ spent_usd: 1, over: true });
    const message = spendLimitMessage(status);
    expect(ended.last_error).toEqual({ kind: SPEND_LIMIT_KIND, message });

    const messages = await a.listMessages(chat.id);
    expect(messages.map((m) => [m.role, m.parts.map((p) => p.type)])).toEqual([
      ["user", ["text"]],
      ["assistant", ["tool_call"]],
      ["tool", ["tool_result"]],
      ["assistant", ["error"]],
    ]);
    expect(messages[1]?.cost_usd).toBe(1);
    const events = await a.events.listAfter(chat.id, 0, 10_000);
    const errors = events.filter((e) => e.type === "error");
    expect(errors.map((e) => e.data)).toEqual([{ kind: SPEND_LIMIT_KIND, message }]);
    expect(events.at(-1)).toMatchObject({ type: "status", data: { status: "error" } });

    // Continuing the chat is refused with the same sentence, on either replica.
    const current = (await a.getChat(chat.id)) as Chat;
    for (const service of [serviceA, serviceB]) {
      const refused = await service
        .sendMessage(current, [{ type: "text", text: "Go on" }])
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(SpendLimitReached);
      expect(refused).toMatchObject({ status: 409, code: SPEND_LIMIT_CODE, message });
    }
    // Other users are not touched.
    fake.enqueue(textReply("Hi.", { usage: ONE_DOLLAR }));
    const theirs = await create(serviceA, owner, "Hello");
    await waitForStatus(theirs.id, "waiting");
  });

  it("spend on one replica is refused on the other", async () => {
    await a.spendLimits.setUserLimit(member.id, { usd: 1.5, period: "month" });
    // Replica B has looked already (and keeps what it read for a few seconds).
    expect((await b.spendLimits.status(member.id)).over).toBe(false);
    fake.enqueue(
      textReply("One.", { usage: ONE_DOLLAR }),
      textReply("Two.", { usage: ONE_DOLLAR }),
    );
    await daemonOn(a); // only replica A runs turns
    const first = await create(serviceB, member, "One");
    await waitForStatus(first.id, "waiting");
    const second = await create(serviceB, member, "Two");
    await waitForStatus(second.id, "waiting");
    expect((await a.spendLimits.status(member.id)).spent_usd).toBe(2);

    // $2 of $1.50, spent on A: B refuses once its copy of the spend is read again (≤ 3 s).
    await vi.waitFor(
      async () => {
        const refused = await create(serviceB, member, "Three").catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(SpendLimitReached);
      },
      { timeout: 8_000, interval: 250 },
    );
    expect(fake.requests).toHaveLength(2);

    // An admin raises the limit on B: A lets the member go on at once (the limit's cache entry
    // is dropped on every replica by NOTIFY).
    await b.spendLimits.setUserLimit(member.id, { usd: 10, period: "month" });
    await vi.waitFor(async () => expect((await a.spendLimits.status(member.id)).over).toBe(false), {
      timeout: 2_000,
      interval: 20,
    });
    fake.enqueue(textReply("Three.", { usage: ONE_DOLLAR }));
    const third = await create(serviceA, member, "Three");
    await waitForStatus(third.id, "waiting");
  });

  it("the deployment's default applies to everyone without their own limit", async () => {
    await b.deploymentSettings.update({ default_limit: { usd: 0.5, period: "week" } });
    fake.enqueue(textReply("One.", { usage: ONE_DOLLAR }));
    await daemonOn(a);
    const chat = await create(serviceA, member, "One");
    await waitForStatus(chat.id, "waiting");
    const refused = await create(serviceA, member, "Two").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SpendLimitReached);
    expect((refused as Error).message).toContain("of your $0.50 weekly limit");
    // Their own limit over the default lets them go on; deleting it brings the default back.
    await a.spendLimits.setUserLimit(member.id, { usd: 5, period: "week" });
    expect((await a.spendLimits.status(member.id)).over).toBe(false);
    await a.spendLimits.deleteUserLimit(member.id);
    expect((await a.spendLimits.status(member.id)).over).toBe(true);
  });
});
