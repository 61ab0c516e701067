/**
 * The data directory is private to the server's user, as ssh treats `~/.ssh`: created 0700 (or,
 * when the embedded PostgreSQL runs as another OS user, 0710 with that user's group, so it can pass
 * through to its own directories and read nothing else). An empty directory is put right; one that
 * holds data and is readable or writable by others is refused with the `chmod` to run — what it holds
 * (the server key, the database's files) may already have been read or replaced, and only its
 * operator can judge that.
 */
import { chmod, chown, mkdir, readdir, stat } from "node:fs/promises";

const MARKER = Symbol.for("keel.data-dir-error");

/** The data directory is not private; the message says the command that makes it so. */
export class DataDirError extends Error {
  override readonly name = "DataDirError";
  readonly [MARKER] = true;

  static isInstance(error: unknown): error is DataDirError {
    return typeof error === "object" && error !== null && MARKER in error;
  }
}

export async function preparePrivateDataDir(dataDir: string, group?: number): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const info = await stat(dataDir);
  const wanted = group === undefined ? 0o700 : 0o710;
  if ((info.mode & 0o066) !== 0 && (await readdir(dataDir)).length > 0) {
    throw new DataDirError(
      `${dataDir} is readable or writable by other users (mode ${(info.mode & 0o777).toString(8)}), ` +
        `and it holds the server key and the database. Run \`chmod ${wanted.toString(8)} ${dataDir}\` ` +
        "(and check that nothing in it was changed), then start again.",
    );
  }
  if (group !== undefined) await chown(dataDir, info.uid, group);
  if ((info.mode & 0o777) !== wanted) await chmod(dataDir, wanted);
}
