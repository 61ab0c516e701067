/**
 * DESIGN.md §2's behaviours through the real server: a `keel server` child process on the
 * embedded database, the HTTP API, SSE, and the fake provider over real sockets.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ApiClient, ApiError, type StreamEvent } from "../../src/cli/client.ts";
import {
  errorReply,
  type FakeProvider,
  hangAfter,
  resetAfter,
  startFakeProvider,
  textReply,
} from "../fakeprovider/index.ts";
import { freePort, type KeelProcess, startKeel } from "./support/keel-process.ts";

const API_KEY = "sk-ant-secret-4f9d2c";

interface Chat {
  id: string;
  status: string;
}
interface Message {
  id: string;
  role: string;
  parts: Array<{ type: string; text?: string }>;
}

/** Every response body the tests saw, to prove no API key ever appears in one. */
const bodies: string[] = [];

async function call<T>(
  url: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
) {
  const response = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  bodies.push(text);
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Follows a chat's events until `until` says so; returns every event seen. */
async function follow(
  url: string,
  token: string,
  chatId: string,
  until: (event: StreamEvent, seen: StreamEvent[]) => boolean,
  options: {
    lastEventId?: string;
    onEvent?: (event: StreamEvent) => void;
    timeoutMs?: number;
  } = {},
): Promise<StreamEvent[]> {
  const seen: StreamEvent[] = [];
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 20_000);
  try {
    await new ApiClient(url, token).followEvents(
      `/chats/${chatId}/stream`,
      (event) => {
        seen.push(event);
        options.onEvent?.(event);
        return until(event, seen) ? "stop" : undefined;
      },
      { signal: controller.signal, lastEventId: options.lastEventId },
    );
  } finally {
    clearTimeout(timer);
  }
  if (controller.signal.aborted) {
    throw new Error(
      `timed out following ${chatId}; saw ${seen.map((e) => `${e.id}:${e.event}`).join(" ")}`,
    );
  }
  return seen;
}

const idleAgain = (event: StreamEvent, seen: StreamEvent[]) =>
  event.event === "status" &&
  ["waiting", "error"].includes(String((event.data as { status: string }).status)) &&
  seen.some((e) => e.event === "status" && (e.data as { status: string }).status === "running");

function assistantTexts(messages: Message[]): string[] {
  return messages
    .filter((m) => m.role === "assistant")
    .map((m) => m.parts.flatMap((p) => (p.type === "text" && p.text ? [p.text] : [])).join(""));
}

describe("keel server", () => {
  let fake: FakeProvider;
  let keel: KeelProcess;
  let dataDir: string;
  let port: number;
  let admin: string;
  let providerId: string;
  let modelId: string;

  async function newChat(token: string, text = "Say hello"): Promise<Chat> {
    const { status, body } = await call<Chat>(keel.url, token, "POST", "/chats", {
      model_id: modelId,
      content: [{ type: "text", text }],
    });
    expect(status).toBe(201);
    return body;
  }

  async function messagesOf(token: string, chatId: string) {
    const { body } = await call<{ chat: Chat & { last_error: unknown }; messages: Message[] }>(
      keel.url,
      token,
      "GET",
      `/chats/${chatId}`,
    );
    return body;
  }

  beforeAll(async () => {
    fake = await startFakeProvider();
    dataDir = mkdtempSync(join(tmpdir(), "keel-server-"));
    port = await freePort();
    keel = await startKeel({ dataDir, port, env: { KEEL_STREAM_SILENCE_TIMEOUT_MS: "800" } });
    const first = await call<{ session_token: string }>(
      keel.url,
      undefined,
      "POST",
      "/users/first",
      {
        username: "owner",
        email: "owner@example.com",
        password: "a long enough password",
      },
    );
    admin = first.body.session_token;
    const provider = await call<{ id: string }>(keel.url, admin, "POST", "/providers", {
      type: "anthropic",
      name: "Anthropic (fake)",
      base_url: `${fake.url}/v1`,
      api_key: API_KEY,
    });
    providerId = provider.body.id;
    const model = await call<{ id: string }>(keel.url, admin, "POST", "/models", {
      provider_id: providerId,
      model: "claude-test",
    });
    modelId = model.body.id;
  }, 60_000);

  afterAll(async () => {
    await keel?.stop();
    await fake?.close();
    // Nothing the API ever answered, and nothing the server logged, holds the provider's key.
    expect(bodies.join("\n")).not.toContain(API_KEY);
    expect(keel.output()).not.toContain(API_KEY);
  });

  beforeEach(() => fake.reset());

  it("retries a reset stream visibly and persists the reply once", async () => {
    fake.enqueue(resetAfter("Hello wor", 2), textReply("Hello world"));
    const chat = await newChat(admin);
    const events = await follow(keel.url, admin, chat.id, idleAgain);
    const types = events.map((e) => e.event);
    expect(types).toContain("retry");
    expect(types.indexOf("retry")).toBeLessThan(types.lastIndexOf("message"));
    const retry = events.find((e) => e.event === "retry")?.data as {
      kind: string;
      attempt: number;
    };
    expect(retry).toMatchObject({ kind: "timeout", attempt: 1 });
    const { chat: after, messages } = await messagesOf(admin, chat.id);
    expect(after.status).toBe("waiting");
    expect(assistantTexts(messages)).toEqual(["Hello world"]);
    expect(fake.requests).toHaveLength(2);
    // The provider got the key; the API never showed it.
    expect(fake.requests[0]?.headers["x-api-key"]).toBe(API_KEY);
  });

  it("retries a 429 with Retry-After: 2 after at least 2 s", async () => {
    fake.enqueue(errorReply("rate_limit", { retryAfter: 2 }), textReply("Patience pays."));
    const chat = await newChat(admin);
    const events = await follow(keel.url, admin, chat.id, idleAgain);
    const retry = events.find((e) => e.event === "retry")?.data as {
      delay_ms: number;
      kind: string;
    };
    expect(retry.kind).toBe("rate_limit");
    expect(retry.delay_ms).toBeGreaterThanOrEqual(2_000);
    const [first, second] = fake.requests;
    expect((second?.time ?? 0) - (first?.time ?? 0)).toBeGreaterThanOrEqual(1_950);
    expect(assistantTexts((await messagesOf(admin, chat.id)).messages)).toEqual(["Patience pays."]);
  });

  it("retries a stream that goes silent", async () => {
    fake.enqueue(hangAfter("Hel", 1), textReply("Hello after silence"));
    const chat = await newChat(admin);
    const events = await follow(keel.url, admin, chat.id, idleAgain);
    expect(events.filter((e) => e.event === "retry")).toHaveLength(1);
    expect(assistantTexts((await messagesOf(admin, chat.id)).messages)).toEqual([
      "Hello after silence",
    ]);
  });

  it("Stop keeps the partial reply, sets waiting and sends no error", async () => {
    fake.enqueue(hangAfter("Hello wor", 2));
    const chat = await newChat(admin);
    let stopped = false;
    const events = await follow(keel.url, admin, chat.id, idleAgain, {
      onEvent: (event) => {
        if (event.event === "message_part" && !stopped) {
          stopped = true;
          void call(keel.url, admin, "POST", `/chats/${chat.id}/interrupt`);
        }
      },
    });
    expect(events.map((e) => e.event)).not.toContain("error");
    const { chat: after, messages } = await messagesOf(admin, chat.id);
    expect(after.status).toBe("waiting");
    expect(assistantTexts(messages)[0]).toMatch(/^Hel/);
  });

  it("a 401 ends the turn with one error event; after the key is fixed the chat continues", async () => {
    fake.enqueue(errorReply("auth"));
    const chat = await newChat(admin);
    const events = await follow(keel.url, admin, chat.id, idleAgain);
    const errors = events.filter((e) => e.event === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]?.data).toMatchObject({ kind: "auth", status_code: 401 });
    expect((await messagesOf(admin, chat.id)).chat.status).toBe("error");
    expect(fake.requests).toHaveLength(1);

    const patched = await call(keel.url, admin, "PATCH", `/providers/${providerId}`, {
      api_key: `${API_KEY}-new`,
    });
    expect(patched.status).toBe(200);
    fake.enqueue(textReply("Working again."));
    await call(keel.url, admin, "POST", `/chats/${chat.id}/messages`, {
      content: [{ type: "text", text: "Again?" }],
    });
    const lastSeq = events.at(-1)?.id;
    await follow(keel.url, admin, chat.id, idleAgain, { lastEventId: lastSeq });
    const { chat: after, messages } = await messagesOf(admin, chat.id);
    expect(after.status).toBe("waiting");
    expect(assistantTexts(messages)).toContain("Working again.");
    expect(fake.requests.at(-1)?.headers["x-api-key"]).toBe(`${API_KEY}-new`);
    await call(keel.url, admin, "PATCH", `/providers/${providerId}`, { api_key: API_KEY });
  });

  it("runs a message sent during a turn after that turn", async () => {
    fake.enqueue(textReply("First answer.", { chunkDelayMs: 40 }), textReply("Second answer."));
    const chat = await newChat(admin, "first");
    await follow(keel.url, admin, chat.id, (e) => e.event === "message_part");
    const sent = await call(keel.url, admin, "POST", `/chats/${chat.id}/messages`, {
      content: [{ type: "text", text: "second" }],
    });
    expect(sent.status).toBe(202);
    await expect
      .poll(async () => assistantTexts((await messagesOf(admin, chat.id)).messages), {
        timeout: 15_000,
      })
      .toEqual(["First answer.", "Second answer."]);
    const roles = (await messagesOf(admin, chat.id)).messages.map((m) => m.role);
    expect(roles).toEqual(["user", "assistant", "user", "assistant"]);
  });

  describe("authorization", () => {
    let member: string;
    let adminChat: Chat;

    beforeAll(async () => {
      const created = await call(keel.url, admin, "POST", "/users", {
        username: "mia",
        email: "mia@example.com",
        password: "another long password",
        role: "member",
      });
      expect(created.status).toBe(201);
      const login = await call<{ session_token: string }>(
        keel.url,
        undefined,
        "POST",
        "/users/login",
        {
          email: "mia@example.com",
          password: "another long password",
        },
      );
      member = login.body.session_token;
      fake.enqueue(textReply("private"));
      adminChat = await newChat(admin, "the owner's secret plans");
      await follow(keel.url, admin, adminChat.id, idleAgain); // its turn is over before the next test
    });

    it.each([
      ["read", "GET", ""],
      ["send to", "POST", "/messages"],
      ["stop", "POST", "/interrupt"],
      ["delete", "DELETE", ""],
    ])("a member cannot %s another user's chat (404)", async (_, method, suffix) => {
      const body =
        method === "POST" && suffix === "/messages"
          ? { content: [{ type: "text", text: "hi" }] }
          : undefined;
      const { status } = await call(
        keel.url,
        member,
        method,
        `/chats/${adminChat.id}${suffix}`,
        body,
      );
      expect(status).toBe(404);
    });

    it("a member cannot stream another user's chat (404)", async () => {
      const response = await fetch(`${keel.url}/api/v1/chats/${adminChat.id}/stream`, {
        headers: { authorization: `Bearer ${member}` },
      });
      expect(response.status).toBe(404);
      await response.body?.cancel();
    });

    it("a member cannot manage providers (403) and never sees the key", async () => {
      expect(
        (await call(keel.url, member, "POST", "/providers", { type: "openai", name: "x" })).status,
      ).toBe(403);
      const list = await call<unknown>(keel.url, admin, "GET", "/providers");
      expect(JSON.stringify(list.body)).not.toContain(API_KEY);
    });
  });

  describe("bad input gets a clear 4xx and the server keeps serving", () => {
    it.each([
      ["malformed JSON", "POST", "/chats", "{not json", 400],
      [
        "an unknown field",
        "POST",
        "/chats",
        { model_id: "m", content: [{ type: "text", text: "x" }], colour: "red" },
        400,
      ],
      ["a missing model", "POST", "/chats", { content: [{ type: "text", text: "x" }] }, 400],
      [
        "an unknown model",
        "POST",
        "/chats",
        {
          model_id: "00000000-0000-0000-0000-000000000000",
          content: [{ type: "text", text: "x" }],
        },
        404,
      ],
      [
        "a 10 MB message",
        "POST",
        "/chats",
        { model_id: "m", content: [{ type: "text", text: "x".repeat(10 * 1024 * 1024) }] },
        413,
      ],
      ["an unknown chat id", "GET", "/chats/00000000-0000-0000-0000-000000000000", undefined, 404],
    ] as const)("%s", async (_, method, path, body, status) => {
      const response = await call<{ message: string }>(keel.url, admin, method, path, body);
      expect(response.status).toBe(status);
      expect(typeof response.body.message).toBe("string");
      expect((await fetch(`${keel.url}/healthz`)).status).toBe(200);
    });
  });

  it("SIGTERM mid-turn: partial kept, chat resumes after restart, the stream sees every event once", async () => {
    fake.enqueue(hangAfter("Partial", 1), textReply("Resumed and complete."));
    const chat = await newChat(admin, "survive a restart");
    const seen: StreamEvent[] = [];
    let restarting: Promise<void> | undefined;
    const following = follow(
      keel.url,
      admin,
      chat.id,
      (event, all) => {
        if (
          event.event === "message" &&
          assistantTexts([(event.data as { message: Message }).message]).includes(
            "Resumed and complete.",
          )
        ) {
          return (
            all.some(
              (e) =>
                e.event === "status" &&
                (e.data as { status: string }).status === "waiting" &&
                Number(e.id) > Number(event.id),
            ) || false
          );
        }
        return (
          idleAgain(event, all) &&
          all.some((e) => e.event === "message" && JSON.stringify(e.data).includes("Resumed"))
        );
      },
      {
        timeoutMs: 45_000,
        onEvent: (event) => {
          seen.push(event);
          if (event.event === "message_part" && !restarting) {
            restarting = (async () => {
              const started = Date.now();
              expect(await keel.stop("SIGTERM")).toBe(0);
              expect(Date.now() - started).toBeLessThan(10_000);
              keel = await startKeel({
                dataDir,
                port,
                env: { KEEL_STREAM_SILENCE_TIMEOUT_MS: "800" },
              });
            })();
          }
        },
      },
    );
    await following;
    await restarting;
    const ids = seen.map((e) => Number(e.id));
    expect(new Set(ids).size).toBe(ids.length); // nothing twice
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    // Nothing lost: a fresh replay has exactly the ids the reconnecting client saw.
    const replay = await follow(keel.url, admin, chat.id, (_e, all) => all.length >= ids.length, {
      timeoutMs: 10_000,
    });
    expect(replay.map((e) => Number(e.id))).toEqual(ids);
    expect(seen.map((e) => e.event)).not.toContain("error");
    const texts = assistantTexts((await messagesOf(admin, chat.id)).messages);
    expect(texts[0]).toBe("Partial");
    expect(texts.at(-1)).toBe("Resumed and complete.");
  }, 60_000);

  it("SIGKILL mid-step: completed parts were persisted; the restarted server takes the chat back at once and voids the dead run's deltas", async () => {
    // Reasoning, then text: the reasoning part is complete once the text starts. The text keeps
    // trickling (a delta every 200 ms, under the 800 ms silence timeout) until the kill.
    fake.enqueue({
      kind: "stream",
      events: [
        { type: "reasoning", text: "Weighing " },
        { type: "reasoning", text: "the options." },
        ...Array.from({ length: 200 }, () => ({ type: "text" as const, text: "la " })),
      ],
      end: "hang",
      chunkDelayMs: 200,
    });
    const chat = await newChat(admin, "crash while answering");
    await follow(
      keel.url,
      admin,
      chat.id,
      (e) =>
        e.event === "message_part" && (e.data as { part: { type: string } }).part.type === "text",
    );
    const reasoning = [{ type: "reasoning", text: "Weighing the options." }];
    // Persisted while the step still streams: no step end, no `message` event needed.
    await expect
      .poll(
        async () =>
          (await messagesOf(admin, chat.id)).messages.find((m) => m.role === "assistant")?.parts,
        { timeout: 5_000 },
      )
      .toEqual(reasoning);
    const before = await follow(keel.url, admin, chat.id, (e) => e.event === "message_part");
    const lastSeen = before.at(-1)?.id;
    expect(await keel.stop("SIGKILL")).toBeNull();
    fake.enqueue(textReply("Back after the crash."));
    keel = await startKeel({ dataDir, port, env: { KEEL_STREAM_SILENCE_TIMEOUT_MS: "800" } });
    // The restarted server took the chat back at once (its previous run owned it), not after the
    // 30 s a dead replica's chats wait for their heartbeat to go stale.
    await expect
      .poll(() => keel.output(), { timeout: 15_000 })
      .toContain("took back the chats this server ran");
    // A client resuming from what it saw: the dead run's deltas are voided by a `status` event
    // (`pending`) before the new run streams; then the reply, once.
    const after = await follow(keel.url, admin, chat.id, idleAgain, {
      lastEventId: lastSeen,
      timeoutMs: 30_000,
    });
    const statuses = after
      .filter((e) => e.event === "status")
      .map((e) => (e.data as { status: string }).status);
    expect(statuses).toEqual(["pending", "running", "waiting"]);
    const firstPending = after.findIndex((e) => e.event === "status");
    expect(after.slice(0, firstPending).every((e) => e.event === "message_part")).toBe(true);
    const { messages } = await messagesOf(admin, chat.id);
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "assistant"]);
    expect(messages[1]?.parts).toEqual(reasoning);
    expect(assistantTexts(messages).at(-1)).toBe("Back after the crash.");
  }, 90_000);
});

describe("ApiError", () => {
  it("words validation errors field by field", () => {
    const error = new ApiError(400, "Invalid request.", {
      validations: [{ field: "model_id", detail: "Required" }],
    });
    expect(error.describe()).toBe("Invalid request.\n  model_id: Required");
  });
});
