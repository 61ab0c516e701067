import { access } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { executeTool, HeadTail } from "./execute.ts";
import { type ExecuteInput, LIMITS } from "./schemas.ts";
import { contextFor, liveMembers, makeTree, waitUntil } from "./testing.ts";
import type { WorkspaceToolContext } from "./types.ts";

async function run(input: ExecuteInput, ctx: Partial<WorkspaceToolContext> = {}) {
  const root = await makeTree({ "sub/file.txt": "in sub\n" });
  return executeTool(input, contextFor(root, ctx));
}

/** Runs `input` whose command first prints its shell's PID (= its process group's id). */
async function runWithGroup(input: ExecuteInput, ctx: Partial<WorkspaceToolContext> = {}) {
  let first = "";
  const pending = run(input, { ...ctx, onOutput: (delta) => (first ||= delta) });
  const result = await pending;
  const pgid = Number(first.split("\n")[0]);
  expect(pgid).toBeGreaterThan(1);
  return { result, pgid };
}

const groups: number[] = [];
afterEach(() => {
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

describe("execute", () => {
  it.each<[string, string, string]>([
    ["output and the exit code", "echo hello", "hello\n[exit code 0]"],
    [
      "stdout and stderr in the order written",
      "echo out; echo err >&2; echo out2",
      "out\nerr\nout2\n[exit code 0]",
    ],
    ["a failing command's exit code", "echo oops; exit 3", "oops\n[exit code 3]"],
    ["no output", "true", "(no output)\n[exit code 0]"],
    ["output without a final newline", "printf abc", "abc\n[exit code 0]"],
    ["stdin closed (/dev/null)", "cat; echo done", "done\n[exit code 0]"],
    ["a pipeline", "printf 'b\\na\\n' | sort", "a\nb\n[exit code 0]"],
    ["death by a signal", "kill -9 $$", "(no output)\n[killed by signal SIGKILL]"],
  ])("reports %s (not as a tool error)", async (_, command, expected) => {
    expect(await run({ command })).toEqual({ output: expected, is_error: false });
  });

  it("reports a command that does not exist through the shell", async () => {
    const result = await run({ command: "no-such-command-xyz" });
    expect(result.is_error).toBe(false);
    expect(result.output).toMatch(/no-such-command-xyz: (command )?not found\n\[exit code 127\]$/);
  });

  it("runs with bash when it is installed", async () => {
    const hasBash = await access("/bin/bash").then(
      () => true,
      () => false,
    );
    const result = await run({
      command: 'if [ -n "$BASH_VERSION" ]; then echo bash; else echo sh; fi',
    });
    expect(result.output).toBe(`${hasBash ? "bash" : "sh"}\n[exit code 0]`);
  });

  it("inherits the agent's environment", async () => {
    process.env.KEEL_EXECUTE_TEST = "inherited";
    try {
      expect((await run({ command: "echo $KEEL_EXECUTE_TEST" })).output).toBe(
        "inherited\n[exit code 0]",
      );
    } finally {
      delete process.env.KEEL_EXECUTE_TEST;
    }
  });

  it.each<[string, string | undefined, string]>([
    ["the root by default", undefined, ""],
    ["a relative cwd", "sub", "/sub"],
    ["a cwd with ..", "sub/..", ""],
  ])("runs in %s", async (_, cwd, suffix) => {
    const root = await makeTree({ "sub/": "" });
    const result = await executeTool({ command: "pwd", cwd }, contextFor(root));
    expect(result.output).toBe(`${root}${suffix}\n[exit code 0]`);
  });

  it.each<[string, string, RegExp]>([
    ["a missing cwd", "nope", /^cwd: No such file or directory: nope/],
    ["a cwd that is a file", "sub/file.txt", /^cwd sub\/file\.txt is not a directory\.$/],
  ])("refuses %s", async (_, cwd, message) => {
    const result = await run({ command: "true", cwd });
    expect(result.is_error).toBe(true);
    expect(result.output).toMatch(message);
  });

  it("streams output as it comes, before the result", async () => {
    const deltas: { text: string; at: number }[] = [];
    let resolved = false;
    const started = Date.now();
    const pending = run(
      { command: "for i in 1 2 3; do echo $i; sleep 0.1; done" },
      { onOutput: (text) => deltas.push({ text, at: Date.now() - started }) },
    ).then((result) => {
      resolved = true;
      return result;
    });
    await waitUntil(async () => deltas.length >= 1, 5000);
    expect(resolved).toBe(false);
    const result = await pending;
    expect(deltas.map((delta) => delta.text)).toEqual(["1\n", "2\n", "3\n"]);
    // Each line arrived on its own, about 100 ms apart, not all at the end.
    expect((deltas[2]?.at ?? 0) - (deltas[0]?.at ?? 0)).toBeGreaterThanOrEqual(150);
    expect(result).toEqual({ output: "1\n2\n3\n[exit code 0]", is_error: false });
  });

  it("survives an onOutput that throws", async () => {
    const result = await run(
      { command: "echo a" },
      {
        onOutput: () => {
          throw new Error("listener broke");
        },
      },
    );
    expect(result).toEqual({ output: "a\n[exit code 0]", is_error: false });
  });

  it("kills the whole process group, grandchildren included, on timeout", async () => {
    const started = Date.now();
    const { result, pgid } = await runWithGroup({
      command: "echo $$; sh -c 'sleep 30 & sleep 30'",
      timeout_ms: 300,
    });
    groups.push(pgid);
    const elapsed = Date.now() - started;
    expect(result.is_error).toBe(true);
    expect(result.output).toMatch(
      /^\d+\n\[timed out after 300 ms; the command and its child processes were killed\. Raise timeout_ms/,
    );
    expect(elapsed).toBeLessThan(15_000); // far below the commands' own 30 s
    // Every process of the group is dead…
    await waitUntil(async () => (await liveMembers(pgid)).length === 0, 15_000);
    // …and the group itself disappears once the dead are collected.
    await waitUntil(async () => (await liveMembers(pgid)).length === 0 && groupGone(pgid), 5000);
  });

  it("kills the whole process group when the signal aborts (Stop)", async () => {
    const controller = new AbortController();
    let stoppedAt = 0;
    setTimeout(() => {
      stoppedAt = Date.now();
      controller.abort();
    }, 300);
    const { result, pgid } = await runWithGroup(
      { command: "echo $$; sh -c 'sleep 30 & sleep 30'" },
      { signal: controller.signal },
    );
    groups.push(pgid);
    expect(Date.now() - stoppedAt).toBeLessThan(15_000); // far below the commands' own 30 s
    expect(result.is_error).toBe(true);
    expect(result.output).toMatch(
      /^\d+\n\[stopped: the command and its child processes were killed\]$/,
    );
    await waitUntil(async () => (await liveMembers(pgid)).length === 0, 15_000);
  });

  it("kills a process that ignores SIGTERM with SIGKILL", async () => {
    const { result, pgid } = await runWithGroup({
      command: "trap '' TERM; echo $$; sleep 30; echo not reached",
      timeout_ms: 200,
    });
    groups.push(pgid);
    expect(result.output).toMatch(/\[timed out after 200 ms/);
    expect(result.output).not.toContain("not reached");
    // Far below the survivor's own 30 s.
    await waitUntil(async () => (await liveMembers(pgid)).length === 0, 15_000);
  });

  it("still kills a survivor that no longer holds the output after the result", async () => {
    const { result, pgid } = await runWithGroup({
      command: "echo $$; (trap '' TERM; exec sleep 30) > /dev/null 2>&1 & wait",
      timeout_ms: 200,
    });
    groups.push(pgid);
    expect(result.output).toMatch(/\[timed out after 200 ms/);
    // Far below the survivor's own 30 s.
    await waitUntil(async () => (await liveMembers(pgid)).length === 0, 15_000);
  });

  it("does not start a command when the signal is already aborted", async () => {
    const root = await makeTree();
    const controller = new AbortController();
    controller.abort();
    const result = await executeTool(
      { command: "touch ran" },
      contextFor(root, { signal: controller.signal }),
    );
    expect(result.is_error).toBe(true);
    await expect(access(path.join(root, "ran"))).rejects.toThrow();
  });

  it("returns when the shell exits even if a background process holds the output", async () => {
    const started = Date.now();
    const { result, pgid } = await runWithGroup({ command: "echo $$; sleep 60 & echo started" });
    groups.push(pgid);
    expect(Date.now() - started).toBeLessThan(30_000); // far below the background sleep's 60 s
    expect(result.is_error).toBe(false);
    expect(result.output).toMatch(
      /^\d+\nstarted\n\[background processes it started are still running; their later output is not captured\]\n\[exit code 0\]$/,
    );
  });

  it("keeps the head and the tail of a large output", async () => {
    let streamed = "";
    const result = await run(
      { command: "yes | head -c 5000000" },
      { onOutput: (delta) => (streamed += delta) },
    );
    const head = LIMITS.executeHeadBytes;
    const tail = LIMITS.executeTailBytes;
    expect(result.is_error).toBe(false);
    const marker = `\n… ${5_000_000 - head - tail} bytes omitted …\n`;
    expect(result.output).toBe(
      `${"y\n".repeat(head / 2)}${marker}${"y\n".repeat(tail / 2)}[exit code 0]`,
    );
    // The live stream stops at its own cap, and says so.
    expect(streamed.startsWith("y\ny\n")).toBe(true);
    expect(streamed.length).toBeLessThan(LIMITS.executeMaxStreamBytes + 200);
    expect(streamed).toMatch(
      /\[… live output stops here \(1 MB\); the result keeps the start and the end …\]\n$/,
    );
  });
});

function groupGone(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

describe("HeadTail", () => {
  const text = (head: number, tail: number, chunks: string[]) => {
    const buffer = new HeadTail(head, tail);
    for (const chunk of chunks) buffer.push(Buffer.from(chunk));
    return buffer.text();
  };

  it.each<[string, number, number, string[], string]>([
    ["keeps everything that fits", 4, 4, ["abc", "def"], "abcdef"],
    ["keeps exactly head + tail", 3, 3, ["abcdef"], "abcdef"],
    ["drops the middle", 2, 2, ["abcdefgh"], "ab\n… 4 bytes omitted …\ngh"],
    [
      "across many small chunks",
      2,
      3,
      ["a", "b", "c", "d", "e", "f", "g", "h"],
      "ab\n… 3 bytes omitted …\nfgh",
    ],
    [
      "with a chunk larger than the tail",
      1,
      2,
      ["ab", "cdefgh", "i"],
      "a\n… 6 bytes omitted …\nhi",
    ],
    // "é" is two bytes: a character split by a cut is dropped whole and counted as omitted.
    [
      "without splitting a character at the head",
      3,
      2,
      ["abé", "xyz12"],
      "ab\n… 5 bytes omitted …\n12",
    ],
    [
      "without splitting a character at the tail",
      1,
      2,
      ["a", "xyzé1"],
      "a\n… 5 bytes omitted …\n1",
    ],
    [
      "keeping a character the tail holds whole",
      1,
      3,
      ["a", "xyzé1"],
      "a\n… 3 bytes omitted …\né1",
    ],
  ])("%s", (_, head, tail, chunks, expected) => {
    expect(text(head, tail, chunks)).toBe(expected);
  });
});
