import { symlink } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { makeTree } from "./testing.ts";
import { type WalkOptions, walk } from "./walk.ts";

async function entries(start: string, options: WalkOptions): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of walk(start, options)) {
    out.push(entry.kind === "directory" ? `${entry.relative}/` : entry.relative);
  }
  return out;
}

describe("walk", () => {
  it("goes depth first, by name, skipping .git and ignored entries", async () => {
    const root = await makeTree({
      ".gitignore": "node_modules/\n*.tmp\n",
      ".git/HEAD": "ref",
      "b.txt": "",
      "a/z.txt": "",
      "a/x.tmp": "",
      "a.txt": "",
      "node_modules/pkg/index.js": "",
      "empty/": "",
    });
    const signal = new AbortController().signal;
    expect(await entries(root, { root, signal })).toEqual([
      ".gitignore",
      "a/",
      "a/z.txt",
      "a.txt",
      "b.txt",
      "empty/",
    ]);
  });

  it("applies the .gitignore files above the start directory inside the root", async () => {
    const root = await makeTree({
      ".gitignore": "*.log\n",
      "sub/a.log": "",
      "sub/a.txt": "",
    });
    const signal = new AbortController().signal;
    expect(await entries(path.join(root, "sub"), { root, signal })).toEqual(["a.txt"]);
  });

  it("reports symbolic links without following them", async () => {
    const root = await makeTree({ "dir/file.txt": "" });
    await symlink(path.join(root, "dir"), path.join(root, "link"));
    const kinds: string[] = [];
    for await (const entry of walk(root, { root, signal: new AbortController().signal })) {
      kinds.push(`${entry.relative}:${entry.kind}`);
    }
    expect(kinds).toEqual(["dir:directory", "dir/file.txt:file", "link:symlink"]);
  });

  it("lets an override include or exclude before .gitignore", async () => {
    const root = await makeTree({ ".gitignore": "*.log\n", "a.log": "", "b.txt": "", "c.md": "" });
    const signal = new AbortController().signal;
    const override: WalkOptions["override"] = (relative) =>
      relative.endsWith(".log") ? "include" : relative.endsWith(".md") ? "exclude" : undefined;
    expect(await entries(root, { root, signal, override })).toEqual([
      ".gitignore",
      "a.log",
      "b.txt",
    ]);
  });

  it("stops when the signal is aborted", async () => {
    const root = await makeTree({ "a/b.txt": "" });
    const controller = new AbortController();
    controller.abort();
    await expect(entries(root, { root, signal: controller.signal })).rejects.toThrow();
  });
});
