/**
 * What a chatd end-to-end test runs on: the fake provider over real sockets and a transport for
 * it, a store on a database of its own (the test run's PostgreSQL), the owner (an admin), an
 * Anthropic-format provider pointing at the fake, and the chat service. `useChatdWorld()`
 * registers a describe block's hooks: one world for the block, the fake's scripts and requests
 * forgotten before each test, everything closed at the end.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach } from "vitest";
import type { ChatService } from "../../../src/chatd/contract.ts";
import { createChatService } from "../../../src/chatd/service.ts";
import { Transport } from "../../../src/provider/index.ts";
import type { Store } from "../../../src/store/contract.ts";
import { openStore } from "../../../src/store/index.ts";
import { createPostgresDatabase, dropPostgresDatabase } from "../../../src/store/test-support.ts";
import type { User } from "../../../src/store/types.ts";
import {
  type FakeProvider,
  type FakeProviderOptions,
  startFakeProvider,
} from "../../fakeprovider/index.ts";

export interface ChatdWorld {
  readonly fake: FakeProvider;
  readonly transport: Transport;
  readonly store: Store;
  readonly service: ChatService;
  readonly owner: User;
  /** The provider every model of the world is added to. */
  readonly providerId: string;
}

export function useChatdWorld(fakeOptions: FakeProviderOptions = {}): ChatdWorld {
  let world: ChatdWorld | undefined;
  let dataDir = "";
  let postgresUrl = "";
  beforeAll(async () => {
    const fake = await startFakeProvider(fakeOptions);
    const transport = new Transport({ http2: false });
    dataDir = await mkdtemp(join(tmpdir(), "keel-chatd-"));
    postgresUrl = await createPostgresDatabase();
    const store = await openStore({ dataDir, postgresUrl });
    const owner = await store.createFirstUser({
      username: "ada",
      email: "ada@example.com",
      password: "correct horse battery",
    });
    const provider = await store.createProvider({
      type: "anthropic",
      name: "Fake Anthropic",
      base_url: `${fake.url}/v1`,
      api_key: "k",
    });
    world = {
      fake,
      transport,
      store,
      service: createChatService(store),
      owner,
      providerId: provider.id,
    };
  });
  beforeEach(() => world?.fake.reset());
  afterAll(async () => {
    if (!world) return;
    await world.store.close();
    await dropPostgresDatabase(postgresUrl);
    await rm(dataDir, { recursive: true, force: true });
    await world.transport.close();
    await world.fake.close();
  });
  const get = (): ChatdWorld => {
    if (!world) throw new Error("the chatd world is used before its beforeAll ran");
    return world;
  };
  return {
    get fake() {
      return get().fake;
    },
    get transport() {
      return get().transport;
    },
    get store() {
      return get().store;
    },
    get service() {
      return get().service;
    },
    get owner() {
      return get().owner;
    },
    get providerId() {
      return get().providerId;
    },
  };
}
