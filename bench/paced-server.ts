// The server benchmark's fake model provider, run as a child process so that serving 200 streams
// never shares an event loop with the Keel server or the measured clients.
//
// It answers every POST …/chat/completions with one OpenAI Chat Completions stream, pre-rendered
// once with the fake provider's own renderer (bench/reply.ts): the role chunk and first text delta
// after `firstTokenMs`, then one delta every `deltaMs` like a model generating tokens (each stream
// on its own schedule from its own arrival, corrected for timer drift: a late timer sends the
// deltas that are due together), then the finish and usage chunks and `[DONE]`. With `deltaMs` 0
// the whole reply goes out at once in 64 KiB writes, honouring backpressure (throughput mode).
//
// Requests say who they are with `bench-tag:<tag>` anywhere in the body (the prompt). Tags starting
// with `w` (warm-up) are always answered unpaced; tags starting with `i` (idle chats, the probe
// user's chat) get a short reply at once. Per tag it records the first streamed request only: when
// it arrived and when each delta was written (paced) or the first and last write (unpaced), in
// epoch milliseconds (`performance.timeOrigin + performance.now()`), for the parent to line up with
// its own clock. Keel asks for a chat's title after its first reply, with the chat's text (the tag
// included) in the prompt: a title request (Keel's title system prompt, or any request that does
// not ask for a stream) gets a short title at once, as a stream or as one Chat Completions JSON
// body as asked, and is counted, not recorded; so is a later request under a tag already seen.
//
// Protocol (IPC): argv[2] = JSON `PacedConfig`. Sends `PacedReady` once listening. Answers
// `{type: "ping"}` with `{type: "pong", now}` and `{type: "stats", prefix}` with the records of
// the tags starting with `prefix`. Exits after closing every socket on "close" or when the parent
// goes away.

import http from "node:http";
import type { Socket } from "node:net";
import { TITLE_PROMPT } from "../src/chatd/title.ts";
import { BENCH_MODEL, CHAT_PATH, renderFrames, replyDeltas } from "./reply.ts";

export interface PacedConfig {
  tokens: number;
  /** Milliseconds between deltas; 0 sends the whole reply at once. */
  deltaMs: number;
  /** Milliseconds from the request to the first delta (a model's prefill). */
  firstTokenMs: number;
}

export interface PacedReady {
  type: "ready";
  url: string;
  /** Bytes of one whole reply body. */
  bodyBytes: number;
}

export interface RequestRecord {
  tag: string;
  /** The request body had been read. */
  arrival: number;
  /** The write holding the first text delta. */
  firstWrite: number;
  /** The write holding the last text delta. */
  lastWrite: number;
  /** Paced streams: when each delta was written (index = delta number); else empty. */
  writes: number[];
  /** Paced streams: the most a delta went out after its due time. */
  maxLateMs: number;
  /** The client went away before the reply ended. */
  aborted: boolean;
}

/** Requests answered without being recorded. */
export interface OtherRequests {
  /** Title requests (Keel's title prompt) answered with a short streamed title. */
  titleStreams: number;
  /** Requests that did not ask for a stream, answered with one JSON body. */
  nonStreaming: number;
  /** Later streamed requests under a tag already recorded (a retry), answered in full. */
  repeats: number;
  /** Short replies to `i…` tags (idle chats). */
  short: number;
}

export type PacedRequest = { type: "ping"; id: number } | { type: "stats"; prefix: string };
export type PacedResponse =
  | PacedReady
  | { type: "pong"; id: number; now: number }
  | { type: "stats"; records: RequestRecord[]; other: OtherRequests };

/** What the fake answers a title request with (and an idle chat's short reply). */
export const SHORT_REPLY = ["Bench", " chat", " title"];

/** The parts of a Chat Completions request body the fake looks at. */
interface RequestBody {
  stream?: unknown;
  messages?: Array<{ role?: unknown; content?: unknown }>;
}

const SLICE_BYTES = 64 * 1024;
const TAG = /bench-tag:([a-z]+\d+)/;

const now = (): number => performance.timeOrigin + performance.now();

function newRecord(tag: string, arrival: number): RequestRecord {
  return {
    tag,
    arrival,
    firstWrite: Number.NaN,
    lastWrite: Number.NaN,
    writes: [],
    maxLateMs: 0,
    aborted: false,
  };
}

function main(): void {
  const config = JSON.parse(process.argv[2] ?? "{}") as PacedConfig;
  const frames = renderFrames(replyDeltas(config.tokens));
  const n = frames.deltas.length;
  const whole = Buffer.from(frames.start + frames.deltas.join("") + frames.end, "utf8");
  const firstBytes = Buffer.byteLength(frames.start + (frames.deltas[0] ?? ""));
  const short = renderFrames(SHORT_REPLY);
  const shortStream = short.start + short.deltas.join("") + short.end;
  const records = new Map<string, RequestRecord>();
  const other: OtherRequests = { titleStreams: 0, nonStreaming: 0, repeats: 0, short: 0 };
  let untagged = 0;

  /** One Chat Completions JSON body (a request with `stream` not true). */
  function nonStreaming(res: http.ServerResponse): void {
    const content = SHORT_REPLY.join("");
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        id: "chatcmpl-bench-title",
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: BENCH_MODEL,
        choices: [
          {
            index: 0,
            message: { role: "assistant", content },
            finish_reason: "stop",
            logprobs: null,
          },
        ],
        usage: { prompt_tokens: 12, completion_tokens: SHORT_REPLY.length, total_tokens: 15 },
      }),
    );
  }

  function unpaced(res: http.ServerResponse, record: RequestRecord): void {
    res.writeHead(200, frames.headers);
    let offset = firstBytes;
    const pump = () => {
      while (offset < whole.length) {
        const end = Math.min(offset + SLICE_BYTES, whole.length);
        const ok = res.write(whole.subarray(offset, end));
        offset = end;
        if (!ok) {
          res.once("drain", pump);
          return;
        }
      }
      record.lastWrite = now();
      res.end();
    };
    record.firstWrite = now();
    res.write(whole.subarray(0, firstBytes), () => setImmediate(pump));
  }

  function paced(res: http.ServerResponse, record: RequestRecord): void {
    res.writeHead(200, frames.headers);
    const base = record.arrival + config.firstTokenMs;
    const writes = new Array<number>(n).fill(Number.NaN);
    record.writes = writes;
    let next = 0;
    let timer: NodeJS.Timeout | undefined;
    res.on("close", () => clearTimeout(timer));
    const tick = () => {
      timer = undefined;
      if (res.destroyed) return;
      const t = now();
      let chunk = next === 0 ? frames.start : "";
      // Every delta that is due (several when the timer fired late), in one write.
      while (next < n && base + next * config.deltaMs <= t + 0.25) {
        record.maxLateMs = Math.max(record.maxLateMs, t - (base + next * config.deltaMs));
        chunk += frames.deltas[next];
        writes[next] = t;
        next++;
      }
      if (Number.isNaN(record.firstWrite) && next > 0) record.firstWrite = t;
      if (next === n) {
        record.lastWrite = t;
        res.end(chunk + frames.end);
        return;
      }
      if (chunk) res.write(chunk);
      timer = setTimeout(tick, Math.max(0, base + next * config.deltaMs - now()));
    };
    timer = setTimeout(tick, Math.max(0, base - now()));
  }

  const server = http.createServer({ noDelay: true }, (req, res) => {
    req.on("error", () => {});
    res.on("error", () => {});
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const arrival = now();
      const path = (req.url ?? "").split("?")[0] ?? "";
      if (req.method !== "POST" || !path.endsWith(CHAT_PATH)) {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "bench provider: no such route" } }));
        return;
      }
      const text = Buffer.concat(chunks).toString("utf8");
      let body: RequestBody = {};
      try {
        body = JSON.parse(text) as RequestBody;
      } catch {
        // not JSON: answered as a streamed request
      }
      if (body.stream !== true) {
        other.nonStreaming++;
        nonStreaming(res);
        return;
      }
      const system = body.messages?.[0];
      const tag = TAG.exec(text)?.[1] ?? `untagged${untagged++}`;
      const title = system?.role === "system" && system.content === TITLE_PROMPT;
      if (title || tag.startsWith("i")) {
        if (title) other.titleStreams++;
        else other.short++;
        res.writeHead(200, short.headers);
        res.end(shortStream);
        return;
      }
      if (records.has(tag)) {
        // A retry: answered like the first, not recorded (the bench counts the chat as failed).
        other.repeats++;
        const ignored: RequestRecord = { ...newRecord(tag, arrival) };
        if (config.deltaMs > 0 && !tag.startsWith("w")) paced(res, ignored);
        else unpaced(res, ignored);
        return;
      }
      const record = newRecord(tag, arrival);
      records.set(tag, record);
      res.on("close", () => {
        if (!res.writableFinished) record.aborted = true;
      });
      if (config.deltaMs > 0 && !tag.startsWith("w")) paced(res, record);
      else unpaced(res, record);
    });
  });
  server.on("clientError", () => {});
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 60_000;

  let closing = false;
  const close = () => {
    if (closing) return;
    closing = true;
    server.close();
    for (const socket of sockets) socket.destroy();
    if (process.connected) process.disconnect();
  };
  const reply = (message: PacedResponse) => process.send?.(message);
  process.on("message", (message: PacedRequest | "close") => {
    if (message === "close") close();
    else if (message.type === "ping") reply({ type: "pong", id: message.id, now: now() });
    else if (message.type === "stats") {
      const out = [...records.values()].filter((r) => r.tag.startsWith(message.prefix));
      reply({ type: "stats", records: out, other });
    }
  });
  process.on("disconnect", close);

  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no TCP address");
    const ready: PacedReady = {
      type: "ready",
      url: `http://127.0.0.1:${address.port}`,
      bodyBytes: whole.length,
    };
    reply(ready);
  });
}

main();
