import { createParser, type EventSourceMessage } from "eventsource-parser";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ChatSignal } from "../store/index.ts";
import { appended } from "../store/test-support.ts";
import type { ChatEvent } from "../store/types.ts";
import type { ApiOptions } from "./context.ts";
import { silentLogger } from "./log.ts";
import { eventStreamResponse, formatEvent } from "./sse.ts";
import {
  Client,
  claimChat,
  makeDeps,
  newUser,
  obj,
  type Seeded,
  type Served,
  seedStore,
  serveApi,
  type TestDeps,
  until,
} from "./testing.ts";

describe("event streams", () => {
  let deps: TestDeps;
  let served: Served | undefined;
  let client: Client;
  let s: Seeded;

  beforeAll(async () => {
    deps = await makeDeps();
    s = await seedStore(deps);
  });

  afterAll(async () => {
    await deps?.close();
  });

  async function start(options: Partial<ApiOptions> = {}) {
    served = await serveApi(deps, { heartbeatMs: 60_000, ...options });
    client = new Client(served.url);
  }

  afterEach(async () => {
    await served?.close();
    served = undefined;
  });

  async function newChat(token: string): Promise<{ id: string; base: number }> {
    const res = await client.post("/api/v1/chats", {
      token,
      json: { model_id: s.modelId, content: [{ type: "text", text: "stream me" }] },
    });
    const id = obj(res).id as string;
    // Whatever chatd appended on creation; tests count from here.
    const existing = await deps.store.events.listAfter(id, 0);
    return { id, base: existing.at(-1)?.seq ?? 0 };
  }

  interface Opened {
    status: number;
    headers: Headers;
    events: EventSourceMessage[];
    comments: string[];
    raw(): string;
    ended(): boolean;
    close(): void;
  }

  async function openStream(path: string, headers: Record<string, string>): Promise<Opened> {
    const controller = new AbortController();
    const res = await fetch(`${client.base}${path}`, { headers, signal: controller.signal });
    const events: EventSourceMessage[] = [];
    const comments: string[] = [];
    let raw = "";
    let ended = false;
    const parser = createParser({
      onEvent: (e) => events.push(e),
      onComment: (c) => comments.push(c),
    });
    const reader = res.body?.getReader();
    const decoder = new TextDecoder();
    void (async () => {
      try {
        for (;;) {
          const chunk = await reader?.read();
          if (!chunk || chunk.done) break;
          const text = decoder.decode(chunk.value, { stream: true });
          raw += text;
          parser.feed(text);
        }
      } catch {
        // aborted
      }
      ended = true;
    })();
    return {
      status: res.status,
      headers: res.headers,
      events,
      comments,
      raw: () => raw,
      ended: () => ended,
      close: () => controller.abort(),
    };
  }

  const auth = (token: string) => ({ authorization: `Bearer ${token}` });

  describe("chat event stream", () => {
    it("sends id, event and JSON data per event, with SSE headers, then live events", async () => {
      await start();
      const { id, base } = await newChat(s.member);
      // A worker's turn would append these.
      const append = (type: string, data: unknown) =>
        appended(deps.store.events.append(id, type, data));
      const partData = { message_id: "m1", part: { type: "text", text: "Hel" } };
      const part = await append("message_part", partData);
      await append("retry", {
        attempt: 1,
        delay_ms: 2000,
        kind: "rate_limit",
        message: "OpenAI is rate limiting; retrying",
        retrying_at: "2030-01-01T00:00:02.000Z",
      });

      const stream = await openStream(`/api/v1/chats/${id}/stream`, auth(s.member));
      expect(stream.status).toBe(200);
      expect(stream.headers.get("content-type")).toBe("text/event-stream");
      expect(stream.headers.get("cache-control")).toBe("no-cache");
      expect(stream.headers.get("x-accel-buffering")).toBe("no");

      await until(() => stream.events.length >= base + 2);
      // The data as stored (jsonb orders an object's keys its own way), one line, as sent live.
      expect(part.seq).toBe(base + 1);
      expect(stream.raw()).toContain(
        `id: ${base + 1}\nevent: message_part\ndata: ${JSON.stringify(part.data)}\n\n`,
      );
      expect(JSON.parse(stream.events.at(-2)?.data ?? "")).toEqual(partData);
      const retry = stream.events.at(-1);
      expect(retry).toMatchObject({ id: String(base + 2), event: "retry" });
      expect(JSON.parse(retry?.data ?? "")).toMatchObject({ attempt: 1, delay_ms: 2000 });

      // Live: Stop takes the unclaimed chat out of the queue, and the store announces `waiting`.
      expect((await client.post(`/api/v1/chats/${id}/interrupt`, { token: s.member })).status).toBe(
        202,
      );
      await until(() => stream.events.length >= base + 3);
      expect(stream.events.at(-1)).toEqual({
        id: String(base + 3),
        event: "status",
        data: '{"status":"waiting"}',
      });
      const ids = stream.events.map((e) => Number(e.id));
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(new Set(ids).size).toBe(ids.length);
      stream.close();
    });

    it("resumes after Last-Event-ID (or ?after=; the header wins): nothing twice, nothing lost", async () => {
      await start();
      const { id, base } = await newChat(s.member);
      for (let i = 1; i <= 3; i++) {
        await deps.store.events.append(id, "message_part", {
          message_id: "m",
          part: { type: "text", text: `t${i}` },
        });
      }
      const path = `/api/v1/chats/${id}/stream`;
      const resumed = await openStream(path, { ...auth(s.member), "last-event-id": `${base + 1}` });
      const byQuery = await openStream(`${path}?after=${base + 2}`, auth(s.member));
      const both = await openStream(`${path}?after=0`, {
        ...auth(s.member),
        "last-event-id": `${base + 2}`,
      });
      await deps.store.events.append(id, "status", { status: "waiting" });

      await until(() => resumed.events.length >= 3 && byQuery.events.length >= 2);
      await until(() => both.events.length >= 2);
      expect(resumed.events.map((e) => Number(e.id))).toEqual([base + 2, base + 3, base + 4]);
      expect(byQuery.events.map((e) => Number(e.id))).toEqual([base + 3, base + 4]);
      expect(both.events.map((e) => Number(e.id))).toEqual([base + 3, base + 4]);
      for (const st of [resumed, byQuery, both]) st.close();
    });

    it("refuses a Last-Event-ID that is not an event id", async () => {
      await start();
      const { id } = await newChat(s.member);
      const res = await client.get(`/api/v1/chats/${id}/stream`, {
        token: s.member,
        headers: { "last-event-id": "yesterday" },
      });
      expect(res.status).toBe(400);
      expect(obj(res).validations).toEqual([
        { field: "last-event-id", detail: expect.any(String) },
      ]);
    });

    it("sends a keep-alive comment while idle", async () => {
      await start({ heartbeatMs: 40 });
      const { id } = await newChat(s.member);
      const stream = await openStream(`/api/v1/chats/${id}/stream`, auth(s.member));
      await until(() => stream.comments.length >= 2);
      expect(stream.comments[0]?.trim()).toBe("keep-alive");
      expect(stream.raw()).toContain(": keep-alive\n\n");
      stream.close();
    });

    it("ends the subscription when the client disconnects, without stopping the chat", async () => {
      await start();
      const { id, base } = await newChat(s.member);
      const signals: ChatSignal[] = [];
      const stopListening = deps.store.signals.listen((signal) => {
        if (signal.chat_id === id) signals.push(signal);
      });
      const stream = await openStream(`/api/v1/chats/${id}/stream`, auth(s.member));
      await until(() => deps.subscriptions(id) === 1);
      // A worker claims the chat (the store announces `running`); its turn streams.
      const worker = await claimChat(deps.store, id);
      await until(() => stream.events.length >= base + 1);
      expect(stream.events.at(-1)).toMatchObject({ event: "status", data: '{"status":"running"}' });
      stream.close();
      await until(() => deps.subscriptions(id) === 0);
      // Events after the disconnect are not an error, and the chat was not interrupted: no Stop
      // signal, and it is still running on its worker, which ends the turn as usual.
      await deps.store.events.append(id, "message_part", {
        message_id: "m",
        part: { type: "text", text: "still going" },
      });
      stopListening();
      expect(signals).toEqual([]);
      expect(await deps.store.getChat(id)).toMatchObject({ status: "running", worker_id: worker });
      expect(await deps.store.releaseChat(id, worker, "waiting")).toMatchObject({ applied: true });
      expect(served?.logs.filter((line) => !line.includes('"level":"info"'))).toEqual([]);
      expect((await client.get("/healthz")).status).toBe(200);
    });

    it("ends open streams at server shutdown", async () => {
      const shutdown = new AbortController();
      await start({ shutdown: shutdown.signal });
      const { id } = await newChat(s.member);
      const stream = await openStream(`/api/v1/chats/${id}/stream`, auth(s.member));
      await until(() => deps.subscriptions(id) === 1);
      shutdown.abort();
      await until(() => stream.ended());
      expect(deps.subscriptions(id)).toBe(0);
    });

    it.each([
      [
        "its token is revoked (logout)",
        async (user: { token: string }) => {
          const out = await client.post("/api/v1/users/logout", { token: user.token });
          expect(out.status).toBe(204);
        },
      ],
      [
        "its user is deactivated",
        async (user: { id: string }) => {
          const off = await client.patch(`/api/v1/users/${user.id}`, {
            token: s.admin,
            json: { active: false },
          });
          expect(off.status).toBe(200);
        },
      ],
      [
        "its admin reading another's chat loses the admin role",
        async (user: { id: string }) => {
          const demoted = await client.patch(`/api/v1/users/${user.id}`, {
            token: s.admin,
            json: { role: "member" },
          });
          expect(demoted.status).toBe(200);
        },
      ],
    ])("ends an open stream within seconds when %s", async (_, revoke) => {
      await start({ streamAccessCheckMs: 50 });
      const user = await newUser(client, s.admin, "admin");
      // The admin reads a member's chat (allowed while an admin).
      const { id } = await newChat(s.member);
      const stream = await openStream(`/api/v1/chats/${id}/stream`, auth(user.token));
      expect(stream.status).toBe(200);
      await until(() => deps.subscriptions(id) === 1);
      await deps.store.events.append(id, "message_part", { before: true });
      await until(() => stream.events.length > 0);
      await revoke(user);
      await until(() => stream.ended(), 10_000, "the stream to end");
      expect(deps.subscriptions(id)).toBe(0);
      // Nothing after the loss of access reached it.
      const seen = stream.events.length;
      await deps.store.events.append(id, "message_part", { after: true });
      expect(stream.events).toHaveLength(seen);
      expect(stream.raw()).not.toContain('"after"');
    });

    it("keeps an open stream while its reader keeps access", async () => {
      await start({ streamAccessCheckMs: 20 });
      const { id } = await newChat(s.member);
      const stream = await openStream(`/api/v1/chats/${id}/stream`, auth(s.member));
      await until(() => deps.subscriptions(id) === 1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await deps.store.events.append(id, "message_part", { still: true });
      await until(() => stream.raw().includes('"still"'));
      expect(stream.ended()).toBe(false);
      stream.close();
    });
  });
});

describe("eventStreamResponse", () => {
  const event = (seq: number, type = "message_part", data: unknown = { n: seq }): ChatEvent => ({
    chat_id: "c",
    seq,
    type,
    data,
    created_at: "2030-01-01T00:00:00Z",
  });

  it("formats an event once and reuses the text", () => {
    const e = event(7, "status", { status: "running" });
    const text = formatEvent(e);
    expect(text).toBe('id: 7\nevent: status\ndata: {"status":"running"}\n\n');
    expect(formatEvent(e)).toBe(text);
  });

  it("drops a repeated or older seq, coalesces a burst into one chunk, and unsubscribes", async () => {
    let push: (e: ChatEvent) => void = () => {};
    let unsubscribed = 0;
    const res = await eventStreamResponse(
      async (onEvent) => {
        push = onEvent;
        return () => {
          unsubscribed++;
        };
      },
      { heartbeatMs: 60_000, maxBufferedBytes: 1 << 20, logger: silentLogger },
    );
    for (const seq of [1, 2, 2, 1, 3]) push(event(seq));
    const reader = res.body?.getReader();
    const first = await reader?.read();
    const text = new TextDecoder().decode(first?.value);
    expect(text.match(/^id: /gm)).toEqual(["id: ", "id: ", "id: "]);
    expect([...text.matchAll(/^id: (\d+)$/gm)].map((m) => m[1])).toEqual(["1", "2", "3"]);
    await reader?.cancel();
    expect(unsubscribed).toBe(1);
  });

  it("cuts off a client that falls too far behind", async () => {
    let push: (e: ChatEvent) => void = () => {};
    let unsubscribed = 0;
    const res = await eventStreamResponse(
      async (onEvent) => {
        push = onEvent;
        return () => {
          unsubscribed++;
        };
      },
      { heartbeatMs: 60_000, maxBufferedBytes: 100_000, logger: silentLogger },
    );
    for (let seq = 1; seq <= 200; seq++) {
      push(event(seq, "message_part", { text: "x".repeat(1000) }));
      await Promise.resolve();
    }
    expect(unsubscribed).toBe(1);
    await expect(res.body?.getReader().read()).rejects.toThrow(/too slow/);
  });

  it("a failing subscribe becomes an ordinary error and leaves nothing running", async () => {
    await expect(
      eventStreamResponse(
        async () => {
          throw new Error("no such chat");
        },
        { heartbeatMs: 10, maxBufferedBytes: 1 << 20, logger: silentLogger },
      ),
    ).rejects.toThrow("no such chat");
  });
});
