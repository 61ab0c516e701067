/**
 * An agent's first moments on the hub (hub.ts): the bearer token of its upgrade request, a refusal
 * before the upgrade, and the hello it must send first.
 */
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import type { Workspace } from "../store/types.ts";
import type { Connection } from "./hub-calls.ts";
import { AgentFrame, CLOSE, frameText, PROTOCOL_VERSION, parseFrame } from "./protocol.ts";

export function refuse(socket: Duplex, status: string, message: string): void {
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${message}\n`,
  );
}

export function bearer(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  return match?.[1] ?? null;
}

/** Waits for the agent's hello; a connection that says anything else (or nothing) is closed. */
export function awaitHello(
  socket: WebSocket,
  workspace: Workspace,
  token: string,
  o: {
    timeoutMs: number;
    logger: { warn(message: string, fields?: Record<string, unknown>): void };
    onHello: (connection: Connection, version: string) => void;
  },
): void {
  const timer = setTimeout(
    () => socket.close(CLOSE.badHello, "expected a hello frame"),
    o.timeoutMs,
  );
  socket.once("message", (data) => {
    clearTimeout(timer);
    const parsed = parseFrame(AgentFrame, frameText(data));
    if (!parsed.ok || parsed.frame.type !== "hello") {
      socket.close(CLOSE.badHello, "expected a hello frame");
      return;
    }
    if (parsed.frame.protocol !== PROTOCOL_VERSION) {
      socket.close(
        CLOSE.badHello,
        `protocol ${parsed.frame.protocol} is not spoken here (${PROTOCOL_VERSION}); upgrade keel`,
      );
      return;
    }
    const hello = parsed.frame;
    o.onHello(
      {
        socket,
        workspace,
        token,
        alive: true,
        platform: hello.platform || null,
        directory: hello.directory || hello.dir || null,
        dropped: new Map(),
      },
      hello.version,
    );
  });
  socket.on("error", (error) => o.logger.warn("agent socket error", { error: error.message }));
}
