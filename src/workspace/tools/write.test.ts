import { chmod, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { contextFor, makeTree } from "./testing.ts";
import { writeFileTool } from "./write.ts";

describe("write_file", () => {
  it("creates a file and its missing parent directories", async () => {
    const root = await makeTree();
    const result = await writeFileTool(
      { path: "src/deep/new.ts", content: "export const x = 1;\n" },
      contextFor(root),
    );
    expect(result).toEqual({ output: "Created src/deep/new.ts (20 bytes).", is_error: false });
    expect(await readFile(path.join(root, "src/deep/new.ts"), "utf8")).toBe(
      "export const x = 1;\n",
    );
  });

  it("overwrites an existing file, saying so, and keeps its permissions", async () => {
    const root = await makeTree({ "run.sh": "old content" });
    await chmod(path.join(root, "run.sh"), 0o755);
    const result = await writeFileTool({ path: "run.sh", content: "é" }, contextFor(root));
    expect(result).toEqual({
      output: "Overwrote run.sh (2 bytes; it had 11 bytes).",
      is_error: false,
    });
    expect(await readFile(path.join(root, "run.sh"), "utf8")).toBe("é");
    expect((await stat(path.join(root, "run.sh"))).mode & 0o777).toBe(0o755);
  });

  it("writes an empty file", async () => {
    const root = await makeTree();
    const result = await writeFileTool({ path: "empty", content: "" }, contextFor(root));
    expect(result.output).toBe("Created empty (0 bytes).");
  });

  it("writes to an absolute path", async () => {
    const root = await makeTree();
    const other = await makeTree();
    const target = path.join(other, "x.txt");
    const result = await writeFileTool({ path: target, content: "hi" }, contextFor(root));
    expect(result.output).toBe(`Created ${target} (2 bytes).`);
  });

  it.each<[string, string, RegExp]>([
    ["a directory", "dir", /dir is a directory; write_file needs a file path/],
    ["a path through a file", "file.txt/child", /A component of file\.txt\/child is a file/],
  ])("refuses %s", async (_, target, message) => {
    const root = await makeTree({ "dir/": "", "file.txt": "x" });
    const result = await writeFileTool({ path: target, content: "x" }, contextFor(root));
    expect(result.is_error).toBe(true);
    expect(result.output).toMatch(message);
  });
});
