/**
 * TEST-ONLY. In-memory `Store` and `ChatService` for the api's tests, and a harness that serves
 * `createApi` on a real socket. Nothing outside tests imports this file.
 *
 * The tests get their dependencies from `makeDeps()`. By default that is the in-memory pair
 * below; set `KEEL_API_TEST_DEPS` to a module that exports `makeDeps(): Promise<TestDeps>` (the
 * real store on PGlite and the real chatd, say) to run the same tests against them.
 */
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { serve } from "@hono/node-server";
import { ChatRequestError, type ChatService } from "../chatd/contract.ts";
import type { ProviderConfig } from "../provider/types.ts";
import {
  type ChatEvents,
  type ChatSignal,
  type ChatSignals,
  ConflictError,
  type NewMessage,
  type NewModel,
  type NewProvider,
  type StatusChange,
  type Store,
} from "../store/contract.ts";
import { publicMessage } from "../store/public.ts";
import type {
  Chat,
  ChatErrorRecord,
  ChatEvent,
  ChatStatus,
  Message,
  MessagePart,
  ModelRecord,
  Page,
  ProviderRecord,
  Role,
  User,
} from "../store/types.ts";
import { createApi } from "./app.ts";
import type { ApiOptions } from "./context.ts";
import type { Logger } from "./log.ts";

export interface TestDeps {
  store: Store;
  chats: ChatService;
  close(): Promise<void>;
  /** Optional insight into the fakes; tests that need it skip their check without it. */
  probes?: {
    /** Live event subscriptions of a chat. */
    subscriptions(chatId: string): number;
  };
}

export async function makeDeps(): Promise<TestDeps> {
  const module = process.env.KEEL_API_TEST_DEPS;
  if (module) {
    const loaded = (await import(pathToFileURL(module).href)) as {
      makeDeps: () => Promise<TestDeps>;
    };
    return loaded.makeDeps();
  }
  return memoryDeps();
}

export async function memoryDeps(): Promise<TestDeps> {
  const store = new MemoryStore();
  const chats = new MemoryChatService(store);
  return {
    store,
    chats,
    close: () => store.close(),
    probes: { subscriptions: (chatId) => store.memoryEvents.subscriberCount(chatId) },
  };
}

// ---- in-memory store ------------------------------------------------------------------------

const now = () => new Date().toISOString();

class MemoryEvents implements ChatEvents {
  readonly #log = new Map<string, ChatEvent[]>();
  readonly #subscribers = new Map<string, Set<(event: ChatEvent) => void>>();

  async append(chatId: string, type: string, data: unknown): Promise<ChatEvent> {
    const log = this.#log.get(chatId) ?? [];
    this.#log.set(chatId, log);
    const event: ChatEvent = {
      chat_id: chatId,
      seq: log.length + 1,
      type,
      data,
      created_at: now(),
    };
    log.push(event);
    for (const fn of this.#subscribers.get(chatId) ?? []) fn(event);
    return event;
  }

  async listAfter(chatId: string, afterSeq: number, limit?: number): Promise<ChatEvent[]> {
    const events = (this.#log.get(chatId) ?? []).filter((e) => e.seq > afterSeq);
    return limit === undefined ? events : events.slice(0, limit);
  }

  subscribe(chatId: string, onEvent: (event: ChatEvent) => void): () => void {
    const set = this.#subscribers.get(chatId) ?? new Set();
    this.#subscribers.set(chatId, set);
    const fn = (e: ChatEvent) => onEvent(e);
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  }

  subscriberCount(chatId: string): number {
    return this.#subscribers.get(chatId)?.size ?? 0;
  }
}

class MemorySignals implements ChatSignals {
  readonly sent: ChatSignal[] = [];
  readonly #listeners = new Set<(signal: ChatSignal) => void>();
  async send(signal: ChatSignal): Promise<void> {
    this.sent.push(signal);
    for (const fn of this.#listeners) fn(signal);
  }
  listen(onSignal: (signal: ChatSignal) => void): () => void {
    this.#listeners.add(onSignal);
    return () => this.#listeners.delete(onSignal);
  }
}

interface StoredUser {
  user: User;
  password: string;
}

/** A `Store` in memory: enough for the api (chatd's ownership methods are not used here). */
export class MemoryStore implements Store {
  readonly kind = "pglite" as const;
  readonly memoryEvents = new MemoryEvents();
  readonly events: ChatEvents = this.memoryEvents;
  readonly signals = new MemorySignals();
  readonly #users = new Map<string, StoredUser>();
  readonly #tokens = new Map<string, { userId: string; expiresAt: number }>();
  readonly #providers = new Map<string, { record: ProviderRecord; apiKey: string | null }>();
  readonly #models = new Map<string, ModelRecord>();
  readonly #chats = new Map<string, { chat: Chat; order: number }>();
  readonly #messages = new Map<string, Message[]>();
  readonly #queued = new Map<string, MessagePart[][]>();
  #order = 0;

  async countUsers(): Promise<number> {
    return this.#users.size;
  }

  async createFirstUser(input: { username: string; email: string; password: string }) {
    if (this.#users.size > 0) throw new ConflictError("a user exists");
    return this.createUser({ ...input, role: "admin" });
  }

  async createUser(input: { username: string; email: string; password: string; role: Role }) {
    for (const { user } of this.#users.values()) {
      if (
        user.email.toLowerCase() === input.email.toLowerCase() ||
        user.username === input.username
      ) {
        throw new ConflictError("duplicate user");
      }
    }
    const user: User = {
      id: randomUUID(),
      username: input.username,
      email: input.email,
      role: input.role,
      created_at: now(),
    };
    this.#users.set(user.id, { user, password: input.password });
    return user;
  }

  async getUser(id: string): Promise<User | null> {
    return this.#users.get(id)?.user ?? null;
  }

  async verifyPassword(email: string, password: string): Promise<User | null> {
    for (const { user, password: p } of this.#users.values()) {
      if (user.email.toLowerCase() === email.toLowerCase() && p === password) return user;
    }
    return null;
  }

  async createToken(
    userId: string,
    kind: "session" | "api",
    options: { name?: string; ttlMs?: number } = {},
  ): Promise<string> {
    const token = `${kind === "api" ? "keel_" : "sess_"}${randomUUID().replaceAll("-", "")}`;
    const expiresAt = kind === "session" ? Date.now() + (options.ttlMs ?? 86_400_000) : Infinity;
    this.#tokens.set(token, { userId, expiresAt });
    return token;
  }

  async userForToken(token: string): Promise<User | null> {
    const t = this.#tokens.get(token);
    if (t === undefined || t.expiresAt < Date.now()) return null;
    return this.getUser(t.userId);
  }

  async createProvider(input: NewProvider): Promise<ProviderRecord> {
    const record: ProviderRecord = {
      id: randomUUID(),
      type: input.type,
      name: input.name,
      base_url: input.base_url ?? null,
      options: input.options ?? {},
      has_api_key: Boolean(input.api_key),
      created_at: now(),
      updated_at: now(),
    };
    this.#providers.set(record.id, { record, apiKey: input.api_key ?? null });
    return { ...record };
  }

  async getProvider(id: string): Promise<ProviderRecord | null> {
    const p = this.#providers.get(id);
    return p ? { ...p.record } : null;
  }

  async listProviders(): Promise<ProviderRecord[]> {
    return [...this.#providers.values()].map((p) => ({ ...p.record }));
  }

  async updateProvider(id: string, patch: Partial<NewProvider>): Promise<ProviderRecord | null> {
    const p = this.#providers.get(id);
    if (!p) return null;
    if (patch.api_key !== undefined) p.apiKey = patch.api_key;
    const { api_key: _key, ...rest } = patch;
    p.record = {
      ...p.record,
      ...rest,
      base_url: patch.base_url === undefined ? p.record.base_url : patch.base_url,
      options: patch.options ?? p.record.options,
      has_api_key: Boolean(p.apiKey),
      updated_at: now(),
    };
    return { ...p.record };
  }

  async deleteProvider(id: string): Promise<boolean> {
    return this.#providers.delete(id);
  }

  async providerConfig(id: string): Promise<ProviderConfig | null> {
    const p = this.#providers.get(id);
    if (!p) return null;
    return {
      type: p.record.type,
      name: p.record.name,
      ...(p.record.base_url ? { base_url: p.record.base_url } : {}),
      ...(p.apiKey ? { api_key: p.apiKey } : {}),
      options: p.record.options,
    };
  }

  async createModel(input: NewModel): Promise<ModelRecord> {
    const model: ModelRecord = {
      id: randomUUID(),
      provider_id: input.provider_id,
      model: input.model,
      display_name: input.display_name ?? input.model,
      context_window: input.context_window ?? null,
      pricing: input.pricing ?? null,
      enabled: input.enabled ?? true,
      created_at: now(),
      updated_at: now(),
    };
    this.#models.set(model.id, model);
    return { ...model };
  }

  async getModel(id: string): Promise<ModelRecord | null> {
    const m = this.#models.get(id);
    return m ? { ...m } : null;
  }

  async listModels(options: { enabledOnly?: boolean } = {}): Promise<ModelRecord[]> {
    return [...this.#models.values()].filter((m) => !options.enabledOnly || m.enabled);
  }

  async updateModel(id: string, patch: Partial<NewModel>): Promise<ModelRecord | null> {
    const m = this.#models.get(id);
    if (!m) return null;
    const next: ModelRecord = {
      ...m,
      ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
      updated_at: now(),
    };
    this.#models.set(id, next);
    return { ...next };
  }

  async deleteModel(id: string): Promise<boolean> {
    return this.#models.delete(id);
  }

  async createChat(input: {
    owner_id: string;
    model_id: string;
    title: string;
    workspace_id?: string | null;
    first_message: MessagePart[];
  }): Promise<{ chat: Chat; message: Message }> {
    const chat: Chat = {
      id: randomUUID(),
      owner_id: input.owner_id,
      title: input.title,
      status: "pending",
      model_id: input.model_id,
      workspace_id: input.workspace_id ?? null,
      archived: false,
      worker_id: null,
      heartbeat_at: null,
      last_error: null,
      last_event_seq: 0,
      created_at: now(),
      updated_at: now(),
    };
    this.#chats.set(chat.id, { chat, order: this.#order++ });
    const message = await this.insertMessage(chat.id, { role: "user", parts: input.first_message });
    // As the real store does, in the same step as the change.
    await this.events.append(chat.id, "message", { message: publicMessage(message) });
    await this.events.append(chat.id, "status", { status: "pending" });
    return { chat: { ...chat }, message };
  }

  async getChat(id: string): Promise<Chat | null> {
    const c = this.#chats.get(id);
    return c ? { ...c.chat } : null;
  }

  async listChats(
    ownerId: string | undefined,
    options: { limit: number; before?: string },
  ): Promise<Page<Chat>> {
    const before = options.before === undefined ? Infinity : Number(options.before);
    const rows = [...this.#chats.values()]
      .filter((c) => !c.chat.archived && (ownerId === undefined || c.chat.owner_id === ownerId))
      .filter((c) => c.order < before)
      .sort((a, b) => b.order - a.order);
    const page = rows.slice(0, options.limit);
    const last = page.at(-1);
    return {
      items: page.map((c) => ({ ...c.chat })),
      next_cursor: rows.length > options.limit && last ? String(last.order) : null,
    };
  }

  async updateChat(
    id: string,
    patch: Partial<{
      title: string;
      model_id: string;
      archived: boolean;
      last_error: ChatErrorRecord | null;
    }>,
  ): Promise<Chat | null> {
    const c = this.#chats.get(id);
    if (!c) return null;
    c.chat = { ...c.chat, ...patch, updated_at: now() };
    return { ...c.chat };
  }

  async insertMessage(chatId: string, message: NewMessage): Promise<Message> {
    const m: Message = {
      id: message.id ?? randomUUID(),
      chat_id: chatId,
      role: message.role,
      parts: message.parts,
      usage: message.usage ?? null,
      model_id: message.model_id ?? null,
      in_progress: message.in_progress ?? false,
      created_at: now(),
    };
    const list = this.#messages.get(chatId) ?? [];
    this.#messages.set(chatId, list);
    list.push(m);
    return m;
  }

  async saveMessage(chatId: string, message: NewMessage & { id: string }): Promise<Message> {
    const list = this.#messages.get(chatId) ?? [];
    const index = list.findIndex((m) => m.id === message.id);
    const old = list[index];
    if (!old) return this.insertMessage(chatId, message);
    const saved: Message = {
      ...old,
      parts: message.parts,
      usage: message.usage ?? null,
      model_id: message.model_id ?? null,
      in_progress: message.in_progress ?? false,
    };
    list[index] = saved;
    return saved;
  }

  async deleteMessage(chatId: string, id: string): Promise<boolean> {
    const list = this.#messages.get(chatId) ?? [];
    const index = list.findIndex((m) => m.id === id);
    if (index < 0) return false;
    list.splice(index, 1);
    return true;
  }

  async listMessages(chatId: string): Promise<Message[]> {
    return [...(this.#messages.get(chatId) ?? [])];
  }

  async enqueueUserMessage(
    chatId: string,
    parts: MessagePart[],
  ): Promise<{ appended: Message | null }> {
    const c = this.#chats.get(chatId);
    if (!c) throw new Error("no such chat");
    if (c.chat.status === "pending" || c.chat.status === "running") {
      const q = this.#queued.get(chatId) ?? [];
      this.#queued.set(chatId, q);
      q.push(parts);
      return { appended: null };
    }
    const appended = await this.insertMessage(chatId, { role: "user", parts });
    await this.events.append(chatId, "message", { message: publicMessage(appended) });
    await this.setStatus(chatId, "pending");
    return { appended };
  }

  async drainQueuedMessages(chatId: string): Promise<Message[]> {
    const q = this.#queued.get(chatId) ?? [];
    this.#queued.delete(chatId);
    const out: Message[] = [];
    for (const parts of q) out.push(await this.insertMessage(chatId, { role: "user", parts }));
    return out;
  }

  async acquireChats(): Promise<Chat[]> {
    return [];
  }
  async heartbeat(): Promise<string[]> {
    return [];
  }
  async releaseChat(): Promise<StatusChange> {
    return { applied: false, status: null, moved: [] };
  }
  async recoverStaleChats(): Promise<Array<{ chat_id: string; moved: Message[] }>> {
    return [];
  }

  async setStatus(chatId: string, status: ChatStatus): Promise<StatusChange> {
    const c = this.#chats.get(chatId);
    if (!c) return { applied: false, status: null, moved: [] };
    const previous = c.chat.status;
    c.chat = { ...c.chat, status, updated_at: now() };
    if (previous !== status) await this.events.append(chatId, "status", { status });
    return { applied: true, status, moved: [] };
  }

  async setStatusIf(chatId: string, from: ChatStatus, to: ChatStatus): Promise<StatusChange> {
    const c = this.#chats.get(chatId);
    if (!c || c.chat.status !== from || c.chat.worker_id !== null) {
      return { applied: false, status: null, moved: [] };
    }
    return this.setStatus(chatId, to);
  }

  async close(): Promise<void> {}
}

// ---- in-memory chat service -----------------------------------------------------------------

/** chatd's contract over a `Store`, without running turns: what the api needs to be tested. */
export class MemoryChatService implements ChatService {
  readonly calls: Array<{ op: "send" | "interrupt"; chat_id: string }> = [];
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  async createChat(
    owner: User,
    input: { model_id: string; content: MessagePart[]; workspace_id?: string | null },
  ): Promise<Chat> {
    const model = await this.#store.getModel(input.model_id);
    if (model === null || !model.enabled) {
      throw new ChatRequestError(400, "Unknown or disabled model.");
    }
    const first = input.content.find((p) => p.type === "text");
    const title = first && first.type === "text" ? first.text.slice(0, 80) : "New chat";
    const { chat } = await this.#store.createChat({
      owner_id: owner.id,
      model_id: model.id,
      title,
      workspace_id: input.workspace_id ?? null,
      first_message: input.content,
    });
    return chat;
  }

  async sendMessage(chat: Chat, content: MessagePart[]): Promise<void> {
    this.calls.push({ op: "send", chat_id: chat.id });
    await this.#store.enqueueUserMessage(chat.id, content);
  }

  async interrupt(chat: Chat): Promise<void> {
    this.calls.push({ op: "interrupt", chat_id: chat.id });
    await this.#store.signals.send({ type: "interrupt", chat_id: chat.id });
  }

  async stream(
    chatId: string,
    afterSeq: number,
    onEvent: (event: ChatEvent) => void,
  ): Promise<() => void> {
    let last = afterSeq;
    let backlogDone = false;
    const early: ChatEvent[] = [];
    const deliver = (e: ChatEvent) => {
      if (e.seq <= last) return;
      last = e.seq;
      onEvent(e);
    };
    const unsubscribe = this.#store.events.subscribe(chatId, (e) => {
      if (backlogDone) deliver(e);
      else early.push(e);
    });
    for (const e of await this.#store.events.listAfter(chatId, afterSeq)) deliver(e);
    for (const e of early) deliver(e);
    backlogDone = true;
    return unsubscribe;
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

/** An admin (the first user), two members with sessions, a provider and two models. */
export async function seed(client: Client): Promise<Seeded> {
  const first = obj(
    await client.post("/api/v1/users/first", {
      json: { username: "owner", email: "owner@example.com", password: "owner-password" },
    }),
  );
  const admin = first.session_token as string;
  const adminId = (first.user as { id: string }).id;
  const member = await addMember(client, admin, "member");
  const other = await addMember(client, admin, "other");
  const memberId = (
    obj(await client.get("/api/v1/users/me", { token: member })).user as {
      id: string;
    }
  ).id;
  const provider = obj(
    await client.post("/api/v1/providers", {
      token: admin,
      json: { type: "openai-compatible", name: "Fake", base_url: "http://127.0.0.1:9/v1" },
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
    admin,
    member,
    other,
    adminId,
    memberId,
    providerId: provider.id as string,
    modelId: model.id as string,
    disabledModelId: disabled.id as string,
  };
}

async function addMember(client: Client, admin: string, name: string): Promise<string> {
  const email = `${name}@example.com`;
  const password = `${name}-password`;
  const created = await client.post("/api/v1/users", {
    token: admin,
    json: { username: name, email, password },
  });
  if (created.status !== 201)
    throw new Error(`creating ${name}: ${created.status} ${created.text}`);
  return obj(await client.post("/api/v1/users/login", { json: { email, password } }))
    .session_token as string;
}

/** Polls until `check` returns true (or throws after `timeoutMs`). */
export async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
