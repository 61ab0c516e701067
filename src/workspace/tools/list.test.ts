import path from "node:path";
import { describe, expect, it } from "vitest";
import { listFilesTool } from "./list.ts";
import { LIMITS, type ListFilesInput } from "./schemas.ts";
import { contextFor, makeTree } from "./testing.ts";

const TREE = {
  ".gitignore": "node_modules/\n*.log\n/dist\n!keep.log\n",
  ".git/config": "",
  ".github/workflows/ci.yml": "",
  "README.md": "",
  "debug.log": "",
  "keep.log": "",
  "dist/bundle.js": "",
  "node_modules/pkg/index.js": "",
  "src/index.ts": "",
  "src/util.ts": "",
  "src/dist/kept.ts": "", // "/dist" is anchored to the root
  "src/.gitignore": "generated/\n",
  "src/generated/out.ts": "",
  "src/view.tsx": "",
  "test/index.test.ts": "",
  "empty/": "",
};

async function list(input: ListFilesInput, files: Record<string, string> = TREE) {
  const root = await makeTree(files);
  return { root, result: await listFilesTool(input, contextFor(root)) };
}

describe("list_files", () => {
  it("lists everything not ignored, depth first and by name, directories with a /", async () => {
    const { result } = await list({});
    expect(result).toEqual({
      is_error: false,
      output: [
        ".github/",
        ".github/workflows/",
        ".github/workflows/ci.yml",
        ".gitignore",
        "README.md",
        "empty/",
        "keep.log",
        "src/",
        "src/.gitignore",
        "src/dist/",
        "src/dist/kept.ts",
        "src/index.ts",
        "src/util.ts",
        "src/view.tsx",
        "test/",
        "test/index.test.ts",
      ].join("\n"),
    });
  });

  it.each<[string, ListFilesInput, string[]]>([
    [
      "a glob at any depth",
      { pattern: "**/*.ts" },
      ["src/dist/kept.ts", "src/index.ts", "src/util.ts", "test/index.test.ts"],
    ],
    ["a top-level glob", { pattern: "*.md" }, ["README.md"]],
    ["braces", { pattern: "src/*.{ts,tsx}" }, ["src/index.ts", "src/util.ts", "src/view.tsx"]],
    ["a path", { path: "src", pattern: "*.ts" }, ["src/index.ts", "src/util.ts"]],
    [
      "a path with ./ and a pattern with ./",
      { path: "./src/", pattern: "./*.tsx" },
      ["src/view.tsx"],
    ],
    ["a directory pattern", { pattern: "*/" }, []],
    ["directories by name", { pattern: "**/dist" }, ["src/dist/"]],
    [
      "an ignored directory asked for explicitly",
      { path: "node_modules" },
      ["node_modules/pkg/", "node_modules/pkg/index.js"],
    ],
  ])("filters with %s", async (_, input, expected) => {
    const { result } = await list(input);
    expect(result.is_error).toBe(false);
    if (expected.length === 0) expect(result.output).toMatch(/^No files under/);
    else expect(result.output.split("\n")).toEqual(expected);
  });

  it("says when nothing matches", async () => {
    const { result } = await list({ pattern: "**/*.rs" });
    expect(result).toEqual({ output: 'No files under . match "**/*.rs".', is_error: false });
  });

  it("lists an absolute directory outside the root with absolute paths", async () => {
    const other = await makeTree({ "x/y.txt": "", ".gitignore": "*.tmp\n", "z.tmp": "" });
    const root = await makeTree();
    const result = await listFilesTool({ path: other }, contextFor(root));
    expect(result.output.split("\n")).toEqual([
      path.join(other, ".gitignore"),
      `${path.join(other, "x")}/`,
      path.join(other, "x/y.txt"),
    ]);
  });

  it(`stops at ${LIMITS.listMaxEntries} entries with a note`, async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < LIMITS.listMaxEntries + 5; i++)
      files[`f${String(i).padStart(4, "0")}`] = "";
    const { result } = await list({}, files);
    const lines = result.output.split("\n");
    expect(lines.slice(0, 2)).toEqual(["f0000", "f0001"]);
    expect(lines.filter((line) => line.startsWith("f"))).toHaveLength(LIMITS.listMaxEntries);
    expect(result.output).toMatch(
      /\[Showing the first 1000 entries\. Narrow the path or the pattern/,
    );
  });

  it(`stops at ${LIMITS.listMaxBytes / 1024} KB of very long paths with a note`, async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 600; i++) files[`${String(i).padStart(3, "0")}${"n".repeat(240)}`] = "";
    const { result } = await list({}, files);
    const lines = result.output.split("\n\n")[0]?.split("\n") ?? [];
    expect(lines.length).toBe(Math.floor(LIMITS.listMaxBytes / 244));
    expect(result.output).toContain(`[Showing the first ${lines.length} entries.`);
  });

  it.each<[string, ListFilesInput, RegExp]>([
    ["a missing directory", { path: "nope" }, /No such file or directory: nope/],
    ["a file", { path: "README.md" }, /README\.md is a file, not a directory\. Use read_file/],
  ])("reports %s", async (_, input, message) => {
    const { result } = await list(input);
    expect(result.is_error).toBe(true);
    expect(result.output).toMatch(message);
  });
});
