/**
 * PostgreSQL refuses to run as root. When Keel runs as root, the embedded cluster runs as a
 * dedicated unprivileged OS user (`keel-postgres` unless told otherwise), created as a system user
 * when it does not exist. The data directory then stays private: owned by root, group the cluster
 * user's, mode 0710, so the cluster user can reach its own directories inside and read nothing else.
 */
import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import { dirname } from "node:path";
import { promisify } from "node:util";
import { EmbeddedPostgresError } from "./errors.ts";

const run = promisify(execFile);

export const DEFAULT_OS_USER = "keel-postgres";

/** Who the cluster's processes run as: `undefined` when that is Keel's own user. */
export interface ClusterUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

export function runningAsRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/** The user to run the cluster as when Keel is root (created if missing); else undefined. */
export async function clusterUser(name = DEFAULT_OS_USER): Promise<ClusterUser | undefined> {
  if (!runningAsRoot()) return undefined;
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(name)) {
    throw new EmbeddedPostgresError(
      `"${name}" is not a valid OS user name for the embedded PostgreSQL (--postgres-os-user).`,
    );
  }
  const found = await lookup(name);
  if (found) return found;
  try {
    await run("useradd", [
      "--system",
      "--user-group",
      "--no-create-home",
      "--home-dir",
      "/nonexistent",
      "--shell",
      "/usr/sbin/nologin",
      "--comment",
      "Keel embedded PostgreSQL",
      name,
    ]);
  } catch (error) {
    // Another process may have created it at the same moment.
    const raced = await lookup(name);
    if (raced) return raced;
    const detail = (error as { stderr?: string }).stderr?.trim() || String(error);
    throw new EmbeddedPostgresError(
      `Keel runs as root, and PostgreSQL refuses to, so the embedded cluster runs as the OS user ` +
        `"${name}" — which does not exist and could not be created (${detail}). Create it ` +
        `(useradd --system ${name}), name an existing unprivileged user with --postgres-os-user, ` +
        "or run keel as an unprivileged user.",
    );
  }
  const created = await lookup(name);
  if (!created) {
    throw new EmbeddedPostgresError(`the OS user "${name}" was created but cannot be found.`);
  }
  return created;
}

async function lookup(name: string): Promise<ClusterUser | undefined> {
  try {
    const [uid, gid] = await Promise.all([
      run("id", ["-u", name]).then((r) => Number.parseInt(r.stdout, 10)),
      run("id", ["-g", name]).then((r) => Number.parseInt(r.stdout, 10)),
    ]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) return undefined;
    if (uid === 0) {
      throw new EmbeddedPostgresError(
        `the OS user "${name}" is root; the embedded PostgreSQL needs an unprivileged user.`,
      );
    }
    return { name, uid, gid };
  } catch (error) {
    if (EmbeddedPostgresError.isInstance(error)) throw error;
    return undefined;
  }
}

/**
 * Every directory above `dir` must be searchable by the cluster user, or PostgreSQL cannot reach
 * its files (a data dir under root's 0700 home, say). Checked up front to say so plainly.
 */
export async function assertReachable(dir: string, user: ClusterUser): Promise<void> {
  let current = dirname(dir);
  for (;;) {
    const info = await stat(current);
    const searchable =
      (info.uid === user.uid && info.mode & 0o100) ||
      (info.gid === user.gid && info.mode & 0o010) ||
      info.mode & 0o001;
    if (!searchable) {
      throw new EmbeddedPostgresError(
        `the embedded PostgreSQL runs as the OS user "${user.name}" (Keel runs as root, and ` +
          `PostgreSQL refuses to), and that user cannot reach ${dir}: ${current} is not searchable ` +
          "by it. Choose a --data-dir it can reach (the default for root is /var/lib/keel), or run " +
          "keel as an unprivileged user.",
      );
    }
    const parent = dirname(current);
    if (parent === current) return;
    current = parent;
  }
}
