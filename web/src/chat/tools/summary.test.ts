import { describe, expect, it } from "vitest";
import {
  exitOf,
  formatDuration,
  linesRead,
  parseInput,
  stateOf,
  type ToolState,
  withoutStopNote,
} from "./parse.ts";
import { toolSummary } from "./summary.ts";

const numbered = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `${String(from + i).padStart(6)}\tline`).join(
    "\n",
  );

describe("toolSummary", () => {
  it.each<
    [string, string, Record<string, unknown>, string | undefined, ToolState, string, number?]
  >([
    [
      "an edit (old/new)",
      "edit_file",
      { path: "src/app.ts", old_string: "a\nb\nc\n", new_string: "a\nB\nc\nd\n" },
      "Edited src/app.ts: replaced 1 occurrence (line 3).",
      "done",
      "Edited src/app.ts (+2 −1)",
    ],
    [
      "several edits",
      "edit_file",
      {
        path: "src/app.ts",
        edits: [
          { old_string: "x", new_string: "y\nz" },
          { old_string: "gone\n", new_string: "" },
        ],
      },
      "Edited src/app.ts with 2 edits: …",
      "done",
      "Edited src/app.ts (+2 −2)",
    ],
    [
      "an edit running",
      "edit_file",
      { path: "a.ts", old_string: "a", new_string: "b" },
      undefined,
      "running",
      "Editing a.ts (+1 −1)",
    ],
    [
      "a refused edit",
      "edit_file",
      { path: "a.ts", old_string: "a", new_string: "b" },
      "old_string was not found in a.ts.",
      "failed",
      "Edit a.ts",
    ],
    [
      "an edit still streaming",
      "edit_file",
      { path: "a.ts" },
      undefined,
      "running",
      "Editing a.ts",
    ],
    [
      "a write",
      "write_file",
      { path: "src/new.ts", content: "1\n2\n3\n" },
      "Created …",
      "done",
      "Wrote src/new.ts (3 lines)",
    ],
    [
      "a failing command",
      "execute",
      { command: "npm test" },
      "FAIL\n[exit code 1]",
      "done",
      "Ran npm test — exit 1 · 3.2 s",
      3200,
    ],
    [
      "a command without a known duration",
      "execute",
      { command: "ls" },
      "a\n[exit code 0]",
      "done",
      "Ran ls — exit 0",
    ],
    [
      "a command running",
      "execute",
      { command: "npm test" },
      "PASS 1",
      "running",
      "Running npm test — 1 s",
      1500,
    ],
    [
      "a command that timed out",
      "execute",
      { command: "sleep 999" },
      "[timed out after 120000 ms; the command …]",
      "failed",
      "Ran sleep 999 — timed out after 2 min",
    ],
    [
      "a stopped command",
      "execute",
      { command: "sleep 30" },
      "tick\n[The tool call was interrupted: The chat was interrupted by the user.]",
      "stopped",
      "Ran sleep 30 — 2.1 s",
      2100,
    ],
    [
      "a long command",
      "execute",
      {
        command: "npm run build && npm run test:all -- --reporter verbose --coverage --watch=false",
      },
      "[exit code 0]",
      "done",
      "Ran npm run build && npm run test:all -- --reporter verbose --c… — exit 0",
    ],
    [
      "a background start",
      "execute",
      { command: "npm run dev", background: true },
      "[background process p1 (pid 42)]\nready\n[running in the background as p1: …]",
      "done",
      "Started npm run dev in the background (p1)",
    ],
    [
      "a whole file read",
      "read_file",
      { path: "README.md" },
      numbered(1, 120),
      "done",
      "Read README.md (lines 1–120)",
    ],
    [
      "a range read",
      "read_file",
      { path: "README.md", offset: 10, limit: 5 },
      `${numbered(10, 14)}\n\n[Showing lines 10–14 of 80 of README.md. …]`,
      "done",
      "Read README.md (lines 10–14)",
    ],
    [
      "an empty file read",
      "read_file",
      { path: "a.txt" },
      "a.txt is empty.",
      "done",
      "Read a.txt (empty)",
    ],
    [
      "a listing",
      "list_files",
      { path: "src" },
      "src/a.ts\nsrc/b/\n",
      "done",
      "Listed src/ — 2 entries",
    ],
    [
      "a listing of the workspace",
      "list_files",
      {},
      "a\n",
      "done",
      "Listed the workspace — 1 entry",
    ],
    [
      "a search",
      "search_files",
      { pattern: "TODO" },
      "a.ts:1: TODO x\nb.ts:9: // TODO y",
      "done",
      'Searched "TODO" — 2 matches',
    ],
    [
      "a capped search",
      "search_files",
      { pattern: "x", path: "src" },
      "a:1: x\n\n[Showing the first 500 matches; there are more. …]",
      "done",
      'Searched "x" in src — 500+ matches',
    ],
    [
      "a search without matches",
      "search_files",
      { pattern: "x" },
      'No matches for "x" in .',
      "done",
      'Searched "x" — no matches',
    ],
    [
      "a process read",
      "process_output",
      { process_id: "p1" },
      "hi\n[p1: still running]",
      "done",
      "Read output of p1 — still running",
    ],
    [
      "an ended process read",
      "process_output",
      { process_id: "p1" },
      "[p1: exit code 0]",
      "done",
      "Read output of p1 — exit 0",
    ],
    [
      "a signal",
      "process_signal",
      { process_id: "p1", signal: "TERM" },
      "Sent …",
      "done",
      "Sent TERM to p1",
    ],
    [
      "a process list",
      "process_list",
      {},
      "(no background processes)",
      "done",
      "Listed background processes",
    ],
    [
      "an MCP tool",
      "docs__search",
      { query: "hooks", limit: 5 },
      "…",
      "done",
      'docs › search (query: "hooks", limit: 5)',
    ],
    ["an unknown tool", "weather", {}, "sunny", "done", "weather"],
  ])("%s", (_, name, input, output, state, expected, durationMs) => {
    expect(toolSummary({ name, input, output, state, durationMs })).toBe(expected);
  });
});

describe("stateOf", () => {
  it.each<[string, string | undefined, boolean, boolean, ToolState]>([
    ["no result yet", undefined, false, false, "running"],
    ["streaming", "out", false, true, "running"],
    ["a result", "ok", false, false, "done"],
    ["a non-zero exit (not a tool failure)", "[exit code 1]", false, false, "done"],
    ["an error", "a.ts is a directory", true, false, "failed"],
    [
      "a Stop",
      "x\n[The tool call was interrupted: The chat was interrupted by the user.]",
      true,
      false,
      "stopped",
    ],
    [
      "a Stop before output",
      "The tool call was interrupted: The chat was interrupted by the user.",
      true,
      false,
      "stopped",
    ],
    [
      "a Stop before the agent ran it",
      "Stopped before the workspace agent ran it.",
      true,
      false,
      "stopped",
    ],
    [
      "the agent's own stop",
      "x\n[stopped: the command and its child processes were killed]",
      true,
      false,
      "stopped",
    ],
    [
      "an agent that never came",
      "The workspace agent is not connected (waited 30 s). …",
      true,
      false,
      "offline",
    ],
  ])("%s", (_, output, isError, running, expected) => {
    expect(stateOf({ output, isError, running })).toBe(expected);
  });
});

describe("the parts", () => {
  it.each([
    ["[exit code 0]", "exit 0"],
    ["x\n[killed by signal SIGKILL]\n", "killed by SIGKILL"],
    ["[timed out after 120000 ms; …]", "timed out after 2 min"],
    ["[the command could not be started: ENOENT]", "could not start"],
    ["no trailer", undefined],
  ])("exitOf(%j) is %j", (output, expected) => {
    expect(exitOf(output)).toBe(expected);
  });

  it.each([
    [12, "<0.1 s"],
    [400, "0.4 s"],
    [3240, "3.2 s"],
    [42_000, "42 s"],
    [125_000, "2 min 5 s"],
    [120_000, "2 min"],
  ])("formatDuration(%d) is %j", (ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });

  it.each([
    [numbered(1, 1), "line 1"],
    [numbered(7, 9), "lines 7–9"],
    ["x is empty.", "empty"],
    ["something else", undefined],
  ])("linesRead(%j) is %j", (output, expected) => {
    expect(linesRead(output)).toBe(expected);
  });

  it.each([
    ["out\n[The tool call was interrupted: stop]", "out"],
    ["The tool call was interrupted: stop", ""],
    ["plain", "plain"],
  ])("withoutStopNote(%j) is %j", (output, expected) => {
    expect(withoutStopNote(output)).toBe(expected);
  });

  it.each([
    ['{"path":"a"}', { path: "a" }],
    ['{"path":"a', {}],
    [{ path: "b" }, { path: "b" }],
    [null, {}],
    ['{"path":"src/a.ts","content":"par', { path: "src/a.ts" }],
    ['{"command":"echo \\"hi\\"","time', { command: 'echo "hi"' }],
  ])("parseInput(%j)", (input, expected) => {
    expect(parseInput(input)).toEqual(expected);
  });
});
