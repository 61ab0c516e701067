/**
 * followChat against a real SSE server (node:http on 127.0.0.1): order, resume with Last-Event-ID
 * after a dropped connection, backoff, fatal statuses, and a clean stop.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "./client.ts";
import { backoffDelay, type FollowOptions, followChat, type StreamState } from "./stream.ts";
import type { ChatEvent } from "./types.ts";

// ---- a scriptable SSE server ----------------------------------------------------------------

/** The chat's event log: event `seq` is a text delta "t<seq>" (every 10th a status event). */
function logEvent(seq: number): ChatEvent {
  return seq % 10 === 0
    ? { type: "status", seq, data: { status: "running" } }
    : {
        type: "message_part",
        seq,
        data: { message_id: "a1", part: { type: "text", text: `t${seq}` } },
      };
}
const sse = (e: ChatEvent) => `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`;

interface Connection {
  index: number;
  url: string;
  headers: IncomingMessage["headers"];
  /** When the request arrived and when its response ended (ms, performance.now()). */
  at: number;
  endedAt?: number;
  closed: boolean;
  req: IncomingMessage;
  res: ServerResponse;
}

type Handler = (c: Connection, after: number) => void | Promise<void>;

const servers: Array<{ close(): Promise<void> }> = [];
const controllers: AbortController[] = [];
afterEach(async () => {
  for (const c of controllers.splice(0)) c.abort();
  for (const s of servers.splice(0)) await s.close();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

async function sseServer(handlers: Handler[] | ((index: number) => Handler)) {
  const connections: Connection[] = [];
  const server = createServer((req, res) => {
    const index = connections.length;
    const c: Connection = {
      index,
      url: req.url ?? "",
      headers: req.headers,
      at: performance.now(),
      closed: false,
      req,
      res,
    };
    connections.push(c);
    res.on("close", () => {
      c.closed = true;
      c.endedAt ??= performance.now();
    });
    const handler = typeof handlers === "function" ? handlers(index) : handlers[index];
    if (handler === undefined) throw new Error(`unexpected request #${index}`);
    void handler(c, Number(req.headers["last-event-id"] ?? 0));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const handle = {
    baseUrl: `http://127.0.0.1:${port}`,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(handle);
  return handle;
}

const open = (res: ServerResponse) =>
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
const write = (res: ServerResponse, text: string) =>
  new Promise<void>((resolve, reject) => res.write(text, (e) => (e ? reject(e) : resolve())));
const range = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends the log's events after `after` up to `upTo`. */
async function sendLog(res: ServerResponse, after: number, upTo: number) {
  await write(
    res,
    range(after + 1, upTo)
      .map((seq) => sse(logEvent(seq)))
      .join(""),
  );
}

const handlers = {
  /** Sends events up to `upTo`, then keeps the connection open. */
  holdAfter:
    (upTo: number): Handler =>
    async (c, after) => {
      open(c.res);
      await sendLog(c.res, after, upTo);
    },
  /** Sends events up to `upTo`, half of the next one, then drops the connection. */
  dropAfter:
    (upTo: number): Handler =>
    async (c, after) => {
      open(c.res);
      await sendLog(c.res, after, upTo);
      await sleep(10);
      await write(c.res, sse(logEvent(upTo + 1)).slice(0, 25));
      c.endedAt = performance.now();
      c.req.socket.destroy();
    },
  /** Sends events up to `upTo`, then ends the response cleanly. */
  endAfter:
    (upTo: number): Handler =>
    async (c, after) => {
      open(c.res);
      await sendLog(c.res, after, upTo);
      c.endedAt = performance.now();
      c.res.end();
    },
  status:
    (code: number, body: string, type = "application/json"): Handler =>
    (c) => {
      c.endedAt = performance.now();
      c.res.writeHead(code, { "content-type": type }).end(body);
    },
};

// ---- the client side ------------------------------------------------------------------------

function follow(baseUrl: string, over: Partial<FollowOptions> = {}) {
  const controller = new AbortController();
  controllers.push(controller);
  const batches: ChatEvent[][] = [];
  const states: StreamState[] = [];
  const fatal: ApiError[] = [];
  const done = followChat({
    chatId: "chat-1",
    baseUrl,
    after: 0,
    signal: controller.signal,
    onEvents: (events) => batches.push(events),
    onState: (state) => states.push(state),
    onFatal: (error) => fatal.push(error),
    minDelayMs: 40,
    maxDelayMs: 200,
    schedule: queueMicrotask,
    ...over,
  });
  let finished = false;
  void done.then(() => {
    finished = true;
  });
  return {
    controller,
    batches,
    states,
    fatal,
    done,
    get finished() {
      return finished;
    },
    get seqs() {
      return batches.flat().map((e) => e.seq);
    },
  };
}

const until = (check: () => void, timeout = 5000) => vi.waitFor(check, { timeout, interval: 5 });

// ---- tests ----------------------------------------------------------------------------------

describe("followChat: delivery", () => {
  it("delivers the events in order, each once, with their data", async () => {
    const server = await sseServer([handlers.holdAfter(50)]);
    const f = follow(server.baseUrl);
    await until(() => expect(f.seqs).toHaveLength(50));
    expect(f.seqs).toEqual(range(1, 50));
    expect(f.batches.flat()).toEqual(range(1, 50).map(logEvent));
    expect(f.states).toEqual(["connecting", "open"]);
  });

  it("asks for the chat's stream with Last-Event-ID set to `after`", async () => {
    const server = await sseServer([handlers.holdAfter(12)]);
    const f = follow(server.baseUrl, { chatId: "a/b c", after: 7 });
    await until(() => expect(f.seqs).toEqual(range(8, 12)));
    const [c] = server.connections;
    expect(c?.url).toBe("/api/v1/chats/a%2Fb%20c/stream");
    expect(c?.headers["last-event-id"]).toBe("7");
    expect(c?.headers.accept).toBe("text/event-stream");
  });

  it("ignores comments (heartbeats), unknown event types and events without an id", async () => {
    const server = await sseServer([
      async (c) => {
        open(c.res);
        await write(
          c.res,
          [
            ": keep-alive\n\n",
            sse(logEvent(1)),
            'id: 2\nevent: future_type\ndata: {"x":1}\n\n',
            'event: status\ndata: {"status":"waiting"}\n\n',
            sse(logEvent(3)),
          ].join(""),
        );
      },
    ]);
    const f = follow(server.baseUrl);
    await until(() => expect(f.seqs).toEqual([1, 3]));
  });

  it("without requestAnimationFrame, batches on a timer: one call for a burst", async () => {
    const server = await sseServer([handlers.holdAfter(100)]);
    const f = follow(server.baseUrl, { schedule: undefined });
    await until(() => expect(f.seqs).toHaveLength(100));
    expect(f.seqs).toEqual(range(1, 100));
    expect(f.batches.length).toBeLessThan(10);
  });

  it("with requestAnimationFrame, batches per frame", async () => {
    const frames: Array<() => void> = [];
    vi.stubGlobal("requestAnimationFrame", (cb: () => void) => frames.push(cb));
    const server = await sseServer([handlers.holdAfter(20)]);
    const f = follow(server.baseUrl, { schedule: undefined });
    await until(() => expect(frames.length).toBeGreaterThan(0));
    await sleep(30);
    expect(f.batches).toEqual([]);
    for (const frame of frames.splice(0)) frame();
    expect(f.seqs).toEqual(range(1, 20));
  });
});

describe("followChat: reconnecting", () => {
  it("resumes after a dropped connection with Last-Event-ID = the last seq seen", async () => {
    const server = await sseServer([
      handlers.dropAfter(10),
      handlers.endAfter(20),
      handlers.dropAfter(25),
      handlers.holdAfter(40),
    ]);
    const f = follow(server.baseUrl);
    await until(() => expect(f.seqs).toHaveLength(40));
    expect(f.seqs).toEqual(range(1, 40));
    expect(server.connections.map((c) => c.headers["last-event-id"])).toEqual([
      "0",
      "10",
      "20",
      "25",
    ]);
    expect(f.states).toEqual([
      "connecting",
      "open",
      ...["reconnecting", "reconnecting", "open"],
      ...["reconnecting", "reconnecting", "open"],
      ...["reconnecting", "reconnecting", "open"],
    ]);
  });

  it("waits between attempts: at least half the minimum delay", async () => {
    const server = await sseServer([
      handlers.dropAfter(3),
      handlers.dropAfter(6),
      handlers.status(503, "{}"),
      handlers.holdAfter(9),
    ]);
    const f = follow(server.baseUrl, { minDelayMs: 60, maxDelayMs: 60 });
    await until(() => expect(f.seqs).toEqual(range(1, 9)));
    const [a, b, c, d] = server.connections;
    for (const [ended, next] of [
      [a, b],
      [b, c],
      [c, d],
    ] as const) {
      expect((next?.at ?? 0) - (ended?.endedAt ?? Infinity)).toBeGreaterThanOrEqual(30 - 2);
    }
  });

  it("a server that ignores Last-Event-ID and replays from the start: no event twice", async () => {
    const server = await sseServer([
      handlers.dropAfter(5),
      async (c) => {
        open(c.res);
        await sendLog(c.res, 0, 12);
      },
    ]);
    const f = follow(server.baseUrl);
    await until(() => expect(f.seqs).toHaveLength(12));
    await sleep(30);
    expect(f.seqs).toEqual(range(1, 12));
  });

  it("a partial event cut by the drop is not delivered; it comes whole after the resume", async () => {
    const server = await sseServer([handlers.dropAfter(4), handlers.holdAfter(6)]);
    const f = follow(server.baseUrl);
    await until(() => expect(f.seqs).toHaveLength(6));
    expect(f.batches.flat()).toEqual(range(1, 6).map(logEvent));
  });

  it("backs off exponentially while it fails, and starts over after a success", async () => {
    vi.spyOn(Math, "random").mockReturnValue(1); // the top of each jitter range
    const server = await sseServer([
      handlers.status(500, "{}"),
      handlers.status(502, "<html>bad gateway</html>", "text/html"),
      handlers.status(503, "{}"),
      handlers.dropAfter(2),
      handlers.holdAfter(4),
    ]);
    const f = follow(server.baseUrl, { minDelayMs: 100, maxDelayMs: 10_000 });
    await until(() => expect(f.seqs).toEqual(range(1, 4)));
    const c = server.connections;
    const gap = (i: number) => (c[i + 1]?.at ?? 0) - (c[i]?.endedAt ?? Infinity);
    expect(gap(0)).toBeGreaterThanOrEqual(100 - 2);
    expect(gap(1)).toBeGreaterThanOrEqual(200 - 2);
    expect(gap(2)).toBeGreaterThanOrEqual(400 - 2);
    // After the open connection dropped: back to the first delay.
    expect(gap(3)).toBeGreaterThanOrEqual(100 - 2);
    expect(gap(3)).toBeLessThan(300);
  });

  // Full jitter: between half the minimum and min·2^attempt (capped at the maximum).
  it.each([
    [0, 0, 50],
    [0, 1, 100],
    [1, 0, 50],
    [1, 1, 200],
    [3, 1, 800],
    [10, 1, 10_000],
    [10, 0.5, 5_025],
  ])("backoffDelay(attempt %i, random %d) with 100..10000 ms: %i ms", (attempt, r, delay) => {
    vi.spyOn(Math, "random").mockReturnValue(r);
    expect(backoffDelay(attempt, 100, 10_000)).toBe(delay);
  });
});

describe("followChat: fatal answers", () => {
  it.each([
    [401, { message: "Your session has ended." }, "Your session has ended."],
    [403, { message: "This chat is not yours." }, "This chat is not yours."],
    [404, { message: "No such chat." }, "No such chat."],
  ])("%i: onFatal with the server's message, and no reconnect", async (code, body, message) => {
    const server = await sseServer([handlers.status(code, JSON.stringify(body))]);
    const f = follow(server.baseUrl);
    await f.done;
    expect(f.fatal).toHaveLength(1);
    expect(ApiError.isInstance(f.fatal[0])).toBe(true);
    expect(f.fatal[0]?.status).toBe(code);
    expect(f.fatal[0]?.message).toBe(message);
    await sleep(3 * 200);
    expect(server.connections).toHaveLength(1);
    expect(f.batches).toEqual([]);
  });

  it("a body that is not JSON still ends it, with a generic message", async () => {
    const server = await sseServer([handlers.status(404, "<h1>Not Found</h1>", "text/html")]);
    const f = follow(server.baseUrl);
    await f.done;
    expect(f.fatal.map((e) => [e.status, e.message])).toEqual([
      [404, "The chat is not available."],
    ]);
  });

  it("after a reconnect: the events before are delivered, then it stops", async () => {
    const server = await sseServer([handlers.dropAfter(3), handlers.status(401, "{}")]);
    const f = follow(server.baseUrl);
    await f.done;
    expect(f.seqs).toEqual([1, 2, 3]);
    expect(f.fatal.map((e) => e.status)).toEqual([401]);
    await sleep(3 * 200);
    expect(server.connections).toHaveLength(2);
  });
});

describe("followChat: stop", () => {
  it("abort while connected: the request is closed, the promise resolves, nothing follows", async () => {
    let later: (() => Promise<void>) | undefined;
    const server = await sseServer([
      async (c, after) => {
        open(c.res);
        await sendLog(c.res, after, 5);
        later = () => write(c.res, sse(logEvent(6))).catch(() => {});
      },
    ]);
    const f = follow(server.baseUrl);
    await until(() => expect(f.seqs).toHaveLength(5));
    f.controller.abort();
    await f.done;
    await until(() => expect(server.connections[0]?.closed).toBe(true));
    await later?.();
    await sleep(3 * 200);
    expect(f.seqs).toEqual(range(1, 5));
    expect(server.connections).toHaveLength(1);
    expect(f.fatal).toEqual([]);
  });

  it("abort during the backoff wait: resolves at once, no further request", async () => {
    const server = await sseServer([handlers.status(500, "{}")]);
    const f = follow(server.baseUrl, { minDelayMs: 2_000, maxDelayMs: 2_000 });
    await until(() => expect(f.states.at(-1)).toBe("reconnecting"));
    const t = performance.now();
    f.controller.abort();
    await f.done;
    expect(performance.now() - t).toBeLessThan(500);
    expect(server.connections).toHaveLength(1);
  });

  it("abort before the first request: no request at all", async () => {
    const server = await sseServer([]);
    const controller = new AbortController();
    controller.abort();
    const f = follow(server.baseUrl, { signal: controller.signal });
    await f.done;
    expect(server.connections).toHaveLength(0);
    expect(f.states).toEqual([]);
  });

  it("events received but not yet handed over are not delivered after the abort", async () => {
    const flushes: Array<() => void> = [];
    const server = await sseServer([handlers.holdAfter(3)]);
    const f = follow(server.baseUrl, { schedule: (flush) => flushes.push(flush) });
    await until(() => expect(flushes.length).toBeGreaterThan(0));
    f.controller.abort();
    await f.done;
    for (const flush of flushes) flush();
    expect(f.batches).toEqual([]);
  });

  it("abort in the middle of a burst: what was delivered is a gapless prefix", async () => {
    const server = await sseServer([
      async (c) => {
        open(c.res);
        for (const seq of range(1, 2000)) {
          if (c.closed) return;
          await write(c.res, sse(logEvent(seq))).catch(() => {});
        }
      },
    ]);
    const f = follow(server.baseUrl);
    await until(() => expect(f.seqs.length).toBeGreaterThan(10));
    f.controller.abort();
    await f.done;
    const n = f.seqs.length;
    await sleep(50);
    expect(f.seqs).toHaveLength(n);
    expect(f.seqs).toEqual(range(1, n));
  });
});
