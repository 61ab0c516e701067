/**
 * The embedded PostgreSQL's processes: `initdb` for a new cluster, the postmaster started
 * detached with its log in `<data dir>/postgres.log` and awaited until `postmaster.pid` says
 * `ready`, and the words for a start that failed (the cause from this start's log lines, and the
 * last lines). Their environment holds nothing of Keel's (no secret key, no provider keys).
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  chmod,
  chown,
  type FileHandle,
  mkdir,
  open,
  readFile,
  rename,
  rm,
  stat,
} from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Binaries } from "./binaries.ts";
import { EmbeddedPostgresError } from "./errors.ts";
import type { ClusterUser } from "./os-user.ts";
import { EMBEDDED_USER, type EmbeddedPaths, PORT } from "./paths.ts";

/** `postgres.log` is moved to `postgres.log.1` at start once it is this large. */
const LOG_ROTATE_BYTES = 10 * 1024 * 1024;

export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** postmaster.pid: the pid on its first line, its status ("ready") on the eighth. */
export async function readPostmasterPid(
  clusterDir: string,
): Promise<{ pid: number; status: string } | undefined> {
  try {
    const lines = (await readFile(join(clusterDir, "postmaster.pid"), "utf8")).split("\n");
    const pid = Number.parseInt(lines[0] ?? "", 10);
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    return { pid, status: (lines[7] ?? "").trim() };
  } catch {
    return undefined;
  }
}

/** What the cluster's processes see of the environment: nothing of Keel's secrets. */
function clusterEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    LANG: "C",
    LC_ALL: "C",
    PATH: process.env.PATH ?? "/usr/bin:/bin",
  };
  if (process.env.TZ) env.TZ = process.env.TZ;
  return env;
}

function ids(user: ClusterUser | undefined): { uid?: number; gid?: number } {
  return user ? { uid: user.uid, gid: user.gid } : {};
}

/** A directory only the cluster's user may use (created if missing; its mode put right if not). */
export async function makePrivateDir(dir: string, user: ClusterUser | undefined): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (user) await chown(dir, user.uid, user.gid);
  await chmod(dir, 0o700);
}

export async function initCluster(
  binaries: Binaries,
  paths: EmbeddedPaths,
  clusterDir: string,
  user: ClusterUser | undefined,
  log: (message: string, fields?: Record<string, unknown>) => void,
): Promise<void> {
  const building = `${clusterDir}.initdb`;
  // Left by an interrupted first start: it never held data.
  await rm(building, { recursive: true, force: true });
  await makePrivateDir(building, user);
  log("creating the embedded PostgreSQL cluster", { cluster: clusterDir });
  const child = spawn(
    binaries.initdb,
    [
      `--pgdata=${building}`,
      `--username=${EMBEDDED_USER}`,
      "--auth=trust",
      "--encoding=UTF8",
      "--locale=C",
      "--locale-provider=builtin",
      "--builtin-locale=C.UTF-8",
      // One syncfs() of the file system instead of an fsync per file: as durable, a quarter second sooner.
      ...(process.platform === "linux" ? ["--sync-method=syncfs"] : []),
    ],
    { cwd: paths.dataDir, env: clusterEnv(), stdio: ["ignore", "pipe", "pipe"], ...ids(user) },
  );
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const [code, spawnError] = await new Promise<[number | null, Error | undefined]>((resolve) => {
    child.once("error", (error) => resolve([null, error]));
    child.once("close", (exitCode) => resolve([exitCode, undefined]));
  });
  if (code !== 0) {
    await rm(building, { recursive: true, force: true });
    const detail = spawnError ? String(spawnError) : lastLines(output, 15);
    throw new EmbeddedPostgresError(
      `initdb could not create the embedded PostgreSQL cluster in ${clusterDir}:\n${detail}`,
    );
  }
  await rename(building, clusterDir);
}

async function openLog(path: string): Promise<FileHandle> {
  try {
    if ((await stat(path)).size > LOG_ROTATE_BYTES) await rename(path, `${path}.1`);
  } catch {
    // no log yet
  }
  const handle = await open(path, "a", 0o600);
  await handle.chmod(0o600);
  return handle;
}

export async function startPostmaster(
  binaries: Binaries,
  paths: EmbeddedPaths,
  clusterDir: string,
  user: ClusterUser | undefined,
  readyTimeoutMs: number | undefined,
): Promise<ChildProcess> {
  const logFile = await openLog(paths.log);
  const logOffset = (await logFile.stat()).size;
  let child: ChildProcess;
  try {
    child = spawn(
      binaries.postgres,
      [
        "-D",
        clusterDir,
        "-p",
        String(PORT),
        "-c",
        "listen_addresses=",
        "-c",
        `unix_socket_directories="${paths.socketDir}"`,
        "-c",
        "unix_socket_permissions=0700",
      ],
      {
        cwd: paths.dataDir,
        env: clusterEnv(),
        // Its own session: a terminal's Ctrl-C reaches Keel, not PostgreSQL.
        detached: true,
        stdio: ["ignore", logFile.fd, logFile.fd],
        ...ids(user),
      },
    );
  } finally {
    await logFile.close();
  }
  child.unref();
  let spawnError: Error | undefined;
  child.once("error", (error) => {
    spawnError = error;
  });
  const deadline = Date.now() + (readyTimeoutMs ?? 120_000);
  for (;;) {
    if (spawnError || child.exitCode !== null || child.signalCode !== null) {
      const how = spawnError
        ? String(spawnError)
        : `it exited with ${child.exitCode ?? child.signalCode}`;
      throw await startFailure(paths, clusterDir, how, logOffset);
    }
    const found = await readPostmasterPid(clusterDir);
    if (found && found.pid === child.pid && found.status === "ready") return child;
    if (Date.now() > deadline) {
      signal(child.pid ?? 0, "SIGQUIT");
      throw await startFailure(paths, clusterDir, "it did not become ready in time", logOffset);
    }
    await sleep(20);
  }
}

async function startFailure(
  paths: EmbeddedPaths,
  clusterDir: string,
  how: string,
  logOffset: number,
): Promise<EmbeddedPostgresError> {
  // What this start wrote to the log; the file's end if that is nothing.
  const written = lastLines(await readTail(paths.log, 8192, logOffset), 15);
  const tail = written || lastLines(await readTail(paths.log), 15);
  const fatal = written
    .split("\n")
    .find((line) => /\b(FATAL|PANIC):/.test(line))
    ?.replace(/^.*?\b(FATAL|PANIC):\s*/, "");
  // Before its logger is set up, PostgreSQL writes plain lines ("postgres: could not find …").
  const plain = written
    .split("\n")
    .filter((line) => line.trim() !== "" && !/^\d{4}-\d\d-\d\d /.test(line))
    .join(" ")
    .slice(0, 500);
  return new EmbeddedPostgresError(
    `the embedded PostgreSQL could not start on ${clusterDir}: ${fatal ?? (plain || how)}. Keel ` +
      `deleted nothing. The last lines of ${paths.log}:\n${tail}`,
  );
}

/** The last `bytes` of the file, from `from` on at the earliest. */
async function readTail(path: string, bytes = 8192, from = 0): Promise<string> {
  try {
    const handle = await open(path, "r");
    try {
      const { size } = await handle.stat();
      const start = Math.max(from, size - bytes);
      const length = Math.max(0, size - start);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, start);
      return buffer.toString("utf8");
    } finally {
      await handle.close();
    }
  } catch {
    return "";
  }
}

function lastLines(text: string, count: number): string {
  return text.trimEnd().split("\n").slice(-count).join("\n");
}
