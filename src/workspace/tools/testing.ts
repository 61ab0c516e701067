/** Helpers for the tools' tests: real temporary directories, removed after each test. */
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach } from "vitest";
import type { WorkspaceToolContext } from "./types.ts";

const created: string[] = [];

afterEach(async () => {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A fresh directory holding `files` (path → content; a path ending in "/" is a directory). */
export async function makeTree(files: Record<string, string | Buffer> = {}): Promise<string> {
  // realpath: on some systems the temporary directory is behind a symbolic link.
  const root = await realpath(await mkdtemp(path.join(os.tmpdir(), "keel-tools-")));
  created.push(root);
  for (const [name, content] of Object.entries(files)) {
    const target = path.join(root, name);
    if (name.endsWith("/")) {
      await mkdir(target, { recursive: true });
      continue;
    }
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  return root;
}

export function contextFor(
  root: string,
  extra: Partial<WorkspaceToolContext> = {},
): WorkspaceToolContext {
  return { root, signal: new AbortController().signal, ...extra };
}

/** Polls `check` every 20 ms until it holds; throws after `timeoutMs`. Returns the time it took. */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The processes of a group that are still running. A zombie counts as gone: it has exited and
 * only waits for its parent to collect it — and an orphaned grandchild's parent is PID 1, which
 * in some containers collects them only every second or so. `kill(-pgid, 0)` succeeds for
 * zombies, so it alone cannot tell "killed" from "killed and collected".
 */
export async function liveMembers(pgid: number): Promise<number[]> {
  try {
    process.kill(-pgid, 0);
  } catch {
    return []; // ESRCH: no process at all in the group
  }
  const live: number[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, "utf8").catch(() => "");
    // "pid (comm) state ppid pgrp …" — comm may contain spaces or parentheses.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z") live.push(Number(name));
  }
  return live;
}
