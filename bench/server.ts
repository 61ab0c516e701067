// The stream benchmark's server, run as a child process so that serving the bytes never shares an
// event loop (or a core, when one is free) with the client being measured.
//
// It pre-renders one long OpenAI Chat Completions reply (bench/reply.ts, the fake provider's own
// renderer) and answers every POST …/chat/completions with exactly those bytes: the headers and
// first text delta in their own write, the rest in large slices, honouring backpressure. Two listeners on
// 127.0.0.1: plain HTTP/1.1, and TLS with HTTP/2 by ALPN (HTTP/1.1 fallback).
//
// Protocol (IPC): argv[2] = number of tokens. Sends `ReadyMessage` once listening; exits after
// closing every socket when it receives "close" or when the parent goes away.

import http from "node:http";
import http2 from "node:http2";
import type { Socket } from "node:net";
import { generate } from "selfsigned";
import { CHAT_PATH, renderReply, replyDeltas } from "./reply.ts";

export interface ReadyMessage {
  type: "ready";
  h1Url: string;
  h2Url: string;
  /** PEM of the TLS listener's self-signed certificate (its own CA). */
  ca: string;
  bodyBytes: number;
}

/** Bytes per write after the first delta: large, so the server is never the bottleneck. */
const SLICE_BYTES = 64 * 1024;

type AnyRequest = http.IncomingMessage | http2.Http2ServerRequest;

/** What the server uses of a response; both `http` and `http2` compat responses have it. */
interface Response {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean;
  end(data?: string): unknown;
  once(event: "drain", listener: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
}

async function certificate(): Promise<{ key: string; cert: string }> {
  const pems = await generate([{ name: "commonName", value: "localhost" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notAfterDate: new Date(Date.now() + 24 * 3600 * 1000),
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", digitalSignature: true, keyCertSign: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

async function main(): Promise<void> {
  const tokens = Number(process.argv[2] ?? "25000");
  const reply = renderReply(replyDeltas(tokens));
  const body = Buffer.from(reply.body, "utf8");
  const first = body.subarray(0, reply.firstFrameBytes);
  const rest = body.subarray(reply.firstFrameBytes);
  const notFound = JSON.stringify({ error: { message: "bench server: no such route" } });

  const send = (res: Response) => {
    res.writeHead(200, reply.headers);
    let offset = 0;
    const pump = () => {
      while (offset < rest.length) {
        const end = Math.min(offset + SLICE_BYTES, rest.length);
        const ok = res.write(rest.subarray(offset, end));
        offset = end;
        if (!ok) {
          res.once("drain", pump);
          return;
        }
      }
      res.end();
    };
    // The first delta goes out on its own, like a real model's first token; the rest follows as
    // soon as it has been handed to the kernel.
    res.write(first, () => setImmediate(pump));
  };

  const onRequest = (req: AnyRequest, res: Response) => {
    req.on("error", () => {});
    res.on("error", () => {});
    req.resume();
    req.on("end", () => {
      const path = (req.url ?? "").split("?")[0] ?? "";
      if (req.method === "POST" && path.endsWith(CHAT_PATH)) {
        send(res);
      } else {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(notFound);
      }
    });
  };

  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  };

  const pem = await certificate();
  const h1 = http.createServer(onRequest);
  const h2 = http2.createSecureServer({ key: pem.key, cert: pem.cert, allowHTTP1: true });
  h2.on("request", onRequest);
  h2.on("sessionError", () => {});
  h2.on("tlsClientError", () => {});
  h1.on("clientError", () => {});
  h1.on("connection", track);
  h2.on("connection", track);

  const listen = (server: http.Server | http2.Http2SecureServer) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const address = server.address();
        if (address === null || typeof address === "string") reject(new Error("no TCP address"));
        else resolve(address.port);
      });
    });
  const [h1Port, h2Port] = await Promise.all([listen(h1), listen(h2)]);

  let closing = false;
  const close = () => {
    if (closing) return;
    closing = true;
    h1.close();
    h2.close();
    for (const socket of sockets) socket.destroy();
    if (process.connected) process.disconnect();
  };
  process.on("message", (message) => {
    if (message === "close") close();
  });
  process.on("disconnect", close);

  const ready: ReadyMessage = {
    type: "ready",
    h1Url: `http://127.0.0.1:${h1Port}`,
    h2Url: `https://127.0.0.1:${h2Port}`,
    ca: pem.cert,
    bodyBytes: body.length,
  };
  process.send?.(ready);
}

await main();
