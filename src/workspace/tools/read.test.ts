import { chmod, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readFileTool } from "./read.ts";
import { LIMITS, type ReadFileInput } from "./schemas.ts";
import { contextFor, makeTree } from "./testing.ts";

async function read(files: Record<string, string | Buffer>, input: ReadFileInput) {
  const root = await makeTree(files);
  return readFileTool(input, contextFor(root));
}

const lines = (count: number, text = (n: number) => `line ${n}`) =>
  Array.from({ length: count }, (_, i) => text(i + 1)).join("\n");

describe("read_file", () => {
  it("numbers lines like cat -n", async () => {
    const result = await read({ "a.txt": "alpha\nbeta\n" }, { path: "a.txt" });
    expect(result).toEqual({ output: "     1\talpha\n     2\tbeta", is_error: false });
  });

  it.each<[string, string, string]>([
    ["a last line without a newline", "a\nb", "     1\ta\n     2\tb"],
    ["CRLF line endings", "a\r\nb\r\n", "     1\ta\n     2\tb"],
    ["blank lines", "a\n\n\nb\n", "     1\ta\n     2\t\n     3\t\n     4\tb"],
    ["UTF-8", "héllo — 世界\n", "     1\théllo — 世界"],
  ])("handles %s", async (_, content, expected) => {
    expect((await read({ "f.txt": content }, { path: "f.txt" })).output).toBe(expected);
  });

  it("right-aligns numbers in six columns", async () => {
    const result = await read({ "f.txt": lines(12) }, { path: "f.txt", offset: 9, limit: 2 });
    expect(result.output.split("\n").slice(0, 2)).toEqual(["     9\tline 9", "    10\tline 10"]);
  });

  it("reads from offset for limit lines, and says how to read on", async () => {
    const result = await read({ "f.txt": lines(10) }, { path: "f.txt", offset: 3, limit: 2 });
    expect(result.is_error).toBe(false);
    expect(result.output).toBe(
      "     3\tline 3\n     4\tline 4\n\n" +
        "[Showing lines 3–4 of 10 of f.txt. To read more, call read_file with offset=5.]",
    );
  });

  it("has no note when the rest of the file is shown", async () => {
    const result = await read({ "f.txt": lines(10) }, { path: "f.txt", offset: 8 });
    expect(result.output).toBe("     8\tline 8\n     9\tline 9\n    10\tline 10");
  });

  it(`returns ${LIMITS.readDefaultLines} lines by default`, async () => {
    const result = await read({ "f.txt": lines(2500) }, { path: "f.txt" });
    const shown = result.output.split("\n").filter((line) => /^ +\d+\t/.test(line));
    expect(shown).toHaveLength(LIMITS.readDefaultLines);
    expect(result.output).toContain("[Showing lines 1–2000 of 2500 of f.txt.");
    expect(result.output).toContain("offset=2001");
  });

  it(`caps the output at ${LIMITS.readMaxBytes / 1024} KB whatever the limit`, async () => {
    const long = lines(1000, (n) => `${n} ${"x".repeat(999)}`); // ~1 MB
    const result = await read({ "f.txt": long }, { path: "f.txt", limit: 1000 });
    expect(Buffer.byteLength(result.output)).toBeLessThan(LIMITS.readMaxBytes + 500);
    const last = result.output.match(
      /\[Showing lines 1–(\d+) of 1000 of f\.txt \(output is capped at 256 KB\)\. To read more, call read_file with offset=(\d+)\.\]$/,
    );
    expect(last).not.toBeNull();
    expect(Number(last?.[2])).toBe(Number(last?.[1]) + 1);
  });

  it("does not count the lines of a very large file to say how many remain", async () => {
    const root = await makeTree();
    await writeFile(path.join(root, "big.log"), "0123456789abcdef\n".repeat(2_200_000)); // 37 MB
    const result = await readFileTool({ path: "big.log", limit: 1 }, contextFor(root));
    expect(result.output).toBe(
      "     1\t0123456789abcdef\n\n" +
        "[Showing lines 1–1 of big.log. To read more, call read_file with offset=2.]",
    );
  });

  it("cuts very long lines", async () => {
    const result = await read({ "min.js": `${"y".repeat(100_000)}\nnext\n` }, { path: "min.js" });
    const [first, second] = result.output.split("\n");
    expect(first).toBe(`     1\t${"y".repeat(LIMITS.maxLineChars)}… [line cut: 100000 characters]`);
    expect(second).toBe("     2\tnext");
  });

  it.each<[string, string | Buffer, string]>([
    ["a NUL byte", Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]), "is a binary file (6 bytes)"],
    ["a NUL after text", `text\n${"\0"}more`, "is a binary file"],
  ])("refuses a binary file (%s)", async (_, content, message) => {
    const result = await read({ "bin.dat": content }, { path: "bin.dat" });
    expect(result.is_error).toBe(true);
    expect(result.output).toContain(message);
    expect(result.output).toContain("execute");
  });

  it("reads a file whose NUL byte comes after the first 8 KB as text", async () => {
    const result = await read({ "f.txt": `${"a".repeat(9000)}\n\0` }, { path: "f.txt" });
    expect(result.is_error).toBe(false);
  });

  it.each<[string, ReadFileInput, RegExp]>([
    ["a missing file", { path: "nope.txt" }, /No such file or directory: nope\.txt/],
    ["a directory", { path: "dir" }, /dir is a directory, not a file\. Use list_files/],
    [
      "an offset past the end",
      { path: "f.txt", offset: 5 },
      /offset 5 is past the end of f\.txt, which has 2 lines/,
    ],
  ])("reports %s as an error", async (_, input, message) => {
    const result = await read({ "f.txt": "a\nb\n", "dir/x": "" }, input);
    expect(result.is_error).toBe(true);
    expect(result.output).toMatch(message);
  });

  it("says so for an empty file", async () => {
    expect(await read({ "e.txt": "" }, { path: "e.txt" })).toEqual({
      output: "e.txt is empty.",
      is_error: false,
    });
  });

  it("accepts absolute paths, inside the root (shown relative) and outside it", async () => {
    const root = await makeTree({ "in.txt": "one\n" });
    const other = await makeTree({ "a/b/c.txt": "a\nb\nc\n" });
    const inside = await readFileTool({ path: path.join(root, "in.txt") }, contextFor(root));
    expect(inside.output).toBe("     1\tone");
    const outside = await readFileTool(
      { path: path.join(other, "a/b/c.txt"), limit: 1 },
      contextFor(root),
    );
    expect(outside.output).toContain(`of ${path.join(other, "a/b/c.txt")}.`);
    const relative = await readFileTool({ path: "./x/../in.txt" }, contextFor(root));
    expect(relative.output).toBe("     1\tone");
  });

  it.skipIf(process.getuid?.() === 0)("reports a file it may not read", async () => {
    const root = await makeTree({ "secret.txt": "x" });
    await chmod(path.join(root, "secret.txt"), 0o000);
    const result = await readFileTool({ path: "secret.txt" }, contextFor(root));
    expect(result).toEqual({ output: "Permission denied: secret.txt.", is_error: true });
  });

  it("reads beyond the first chunk correctly (multi-byte characters across chunks)", async () => {
    const root = await makeTree();
    const content = lines(20_000, (n) => `${n} ünïcødé 世界`);
    await writeFile(path.join(root, "big.txt"), content);
    const result = await readFileTool(
      { path: "big.txt", offset: 19_999, limit: 5 },
      contextFor(root),
    );
    expect(result.output).toBe(" 19999\t19999 ünïcødé 世界\n 20000\t20000 ünïcødé 世界");
  });
});
