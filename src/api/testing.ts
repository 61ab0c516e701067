/**
 * TEST-ONLY. The api's test harness: `createApi` over the real store and the real chatd service,
 * served on a real socket, and a client. Nothing outside tests imports this file.
 *
 * `makeDeps()` opens the store (`openStore`) on a fresh database of the test run's PostgreSQL (see
 * `src/store/test-support.ts`) and `createChatService(store)` over it. No `ChatDaemon` runs, so a chat
 * stays `pending` until a test moves it on as a worker would: `claimChat`, then the store's
 * `releaseChat`; a turn's events are appended with `store.events.append`.
 *
 * A test file opens one store (`beforeAll`), seeds it once, and each test makes the chats, models
 * or users it must not share.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { type ChatService, createChatService } from "../chatd/index.ts";
import { openStore, type Role, type Store } from "../store/index.ts";
import { createTestDatabase } from "../store/test-support.ts";
import { createApi } from "./app.ts";
import type { ApiOptions } from "./context.ts";
import type { Logger } from "./log.ts";

export { until } from "../store/test-support.ts";

export interface TestDeps {
  readonly store: Store;
  /** The real chatd service (its `stream` counted, see `subscriptions`). */
  readonly chats: ChatService;
  /** The event subscriptions of `chatId` that the api holds open right now. */
  subscriptions(chatId: string): number;
  /** Closes the store and drops its database. */
  close(): Promise<void>;
}

/** The real store on a fresh database, and the real chatd service over it. */
export async function makeDeps(): Promise<TestDeps> {
  const database = await createTestDatabase();
  let store: Store;
  try {
    store = await openStore(database.options());
  } catch (error) {
    await database.cleanup();
    throw error;
  }
  const service = createChatService(store);
  const open = new Map<string, number>();
  const count = (chatId: string, delta: number) => {
    const n = (open.get(chatId) ?? 0) + delta;
    if (n === 0) open.delete(chatId);
    else open.set(chatId, n);
  };
  const chats: ChatService = {
    ...service,
    async stream(chatId, afterSeq, onEvent) {
      const unsubscribe = await service.stream(chatId, afterSeq, onEvent);
      count(chatId, 1);
      let ended = false;
      return () => {
        if (!ended) count(chatId, -1);
        ended = true;
        unsubscribe();
      };
    },
  };
  return {
    store,
    chats,
    subscriptions: (chatId) => open.get(chatId) ?? 0,
    async close() {
      await store.close();
      await database.cleanup();
    },
  };
}

/**
 * Claims `chatId` the way a `ChatDaemon` does (`acquireChats`: `running`, owned by the worker id
 * returned). Other pending chats claimed along the way are handed back (`pending`).
 */
export async function claimChat(store: Store, chatId: string): Promise<string> {
  const workerId = `api-test-${randomUUID()}`;
  const others: string[] = [];
  try {
    for (;;) {
      const claimed = await store.acquireChats(workerId, 100);
      if (claimed.length === 0) throw new Error(`chat ${chatId} is not pending`);
      for (const chat of claimed) if (chat.id !== chatId) others.push(chat.id);
      if (claimed.some((chat) => chat.id === chatId)) return workerId;
    }
  } finally {
    for (const id of others) await store.releaseChat(id, workerId, "pending");
  }
}

// ---- harness --------------------------------------------------------------------------------

export interface Served {
  url: string;
  /** Every log line, as JSON text. */
  logs: string[];
  close(): Promise<void>;
}

export function captureLogger(lines: string[]): Logger {
  const log = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    lines.push(JSON.stringify({ level, msg, ...fields }));
  return { info: log("info"), warn: log("warn"), error: log("error") };
}

/** Serves `createApi` on 127.0.0.1 at a free port. */
export async function serveApi(
  deps: Pick<TestDeps, "store" | "chats">,
  options: Partial<ApiOptions> = {},
): Promise<Served> {
  const logs: string[] = [];
  const app = createApi({
    store: deps.store,
    chats: deps.chats,
    logger: captureLogger(logs),
    options: { secureCookies: false, ready: () => true, ...options },
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    logs,
    close: () =>
      new Promise<void>((resolve) => {
        if ("closeAllConnections" in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---- client ---------------------------------------------------------------------------------

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON, or undefined for an empty or non-JSON body. */
  body: unknown;
}

export interface RequestOptions {
  token?: string;
  /** Sent as JSON unless `raw` is given. */
  json?: unknown;
  raw?: NonNullable<RequestInit["body"]>;
  headers?: Record<string, string>;
}

/** A fetch client that keeps every response body it saw (for "never appears anywhere" checks). */
export class Client {
  readonly seen: string[] = [];
  readonly base: string;

  constructor(base: string) {
    this.base = base;
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: RequestInit["body"] = options.raw;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers["content-type"] ??= "application/json";
    }
    const res = await fetch(this.base + path, {
      method,
      headers,
      ...(body !== undefined ? { body, duplex: "half" } : {}),
    } as RequestInit);
    const text = await res.text();
    this.seen.push(text, JSON.stringify([...res.headers]));
    let parsed: unknown;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, text, body: parsed };
  }

  get = (path: string, o?: RequestOptions) => this.request("GET", path, o);
  post = (path: string, o?: RequestOptions) => this.request("POST", path, o);
  patch = (path: string, o?: RequestOptions) => this.request("PATCH", path, o);
  delete = (path: string, o?: RequestOptions) => this.request("DELETE", path, o);
}

/** A reply's JSON body as a record (tests read fields from it). */
export function obj(reply: Reply): Record<string, unknown> {
  const body = reply.body;
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new Error(`expected a JSON object, got ${reply.status} ${reply.text.slice(0, 200)}`);
  }
  return body as Record<string, unknown>;
}

export interface Seeded {
  admin: string;
  member: string;
  other: string;
  adminId: string;
  memberId: string;
  providerId: string;
  modelId: string;
  disabledModelId: string;
}

/**
 * Seeds an empty store: the owner (the first user, an admin), two members with sessions, a
 * provider and two models (`newModels`).
 */
export async function seed(client: Client): Promise<Seeded> {
  const first = await client.post("/api/v1/users/first", {
    json: { username: "owner", email: "owner@example.com", password: "owner-password" },
  });
  if (first.status !== 201) throw new Error(`creating the owner: ${first.status} ${first.text}`);
  const admin = obj(first).session_token as string;
  const adminId = (obj(first).user as { id: string }).id;
  const member = await newUser(client, admin, "member", "member");
  const other = await newUser(client, admin, "member", "other");
  return {
    admin,
    member: member.token,
    other: other.token,
    adminId,
    memberId: member.id,
    ...(await newModels(client, admin)),
  };
}

/** `seed` through an api served for the purpose. */
export async function seedStore(deps: Pick<TestDeps, "store" | "chats">): Promise<Seeded> {
  const served = await serveApi(deps);
  try {
    return await seed(new Client(served.url));
  } finally {
    await served.close();
  }
}

/** A user created by `admin` (named `name`, or uniquely), signed in: its id and session token. */
export async function newUser(
  client: Client,
  admin: string,
  role: Role = "member",
  name = `user-${randomBytes(4).toString("hex")}`,
): Promise<{ id: string; token: string }> {
  const email = `${name}@example.com`;
  const password = `${name}-password`;
  const created = await client.post("/api/v1/users", {
    token: admin,
    json: { username: name, email, password, role },
  });
  if (created.status !== 201)
    throw new Error(`creating ${name}: ${created.status} ${created.text}`);
  const id = (obj(created).user as { id: string }).id;
  const login = await client.post("/api/v1/users/login", { json: { email, password } });
  return { id, token: obj(login).session_token as string };
}

/** A provider of `admin`'s with an enabled model and a disabled one. */
export async function newModels(
  client: Client,
  admin: string,
): Promise<{ providerId: string; modelId: string; disabledModelId: string }> {
  const provider = obj(
    await client.post("/api/v1/providers", {
      token: admin,
      json: {
        type: "openai-compatible",
        // Provider names are unique: each call makes its own.
        name: `Fake ${randomBytes(4).toString("hex")}`,
        base_url: "http://127.0.0.1:9/v1",
      },
    }),
  );
  const model = obj(
    await client.post("/api/v1/models", {
      token: admin,
      json: { provider_id: provider.id, model: "fake-1" },
    }),
  );
  const disabled = obj(
    await client.post("/api/v1/models", {
      token: admin,
      json: { provider_id: provider.id, model: "fake-off", enabled: false },
    }),
  );
  return {
    providerId: provider.id as string,
    modelId: model.id as string,
    disabledModelId: disabled.id as string,
  };
}

/** What `useServedApi` provides to each test: filled in by its hooks, read inside tests. */
export interface ApiFixture {
  readonly deps: TestDeps;
  readonly served: Served;
  readonly client: Client;
  readonly s: Seeded;
}

/**
 * Registers the usual hooks of an api test file: one seeded store for the file, and a freshly
 * served api (with its own log capture) per test.
 */
export function useServedApi(options: Partial<ApiOptions> = {}): ApiFixture {
  let deps: TestDeps | undefined;
  let seeded: Seeded | undefined;
  let served: Served | undefined;
  let client: Client | undefined;
  beforeAll(async () => {
    deps = await makeDeps();
    seeded = await seedStore(deps);
  });
  afterAll(async () => {
    await deps?.close();
  });
  beforeEach(async () => {
    served = await serveApi(need(deps), options);
    client = new Client(served.url);
  });
  afterEach(async () => {
    await served?.close();
  });
  return {
    get deps() {
      return need(deps);
    },
    get served() {
      return need(served);
    },
    get client() {
      return need(client);
    },
    get s() {
      return need(seeded);
    },
  };
}

function need<T>(value: T | undefined): T {
  if (value === undefined) throw new Error("useServedApi: read inside a test, after its hooks ran");
  return value;
}
