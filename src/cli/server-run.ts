/**
 * What `keel server` does once its flags are read: print the database URL, or start the server
 * and run it until SIGTERM or Ctrl-C. Loaded by the command's action only (`server.ts`).
 */
import { existsSync } from "node:fs";
import { startServer } from "../server/index.ts";
import { embeddedPaths } from "../store/embedded/paths.ts";
import { type CliIO, EXIT_ERROR } from "./io.ts";
import { retryPolicyFrom } from "./options.ts";
import {
  databaseUrlText,
  describeStartError,
  mcpLimitsFrom,
  type ServerOptions,
} from "./server.ts";

const SHUTDOWN_DEADLINE_MS = 10_000;

export async function runServerCommand(options: ServerOptions, io: CliIO): Promise<void> {
  if (options.printDatabaseUrl) {
    if (options.postgresUrl) {
      io.stderr("keel server uses the external PostgreSQL of --postgres-url; no embedded one.\n");
      io.setExitCode(EXIT_ERROR);
      return;
    }
    const { url, help } = databaseUrlText(options.dataDir);
    io.stdout(`${url}\n`);
    io.stderr(help);
    return;
  }
  const mcp = mcpLimitsFrom(process.env);
  if (typeof mcp === "string") {
    io.stderr(`error: ${mcp}\n`);
    io.setExitCode(EXIT_ERROR);
    return;
  }
  // initdb runs once, on the first start, and takes from seconds to most of a minute: say so
  // rather than sit silent (the JSON log line alone reads like any other).
  const cluster = embeddedPaths(options.dataDir).cluster;
  const creating = !options.postgresUrl && !existsSync(cluster);
  const began = performance.now();
  if (creating) {
    io.stderr(
      `Creating the embedded PostgreSQL database in ${cluster} (first start only; this can take up to a minute)…\n`,
    );
  }
  let running: Awaited<ReturnType<typeof startServer>>;
  try {
    running = await startServer({
      host: options.address.host,
      port: options.address.port,
      dataDir: options.dataDir,
      postgresUrl: options.postgresUrl,
      postgresOsUser: options.postgresOsUser,
      secretKey: process.env.KEEL_SECRET_KEY || undefined,
      secureCookies: Boolean(options.secureCookies),
      silenceMs: options.streamSilenceTimeoutMs,
      maxRunningChats: options.maxRunningChats,
      postgresPoolSize: options.postgresPoolSize,
      chatTakeoverAfterMs:
        options.chatTakeoverAfter === undefined ? undefined : options.chatTakeoverAfter * 1000,
      // The test suites' fake providers answer only the requests they script.
      titles: process.env.KEEL_TITLE_GENERATION !== "off",
      policy: retryPolicyFrom(options),
      mcp,
      logLevel: options.logLevel,
    });
  } catch (error) {
    io.stderr(`error: the server could not start: ${describeStartError(error, options)}\n`);
    io.setExitCode(EXIT_ERROR);
    return;
  }
  if (creating) {
    const seconds = ((performance.now() - began) / 1000).toFixed(1);
    io.stderr(`Created the embedded PostgreSQL database in ${seconds} s.\n`);
  }
  io.stderr(
    `Keel is running at ${running.url} — open it in a browser, or \`keel login ${running.url}\`.\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      const force = setTimeout(() => {
        io.stderr("error: shutdown took longer than 10 s; exiting now\n");
        process.exit(1);
      }, SHUTDOWN_DEADLINE_MS);
      force.unref();
      running.close().then(resolve, (error: unknown) => {
        io.stderr(`error: during shutdown: ${String(error)}\n`);
        io.setExitCode(EXIT_ERROR);
        resolve();
      });
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
}
