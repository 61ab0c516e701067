/** Helpers for the tools' tests: real temporary directories, removed after each test. */
import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
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
