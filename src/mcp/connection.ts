/**
 * One connection to an admin-configured MCP server over Streamable HTTP, with the official SDK's
 * `Client`. The server's headers (decrypted from the store) go on every request through
 * `requestInit.headers`; they are never logged. Every step takes a signal: nothing here waits
 * longer than its caller allows.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Tool as McpTool } from "@modelcontextprotocol/sdk/types.js";
import type { McpServerConfig } from "../store/contract.ts";

export type { McpTool };

/** Pages of `tools/list` read at most (a server paging forever must not hold a turn). */
const MAX_TOOL_PAGES = 20;

export type ServerAddress = Pick<McpServerConfig, "name" | "url" | "headers">;

/**
 * Connects (the MCP `initialize` handshake) within `signal`. The caller owns the client: close it.
 * `onError` hears the transport's background errors (a notification stream that dropped).
 */
export async function connectClient(
  server: ServerAddress,
  options: {
    signal: AbortSignal;
    timeoutMs: number;
    version: string;
    onError?: (e: Error) => void;
  },
): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(server.url), {
    requestInit: { headers: { ...server.headers } },
    // Keel retries on its own schedule (the next turn); the SDK's reconnection loop would keep
    // a dead server's notification stream retrying in the background.
    reconnectionOptions: {
      maxRetries: 0,
      initialReconnectionDelay: 1000,
      maxReconnectionDelay: 1000,
      reconnectionDelayGrowFactor: 1,
    },
  });
  const client = new Client({ name: "keel", version: options.version }, { capabilities: {} });
  client.onerror = (error) => options.onError?.(error);
  try {
    await within(
      client.connect(transport, { signal: options.signal, timeout: options.timeoutMs }),
      options.signal,
    );
  } catch (error) {
    await client.close().catch(() => {});
    throw error;
  }
  return client;
}

/** Every tool the server lists (following its pages, at most MAX_TOOL_PAGES). */
export async function listAllTools(
  client: Client,
  options: { signal: AbortSignal; timeoutMs: number },
): Promise<McpTool[]> {
  const tools: McpTool[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_TOOL_PAGES; page++) {
    const result = await within(
      client.listTools(cursor === undefined ? {} : { cursor }, {
        signal: options.signal,
        timeout: options.timeoutMs,
      }),
      options.signal,
    );
    tools.push(...result.tools);
    cursor = result.nextCursor;
    if (!cursor) break;
  }
  return tools;
}

/**
 * `promise`, or the signal's reason as soon as it aborts: the SDK honours its own signals, but a
 * fetch that hangs before the protocol layer sees it must not hold the caller either.
 */
export function within<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
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
