/**
 * A model's settings reach the provider's wire: ChatService + ChatDaemon + the real store + the
 * fake provider over real sockets. Each case is one chat turn on a model with settings, and the
 * JSON body the provider received carries them in the provider's own words.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { ChatService } from "../../src/chatd/contract.ts";
import { ChatDaemon } from "../../src/chatd/daemon.ts";
import { createChatService } from "../../src/chatd/service.ts";
import { type ModelSettings, type ProviderType, Transport } from "../../src/provider/index.ts";
import type { Store } from "../../src/store/contract.ts";
import { openStore } from "../../src/store/index.ts";
import { createPostgresDatabase, dropPostgresDatabase } from "../../src/store/test-support.ts";
import type { User } from "../../src/store/types.ts";
import { type FakeProvider, startFakeProvider, textReply } from "../fakeprovider/index.ts";

const silentLogger = { warn: () => {}, error: () => {} };

interface Case {
  name: string;
  type: ProviderType;
  base: "/v1" | "/v1beta";
  options?: Record<string, unknown>;
  model: string;
  settings: ModelSettings;
  wire: Record<string, unknown>;
  absent?: string[];
}

const CASES: Case[] = [
  {
    name: "OpenAI chat: temperature, max_tokens, reasoning_effort",
    type: "openai",
    base: "/v1",
    options: { api: "chat" },
    model: "gpt-4.1",
    settings: { temperature: 0.3, max_output_tokens: 1234, reasoning: "low" },
    wire: { temperature: 0.3, max_tokens: 1234, reasoning_effort: "low" },
  },
  {
    name: "OpenAI responses: reasoning.effort",
    type: "openai",
    base: "/v1",
    model: "gpt-5",
    settings: { max_output_tokens: 2000, reasoning: "high" },
    wire: { max_output_tokens: 2000, reasoning: { effort: "high" } },
  },
  {
    name: "Anthropic: thinking with its budget on top of max_tokens, no temperature",
    type: "anthropic",
    base: "/v1",
    model: "claude-sonnet-4-5",
    settings: { max_output_tokens: 1000, reasoning: "medium" },
    wire: { max_tokens: 1000 + 8192, thinking: { type: "enabled", budget_tokens: 8192 } },
    absent: ["temperature"],
  },
  {
    name: "Anthropic: thinking off with a temperature",
    type: "anthropic",
    base: "/v1",
    model: "claude-sonnet-4-5",
    settings: { temperature: 0.2, reasoning: "off" },
    wire: { temperature: 0.2, thinking: { type: "disabled" } },
  },
  {
    name: "Anthropic: no settings leave the provider's defaults",
    type: "anthropic",
    base: "/v1",
    model: "claude-sonnet-4-5",
    settings: {},
    wire: { model: "claude-sonnet-4-5" },
    absent: ["temperature", "thinking"],
  },
  {
    name: "Google: generationConfig with thinkingBudget",
    type: "google",
    base: "/v1beta",
    model: "gemini-2.5-flash",
    settings: { temperature: 0.5, max_output_tokens: 500, reasoning: "off" },
    wire: {
      generationConfig: expect.objectContaining({
        temperature: 0.5,
        maxOutputTokens: 500,
        thinkingConfig: { thinkingBudget: 0 },
      }),
    },
  },
  {
    name: "OpenAI-compatible: reasoning_effort passthrough",
    type: "openai-compatible",
    base: "/v1",
    model: "qwen3",
    settings: { reasoning: "medium", temperature: 1.1 },
    wire: { reasoning_effort: "medium", temperature: 1.1 },
  },
];

describe("model settings on the wire", () => {
  let fake: FakeProvider;
  let transport: Transport;
  let dataDir: string;
  let postgresUrl: string;
  let store: Store;
  let service: ChatService;
  let daemon: ChatDaemon;
  let owner: User;

  beforeAll(async () => {
    fake = await startFakeProvider();
    transport = new Transport({ http2: false });
    dataDir = await mkdtemp(join(tmpdir(), "keel-model-settings-"));
    postgresUrl = await createPostgresDatabase();
    store = await openStore({ dataDir, postgresUrl });
    owner = await store.createFirstUser({
      username: "ada",
      email: "ada@example.com",
      password: "correct horse battery",
    });
    service = createChatService(store);
    daemon = new ChatDaemon({
      store,
      transport,
      titles: false,
      policy: { baseDelayMs: 1, maxDelayMs: 5 },
      pollIntervalMs: 50,
      logger: silentLogger,
    });
    await daemon.start();
  });
  afterAll(async () => {
    await daemon.shutdown();
    await store.close();
    await dropPostgresDatabase(postgresUrl);
    await rm(dataDir, { recursive: true, force: true });
    await transport.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  it.each(CASES)("$name", async (c) => {
    const provider = await store.createProvider({
      type: c.type,
      name: c.name,
      base_url: `${fake.url}${c.base}`,
      api_key: "k",
      ...(c.options ? { options: c.options } : {}),
    });
    const model = await store.createModel({
      provider_id: provider.id,
      model: c.model,
      settings: c.settings,
    });
    fake.enqueue(textReply("Done."));
    const chat = await service.createChat(owner, {
      model_id: model.id,
      content: [{ type: "text", text: "Hello" }],
    });
    await vi.waitFor(async () => expect((await store.getChat(chat.id))?.status).toBe("waiting"), {
      timeout: 10_000,
      interval: 20,
    });
    expect((await store.getChat(chat.id))?.last_error).toBeNull();
    expect(fake.requests).toHaveLength(1);
    const body = fake.requests[0]?.body as Record<string, unknown>;
    expect(body).toMatchObject(c.wire);
    for (const key of c.absent ?? []) expect(body).not.toHaveProperty(key);
  });
});
