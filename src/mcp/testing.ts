/**
 * TEST-ONLY. A real MCP server, written with the same SDK, over a real `node:http` server on
 * 127.0.0.1 (port 0), stateless Streamable HTTP (a fresh `McpServer` per request). Its tools:
 * `echo {text}`, `fail` (an `isError` result), `big {chars}`, `picture` (an image and a line of
 * text), `hang` (answers only when the request goes away), `whoami` (echoes the Authorization
 * header it got), `secret_tool`, and one whose name is
 * too long for `<server>__<tool>`. It records every request's headers, so tests can check what
 * reached it. Nothing outside tests imports this file.
 */
import { randomUUID } from "node:crypto";
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";

export const LONG_TOOL_NAME = `tool_${"x".repeat(70)}`;

export interface TestMcpServer {
  url: string;
  /** Every HTTP request's headers, in order. */
  readonly requests: IncomingHttpHeaders[];
  /** The tools called, in order. */
  readonly calls: string[];
  /** Resolves when a `hang` call has started (the next one after each read). */
  hangStarted(): Promise<void>;
  /** `hang` calls still waiting for their request to go away. */
  hanging(): number;
  close(): Promise<void>;
}

/**
 * `stateful`: sessions (`Mcp-Session-Id`), one `McpServer` per session, as most deployed servers
 * run; `forgetSessions()` then plays a server restart (known sessions answer 404).
 */
export async function startTestMcpServer(
  options: { stateful?: boolean } = {},
): Promise<TestMcpServer & { forgetSessions(): void }> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const requests: IncomingHttpHeaders[] = [];
  const calls: string[] = [];
  let hanging = 0;
  let onHang: (() => void) | undefined;

  /** `until` ends a `hang`: the request going away (stateless), or its cancellation (stateful). */
  function mcpServer(until: (signal: AbortSignal) => Promise<void>): McpServer {
    const server = new McpServer({ name: "keel-test", version: "1.0.0" });
    const text = (value: string) => ({ content: [{ type: "text" as const, text: value }] });
    server.registerTool(
      "echo",
      { description: "Echoes its text.", inputSchema: { text: z.string() } },
      async ({ text: value }) => {
        calls.push("echo");
        return text(`echo: ${value}`);
      },
    );
    server.registerTool("fail", { description: "Always fails." }, async () => {
      calls.push("fail");
      return { ...text("it broke: the widget is missing"), isError: true };
    });
    server.registerTool(
      "big",
      { description: "Returns that many characters.", inputSchema: { chars: z.number() } },
      async ({ chars }) => {
        calls.push("big");
        return text("y".repeat(chars));
      },
    );
    server.registerTool("picture", { description: "An image." }, async () => {
      calls.push("picture");
      return {
        content: [
          {
            type: "image" as const,
            data: Buffer.alloc(3000).toString("base64"),
            mimeType: "image/png",
          },
          { type: "text" as const, text: "a red square" },
        ],
      };
    });
    server.registerTool("hang", { description: "Never answers." }, async (extra) => {
      calls.push("hang");
      hanging++;
      onHang?.();
      await until(extra.signal);
      hanging--;
      return text("too late");
    });
    server.registerTool(
      "whoami",
      { description: "Echoes the Authorization header." },
      async (extra) => {
        calls.push("whoami");
        return text(`you sent: ${String(extra.requestInfo?.headers.authorization ?? "nothing")}`);
      },
    );
    server.registerTool("secret_tool", { description: "Should be denied." }, async () => {
      calls.push("secret_tool");
      return text("secret");
    });
    server.registerTool(LONG_TOOL_NAME, { description: "A name too long." }, async () =>
      text("long"),
    );
    return server;
  }

  function stateful(req: IncomingMessage, res: ServerResponse): void {
    const id = req.headers["mcp-session-id"];
    if (typeof id === "string") {
      const known = sessions.get(id);
      if (known) void known.handleRequest(req, res);
      else res.writeHead(404, { "content-type": "application/json" }).end('{"error":"no session"}');
      return;
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sessionId) => {
        sessions.set(sessionId, transport);
      },
    });
    const server = mcpServer(
      (signal) => new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve())),
    );
    void server.connect(transport).then(() => transport.handleRequest(req, res));
  }

  const http = createServer((req, res) => {
    requests.push(req.headers);
    if (options.stateful) {
      stateful(req, res);
      return;
    }
    if (req.method !== "POST") {
      // Stateless: no notification stream, no session to end.
      res.writeHead(405, { allow: "POST" }).end();
      return;
    }
    const server = mcpServer(() => new Promise<void>((resolve) => res.once("close", resolve)));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.once("close", () => {
      void transport.close();
      void server.close();
    });
    server
      .connect(transport)
      .then(() => transport.handleRequest(req, res))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    requests,
    calls,
    hangStarted: () =>
      new Promise<void>((resolve) => {
        onHang = resolve;
      }),
    hanging: () => hanging,
    forgetSessions: () => sessions.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const transport of sessions.values()) void transport.close();
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/** A URL where nothing listens: a port that was just free (connection refused). */
export async function refusedUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `http://127.0.0.1:${port}/mcp`;
}
