/**
 * `keel server`: its flags and the pure helpers they use. Starting the server (the database, the
 * API, the providers' SDKs) is in `server-run.ts`, loaded by the action only, so that `keel
 * --help` and the client commands do not pay for it. The two store modules imported here are
 * leaves (a constant, path arithmetic).
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { LOG_LEVELS, type LogLevel } from "../api/log.ts";
import type { McpLimits } from "../mcp/index.ts";
import { DEFAULT_OS_USER } from "../store/embedded/os-user.ts";
import { embeddedPaths, embeddedUrl } from "../store/embedded/paths.ts";
import type { CliIO } from "./io.ts";
import { addRetryFlags, parsePositiveNumber, type RetryFlags } from "./options.ts";

export interface ServerOptions extends RetryFlags {
  maxRunningChats?: number;
  postgresPoolSize?: number;
  chatTakeoverAfter?: number;
  address: { host: string; port: number };
  dataDir: string;
  postgresUrl?: string;
  postgresOsUser?: string;
  printDatabaseUrl?: boolean;
  secureCookies: boolean;
  logLevel: LogLevel;
}

/** HOST:PORT, [IPv6]:PORT, or :PORT (all interfaces). */
export function parseAddress(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port > 65_535) {
    throw new InvalidArgumentError(`"${value}" is not HOST:PORT (e.g. 127.0.0.1:3000).`);
  }
  return { host: match[1] ?? (match[2] || "0.0.0.0"), port };
}

/**
 * `$XDG_DATA_HOME/keel`, else `~/.local/share/keel`; for root `/var/lib/keel` (the embedded
 * PostgreSQL then runs as an unprivileged user, which could not reach into root's home).
 */
export function defaultDataDir(
  env: NodeJS.ProcessEnv = process.env,
  uid: number | undefined = process.getuid?.(),
): string {
  if (uid === 0) return "/var/lib/keel";
  return join(env.XDG_DATA_HOME || join(homedir(), ".local", "share"), "keel");
}

/**
 * What `--print-database-url` prints: the URL alone on stdout (so `psql "$(keel server
 * --print-database-url)"` works), and how to use it on stderr.
 */
export function databaseUrlText(dataDir: string): { url: string; help: string } {
  const url = embeddedUrl(dataDir);
  const paths = embeddedPaths(dataDir);
  return {
    url,
    help:
      `The embedded PostgreSQL listens only on a Unix socket in ${paths.socketDir} (no TCP ` +
      "port) while keel server runs. Connect as the OS user that runs keel server, or as root:\n" +
      `  psql '${url}'\n` +
      `Back up with a pg_dump at least as new as the server: pg_dump -Fc -f keel.dump '${url}'\n` +
      `The cluster's files are in ${paths.cluster}, its log is ${paths.log} ` +
      "(docs/operations.md).\n",
  };
}

/** What went wrong at start-up, and what to do, without echoing a URL that may hold a password. */
export function describeStartError(
  error: unknown,
  options: { address: { host: string; port: number }; postgresUrl?: string },
): string {
  const code =
    typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
  const message = error instanceof Error ? error.message : String(error);
  const where = `${options.address.host}:${options.address.port}`;
  if (code === "EADDRINUSE") {
    return `${where} is already in use (another keel server?). Stop it or choose another --address.`;
  }
  if (code === "EACCES" && message.includes("listen")) {
    return `not allowed to listen on ${where}. Choose a port above 1024 or another --address.`;
  }
  if (
    options.postgresUrl &&
    ["ECONNREFUSED", "ENOTFOUND", "ETIMEDOUT", "28P01", "3D000"].includes(code)
  ) {
    return `cannot use the PostgreSQL of --postgres-url (${code}: ${message}). Check that it runs and that the URL, user and database are right.`;
  }
  return message;
}

export function serverCommand(io: CliIO): Command {
  return addRetryFlags(
    new Command("server")
      .description(
        "Run the Keel server: the HTTP API, the chat daemon and the database (embedded PostgreSQL " +
          "in the data directory unless --postgres-url is given). SIGTERM or Ctrl-C stops it " +
          "gracefully; running chats resume on the next start.",
      )
      .addOption(
        new Option("--address <host:port>", "where to listen")
          .env("KEEL_ADDRESS")
          .default(parseAddress("127.0.0.1:3000"), "127.0.0.1:3000")
          .argParser(parseAddress),
      )
      .addOption(
        new Option("--data-dir <dir>", "where the embedded database and the server key live")
          .env("KEEL_DATA_DIR")
          .default(
            defaultDataDir(),
            "$XDG_DATA_HOME/keel or ~/.local/share/keel; /var/lib/keel for root",
          ),
      )
      .addOption(
        new Option(
          "--postgres-url <url>",
          "use this PostgreSQL instead of the embedded database",
        ).env("KEEL_POSTGRES_URL"),
      )
      .addOption(
        new Option(
          "--postgres-os-user <name>",
          "when keel runs as root: the OS user the embedded PostgreSQL runs as (created if missing)",
        )
          .env("KEEL_POSTGRES_OS_USER")
          .default(DEFAULT_OS_USER),
      )
      .addOption(
        new Option(
          "--print-database-url",
          "print how to reach the embedded PostgreSQL with psql, and exit",
        ),
      )
      .addOption(
        new Option(
          "--max-running-chats <n>",
          "chats this server runs at once; more wait (default 500)",
        )
          .env("KEEL_MAX_RUNNING_CHATS")
          .argParser(parsePositiveNumber),
      )
      .addOption(
        new Option(
          "--chat-takeover-after <seconds>",
          "how long a replica's chats wait, once it stops heartbeating, before another replica takes them over (default 30, at least 3)",
        )
          .env("KEEL_CHAT_TAKEOVER_AFTER")
          .argParser(parseTakeoverSeconds),
      )
      .addOption(
        new Option(
          "--postgres-pool-size <n>",
          "database connections this server opens for its work, besides one for LISTEN (default 20)",
        )
          .env("KEEL_POSTGRES_POOL_SIZE")
          .argParser(parsePositiveNumber),
      )
      .addOption(
        new Option("--secure-cookies", "mark the session cookie Secure (serve behind HTTPS)").env(
          "KEEL_SECURE_COOKIES",
        ),
      )
      .addOption(
        new Option(
          "--log-level <level>",
          "least severe log lines written; debug adds one line per HTTP request",
        )
          .choices(LOG_LEVELS)
          .env("KEEL_LOG_LEVEL")
          .default("info"),
      ),
  ).action(async (options: ServerOptions) => {
    const { runServerCommand } = await import("./server-run.ts");
    await runServerCommand(options, io);
  });
}

/**
 * `KEEL_MCP_CALL_TIMEOUT_MS`: how long an admin-configured MCP server's tool call may take (the
 * variable `keel agent` reads for a workspace's own servers, checked the same way); unset: 60 s.
 */
export function mcpLimitsFrom(env: NodeJS.ProcessEnv): McpLimits | string {
  const text = env.KEEL_MCP_CALL_TIMEOUT_MS;
  if (text === undefined || text === "") return {};
  const ms = Number(text);
  if (!(Number.isInteger(ms) && ms > 0)) {
    return "KEEL_MCP_CALL_TIMEOUT_MS must be a number of milliseconds.";
  }
  return { callTimeoutMs: ms };
}

/** At least 3 s: a replica heartbeats every third of it, and a busy one must not lose its chats. */
export function parseTakeoverSeconds(value: string): number {
  const seconds = parsePositiveNumber(value);
  if (seconds < 3) throw new InvalidArgumentError("must be at least 3 (seconds).");
  return seconds;
}
