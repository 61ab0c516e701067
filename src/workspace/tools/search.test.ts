import { execFileSync } from "node:child_process";
import { chmod, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findRipgrep } from "./ripgrep.ts";
import { LIMITS, type SearchFilesInput } from "./schemas.ts";
import { compilePattern, type SearchOptions, searchFilesTool } from "./search.ts";
import { contextFor, makeTree } from "./testing.ts";

const FIXTURE: Record<string, string | Buffer> = {
  ".gitignore": "*.log\nbuild/\n!important.log\n",
  ".git/config": "TODO in git internals\n",
  ".env": "TODO=hidden files are searched\n",
  "a.txt": "TODO: top-level a\nnothing here\n",
  "a/b.txt": "first line\nTODO: nested, sorted before a.txt's sibling b.txt\n",
  "b.txt": "todo in lower case\nTODO twice\nand TODO again\n",
  "debug.log": "TODO: ignored log\n",
  "important.log": "TODO: re-included log\n",
  "build/out.js": "// TODO generated\n",
  "binary.bin": Buffer.concat([Buffer.from([0]), Buffer.from("TODO inside binary\n")]),
  "crlf.txt": "TODO with crlf\r\nend$\r\n",
  "src/.gitignore": "secret.ts\n",
  "src/secret.ts": "// TODO secret\n",
  "src/main.ts": "function foo(x) {\n  return foo(x - 1); // TODO recursion\n}\n",
  "src/util.test.ts": "// TODO test\n",
  "docs/guide.md": "TODO: write the guide\n",
  "unicode.txt": "naïve TODO ☃\n",
};

async function fixture(): Promise<string> {
  const root = await makeTree(FIXTURE);
  await symlink(path.join(root, "a.txt"), path.join(root, "link.txt")); // not followed
  return root;
}

async function search(root: string, input: SearchFilesInput, options: SearchOptions) {
  return searchFilesTool(input, contextFor(root), options);
}

const CASES: [string, SearchFilesInput, string[]][] = [
  [
    "a literal everywhere",
    { pattern: "TODO" },
    [
      ".env:1: TODO=hidden files are searched",
      "a/b.txt:2: TODO: nested, sorted before a.txt's sibling b.txt",
      "a.txt:1: TODO: top-level a",
      "b.txt:2: TODO twice",
      "b.txt:3: and TODO again",
      "crlf.txt:1: TODO with crlf",
      "docs/guide.md:1: TODO: write the guide",
      "important.log:1: TODO: re-included log",
      "src/main.ts:2:   return foo(x - 1); // TODO recursion",
      "src/util.test.ts:1: // TODO test",
      "unicode.txt:1: naïve TODO ☃",
    ],
  ],
  [
    "a regular expression",
    { pattern: "fo+\\(x( -)?" },
    ["src/main.ts:1: function foo(x) {", "src/main.ts:2:   return foo(x - 1); // TODO recursion"],
  ],
  ["an anchor before a CRLF ending", { pattern: "^end\\$$" }, []],
  ["a dot matching one character", { pattern: "na.ve" }, ["unicode.txt:1: naïve TODO ☃"]],
  [
    "a path",
    { pattern: "TODO", path: "src" },
    ["src/main.ts:2:   return foo(x - 1); // TODO recursion", "src/util.test.ts:1: // TODO test"],
  ],
  [
    "a single file",
    { pattern: "TODO", path: "b.txt" },
    ["b.txt:2: TODO twice", "b.txt:3: and TODO again"],
  ],
  [
    "a gitignored file asked for by path",
    { pattern: "TODO", path: "debug.log" },
    ["debug.log:1: TODO: ignored log"],
  ],
  [
    "a gitignored directory asked for by path",
    { pattern: "TODO", path: "build" },
    ["build/out.js:1: // TODO generated"],
  ],
  // As with ripgrep's --glob, a file the glob names is searched even if .gitignore excludes it.
  [
    "a glob at any depth",
    { pattern: "TODO", glob: "*.ts" },
    [
      "src/main.ts:2:   return foo(x - 1); // TODO recursion",
      "src/secret.ts:1: // TODO secret",
      "src/util.test.ts:1: // TODO test",
    ],
  ],
  [
    "a glob with braces",
    { pattern: "TODO", glob: "*.{md,env}" },
    [".env:1: TODO=hidden files are searched", "docs/guide.md:1: TODO: write the guide"],
  ],
  [
    "an anchored glob",
    { pattern: "TODO", glob: "a/*.txt" },
    ["a/b.txt:2: TODO: nested, sorted before a.txt's sibling b.txt"],
  ],
  [
    "a negated glob",
    { pattern: "TODO", glob: "!*.txt" },
    [
      ".env:1: TODO=hidden files are searched",
      "docs/guide.md:1: TODO: write the guide",
      "important.log:1: TODO: re-included log",
      "src/main.ts:2:   return foo(x - 1); // TODO recursion",
      "src/util.test.ts:1: // TODO test",
    ],
  ],
  [
    "a negated directory glob",
    { pattern: "TODO", glob: "!src" },
    [
      ".env:1: TODO=hidden files are searched",
      "a/b.txt:2: TODO: nested, sorted before a.txt's sibling b.txt",
      "a.txt:1: TODO: top-level a",
      "b.txt:2: TODO twice",
      "b.txt:3: and TODO again",
      "crlf.txt:1: TODO with crlf",
      "docs/guide.md:1: TODO: write the guide",
      "important.log:1: TODO: re-included log",
      "unicode.txt:1: naïve TODO ☃",
    ],
  ],
  [
    "a glob that overrides .gitignore",
    { pattern: "TODO", glob: "*.log" },
    ["debug.log:1: TODO: ignored log", "important.log:1: TODO: re-included log"],
  ],
  [
    "a glob that names everything (but never .git)",
    { pattern: "TODO", glob: "**" },
    [
      ".env:1: TODO=hidden files are searched",
      "a/b.txt:2: TODO: nested, sorted before a.txt's sibling b.txt",
      "a.txt:1: TODO: top-level a",
      "b.txt:2: TODO twice",
      "b.txt:3: and TODO again",
      "build/out.js:1: // TODO generated",
      "crlf.txt:1: TODO with crlf",
      "debug.log:1: TODO: ignored log",
      "docs/guide.md:1: TODO: write the guide",
      "important.log:1: TODO: re-included log",
      "src/main.ts:2:   return foo(x - 1); // TODO recursion",
      "src/secret.ts:1: // TODO secret",
      "src/util.test.ts:1: // TODO test",
      "unicode.txt:1: naïve TODO ☃",
    ],
  ],
];

describe("search_files (JS)", () => {
  it.each(CASES)("%s", async (_, input, expected) => {
    const result = await search(await fixture(), input, { engine: "js" });
    expect(result.is_error).toBe(false);
    if (expected.length === 0) expect(result.output).toMatch(/^No matches for /);
    else expect(result.output.split("\n")).toEqual(expected);
  });

  it("supports JavaScript-only syntax such as look-ahead", async () => {
    const result = await search(await fixture(), { pattern: "TODO(?= twice)" }, { engine: "js" });
    expect(result.output).toBe("b.txt:2: TODO twice");
  });

  it("says when nothing matches", async () => {
    const root = await fixture();
    const result = await search(root, { pattern: "nowhere to be found" }, { engine: "js" });
    expect(result).toEqual({
      output: 'No matches for "nowhere to be found" in ..',
      is_error: false,
    });
  });

  it.each<[string, SearchFilesInput, RegExp]>([
    [
      "an invalid regular expression",
      { pattern: "foo(" },
      /^Invalid regular expression "foo\(": .*\nEscape special characters/,
    ],
    ["a missing path", { pattern: "x", path: "nope" }, /No such file or directory: nope/],
    [
      "a binary file asked for by path",
      { pattern: "x", path: "binary.bin" },
      /binary\.bin is a binary file/,
    ],
  ])("reports %s", async (_, input, message) => {
    const result = await search(await fixture(), input, { engine: "js" });
    expect(result.is_error).toBe(true);
    expect(result.output).toMatch(message);
  });

  it("skips files above the size limit", async () => {
    const root = await makeTree({ "small.txt": "needle\n" });
    await writeFile(path.join(root, "huge.txt"), `needle\n${"x".repeat(LIMITS.maxFileBytes)}`);
    const result = await search(root, { pattern: "needle" }, { engine: "js" });
    expect(result.output).toBe("small.txt:1: needle");
  });

  it(`stops at ${LIMITS.searchMaxMatches} matches with a note`, async () => {
    const root = await makeTree({ "many.txt": "hit\n".repeat(600) });
    const result = await search(root, { pattern: "hit" }, { engine: "js" });
    const lines = result.output.split("\n");
    expect(lines.filter((line) => line.startsWith("many.txt:"))).toHaveLength(500);
    expect(lines[499]).toBe("many.txt:500: hit");
    expect(result.output).toMatch(
      /\[Showing the first 500 matches; there are more\. Narrow the search/,
    );
  });

  it(`stops at ${LIMITS.searchMaxBytes / 1024} KB with a note, cutting long lines`, async () => {
    const long = `hit ${"z".repeat(1000)}\n`;
    const root = await makeTree({ "long.txt": long.repeat(200) });
    const result = await search(root, { pattern: "hit" }, { engine: "js" });
    expect(Buffer.byteLength(result.output)).toBeLessThanOrEqual(LIMITS.searchMaxBytes + 300);
    const first = result.output.split("\n")[0];
    expect(first).toBe(`long.txt:1: hit ${"z".repeat(496)}… [line cut: 1004 characters]`);
    expect(result.output).toMatch(/\(output is capped at 64 KB\); there are more\./);
  });

  it("searches an absolute path outside the root, showing absolute paths", async () => {
    const other = await makeTree({ "x.txt": "needle\n" });
    const root = await makeTree();
    const result = await search(root, { pattern: "needle", path: other }, { engine: "js" });
    expect(result.output).toBe(`${path.join(other, "x.txt")}:1: needle`);
  });
});

describe("compilePattern", () => {
  it.each<[string, boolean]>([
    ["a+b", true],
    ["\\p{L}+", true], // Unicode mode when possible
    ["foo\\-bar", true], // and without it when only that accepts the pattern
    ["(", false],
    ["[z-a]", false],
  ])("%s compiles: %s", (pattern, compiles) => {
    expect(compilePattern(pattern) instanceof RegExp).toBe(compiles);
  });
});

const ripgrep = await findRipgrep();

describe.skipIf(ripgrep === null)("search_files (ripgrep, installed)", () => {
  it.each(CASES)("gives what the JS search gives: %s", async (_, input) => {
    const root = await fixture();
    const js = await search(root, input, { engine: "js" });
    const rg = await search(root, input, { engine: "ripgrep" });
    expect(rg).toEqual(js);
  });

  it("falls back to JS for a pattern ripgrep rejects", async () => {
    const result = await search(
      await fixture(),
      { pattern: "TODO(?= twice)" },
      { engine: "ripgrep" },
    );
    expect(result.output).toBe("b.txt:2: TODO twice");
  });

  it("stops at the cap like the JS search", async () => {
    const root = await makeTree({ "many.txt": "hit\n".repeat(600) });
    const js = await search(root, { pattern: "hit" }, { engine: "js" });
    expect(await search(root, { pattern: "hit" }, { engine: "ripgrep" })).toEqual(js);
  });
});

/**
 * ripgrep's integration without ripgrep: a stand-in `rg` on PATH records how it was called and
 * prints what a test prepared, so the flags, the JSON parsing, the cap and the fallback are
 * checked wherever the tests run.
 */
describe("search_files (ripgrep's integration, with a stand-in rg)", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  async function fakeRipgrep(stdout: string, exitCode = 0, stderr = "") {
    const bin = await makeTree({
      rg: '#!/bin/sh\n{ pwd; printf "%s\\n" "$@"; } > "$FAKE_RG_ARGS"\ncat "$FAKE_RG_OUT"\nprintf "%s" "$FAKE_RG_ERR" >&2\nexit "$FAKE_RG_EXIT"\n',
      "out.jsonl": stdout,
    });
    await chmod(path.join(bin, "rg"), 0o755);
    process.env.PATH = `${bin}${path.delimiter}${saved.PATH ?? ""}`;
    process.env.FAKE_RG_ARGS = path.join(bin, "args.txt");
    process.env.FAKE_RG_OUT = path.join(bin, "out.jsonl");
    process.env.FAKE_RG_ERR = stderr;
    process.env.FAKE_RG_EXIT = String(exitCode);
    return {
      bin,
      args: async () => (await readFile(path.join(bin, "args.txt"), "utf8")).split("\n"),
    };
  }

  const match = (file: { text: string } | { bytes: string }, line: number, text: string) =>
    JSON.stringify({
      type: "match",
      data: { path: file, lines: { text }, line_number: line, absolute_offset: 0, submatches: [] },
    });

  it("is found on PATH and called with the flags that match the JS search", async () => {
    const events = [
      // rg runs in the searched directory: its paths are relative to it.
      JSON.stringify({ type: "begin", data: { path: { text: "./main.ts" } } }),
      match({ text: "./main.ts" }, 2, "  return foo(x - 1);\n"),
      match({ bytes: Buffer.from("./ünï.ts").toString("base64") }, 7, "foo\r\n"),
      JSON.stringify({ type: "end", data: {} }),
      JSON.stringify({ type: "summary", data: {} }),
      "not json",
    ].join("\n");
    const fake = await fakeRipgrep(`${events}\n`);
    expect(await findRipgrep()).toBe(path.join(fake.bin, "rg"));
    const root = await makeTree({ "src/": "" });
    const result = await search(root, { pattern: "foo", path: "src", glob: "*.ts" }, {});
    expect(result).toEqual({
      output: "src/main.ts:2:   return foo(x - 1);\nsrc/ünï.ts:7: foo",
      is_error: false,
    });
    const [cwd, ...args] = await fake.args();
    expect(cwd).toBe(path.join(root, "src"));
    expect(args.slice(0, -1)).toEqual([
      "--json",
      "--no-config",
      "--hidden",
      "--no-require-git",
      "--sort=path",
      `--max-filesize=${LIMITS.maxFileBytes}`,
      "--glob=*.ts",
      "--glob=!.git",
      "--regexp",
      "foo",
      "--",
      ".",
    ]);
  });

  it("searches a single file by its absolute path, without the glob", async () => {
    const fake = await fakeRipgrep("");
    const root = await makeTree({ "f.txt": "text\n" });
    const result = await search(root, { pattern: "x", path: "f.txt", glob: "*.md" }, {});
    expect(result.output).toBe('No matches for "x" in f.txt.');
    const args = await fake.args();
    expect(args).not.toContain("--glob=*.md");
    expect(args.at(-2)).toBe(path.join(root, "f.txt"));
  });

  it("stops reading at the cap", async () => {
    const lines = Array.from({ length: 800 }, (_, i) => match({ text: "./a.txt" }, i + 1, "hit\n"));
    await fakeRipgrep(`${lines.join("\n")}\n`);
    const result = await search(await makeTree(), { pattern: "hit" }, {});
    expect(result.output.split("\n").filter((line) => line.startsWith("a.txt:"))).toHaveLength(500);
    expect(result.output).toContain("[Showing the first 500 matches");
  });

  it("falls back to the JS search when ripgrep rejects a pattern JavaScript accepts", async () => {
    await fakeRipgrep("", 2, "regex parse error:\n    (?=x)\nerror: look-around is not supported");
    const root = await makeTree({ "a.txt": "x1\nx2\n" });
    const result = await search(root, { pattern: "x(?=2)" }, {});
    expect(result).toEqual({ output: "a.txt:2: x2", is_error: false });
  });

  it("reports ripgrep's error when neither accepts the pattern", async () => {
    await fakeRipgrep("", 2, "regex parse error: unclosed group");
    const result = await search(await makeTree(), { pattern: "(" }, {});
    expect(result.is_error).toBe(true);
    expect(result.output).toMatch(
      /^Invalid regular expression "\(": regex parse error: unclosed group/,
    );
  });

  it("keeps ripgrep's matches when it also reports an unreadable file", async () => {
    await fakeRipgrep(
      `${match({ text: "./a.txt" }, 1, "hit\n")}\n`,
      2,
      "rg: ./b: Permission denied",
    );
    const result = await search(await makeTree(), { pattern: "hit" }, {});
    expect(result).toEqual({ output: "a.txt:1: hit", is_error: false });
  });

  it("uses the JS search when asked to, even with rg on PATH", async () => {
    await fakeRipgrep(`${match({ text: "./wrong.txt" }, 1, "wrong\n")}\n`);
    const root = await makeTree({ "right.txt": "hit\n" });
    const result = await search(root, { pattern: "hit" }, { engine: "js" });
    expect(result.output).toBe("right.txt:1: hit");
  });
});

describe("without ripgrep", () => {
  it("answers engine: ripgrep with an error when rg is not on PATH", async () => {
    const saved = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      const result = await search(await makeTree(), { pattern: "x" }, { engine: "ripgrep" });
      expect(result).toEqual({ output: "ripgrep (rg) is not on PATH.", is_error: true });
    } finally {
      process.env.PATH = saved;
    }
  });

  it("is what the environment has here", () => {
    let which = "";
    try {
      which = execFileSync("sh", ["-c", "command -v rg || true"], { encoding: "utf8" }).trim();
    } catch {
      which = "";
    }
    expect(ripgrep ?? "").toBe(which);
  });
});
