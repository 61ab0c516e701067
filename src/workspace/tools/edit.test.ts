import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { defineTool, ToolRegistry } from "../../chatloop/tools.ts";
import { editFileTool } from "./edit.ts";
import { runWorkspaceTool } from "./run.ts";
import {
  EditFileInput,
  type FileEdit,
  LIMITS,
  WORKSPACE_TOOL_DESCRIPTIONS,
  WORKSPACE_TOOL_SCHEMAS,
} from "./schemas.ts";
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

describe("edit_file with edits", () => {
  /** Through runWorkspaceTool: the schema validates the input first, as for the model's calls. */
  async function editAll(content: string, edits: FileEdit[]) {
    const root = await makeTree({ "f.txt": content });
    const result = await runWorkspaceTool("edit_file", { path: "f.txt", edits }, contextFor(root));
    return { result, after: await readFile(path.join(root, "f.txt"), "utf8") };
  }

  it.each<[string, string, FileEdit[], string, string]>([
    [
      "applies several edits in order",
      "one\ntwo\nthree\n",
      [
        { old_string: "one", new_string: "1" },
        { old_string: "three", new_string: "3" },
      ],
      "1\ntwo\n3\n",
      "Edited f.txt with 2 edits: replaced 2 occurrences (edit 1: line 1; edit 2: line 3).",
    ],
    [
      "applies an edit to the text an earlier one wrote",
      "let a = 1;\n",
      [
        { old_string: "a = 1", new_string: "alpha = 1;\nlet beta = 2" },
        { old_string: "beta = 2", new_string: "beta = alpha + 1" },
      ],
      "let alpha = 1;\nlet beta = alpha + 1;\n",
      "Edited f.txt with 2 edits: replaced 2 occurrences (edit 1: line 1; edit 2: line 2).",
    ],
    [
      "replaces every occurrence with replace_all inside edits",
      "x = 1\ny = x\nx\n",
      [
        { old_string: "x", new_string: "z", replace_all: true },
        { old_string: "y = z", new_string: "y = 2 * z" },
      ],
      "z = 1\ny = 2 * z\nz\n",
      "Edited f.txt with 2 edits: replaced 4 occurrences (edit 1: lines 1, 2, 3; edit 2: line 2).",
    ],
    [
      "accepts a single edit in edits",
      "a\r\nb\r\n",
      [{ old_string: "a\nb", new_string: "$& c\nd" }],
      "$& c\r\nd\r\n",
      "Edited f.txt with 1 edit: replaced 1 occurrence (edit 1: line 1).",
    ],
  ])("%s", async (_, content, edits, expected, output) => {
    const { result, after } = await editAll(content, edits);
    expect(result).toEqual({
      output: `${output} Each edit's line numbers are in the text as the edits before it left it.`,
      is_error: false,
    });
    expect(after).toBe(expected);
  });

  const ALL_OR_NONE = "Nothing was written: f.txt is unchanged (the edits apply all or none).";

  it.each<[string, FileEdit, RegExp]>([
    [
      "is missing",
      { old_string: "nowhere", new_string: "x" },
      /old_string was not found in f\.txt as the edits before it left it\. .*read_file/,
    ],
    [
      "is not unique",
      { old_string: "foo();", new_string: "bar();" },
      /old_string occurs 3 times in f\.txt \(lines 2, 3, 4, counted after the edits before it\)\. .*replace_all/,
    ],
    [
      "equals its new_string",
      { old_string: "foo();", new_string: "foo();" },
      /old_string and new_string are identical: there is nothing to change\./,
    ],
  ])(
    "leaves the file byte for byte unchanged and names edit 2 when its old_string %s",
    async (_, second, reason) => {
      const content = "\uFEFFstart\r\nfoo();\r\nfoo();\nfoo(); \u00e9\r\n";
      const root = await makeTree({ "f.txt": content });
      const before = await readFile(path.join(root, "f.txt"));
      const result = await runWorkspaceTool(
        "edit_file",
        {
          path: "f.txt",
          edits: [
            { old_string: "start", new_string: "begin" },
            second,
            { old_string: "\u00e9", new_string: "e" },
          ],
        },
        contextFor(root),
      );
      expect(result.is_error).toBe(true);
      expect(result.output).toMatch(/^Edit 2 of 3 failed: /);
      expect(result.output).toMatch(reason);
      expect(result.output.endsWith(ALL_OR_NONE)).toBe(true);
      expect(await readFile(path.join(root, "f.txt"))).toEqual(before);
    },
  );

  it("names the first edit without the note about earlier edits", async () => {
    const { result, after } = await editAll("a\n", [
      { old_string: "b", new_string: "c" },
      { old_string: "a", new_string: "d" },
    ]);
    expect(result.output).toMatch(/^Edit 1 of 2 failed: old_string was not found in f\.txt\. /);
    expect(after).toBe("a\n");
  });

  it("keeps the result bounded however many edits there are", async () => {
    const count = LIMITS.editMaxEdits;
    const content = Array.from({ length: count }, (_, i) => `line ${i}\n`).join("");
    const edits = Array.from({ length: count }, (_, i) => ({
      old_string: `line ${i}\n`,
      new_string: `LINE ${i}\n`,
    }));
    const { result, after } = await editAll(content, edits);
    expect(result.is_error).toBe(false);
    expect(result.output).toContain(`edit 20: line 20; … ${count - 20} more edits)`);
    expect(result.output.length).toBeLessThan(1000);
    expect(after).toBe(content.replaceAll("line", "LINE"));
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      "both forms",
      { old_string: "a", new_string: "b", edits: [{ old_string: "a", new_string: "b" }] },
      /give either old_string\/new_string\/replace_all \(one edit\) or edits \(several\), not both\n\s+→ at edits/,
    ],
    [
      "edits with replace_all beside it",
      { replace_all: true, edits: [{ old_string: "a", new_string: "b" }] },
      /not both/,
    ],
    ["neither form", {}, /give old_string and new_string \(one edit\), or edits \(several\)/],
    ["replace_all alone", { replace_all: true }, /or edits \(several\)/],
    [
      "old_string without new_string",
      { old_string: "a" },
      /new_string is required with old_string/,
    ],
    [
      "new_string without old_string",
      { new_string: "a" },
      /old_string is required with new_string/,
    ],
    ["empty edits", { edits: [] }, /edits must hold at least one edit/],
    [
      "more edits than the limit",
      {
        edits: Array.from({ length: LIMITS.editMaxEdits + 1 }, () => ({
          old_string: "a",
          new_string: "b",
        })),
      },
      /edits/,
    ],
    ["an edit without new_string", { edits: [{ old_string: "a" }] }, /edits\[0\]\.new_string/],
    [
      "an edit with an empty old_string",
      { edits: [{ old_string: "", new_string: "b" }] },
      /edits\[0\]\.old_string/,
    ],
    [
      "an unknown field in an edit",
      { edits: [{ old_string: "a", new_string: "b", path: "g" }] },
      /path/,
    ],
  ])("refuses %s clearly and writes nothing", async (_, fields, detail) => {
    const root = await makeTree({ "f.txt": "a\n" });
    const result = await runWorkspaceTool(
      "edit_file",
      { path: "f.txt", ...fields },
      contextFor(root),
    );
    expect(result.is_error).toBe(true);
    expect(result.output).toMatch(/^Invalid arguments for edit_file:\n/);
    expect(result.output).toMatch(detail);
    expect(await readFile(path.join(root, "f.txt"), "utf8")).toBe("a\n");
  });

  it("documents edits in the JSON Schema and description the model sees", () => {
    const registry = new ToolRegistry([
      defineTool({
        name: "edit_file",
        description: WORKSPACE_TOOL_DESCRIPTIONS.edit_file,
        inputSchema: WORKSPACE_TOOL_SCHEMAS.edit_file,
        execute: () => ({ output: "", is_error: false }),
      }),
    ]);
    const [definition] = registry.definitions();
    expect(definition?.description).toMatch(
      /give edits \(a list of \{old_string, new_string, replace_all\?\}\)/,
    );
    expect(definition?.description).toMatch(/in order.*all or none/);
    const described = expect.objectContaining({ description: expect.any(String) });
    expect(definition?.inputSchema).toEqual({
      type: "object",
      properties: {
        path: described,
        old_string: expect.objectContaining({
          type: "string",
          minLength: 1,
          description: expect.stringContaining("or use edits instead"),
        }),
        new_string: expect.objectContaining({ type: "string" }),
        replace_all: expect.objectContaining({ type: "boolean" }),
        edits: {
          type: "array",
          minItems: 1,
          maxItems: LIMITS.editMaxEdits,
          description: expect.stringMatching(
            /instead of old_string\/new_string\/replace_all.*in order.*all or none/,
          ),
          items: {
            type: "object",
            properties: {
              old_string: expect.objectContaining({
                type: "string",
                minLength: 1,
                description: expect.stringContaining("exactly once"),
              }),
              new_string: expect.objectContaining({
                type: "string",
                description: expect.any(String),
              }),
              replace_all: expect.objectContaining({
                type: "boolean",
                description: expect.any(String),
              }),
            },
            required: ["old_string", "new_string"],
            additionalProperties: false,
          },
        },
      },
      required: ["path"],
      additionalProperties: false,
    });
    for (const key of ["old_string", "new_string", "replace_all", "edits"]) {
      expect(EditFileInput.shape[key as keyof typeof EditFileInput.shape].description).toBeTruthy();
    }
  });
});
