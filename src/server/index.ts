/**
 * The composition root of `keel server`: the store first — on the embedded default that starts
 * PostgreSQL, whose `initdb` and server are child processes — while the rest of the server
 * (`run.ts`: provider transport, agent hub, chat daemon, chat service, HTTP API and web UI) loads
 * on this thread; then `runServer` starts those in order. They stop in reverse, the database last.
 */
import { jsonLogger, type Logger, type LogLevel } from "../api/log.ts";
import type { RetryPolicy } from "../chatretry/index.ts";
import type { McpLimits } from "../mcp/index.ts";
import { lockDataDir, openStore, type Store } from "../store/index.ts";

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  postgresUrl?: string;
  /** When Keel runs as root: the OS user of the embedded PostgreSQL (default `keel-postgres`). */
  postgresOsUser?: string;
  secretKey?: string;
  secureCookies: boolean;
  policy: Partial<RetryPolicy>;
  silenceMs?: number;
  /** Chats this replica runs at once; the rest wait `pending` (for this or another replica). */
  maxRunningChats?: number;
  /** A dead replica's chats are taken over this long after its last heartbeat (default 30 s). */
  chatTakeoverAfterMs?: number;
  /** Database connections for queries (default 20). */
  postgresPoolSize?: number;
  /** Have a model title each chat after its first reply (default true). */
  titles?: boolean;
  logger?: Logger;
  /** What the default logger (JSON lines on stderr) writes: "info" and up unless told. */
  logLevel?: LogLevel;
  /** The built web UI served at `/`; default `web/dist` of this package (`npm run build`). */
  webDir?: string;
  /** The standalone agent served at `/agent/keel-agent.mjs`; default `dist/agent/` of this package. */
  agentBundle?: string;
  /** Bounds of the MCP servers' tools (defaults: docs/agent.md, "MCP servers"). */
  mcp?: McpLimits;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:3000 */
  readonly url: string;
  /**
   * Graceful stop: refuse new requests, end open event streams (clients resume elsewhere),
   * stop running turns with `ServerShutdown` (partial content persisted, chats back to
   * `pending`), close the database.
   */
  close(): Promise<void>;
}

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const logger = config.logger ?? jsonLogger((line) => process.stderr.write(line), config.logLevel);
  const loading = import("./run.ts");
  // Keep a failed import from being an unhandled rejection while the store opens.
  loading.catch(() => {});
  // One server per data dir, whatever the database: it holds this replica's identity. (The
  // embedded PostgreSQL takes the same lock itself.)
  const lock = config.postgresUrl ? await lockDataDir(config.dataDir) : { release: () => {} };
  let store: Store;
  try {
    store = await openStore({
      dataDir: config.dataDir,
      postgresUrl: config.postgresUrl,
      postgresOsUser: config.postgresOsUser,
      secretKey: config.secretKey,
      poolSize: config.postgresPoolSize,
      log: (message, fields) => logger.info(message, fields),
      warn: (message, fields) => logger.warn(message, fields),
    });
  } catch (error) {
    lock.release();
    throw error;
  }
  try {
    const { runServer } = await loading;
    const running = await runServer(config, store, logger);
    return {
      url: running.url,
      close: async () => {
        try {
          await running.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (error) {
    await store.close().catch(() => {});
    lock.release();
    throw error;
  }
}
