// A real HTTP server that plays scripted LLM provider responses over real sockets: HTTP/1.1
// (plain or TLS) or HTTP/2 over TLS (with HTTP/1.1 fallback via ALPN).

import http from "node:http";
import http2 from "node:http2";
import https from "node:https";
import type { Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { generate } from "selfsigned";
import { createRenderer, errorResponse, providerHeaders } from "./render.ts";
import {
  defaultUsage,
  type ErrorScript,
  type ProviderFormat,
  type Script,
  type StreamEvent,
  type StreamScript,
} from "./script.ts";

export interface FakeProviderOptions {
  /** HTTP/2 over TLS; HTTP/1.1 clients still work (ALPN picks). Implies `tls`. */
  http2?: boolean;
  /** HTTP/1.1 over TLS. */
  tls?: boolean;
  /**
   * The model's context window in tokens: a request whose prompt is larger (`promptTokens`) is
   * answered with the provider's own `context_length` error, and no script is used up. Change it
   * later with `setContextWindow`.
   */
  contextWindow?: number;
}

/**
 * About how many tokens a request's prompt holds, as a provider would count it: every character
 * of the request body (messages, system prompt, tools, and the JSON around them) at four per
 * token. Deliberately not Keel's own estimate (which counts the content only): a client that
 * trusts the reported usage is right, one that guesses comes in under.
 */
export function promptTokensOf(rawBody: string): number {
  return Math.ceil(rawBody.length / 4);
}

/** About how many tokens a script's reply writes (its text, reasoning and call arguments). */
function replyTokensOf(events: readonly StreamEvent[]): number {
  let chars = 0;
  for (const event of events) {
    if (event.type === "text" || event.type === "reasoning") chars += event.text.length;
    else if (event.type === "tool-call") chars += event.name.length + event.args.join("").length;
  }
  return Math.max(1, Math.ceil(chars / 4));
}

export interface RecordedRequest {
  /** 1-based, in arrival order. */
  n: number;
  method: string;
  /** Path without the query string. */
  path: string;
  /** Path with the query string. */
  url: string;
  /** The format chosen by the route; null when no route matched (answered 404). */
  format: ProviderFormat | null;
  /** `model` from the body, or from the path for Gemini. */
  model: string;
  /** Lower-case names; repeated headers joined with ", ". HTTP/2 pseudo-headers included. */
  headers: Record<string, string>;
  /** The parsed JSON body (undefined when absent or not JSON). */
  body: unknown;
  rawBody: string;
  /** "1.1" or "2.0". */
  httpVersion: string;
  /** The client's port: requests that share it came over one connection. */
  clientPort: number;
  /** `Date.now()` when the request body had been read. */
  time: number;
  /** The prompt's size as this provider counts it (`promptTokensOf`), reported as input tokens. */
  promptTokens: number;
}

export interface FakeProvider {
  /** Base URL without a trailing slash, e.g. "https://127.0.0.1:41234". */
  readonly url: string;
  readonly port: number;
  /** PEM of the self-signed certificate (its own CA): pass as undici `connect: { ca }`. */
  readonly ca: string;
  /** Every request received so far, in order. */
  readonly requests: readonly RecordedRequest[];
  /** Scripts still queued. */
  readonly queued: number;
  /** Requests whose response is still being sent (a hanging stream counts until the client goes
   *  away): lets a test see that the client cancelled its upstream request. */
  readonly inFlight: number;
  /** Queues scripts, one per request, first in first out. With the queue empty a request gets
   *  500 with the provider's error body and the message "fake provider: no script queued…". */
  enqueue(...scripts: Script[]): void;
  /** Forgets queued scripts, the responder and recorded requests (numbering restarts at 1). */
  reset(): void;
  /** The context window from now on (`FakeProviderOptions.contextWindow`); undefined: none. */
  setContextWindow(tokens: number | undefined): void;
  /**
   * Chooses the script for each request from the request itself (a long scripted conversation
   * whose order is not known in advance); undefined from it falls back to the queue.
   */
  setResponder(responder: ((request: RecordedRequest) => Script | undefined) | undefined): void;
  /** Stops listening and destroys every connection, hanging streams included. */
  close(): Promise<void>;
}

interface Pem {
  key: string;
  cert: string;
}

let pemPromise: Promise<Pem> | undefined;

/** One self-signed certificate per process, for localhost / 127.0.0.1 / ::1. */
function certificate(): Promise<Pem> {
  pemPromise ??= generate([{ name: "commonName", value: "localhost" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notAfterDate: new Date(Date.now() + 7 * 24 * 3600 * 1000),
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", digitalSignature: true, keyCertSign: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  }).then((pems) => ({ key: pems.private, cert: pems.cert }));
  return pemPromise;
}

type AnyRequest = http.IncomingMessage | http2.Http2ServerRequest;
type AnyResponse = http.ServerResponse | http2.Http2ServerResponse;

/** The transport operations a script needs, over either protocol. */
interface Exchange {
  writeHead(status: number, headers: Record<string, string>): void;
  write(data: string): Promise<void>;
  end(data?: string): void;
  /** HTTP/2: RST_STREAM with `code`; HTTP/1.1: destroy the socket. */
  reset(code: number): void;
  /** Destroy the TCP connection (HTTP/2: the whole session's). */
  destroy(): void;
}

function routeOf(path: string): { format: ProviderFormat; model?: string } | null {
  const gemini = /\/models\/([^/:]+):streamGenerateContent$/.exec(path);
  if (gemini) return { format: "google", model: decodeURIComponent(gemini[1] ?? "") };
  if (path.endsWith("/chat/completions")) return { format: "openai-chat" };
  if (path.endsWith("/responses")) return { format: "openai-responses" };
  if (path.endsWith("/messages")) return { format: "anthropic" };
  return null;
}

function headerRecord(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

export async function startFakeProvider(options: FakeProviderOptions = {}): Promise<FakeProvider> {
  const pem = await certificate();
  const useHttp2 = options.http2 === true;
  const useTls = useHttp2 || options.tls === true;

  const queue: Script[] = [];
  const requests: RecordedRequest[] = [];
  const active = new Set<AbortController>();
  const rawSockets = new Map<number, Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  let requestCount = 0;
  let closed = false;
  let contextWindow = options.contextWindow;
  let responder: ((request: RecordedRequest) => Script | undefined) | undefined;

  const noop = () => {};

  function exchangeFor(req: AnyRequest, res: AnyResponse): Exchange {
    if (req instanceof http2.Http2ServerRequest && res instanceof http2.Http2ServerResponse) {
      const stream = req.stream;
      stream.on("error", noop);
      return {
        writeHead: (status, headers) => {
          res.writeHead(status, headers);
        },
        write: (data) =>
          new Promise<void>((resolve, reject) => {
            res.write(data, (err) => (err ? reject(err) : resolve()));
          }),
        end: (data) => {
          if (data === undefined) res.end();
          else res.end(data);
        },
        reset: (code) => {
          if (!stream.destroyed) stream.close(code);
        },
        destroy: () => {
          const port = stream.session?.socket.remotePort;
          const raw = port === undefined ? undefined : rawSockets.get(port);
          if (raw) raw.destroy();
          else stream.session?.destroy();
        },
      };
    }
    const h1req = req as http.IncomingMessage;
    const h1res = res as http.ServerResponse;
    const kill = () => h1req.socket.destroy();
    return {
      writeHead: (status, headers) => {
        h1res.writeHead(status, headers);
        h1res.flushHeaders();
      },
      write: (data) =>
        new Promise<void>((resolve, reject) => {
          h1res.write(data, (err) => (err ? reject(err) : resolve()));
        }),
      end: (data) => {
        if (data === undefined) h1res.end();
        else h1res.end(data);
      },
      reset: kill,
      destroy: kill,
    };
  }

  async function runError(
    ex: Exchange,
    script: ErrorScript,
    format: ProviderFormat,
    model: string,
    n: number,
    signal: AbortSignal,
  ): Promise<void> {
    if (script.delayMs) await sleep(script.delayMs, undefined, { signal });
    const spec = errorResponse(format, script.errorType ?? "server", model, script.message);
    const body =
      script.body === undefined
        ? JSON.stringify(spec.body)
        : typeof script.body === "string"
          ? script.body
          : JSON.stringify(script.body);
    ex.writeHead(script.status ?? spec.status, {
      "content-type": "application/json",
      ...providerHeaders(format, n),
      ...script.headers,
    });
    ex.end(body);
  }

  async function runStream(
    ex: Exchange,
    script: StreamScript,
    format: ProviderFormat,
    model: string,
    n: number,
    signal: AbortSignal,
    promptTokens: number,
  ): Promise<void> {
    const end = script.end ?? "complete";
    let events: StreamEvent[] = script.events;
    const finish = events.find((e) => e.type === "finish");
    if (end === "complete" && !finish) events = [...events, { type: "finish" }];
    // Unless the script says otherwise, the usage a real provider would report for this request.
    const usage = (finish?.type === "finish" ? finish.usage : undefined) ?? {
      ...defaultUsage,
      inputTokens: promptTokens,
      outputTokens: replyTokensOf(events),
    };
    const renderer = createRenderer(format, { model, requestNumber: n, usage });

    if (script.delayMs) await sleep(script.delayMs, undefined, { signal });
    ex.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      ...providerHeaders(format, n),
      ...script.headers,
    });
    const start = renderer.start();
    if (start) await abortable(ex.write(start), signal);
    for (const event of events) {
      if (event.type === "silence") {
        await sleep(event.ms, undefined, { signal });
        continue;
      }
      if (script.chunkDelayMs) await sleep(script.chunkDelayMs, undefined, { signal });
      const data = renderer.event(event);
      if (data) await abortable(ex.write(data), signal);
    }
    switch (end) {
      case "complete":
      case "truncate":
        ex.end();
        return;
      case "reset":
        ex.reset(script.resetCode ?? http2.constants.NGHTTP2_CANCEL);
        return;
      case "destroy":
        ex.destroy();
        return;
      case "hang":
        await new Promise<void>((resolve) => {
          if (signal.aborted) resolve();
          signal.addEventListener("abort", () => resolve(), { once: true });
        });
        return;
    }
  }

  async function handle(req: AnyRequest, res: AnyResponse): Promise<void> {
    res.on("error", noop);
    req.on("error", noop);
    const ac = new AbortController();
    active.add(ac);
    res.on("close", () => ac.abort());
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const rawBody = Buffer.concat(chunks).toString("utf8");
      let body: unknown;
      try {
        body = rawBody ? JSON.parse(rawBody) : undefined;
      } catch {
        body = undefined;
      }
      const url = req.url ?? "/";
      const path = url.split("?")[0] ?? url;
      const route = req.method === "POST" ? routeOf(path) : null;
      const bodyModel =
        typeof body === "object" && body !== null && "model" in body ? body.model : undefined;
      const model = route?.model ?? (typeof bodyModel === "string" ? bodyModel : "unknown");
      requestCount += 1;
      const n = requestCount;
      const promptTokens = promptTokensOf(rawBody);
      const recorded: RecordedRequest = {
        n,
        method: req.method ?? "",
        path,
        url,
        format: route?.format ?? null,
        model,
        headers: headerRecord(req.headers),
        body,
        rawBody,
        httpVersion: req.httpVersion,
        clientPort: req.socket.remotePort ?? 0,
        time: Date.now(),
        promptTokens,
      };
      requests.push(recorded);
      const ex = exchangeFor(req, res);
      if (!route) {
        ex.writeHead(404, { "content-type": "application/json" });
        ex.end(
          JSON.stringify({
            error: {
              message: `fake provider: no route for ${req.method} ${path}`,
              type: "invalid_request_error",
              param: null,
              code: null,
            },
          }),
        );
        return;
      }
      if (contextWindow !== undefined && promptTokens > contextWindow) {
        // What the model's provider says of a prompt that does not fit; no script is used up.
        await runError(
          ex,
          { kind: "error", errorType: "context_length" },
          route.format,
          model,
          n,
          ac.signal,
        );
        return;
      }
      const script: Script = responder?.(recorded) ??
        queue.shift() ?? {
          kind: "error",
          status: 500,
          errorType: "server",
          message: `fake provider: no script queued for ${req.method} ${path}`,
        };
      if (script.kind === "error") {
        await runError(ex, script, route.format, model, n, ac.signal);
      } else {
        await runStream(ex, script, route.format, model, n, ac.signal, promptTokens);
      }
    } catch {
      // The client went away or close() was called; nothing to report.
    } finally {
      active.delete(ac);
    }
  }

  const onRequest = (req: AnyRequest, res: AnyResponse) => {
    void handle(req, res);
  };

  let server: http.Server | https.Server | http2.Http2SecureServer;
  if (useHttp2) {
    const h2 = http2.createSecureServer({ key: pem.key, cert: pem.cert, allowHTTP1: true });
    h2.on("request", onRequest);
    h2.on("session", (session: http2.ServerHttp2Session) => {
      sessions.add(session);
      session.on("error", noop);
      session.on("close", () => sessions.delete(session));
    });
    h2.on("sessionError", noop);
    h2.on("tlsClientError", noop);
    server = h2;
  } else if (useTls) {
    const s = https.createServer({ key: pem.key, cert: pem.cert }, onRequest);
    s.on("tlsClientError", noop);
    s.on("clientError", noop);
    server = s;
  } else {
    const s = http.createServer(onRequest);
    s.on("clientError", noop);
    server = s;
  }
  server.on("connection", (socket: Socket) => {
    socket.on("error", noop);
    const port = socket.remotePort;
    if (port !== undefined) rawSockets.set(port, socket);
    socket.on("close", () => {
      if (port !== undefined && rawSockets.get(port) === socket) rawSockets.delete(port);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  const port = address.port;
  const url = `${useTls ? "https" : "http"}://127.0.0.1:${port}`;

  return {
    url,
    port,
    ca: pem.cert,
    get requests() {
      return requests;
    },
    get queued() {
      return queue.length;
    },
    get inFlight() {
      return active.size;
    },
    enqueue(...scripts) {
      queue.push(...scripts);
    },
    setContextWindow(tokens) {
      contextWindow = tokens;
    },
    setResponder(next) {
      responder = next;
    },
    reset() {
      responder = undefined;
      queue.length = 0;
      requests.length = 0;
      requestCount = 0;
    },
    async close() {
      if (closed) return;
      closed = true;
      queue.length = 0;
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const ac of active) ac.abort();
      for (const session of sessions) session.destroy();
      for (const socket of rawSockets.values()) socket.destroy();
      await done;
    },
  };
}
