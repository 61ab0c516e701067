/**
 * The embedded PostgreSQL: a real PostgreSQL server that Keel runs itself when no
 * `--postgres-url` is given. Its cluster lives in `<data dir>/postgres` (0700, made by `initdb`),
 * it listens only on a Unix socket in `<data dir>/run` (0700, no TCP port), it logs to
 * `<data dir>/postgres.log`, and Keel reaches it through the same `pg` pool as any PostgreSQL.
 *
 * Lifecycle: `start` takes the data directory's lock (`keel.pid`), stops a postmaster that a
 * killed keel server left running (found by its `postmaster.pid`), creates the cluster on first
 * start (into `postgres.initdb`, renamed when complete, so an interrupted `initdb` never looks like
 * a cluster), starts the server detached in its own session (a Ctrl-C in the terminal reaches
 * Keel, which stops PostgreSQL after its own shutdown), and waits for `postmaster.pid` to say
 * `ready`. `stop` is a fast shutdown (SIGINT), then an immediate one if it hangs. If Keel exits
 * without `stop`, an `exit` handler still asks PostgreSQL to shut down; only a `kill -9` leaves it
 * running, and the next start stops it.
 *
 * Nothing here deletes a cluster: a missing, corrupt or wrong-version cluster is an error that
 * says what to do.
 */
import type { ChildProcess } from "node:child_process";
import { chmod, chown, lchown, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { preparePrivateDataDir } from "../data-dir.ts";
import { type Binaries, findBinaries } from "./binaries.ts";
import { EmbeddedPostgresError, PgliteDataDirError } from "./errors.ts";
import { exists } from "./files.ts";
import { DataDirLock } from "./lock.ts";
import { assertReachable, type ClusterUser, clusterUser } from "./os-user.ts";
import {
  EMBEDDED_DATABASE,
  type EmbeddedPaths,
  embeddedPaths,
  embeddedUrl,
  PORT,
} from "./paths.ts";
import {
  initCluster,
  makePrivateDir,
  readPostmasterPid,
  signal,
  startPostmaster,
} from "./postmaster.ts";
import { isAlive, programName, waitForExit } from "./processes.ts";

/** Longest Unix socket path the kernel takes (`sun_path` less its NUL): Linux 107, macOS 103. */
const MAX_SOCKET_PATH = process.platform === "linux" ? 107 : 103;

export interface EmbeddedOptions {
  dataDir: string;
  /** The OS user the cluster runs as when Keel runs as root (default `keel-postgres`). */
  osUser?: string;
  /** Build the cluster here instead of `<data dir>/postgres` (the PGlite migration does). */
  clusterDir?: string;
  /** How long PostgreSQL may take to become ready, crash recovery included (default 120 s). */
  readyTimeoutMs?: number;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

export class EmbeddedPostgres {
  readonly paths: EmbeddedPaths;
  /** Where this cluster's files are (`paths.cluster` unless the options said otherwise). */
  readonly clusterDir: string;
  readonly pid: number;
  readonly #lock: DataDirLock;
  readonly #child: ChildProcess;
  readonly #onExit: () => void;
  #stopping: Promise<void> | undefined;

  private constructor(
    paths: EmbeddedPaths,
    clusterDir: string,
    child: ChildProcess,
    lock: DataDirLock,
  ) {
    this.paths = paths;
    this.clusterDir = clusterDir;
    this.#child = child;
    this.pid = child.pid ?? 0;
    this.#lock = lock;
    // Keel exiting without `stop` (an uncaught error, the forced exit after a slow shutdown):
    // still ask PostgreSQL to shut down, and leave the data dir to the next server.
    this.#onExit = () => {
      try {
        process.kill(this.pid, "SIGINT");
      } catch {
        // already gone
      }
      lock.release();
    };
    process.on("exit", this.#onExit);
  }

  /** The connection URL of Keel's database (or another one) on this cluster. */
  url(database = EMBEDDED_DATABASE): string {
    return embeddedUrl(this.paths.dataDir, database);
  }

  static async start(options: EmbeddedOptions): Promise<EmbeddedPostgres> {
    const paths = embeddedPaths(options.dataDir);
    const clusterDir = options.clusterDir ?? paths.cluster;
    const log = options.log ?? (() => {});
    checkSocketPath(paths.socketDir);
    // First, before anything is judged or changed: a data dir from before (PGlite) has a command.
    if (options.clusterDir === undefined) await refuseForeignLayouts(paths);
    const user = await clusterUser(options.osUser);
    await prepareDataDir(paths.dataDir, user);
    const lock = await DataDirLock.acquire(paths.lock, paths.dataDir);
    try {
      const binaries = await findBinaries();
      await stopOrphan(clusterDir, log);
      if (!(await exists(clusterDir))) {
        if (user) {
          log("the embedded PostgreSQL runs as an unprivileged OS user (PostgreSQL refuses root)", {
            os_user: user.name,
          });
        }
        await initCluster(binaries, paths, clusterDir, user, log);
      }
      await checkCluster(binaries, clusterDir);
      if (user) await giveToClusterUser(clusterDir, user, log);
      // PostgreSQL refuses a cluster directory others may read (a copy made with `cp -r`).
      await chmod(clusterDir, 0o700);
      await makePrivateDir(paths.socketDir, user);
      const child = await startPostmaster(
        binaries,
        paths,
        clusterDir,
        user,
        options.readyTimeoutMs,
      );
      const cluster = new EmbeddedPostgres(paths, clusterDir, child, lock);
      try {
        await cluster.#createDatabase();
      } catch (error) {
        await cluster.stop();
        throw error;
      }
      log("embedded PostgreSQL ready", {
        pid: cluster.pid,
        version: binaries.major,
        // As root, say every time whom it runs as (PostgreSQL refuses root).
        ...(user ? { os_user: user.name } : {}),
        cluster: clusterDir,
        socket_dir: paths.socketDir,
      });
      return cluster;
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /** Fast shutdown (SIGINT: open connections are ended), immediate (SIGQUIT) if it hangs. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      process.off("exit", this.#onExit);
      try {
        if (this.#child.exitCode === null && this.#child.signalCode === null) {
          signal(this.pid, "SIGINT");
          if (!(await waitForExit(this.pid, 30_000))) {
            signal(this.pid, "SIGQUIT");
            await waitForExit(this.pid, 10_000);
          }
        }
      } finally {
        this.#lock.release();
      }
    })();
    return this.#stopping;
  }

  async #createDatabase(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url("postgres") });
    await client.connect();
    try {
      const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [
        EMBEDDED_DATABASE,
      ]);
      if (found.rowCount === 0) await client.query(`CREATE DATABASE ${EMBEDDED_DATABASE}`);
    } finally {
      await client.end();
    }
  }
}

function checkSocketPath(socketDir: string): void {
  const socket = join(socketDir, `.s.PGSQL.${PORT}`);
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    throw new EmbeddedPostgresError(
      `the data directory's path is too long for the embedded PostgreSQL's Unix socket (${socket} ` +
        `is ${Buffer.byteLength(socket)} bytes; the limit is ${MAX_SOCKET_PATH}). Choose a shorter --data-dir.`,
    );
  }
  if (socketDir.includes('"')) {
    throw new EmbeddedPostgresError(
      `the data directory's path may not contain a double quote (${socketDir}).`,
    );
  }
}

/** The data directory is private (`data-dir.ts`); the cluster's user must be able to reach it. */
async function prepareDataDir(dataDir: string, user: ClusterUser | undefined): Promise<void> {
  await preparePrivateDataDir(dataDir, user?.gid);
  if (user) await assertReachable(dataDir, user);
}

/**
 * A cluster copied or restored by root (`cp -r`, a backup tool) belongs to root, and PostgreSQL
 * will not open it: give its files back to the cluster's user, as an operator would.
 */
async function giveToClusterUser(
  clusterDir: string,
  user: ClusterUser,
  log: (message: string, fields?: Record<string, unknown>) => void,
): Promise<void> {
  const owner = async (path: string) => (await stat(path)).uid;
  if (
    (await owner(clusterDir)) === user.uid &&
    (await owner(join(clusterDir, "PG_VERSION"))) === user.uid
  ) {
    return;
  }
  log("giving the embedded PostgreSQL's files to its OS user", {
    cluster: clusterDir,
    os_user: user.name,
  });
  await chown(clusterDir, user.uid, user.gid);
  for (const entry of await readdir(clusterDir, { recursive: true, withFileTypes: true })) {
    await lchown(join(entry.parentPath, entry.name), user.uid, user.gid);
  }
}

/**
 * A data dir from an older Keel (PGlite) is migrated by a command, never silently; a data dir that
 * held a cluster before (its log or its key is there) without one now has lost it.
 */
async function refuseForeignLayouts(paths: EmbeddedPaths): Promise<void> {
  if (await exists(paths.cluster)) return;
  if (await exists(join(paths.pglite, "PG_VERSION"))) throw new PgliteDataDirError(paths.dataDir);
  const usedBefore = (await exists(paths.log)) || (await exists(join(paths.dataDir, "secret.key")));
  if (usedBefore) {
    throw new EmbeddedPostgresError(
      `the embedded PostgreSQL's cluster is missing from ${paths.cluster}, but ${paths.dataDir} ` +
        "was used before (its secret.key or postgres.log is there). Restore the cluster from a " +
        "backup into that directory; or, to start over with an empty database, move the data " +
        "directory away and start again. Keel deleted nothing.",
    );
  }
}

/**
 * A postmaster still running on this cluster while we hold the data dir's lock was left by a
 * keel server that died without stopping it (`kill -9`): stop it, then start our own.
 */
async function stopOrphan(
  clusterDir: string,
  log: (message: string, fields?: Record<string, unknown>) => void,
): Promise<void> {
  const found = await readPostmasterPid(clusterDir);
  if (!found || !isAlive(found.pid)) return;
  if ((await programName(found.pid)) !== "postgres") return; // a reused pid: PostgreSQL copes
  log(
    "stopping the embedded PostgreSQL left running by a keel server that exited without stopping it",
    {
      pid: found.pid,
    },
  );
  signal(found.pid, "SIGINT");
  if (await waitForExit(found.pid, 30_000)) return;
  signal(found.pid, "SIGQUIT");
  if (await waitForExit(found.pid, 10_000)) return;
  throw new EmbeddedPostgresError(
    `a PostgreSQL (pid ${found.pid}) left running on ${clusterDir} does not stop. Stop it ` +
      `(kill ${found.pid}) and start again.`,
  );
}

async function checkCluster(binaries: Binaries, clusterDir: string): Promise<void> {
  let version: string;
  try {
    version = (await readFile(join(clusterDir, "PG_VERSION"), "utf8")).trim();
  } catch {
    throw new EmbeddedPostgresError(
      `${clusterDir} is not a PostgreSQL cluster (it has no PG_VERSION): it is damaged or not ` +
        "Keel's. Restore it from a backup, or move it away to start over. Keel deleted nothing.",
    );
  }
  if (Number(version) !== binaries.major) {
    throw new EmbeddedPostgresError(
      `the embedded PostgreSQL cluster in ${clusterDir} was made by PostgreSQL ${version}, and this ` +
        `Keel runs PostgreSQL ${binaries.major}. Start the Keel release that made it, back up with ` +
        "pg_dump, and restore into this one (docs/operations.md, “Upgrading the embedded PostgreSQL”).",
    );
  }
}
