import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EmbeddedPostgresError } from "./errors.ts";
import { DataDirLock } from "./lock.ts";
import { startToken } from "./processes.ts";

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.on("exit", resolve));
  return child.pid ?? 0;
}

describe("the data directory's lock", () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "keel-lock-"));
    file = join(dir, "keel.pid");
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("names this process while held (0600) and is gone once released", async () => {
    const lock = await DataDirLock.acquire(file, dir);
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({
      pid: process.pid,
      start: await startToken(process.pid),
    });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    lock.release();
    await expect(stat(file)).rejects.toThrow();
  });

  it("refuses while a live process holds it, naming that process", async () => {
    const lock = await DataDirLock.acquire(file, dir);
    const second = DataDirLock.acquire(file, dir);
    await expect(second).rejects.toSatisfy(EmbeddedPostgresError.isInstance);
    await expect(second).rejects.toThrow(
      `another keel server (pid ${process.pid}) is using ${dir}`,
    );
    lock.release();
  });

  it.each([
    ["a process that is gone", async () => JSON.stringify({ pid: await deadPid() })],
    [
      "a pid now used by another process (another start token)",
      async () => JSON.stringify({ pid: process.pid, start: "not-this-process" }),
    ],
    ["garbage", async () => "not json"],
  ])("takes over a file left by %s", async (_, content) => {
    await writeFile(file, await content());
    const lock = await DataDirLock.acquire(file, dir);
    expect(JSON.parse(await readFile(file, "utf8")).pid).toBe(process.pid);
    lock.release();
  });

  it("does not remove a file that names another process", async () => {
    const lock = await DataDirLock.acquire(file, dir);
    const other = JSON.stringify({ pid: 1 });
    await writeFile(file, other);
    lock.release();
    expect(await readFile(file, "utf8")).toBe(other);
  });
});
