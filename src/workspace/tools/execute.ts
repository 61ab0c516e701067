/**
 * execute: a shell command in the workspace. The command runs in its own process group (and
 * session), so a timeout or a Stop can kill everything it started — pipelines, background jobs,
 * grandchildren — with SIGTERM to the group, then SIGKILL after a short grace. Stdout and stderr
 * share one pipe (as in a terminal), so the model reads them interleaved exactly as written; the
 * output streams through `onOutput` as it arrives, and the result keeps the head and the tail of
 * long output. Stdin is /dev/null and the environment is the agent's own.
 *
 * Exit codes: a command that ran to its end is `is_error: false` whatever its exit code (a failing
 * test run is information the model asked for, not a failure of the tool); the code ends the
 * text. `is_error: true` means the tool could not let it finish: it could not start, it timed
 * out, or it was stopped.
 */
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import { displayPath, fsErrorText, resolvePath } from "./paths.ts";
import { type ExecuteInput, LIMITS } from "./schemas.ts";
import { fail, type WorkspaceToolContext, type WorkspaceToolResult } from "./types.ts";

/** SIGTERM first so programs can clean up; SIGKILL this long after for those that do not. */
export const KILL_GRACE_MS = 500;
/**
 * After the shell exits, the output pipe normally closes at once. A background process that still
 * holds it (`server &`) would keep the call open until the timeout, so the call ends once the
 * pipe has been quiet this long after the exit, or at the latest `DRAIN_MAX_MS` after it.
 */
const DRAIN_QUIET_MS = 200;
const DRAIN_MAX_MS = 2000;

/**
 * Where a command starts (`cwd` inside the workspace, a directory), or the result that refuses it
 * — also when the turn was stopped before it started. Shared by foreground and background runs.
 */
export async function startingDirectory(
  input: Pick<ExecuteInput, "cwd">,
  ctx: WorkspaceToolContext,
): Promise<string | WorkspaceToolResult> {
  const cwd = resolvePath(ctx.root, input.cwd || ".");
  const shownCwd = displayPath(ctx.root, cwd);
  try {
    if (!(await stat(cwd)).isDirectory()) return fail(`cwd ${shownCwd} is not a directory.`);
  } catch (error) {
    return fail(`cwd: ${fsErrorText(error, shownCwd)}`);
  }
  if (ctx.signal.aborted) return fail("[stopped before the command started]");
  return cwd;
}

export async function executeTool(
  input: ExecuteInput,
  ctx: WorkspaceToolContext,
): Promise<WorkspaceToolResult> {
  const cwd = await startingDirectory(input, ctx);
  if (typeof cwd !== "string") return cwd;
  const timeoutMs = input.timeout_ms ?? LIMITS.executeDefaultTimeoutMs;
  const run = await runCommand(input.command, { cwd, timeoutMs, ...ctx });
  return { output: describe(run, timeoutMs), is_error: run.ending.kind !== "exited" };
}

type Ending =
  | { kind: "exited"; code: number | null; signal: NodeJS.Signals | null }
  | { kind: "timeout" }
  | { kind: "stopped" }
  | { kind: "failed"; message: string };

interface Run {
  output: string;
  ending: Ending;
  /** The shell exited but something it started still held the output open. */
  detached: boolean;
}

interface RunOptions {
  cwd: string;
  timeoutMs: number;
  signal: AbortSignal;
  onOutput?(delta: string): void;
}

function runCommand(command: string, options: RunOptions): Promise<Run> {
  return shellPath().then(
    (shell) =>
      new Promise<Run>((resolve) => {
        const output = new HeadTail(LIMITS.executeHeadBytes, LIMITS.executeTailBytes);
        const stream = new OutputStream(options.onOutput);
        const child = spawnInGroup(shell, command, options.cwd);
        let quiet: NodeJS.Timeout | undefined; // armed once the shell has exited
        const onData = (chunk: Buffer) => {
          output.push(chunk);
          stream.push(chunk);
          quiet?.refresh();
        };
        child.stdout.on("data", onData);
        child.stderr.on("data", onData);

        let ending: Ending | undefined;
        let exited = false;
        const timers: NodeJS.Timeout[] = [];
        const kill = (why: "timeout" | "stopped") => {
          if (ending || exited || child.pid === undefined) return;
          ending = { kind: why };
          const pid = child.pid;
          killGroup(pid, "SIGTERM");
          // Not among `timers`: it must fire even after the result is in, for a process that
          // ignores SIGTERM but no longer holds the output (so the result did not wait for it).
          setTimeout(() => killGroup(pid, "SIGKILL"), KILL_GRACE_MS);
        };
        const onAbort = () => kill("stopped");
        options.signal.addEventListener("abort", onAbort, { once: true });
        timers.push(setTimeout(() => kill("timeout"), options.timeoutMs));

        let done = false;
        const finish = (detached: boolean) => {
          if (done) return;
          done = true;
          for (const timer of timers) clearTimeout(timer);
          clearTimeout(quiet);
          options.signal.removeEventListener("abort", onAbort);
          child.stdout.destroy();
          child.stderr.destroy();
          stream.end();
          resolve({ output: output.text(), ending: ending ?? { kind: "stopped" }, detached });
        };

        child.once("error", (error) => {
          ending ??= { kind: "failed", message: error.message };
          finish(false);
        });
        child.once("exit", (code, signal) => {
          exited = true;
          ending ??= { kind: "exited", code, signal };
          // After a kill, leave time for the SIGKILL of stragglers to close the pipe.
          const killing = ending.kind !== "exited";
          quiet = setTimeout(
            () => finish(!killing),
            killing ? KILL_GRACE_MS + DRAIN_QUIET_MS : DRAIN_QUIET_MS,
          );
          timers.push(setTimeout(() => finish(!killing), KILL_GRACE_MS + DRAIN_MAX_MS));
        });
        child.once("close", () => finish(false));
      }),
  );
}

/**
 * `command` in `shell`, as the leader of a new process group (and session), stdin /dev/null,
 * stderr into stdout's pipe. The outer sh points stderr at stdout, then becomes the real shell
 * (same process, so the same group leader): the command, its line numbers and its $0 are
 * untouched.
 */
export function spawnInGroup(shell: string, command: string, cwd: string) {
  return spawn("/bin/sh", ["-c", 'exec "$0" -c "$1" 2>&1', shell, command], {
    cwd,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: process.env,
  });
}

/** Sends `signal` to the process group led by `pid`; a group already gone is fine. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: every process of the group has exited.
  }
}

let shell: Promise<string> | undefined;

/** bash when it is installed (what models write for), else sh. */
export function shellPath(): Promise<string> {
  shell ??= access("/bin/bash", constants.X_OK).then(
    () => "/bin/bash",
    () => "/bin/sh",
  );
  return shell;
}

function describe(run: Run, timeoutMs: number): string {
  const body = run.output === "" ? "(no output)" : run.output;
  const separator = body.endsWith("\n") ? "" : "\n";
  const detached = run.detached
    ? "[background processes it started are still running; their later output is not captured]\n"
    : "";
  return `${body}${separator}${detached}${trailer(run.ending, timeoutMs)}`;
}

function trailer(ending: Ending, timeoutMs: number): string {
  switch (ending.kind) {
    case "exited":
      return ending.code !== null
        ? `[exit code ${ending.code}]`
        : `[killed by signal ${ending.signal ?? "unknown"}]`;
    case "timeout":
      return (
        `[timed out after ${timeoutMs} ms; the command and its child processes were killed. ` +
        `Raise timeout_ms (up to ${LIMITS.executeMaxTimeoutMs}) or run it in the background.]`
      );
    case "stopped":
      return "[stopped: the command and its child processes were killed]";
    case "failed":
      return `[the command could not be started: ${ending.message}]`;
  }
}

/**
 * The first `headBytes` and the last `tailBytes` of a byte stream, and how many were dropped in
 * between — memory stays bounded however much a command prints.
 */
export class HeadTail {
  readonly #headBytes: number;
  readonly #tailBytes: number;
  readonly #head: Buffer[] = [];
  #headSize = 0;
  #tail: Buffer[] = [];
  #tailSize = 0;
  #total = 0;

  constructor(headBytes: number, tailBytes: number) {
    this.#headBytes = headBytes;
    this.#tailBytes = tailBytes;
  }

  push(chunk: Buffer): void {
    this.#total += chunk.length;
    let rest = chunk;
    if (this.#headSize < this.#headBytes) {
      const take = rest.subarray(0, this.#headBytes - this.#headSize);
      this.#head.push(take);
      this.#headSize += take.length;
      rest = rest.subarray(take.length);
    }
    if (rest.length === 0) return;
    this.#tail.push(rest);
    this.#tailSize += rest.length;
    // Drop whole chunks, then trim the first, so the tail holds exactly the last bytes.
    while (this.#tailSize - (this.#tail[0]?.length ?? 0) >= this.#tailBytes) {
      this.#tailSize -= this.#tail.shift()?.length ?? 0;
    }
    const excess = this.#tailSize - this.#tailBytes;
    if (excess > 0 && this.#tail[0]) {
      this.#tail[0] = this.#tail[0].subarray(excess);
      this.#tailSize -= excess;
    }
  }

  text(): string {
    const head = Buffer.concat(this.#head);
    const tail = Buffer.concat(this.#tail);
    const omitted = this.#total - head.length - tail.length;
    if (omitted === 0) return Buffer.concat([head, tail]).toString("utf8");
    // Cut at character boundaries: the bytes of a split character count as omitted.
    const decoder = new StringDecoder("utf8");
    const headText = decoder.write(head);
    const headCut = head.length - Buffer.byteLength(headText);
    const tailStart = firstCharStart(tail);
    const dropped = omitted + headCut + tailStart;
    return `${headText}\n… ${dropped} bytes omitted …\n${tail.subarray(tailStart).toString("utf8")}`;
  }
}

/** Index of the first byte in `bytes` that is not a UTF-8 continuation byte (at most 3 in). */
export function firstCharStart(bytes: Buffer): number {
  let i = 0;
  while (i < 3 && i < bytes.length && ((bytes[i] as number) & 0xc0) === 0x80) i++;
  return i;
}

/** Forwards output as text (never a split character) up to the streaming cap, then says so once. */
class OutputStream {
  readonly #onOutput: ((delta: string) => void) | undefined;
  readonly #decoder = new StringDecoder("utf8");
  #sent = 0;
  #capped = false;

  constructor(onOutput: ((delta: string) => void) | undefined) {
    this.#onOutput = onOutput;
  }

  push(chunk: Buffer): void {
    if (!this.#onOutput || this.#capped) return;
    const room = LIMITS.executeMaxStreamBytes - this.#sent;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.#sent += part.length;
    this.#emit(this.#decoder.write(part));
    if (part.length < chunk.length) {
      this.#capped = true;
      this.#emit(
        `\n[… live output stops here (${LIMITS.executeMaxStreamBytes / 1024 / 1024} MB); ` +
          "the result keeps the start and the end …]\n",
      );
    }
  }

  end(): void {
    if (this.#onOutput && !this.#capped) this.#emit(this.#decoder.end());
  }

  #emit(delta: string): void {
    if (delta === "") return;
    try {
      this.#onOutput?.(delta);
    } catch {
      // A failing listener must not take the command (or the agent) down with it.
    }
  }
}
