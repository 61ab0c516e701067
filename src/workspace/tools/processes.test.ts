import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type BackgroundOptions, BackgroundProcesses, RingBuffer } from "./processes.ts";
import { runWorkspaceTool } from "./run.ts";
import { LIMITS } from "./schemas.ts";
import { contextFor, liveMembers, makeTree, waitUntil } from "./testing.ts";
import type { WorkspaceToolContext } from "./types.ts";

const managers: BackgroundProcesses[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.stopAll()));
});

async function setup(options: BackgroundOptions = {}) {
  const root = await makeTree();
  const processes = new BackgroundProcesses(options);
  managers.push(processes);
  const ctx = contextFor(root, { processes });
  const call = (name: string, input: unknown, extra: Partial<WorkspaceToolContext> = {}) =>
    runWorkspaceTool(name, input, { ...ctx, ...extra });
  return { root, processes, call };
}

/** The process id and group id a background start reported. */
function started(output: string): { id: string; pgid: number } {
  const match = /^\[background process (p\d+) \(pid (\d+)\)\]\n/.exec(output);
  if (!match) throw new Error(`not a background start: ${output}`);
  return { id: match[1] as string, pgid: Number(match[2]) };
}

describe("background processes", () => {
  it("start → first output → process_output waits for more → list → TERM ends the group", async () => {
    const { root, processes, call } = await setup();
    // "more" only once the test says so: what the first output holds does not hang on timing.
    const command = "sh -c 'echo ready; until [ -e go ]; do sleep 0.05; done; echo more; sleep 30'";
    const start = await call("execute", { command, background: true });
    expect(start.is_error).toBe(false);
    const { id, pgid } = started(start.output);
    expect(start.output).toContain("ready\n");
    expect(start.output).not.toContain("more");
    expect(start.output).toMatch(
      /\[running in the background as p1: read its output with process_output/,
    );

    const steps: [string, string, unknown, (output: string) => void][] = [
      [
        "nothing new yet",
        "process_output",
        { process_id: id },
        (o) => expect(o).toBe("(no new output)\n[p1: still running]"),
      ],
      [
        "list shows it running",
        "process_list",
        {},
        (o) =>
          expect(o).toMatch(
            /^p1\trunning\tstarted \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(\d+ s ago\)\tsh -c 'echo ready/,
          ),
      ],
    ];
    for (const [, name, input, check] of steps) {
      const result = await call(name, input);
      expect(result.is_error).toBe(false);
      check(result.output);
    }

    await writeFile(path.join(root, "go"), "");
    let more = "";
    await waitUntil(async () => {
      more += (await call("process_output", { process_id: id, wait_ms: 5000 })).output;
      return more.includes("more\n");
    }, 20_000);
    expect(more).toContain("more\n[p1: still running]");
    // sh and its sleep (which sh may not have started yet when "more" is read).
    await waitUntil(async () => (await liveMembers(pgid)).length >= 2, 15_000);

    const term = await call("process_signal", { process_id: id, signal: "TERM" });
    expect(term.is_error).toBe(false);
    await waitUntil(async () => !processes.get(id)?.running, 15_000);
    await waitUntil(async () => (await liveMembers(pgid)).length === 0, 15_000);
    expect((await call("process_output", { process_id: id })).output).toMatch(
      /^\(no new output\)\n\[p1: (killed by signal SIGTERM|exit code 143)\]$/,
    );
    expect((await call("process_list", {})).output).toMatch(
      /^p1\t(killed by signal SIGTERM|exit code 143)\t/,
    );
    expect((await call("process_signal", { process_id: id, signal: "KILL" })).output).toMatch(
      /^p1 had already ended/,
    );
  });

  it("returns at once with the exit when the command ends within the first output's window", async () => {
    const { call } = await setup();
    const result = await call("execute", { command: "echo hi; exit 3", background: true });
    expect(result).toEqual({
      output: expect.stringMatching(
        /^\[background process p1 \(pid \d+\)\]\nhi\n\[p1 already ended: exit code 3\]$/,
      ),
      is_error: false,
    });
  });

  it("keeps only the newest output up to its buffer, and says how much was dropped", async () => {
    const { root, processes, call } = await setup();
    const command =
      "until [ -e go ]; do sleep 0.05; done; head -c 3000000 /dev/zero | tr '\\0' x; echo; echo end";
    const { id } = started((await call("execute", { command, background: true })).output);
    await writeFile(path.join(root, "go"), "");
    await waitUntil(async () => !processes.get(id)?.running, 20_000);
    const result = await call("process_output", { process_id: id });
    const total = 3_000_000 + "\nend\n".length;
    const dropped = total - LIMITS.backgroundBufferBytes;
    expect(result.output).toMatch(
      new RegExp(
        `^\\[… ${dropped} earlier bytes dropped: only the newest 256 KB of unread output are kept …\\]\\nx+\\n… \\d+ bytes omitted …\\nx+\\nend\\n\\[p1: exit code 0\\]$`,
      ),
    );
    // One read is bounded like execute's result: its first and last 32 KB.
    expect(result.output.length).toBeLessThan(
      LIMITS.executeHeadBytes + LIMITS.executeTailBytes + 500,
    );
    expect((await call("process_output", { process_id: id })).output).toBe(
      "(no new output)\n[p1: exit code 0]",
    );
  });

  it("runs at most maxRunning at once, with a clear error beyond", async () => {
    const { call } = await setup({ maxRunning: 2, firstOutputMs: 0 });
    const first = await call("execute", { command: "sleep 30", background: true });
    const second = await call("execute", { command: "sleep 30", background: true });
    expect([first.is_error, second.is_error]).toEqual([false, false]);
    const third = await call("execute", { command: "sleep 30", background: true });
    expect(third).toEqual({
      output:
        "At most 2 background processes may run at once, and 2 do. Stop one you no longer need " +
        "with process_signal (process_list shows them).",
      is_error: true,
    });
    expect((await call("process_signal", { process_id: "p1", signal: "KILL" })).output).toBe(
      "Sent SIGKILL to p1: killed by signal SIGKILL.",
    );
    const fourth = await call("execute", { command: "sleep 30", background: true });
    expect(started(fourth.output).id).toBe("p3");
  });

  it("stopAll ends every group, grandchildren included, and refuses new ones", async () => {
    const { processes, call } = await setup({ firstOutputMs: 0 });
    const pgids: number[] = [];
    for (const command of ["sh -c 'sleep 30 & sleep 30'", "trap '' TERM; sleep 30"]) {
      pgids.push(started((await call("execute", { command, background: true })).output).pgid);
    }
    await processes.stopAll();
    for (const pgid of pgids) {
      await waitUntil(async () => (await liveMembers(pgid)).length === 0, 15_000);
    }
    expect(processes.list().every((p) => !p.running)).toBe(true);
    expect(await call("execute", { command: "true", background: true })).toEqual({
      output: "The workspace agent is stopping: no new background processes.",
      is_error: true,
    });
  });

  it("a Stop during the first output's window kills it", async () => {
    const { processes, call } = await setup({ firstOutputMs: 10_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const result = await call(
      "execute",
      { command: "sleep 30", background: true },
      { signal: controller.signal },
    );
    expect(result).toEqual({
      output: "[stopped: background process p1 and its child processes were killed]",
      is_error: true,
    });
    await waitUntil(async () => !processes.get("p1")?.running, 15_000);
  });

  it.each<[string, string, unknown, string]>([
    [
      "an unknown id",
      "process_output",
      { process_id: "p9" },
      'No background process "p9". None have been started.',
    ],
    [
      "an unknown id",
      "process_signal",
      { process_id: "p9", signal: "TERM" },
      'No background process "p9". None have been started.',
    ],
  ])("answers %s to %s as an error", async (_, name, input, output) => {
    const { call } = await setup();
    expect(await call(name, input)).toEqual({ output, is_error: true });
  });

  it.each<[string, unknown]>([
    ["execute", { command: "true", background: true }],
    ["process_output", { process_id: "p1" }],
    ["process_list", {}],
    ["process_signal", { process_id: "p1", signal: "TERM" }],
  ])("%s says so without the agent's process manager", async (name, input) => {
    const result = await runWorkspaceTool(name, input, contextFor(await makeTree()));
    expect(result).toEqual({
      output: "Background processes are not available here.",
      is_error: true,
    });
  });

  it("lists nothing before the first", async () => {
    const { call } = await setup();
    expect((await call("process_list", {})).output).toBe("(no background processes)");
  });
});

describe("RingBuffer", () => {
  const b = (text: string) => Buffer.from(text, "utf8");
  it.each<[string, number, string[], boolean, string, number, string]>([
    // name, capacity, pushes, final, taken text, dropped, left for the next take
    ["under capacity", 10, ["abc", "def"], false, "abcdef", 0, ""],
    ["over capacity: the newest bytes", 4, ["abc", "def"], false, "cdef", 2, ""],
    ["one chunk larger than capacity", 3, ["abcdefgh"], false, "fgh", 5, ""],
    ["a character cut by the drop counts as dropped", 4, ["aé", "xyz"], false, "xyz", 3, ""],
    ["a character not complete yet waits", 10, ["ab", "\xE2"], false, "ab", 0, "€"],
    ["the final take hands over everything", 10, ["ab"], true, "ab", 0, ""],
  ])("%s", (_, capacity, pushes, final, text, dropped, next) => {
    const ring = new RingBuffer(capacity);
    for (const push of pushes) {
      ring.push(push === "\xE2" ? b("€").subarray(0, 1) : b(push));
    }
    const taken = ring.take(final);
    expect([taken.bytes.toString("utf8"), taken.dropped]).toEqual([text, dropped]);
    if (next) ring.push(b("€").subarray(1));
    expect(ring.take(true).bytes.toString("utf8")).toBe(next);
  });
});
