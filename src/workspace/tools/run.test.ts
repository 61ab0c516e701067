import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { runWorkspaceTool } from "./run.ts";
import {
  isWorkspaceToolName,
  WORKSPACE_TOOL_DESCRIPTIONS,
  WORKSPACE_TOOL_SCHEMAS,
  type WorkspaceToolName,
} from "./schemas.ts";
import { contextFor, makeTree } from "./testing.ts";

const NAMES = Object.keys(WORKSPACE_TOOL_SCHEMAS) as WorkspaceToolName[];

describe("the tools' schemas", () => {
  it("name the workspace tools", () => {
    expect(NAMES).toEqual([
      "read_file",
      "write_file",
      "edit_file",
      "list_files",
      "search_files",
      "execute",
      "process_output",
      "process_list",
      "process_signal",
    ]);
    expect(isWorkspaceToolName("execute")).toBe(true);
    expect(isWorkspaceToolName("toString")).toBe(false);
  });

  it.each(NAMES)("%s becomes a JSON Schema with every property described", (name) => {
    const schema = z.toJSONSchema(WORKSPACE_TOOL_SCHEMAS[name], { io: "input" });
    expect(schema.type).toBe("object");
    expect(schema.additionalProperties).toBe(false);
    const properties = Object.values(schema.properties ?? {});
    if (name !== "process_list") expect(properties.length).toBeGreaterThan(0);
    for (const property of properties) {
      expect(typeof property === "object" && property.description).toBeTruthy();
    }
    expect(WORKSPACE_TOOL_DESCRIPTIONS[name].length).toBeGreaterThan(50);
  });

  it("requires what each tool needs", () => {
    const required = (name: WorkspaceToolName) =>
      z.toJSONSchema(WORKSPACE_TOOL_SCHEMAS[name], { io: "input" }).required ?? [];
    expect(required("read_file")).toEqual(["path"]);
    expect(required("write_file")).toEqual(["path", "content"]);
    // old_string and new_string, or edits: the schema's refinement requires one of the two.
    expect(required("edit_file")).toEqual(["path"]);
    expect(required("list_files")).toEqual([]);
    expect(required("search_files")).toEqual(["pattern"]);
    expect(required("execute")).toEqual(["command"]);
    expect(required("process_output")).toEqual(["process_id"]);
    expect(required("process_list")).toEqual([]);
    expect(required("process_signal")).toEqual(["process_id", "signal"]);
  });
});

describe("runWorkspaceTool", () => {
  it("runs a write → read → edit → list → search → execute session", async () => {
    const root = await makeTree();
    const ctx = contextFor(root);
    const calls: [string, unknown, string][] = [
      [
        "write_file",
        { path: "src/app.js", content: "let x = 1;\nconsole.log(x);\n" },
        "Created src/app.js (27 bytes).",
      ],
      ["read_file", { path: "src/app.js" }, "     1\tlet x = 1;\n     2\tconsole.log(x);"],
      [
        "edit_file",
        { path: "src/app.js", old_string: "x = 1", new_string: "x = 42" },
        "Edited src/app.js: replaced 1 occurrence (line 1).",
      ],
      ["list_files", {}, "src/\nsrc/app.js"],
      ["search_files", { pattern: "x = \\d+" }, "src/app.js:1: let x = 42;"],
      ["execute", { command: "node src/app.js" }, "42\n[exit code 0]"],
    ];
    for (const [name, input, expected] of calls) {
      expect(await runWorkspaceTool(name, input, ctx)).toEqual({
        output: expected,
        is_error: false,
      });
    }
    expect(await readFile(path.join(root, "src/app.js"), "utf8")).toBe(
      "let x = 42;\nconsole.log(x);\n",
    );
  });

  it("answers an unknown tool with the known ones", async () => {
    const result = await runWorkspaceTool("delete_everything", {}, contextFor(await makeTree()));
    expect(result).toEqual({
      output:
        'Unknown tool "delete_everything". The workspace tools are: read_file, write_file, ' +
        "edit_file, list_files, search_files, execute, process_output, process_list, process_signal.",
      is_error: true,
    });
  });

  it.each<[string, string, unknown, RegExp]>([
    ["a missing field", "read_file", {}, /path/],
    ["a field of the wrong type", "read_file", { path: 3 }, /path/],
    ["an unknown field", "write_file", { path: "a", content: "", mode: 644 }, /mode/],
    ["an empty path", "read_file", { path: "" }, /path/],
    ["a zero offset", "read_file", { path: "a", offset: 0 }, /offset/],
    ["a fractional limit", "read_file", { path: "a", limit: 1.5 }, /limit/],
    [
      "an empty old_string",
      "edit_file",
      { path: "a", old_string: "", new_string: "x" },
      /old_string/,
    ],
    [
      "a timeout above the maximum",
      "execute",
      { command: "true", timeout_ms: 600_001 },
      /timeout_ms/,
    ],
    ["input that is not an object", "execute", "echo hi", /expected object/i],
    ["null input", "list_files", null, /expected object/i],
    [
      "a wait above the maximum",
      "process_output",
      { process_id: "p1", wait_ms: 30_001 },
      /wait_ms/,
    ],
    ["a signal not offered", "process_signal", { process_id: "p1", signal: "STOP" }, /signal/],
    ["an argument to process_list", "process_list", { all: true }, /all/],
  ])("rejects %s clearly", async (_, name, input, detail) => {
    const result = await runWorkspaceTool(name, input, contextFor(await makeTree()));
    expect(result.is_error).toBe(true);
    expect(result.output).toMatch(new RegExp(`^Invalid arguments for ${name}:\\n`));
    expect(result.output).toMatch(detail);
  });

  it("does not run a tool when the signal is already aborted", async () => {
    const root = await makeTree();
    const controller = new AbortController();
    controller.abort();
    const result = await runWorkspaceTool(
      "write_file",
      { path: "x", content: "" },
      contextFor(root, { signal: controller.signal }),
    );
    expect(result).toEqual({ output: "Stopped before the tool ran.", is_error: true });
  });

  it.each<[string, unknown]>([
    ["list_files", {}],
    ["search_files", { pattern: "x" }],
    ["read_file", { path: "a/f.txt" }],
  ])("turns an abort during %s into a result, not an exception", async (name, input) => {
    const root = await makeTree({ "a/f.txt": "x\n".repeat(100_000), "b/g.txt": "x\n" });
    const controller = new AbortController();
    const pending = runWorkspaceTool(name, input, contextFor(root, { signal: controller.signal }));
    controller.abort();
    const result = await pending;
    expect(result).toEqual({
      output: "Stopped: the tool was cancelled before it finished.",
      is_error: true,
    });
  });
});
