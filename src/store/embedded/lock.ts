/**
 * One keel server per data directory: `<data dir>/keel.pid` names the process that owns it (its pid
 * and start token). A second server on the same directory is refused while the owner lives; a file
 * left by a process that died (`kill -9`, a crash, a reboot) is taken over. Without this, a second
 * server would stop the first one's PostgreSQL as an orphan.
 */
import { readFileSync, rmSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { EmbeddedPostgresError } from "./errors.ts";
import { isAlive, startToken } from "./processes.ts";

interface Owner {
  pid: number;
  start?: string;
}

export class DataDirLock {
  readonly #file: string;
  #held = true;

  private constructor(file: string) {
    this.#file = file;
  }

  static async acquire(file: string, dataDir: string): Promise<DataDirLock> {
    const me: Owner = { pid: process.pid, start: await startToken(process.pid) };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await writeFile(file, `${JSON.stringify(me)}\n`, { flag: "wx", mode: 0o600 });
        return new DataDirLock(file);
      } catch (error) {
        if ((error as { code?: unknown }).code !== "EEXIST") throw error;
      }
      const owner = parse(await readFile(file, "utf8").catch(() => ""));
      if (owner && (await stillRuns(owner))) {
        throw new EmbeddedPostgresError(
          `another keel server (pid ${owner.pid}) is using ${dataDir}. Stop it first, or give ` +
            "this one another --data-dir.",
        );
      }
      // Left by a process that is gone: take it over.
      await rm(file, { force: true });
    }
    throw new EmbeddedPostgresError(`cannot take ${file}: another process keeps writing it.`);
  }

  /** Removes the file if it still names this process (synchronous: also run from an `exit` handler). */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    try {
      if (parse(readFileSync(this.#file, "utf8"))?.pid === process.pid) {
        rmSync(this.#file, { force: true });
      }
    } catch {
      // already gone
    }
  }
}

function parse(text: string): Owner | undefined {
  try {
    const value = JSON.parse(text) as Partial<Owner>;
    if (typeof value.pid !== "number" || !Number.isInteger(value.pid) || value.pid <= 0) {
      return undefined;
    }
    return { pid: value.pid, ...(typeof value.start === "string" ? { start: value.start } : {}) };
  } catch {
    return undefined;
  }
}

async function stillRuns(owner: Owner): Promise<boolean> {
  if (!isAlive(owner.pid)) return false;
  if (owner.start === undefined) return true;
  const now = await startToken(owner.pid);
  return now === undefined || now === owner.start;
}
