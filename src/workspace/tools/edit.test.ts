import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { editFileTool } from "./edit.ts";
import type { EditFileInput } from "./schemas.ts";
import { contextFor, makeTree } from "./testing.ts";

async function edit(content: string | Buffer, input: Omit<EditFileInput, "path">) {
  const root = await makeTree({ "f.txt": content });
  const result = await editFileTool({ path: "f.txt", ...input }, contextFor(root));
  return { result, after: await readFile(path.join(root, "f.txt"), "utf8") };
}

describe("edit_file", () => {
  it("replaces a unique string", async () => {
    const { result, after } = await edit("one\ntwo\nthree\n", {
      old_string: "two",
      new_string: "2",
    });
    expect(result).toEqual({
      output: "Edited f.txt: replaced 1 occurrence (line 2).",
      is_error: false,
    });
    expect(after).toBe("one\n2\nthree\n");
  });

  it("replaces across lines and keeps $ patterns literal", async () => {
    const { after } = await edit("a\nb\nc\n", { old_string: "a\nb", new_string: "$& $1 $$" });
    expect(after).toBe("$& $1 $$\nc\n");
  });

  it("replaces every occurrence with replace_all", async () => {
    const { result, after } = await edit("x = 1\ny = x\nx\n", {
      old_string: "x",
      new_string: "z",
      replace_all: true,
    });
    expect(result.output).toBe("Edited f.txt: replaced 3 occurrences (lines 1, 2, 3).");
    expect(after).toBe("z = 1\ny = z\nz\n");
  });

  it("counts non-overlapping occurrences", async () => {
    const { result, after } = await edit("aaaa", {
      old_string: "aa",
      new_string: "b",
      replace_all: true,
    });
    expect(result.output).toContain("replaced 2 occurrences");
    expect(after).toBe("bb");
  });

  it("refuses a string that is not unique, with the count and line numbers", async () => {
    const content = "let a = 1;\nfoo();\nlet b = 2;\nfoo();\n\nfoo(); foo();\n";
    const { result, after } = await edit(content, { old_string: "foo();", new_string: "bar();" });
    expect(result.is_error).toBe(true);
    expect(result.output).toBe(
      "old_string occurs 4 times in f.txt (lines 2, 4, 6). Include more surrounding lines in " +
        "old_string to make it unique, or set replace_all to true to replace every occurrence.",
    );
    expect(after).toBe(content);
  });

  it("refuses a string that is not there, pointing at read_file", async () => {
    const { result, after } = await edit("  indented\n", {
      old_string: "indented  ",
      new_string: "x",
    });
    expect(result.is_error).toBe(true);
    expect(result.output).toMatch(/^old_string was not found in f\.txt\. .*read_file/);
    expect(after).toBe("  indented\n");
  });

  it("refuses old_string equal to new_string", async () => {
    const { result } = await edit("same\n", { old_string: "same", new_string: "same" });
    expect(result).toEqual({
      output: "old_string and new_string are identical: there is nothing to change.",
      is_error: true,
    });
  });

  it("matches a \\n old_string in a CRLF file and keeps CRLF endings", async () => {
    const { result, after } = await edit("a\r\nb\r\nc\r\n", {
      old_string: "a\nb",
      new_string: "x\ny",
    });
    expect(result.is_error).toBe(false);
    expect(after).toBe("x\r\ny\r\nc\r\n");
  });

  it("keeps a byte-order mark", async () => {
    const { after } = await edit("\uFEFFhello\n", { old_string: "hello", new_string: "bye" });
    expect(after).toBe("\uFEFFbye\n");
  });

  it.each<[string, string | Buffer, RegExp]>([
    ["binary files", Buffer.from([0x61, 0x00, 0x62]), /f\.txt is a binary file/],
    ["files that are not UTF-8", Buffer.from([0x61, 0xff, 0x62]), /not valid UTF-8/],
  ])("refuses %s", async (_, content, message) => {
    const root = await makeTree({ "f.txt": content });
    const result = await editFileTool(
      { path: "f.txt", old_string: "a", new_string: "c" },
      contextFor(root),
    );
    expect(result.is_error).toBe(true);
    expect(result.output).toMatch(message);
    expect(await readFile(path.join(root, "f.txt"))).toEqual(content);
  });

  it.each<[string, string, RegExp]>([
    ["a missing file", "missing.txt", /No such file or directory: missing\.txt/],
    ["a directory", "dir", /dir is a directory/],
  ])("reports %s", async (_, target, message) => {
    const root = await makeTree({ "dir/": "" });
    const result = await editFileTool(
      { path: target, old_string: "a", new_string: "b" },
      contextFor(root),
    );
    expect(result.is_error).toBe(true);
    expect(result.output).toMatch(message);
  });
});
