/**
 * Background processes: `execute` with `background: true`, and `process_output`, `process_list`
 * and `process_signal`. They belong to the agent's workspace — one `BackgroundProcesses` per
 * agent, for its whole life (across reconnects) — and end when the agent stops. Each runs like
 * an `execute` command (its own process group, stdout and stderr in one pipe, stdin /dev/null)
 * but without a timeout; its output goes into a bounded buffer the model reads with
 * `process_output`. A process ends when it exits, when `process_signal` ends it, or when the
 * agent stops (`stopAll`, and a SIGKILL to every group should the agent's process exit without
 * it). When its shell exits, whatever it left in its group is ended too, so nothing outlives its
 * entry unseen.
 */
import type { ChildProcess } from "node:child_process";
import {
  firstCharStart,
  HeadTail,
  KILL_GRACE_MS,
  killGroup,
  shellPath,
  spawnInGroup,
  startingDirectory,
} from "./execute.ts";
import {
  type ExecuteInput,
  LIMITS,
  type ProcessListInput,
  type ProcessOutputInput,
  type ProcessSignalInput,
} from "./schemas.ts";
import { fail, ok, type WorkspaceToolContext, type WorkspaceToolResult } from "./types.ts";

/** After the shell exits, how long its output pipe may stay open (a process outside the group). */
const DRAIN_MAX_MS = KILL_GRACE_MS + 2000;
/** process_signal waits this long to say whether the process exited. */
const SIGNAL_WAIT_MS = 2000;
/** Commands are shown up to this many characters in a listing. */
const LIST_COMMAND_CHARS = 200;

export interface BackgroundOptions {
  /** How long `execute` waits for the first output (default LIMITS.backgroundFirstOutputMs). */
  firstOutputMs?: number;
  /** Processes running at once (default LIMITS.backgroundMaxRunning). */
  maxRunning?: number;
  /** Unread output kept per process (default LIMITS.backgroundBufferBytes). */
  bufferBytes?: number;
}

export type ProcessState =
  | { kind: "running" }
  | { kind: "exited"; code: number | null; signal: NodeJS.Signals | null }
  | { kind: "failed"; message: string };

/** One background process: its shell (the group leader) and its unread output. */
export class BackgroundProcess {
  readonly id: string;
  readonly command: string;
  readonly startedAt = new Date();
  readonly pid: number | undefined;
  /** Resolves once it has ended (exited and its output drained, or failed to start). */
  readonly ended: Promise<void>;
  #state: ProcessState = { kind: "running" };
  readonly #output: RingBuffer;
  #wake: Array<() => void> = [];

  constructor(id: string, command: string, child: ChildProcess, bufferBytes: number) {
    this.id = id;
    this.command = command;
    this.pid = child.pid;
    this.#output = new RingBuffer(bufferBytes);
    this.ended = new Promise((resolve) => this.#watch(child, resolve));
  }

  get state(): ProcessState {
    return this.#state;
  }

  get running(): boolean {
    return this.#state.kind === "running";
  }

  /** Sends `signal` to its whole process group (nothing once it has ended). */
  signal(signal: NodeJS.Signals): void {
    if (this.running && this.pid !== undefined) killGroup(this.pid, signal);
  }

  /**
   * The output not read yet (first and last LIMITS.execute{Head,Tail}Bytes of it), and how many
   * bytes were dropped from the buffer before they could be read. While it runs, a character
   * split across reads stays for the next one.
   */
  read(): { text: string; dropped: number } {
    const { bytes, dropped } = this.#output.take(!this.running);
    const text = new HeadTail(LIMITS.executeHeadBytes, LIMITS.executeTailBytes);
    text.push(bytes);
    return { text: text.text(), dropped };
  }

  /** Resolves at the next output or the end, after `ms`, or on abort — whichever comes first. */
  async changed(ms: number, signal: AbortSignal): Promise<void> {
    if (!this.running || signal.aborted || ms <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    let wake: (() => void) | undefined;
    await new Promise<void>((resolve) => {
      wake = () => resolve();
      this.#wake.push(wake);
      timer = setTimeout(wake, ms);
      signal.addEventListener("abort", wake, { once: true });
    });
    clearTimeout(timer);
    if (wake) {
      signal.removeEventListener("abort", wake);
      this.#wake = this.#wake.filter((w) => w !== wake);
    }
  }

  get hasUnread(): boolean {
    return this.#output.size > 0 || this.#output.dropped > 0;
  }

  #notify(): void {
    for (const wake of this.#wake.splice(0)) wake();
  }

  #watch(child: ChildProcess, resolve: () => void): void {
    const onData = (chunk: Buffer) => {
      this.#output.push(chunk);
      this.#notify();
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    let exit: ProcessState | undefined;
    let drain: NodeJS.Timeout | undefined;
    const finish = (state: ProcessState) => {
      if (!this.running) return;
      clearTimeout(drain);
      child.stdout?.destroy();
      child.stderr?.destroy();
      this.#state = state;
      this.#notify();
      resolve();
    };
    child.once("error", (error) => finish({ kind: "failed", message: error.message }));
    child.once("exit", (code, signal) => {
      exit = { kind: "exited", code, signal };
      // What the shell left in its group ends with it.
      const pid = child.pid;
      if (pid !== undefined) {
        killGroup(pid, "SIGTERM");
        setTimeout(() => killGroup(pid, "SIGKILL"), KILL_GRACE_MS).unref();
      }
      const last = exit;
      drain = setTimeout(() => finish(last), DRAIN_MAX_MS);
    });
    child.once("close", (code, signal) => finish(exit ?? { kind: "exited", code, signal }));
  }
}

/**
 * The agent's background processes, by the id it gives them ("p1", "p2", …). At most
 * `maxRunning` run at once; the last LIMITS.backgroundMaxFinished finished ones are kept so their
 * exit code and last output can still be read.
 */
export class BackgroundProcesses {
  readonly firstOutputMs: number;
  readonly #maxRunning: number;
  readonly #bufferBytes: number;
  readonly #all = new Map<string, BackgroundProcess>();
  #next = 1;
  #stopped = false;
  #exitHook: (() => void) | undefined;

  constructor(options: BackgroundOptions = {}) {
    this.firstOutputMs = options.firstOutputMs ?? LIMITS.backgroundFirstOutputMs;
    this.#maxRunning = options.maxRunning ?? LIMITS.backgroundMaxRunning;
    this.#bufferBytes = options.bufferBytes ?? LIMITS.backgroundBufferBytes;
  }

  /** Starts `command` in `cwd`; a string is the reason it was not started. */
  async start(command: string, cwd: string): Promise<BackgroundProcess | string> {
    if (this.#stopped) return "The workspace agent is stopping: no new background processes.";
    const running = this.list().filter((p) => p.running).length;
    if (running >= this.#maxRunning) {
      return (
        `At most ${this.#maxRunning} background processes may run at once, and ${running} do. ` +
        "Stop one you no longer need with process_signal (process_list shows them)."
      );
    }
    const shell = await shellPath();
    const child = spawnInGroup(shell, command, cwd);
    const id = `p${this.#next++}`;
    const entry = new BackgroundProcess(id, command, child, this.#bufferBytes);
    this.#all.set(id, entry);
    this.#prune();
    this.#hookExit();
    return entry;
  }

  get(id: string): BackgroundProcess | undefined {
    return this.#all.get(id);
  }

  /** Oldest first. */
  list(): BackgroundProcess[] {
    return [...this.#all.values()];
  }

  /**
   * Ends every background process: SIGTERM to each group, SIGKILL to those still there after
   * KILL_GRACE_MS; resolves when they have ended (or a little later at the latest). Later starts
   * are refused.
   */
  async stopAll(): Promise<void> {
    this.#stopped = true;
    const running = this.list().filter((p) => p.running);
    for (const entry of running) entry.signal("SIGTERM");
    const ended = Promise.allSettled(running.map((p) => p.ended));
    await Promise.race([ended, delay(KILL_GRACE_MS)]);
    for (const entry of running) entry.signal("SIGKILL");
    await Promise.race([ended, delay(DRAIN_MAX_MS)]);
    this.#unhookExit();
  }

  /** Drops the oldest finished processes beyond LIMITS.backgroundMaxFinished. */
  #prune(): void {
    const finished = this.list().filter((p) => !p.running);
    for (const entry of finished.slice(0, -LIMITS.backgroundMaxFinished)) {
      this.#all.delete(entry.id);
    }
  }

  /** Should the agent's process exit without stopAll (a crash, process.exit), kill them anyway. */
  #hookExit(): void {
    if (this.#exitHook) return;
    this.#exitHook = () => {
      for (const entry of this.#all.values()) entry.signal("SIGKILL");
    };
    process.on("exit", this.#exitHook);
  }

  #unhookExit(): void {
    if (this.#exitHook) process.off("exit", this.#exitHook);
    this.#exitHook = undefined;
  }
}

/**
 * A byte stream's newest `capacity` bytes not read yet, and how many were dropped to keep it
 * there. `take` hands over (and forgets) what is buffered.
 */
export class RingBuffer {
  readonly #capacity: number;
  #chunks: Buffer[] = [];
  #size = 0;
  #dropped = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#size;
  }

  get dropped(): number {
    return this.#dropped;
  }

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    while (this.#size > this.#capacity) {
      const first = this.#chunks[0] as Buffer;
      const excess = this.#size - this.#capacity;
      const cut = Math.min(excess, first.length);
      if (cut === first.length) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(cut);
      this.#size -= cut;
      this.#dropped += cut;
    }
  }

  /**
   * Everything buffered, whole characters only: a character cut by the drop counts as dropped,
   * and unless `final`, one not complete yet at the end stays for the next take.
   */
  take(final: boolean): { bytes: Buffer; dropped: number } {
    let bytes = Buffer.concat(this.#chunks);
    let dropped = this.#dropped;
    this.#chunks = [];
    this.#size = 0;
    this.#dropped = 0;
    if (dropped > 0) {
      const skip = firstCharStart(bytes);
      bytes = bytes.subarray(skip);
      dropped += skip;
    }
    const partial = final ? 0 : incompleteTail(bytes);
    if (partial > 0) {
      this.#chunks = [bytes.subarray(bytes.length - partial)];
      this.#size = partial;
      bytes = bytes.subarray(0, bytes.length - partial);
    }
    return { bytes, dropped };
  }
}

/** How many bytes at the end of `bytes` are the start of a UTF-8 character not complete yet. */
function incompleteTail(bytes: Buffer): number {
  for (let i = bytes.length - 1; i >= 0 && i >= bytes.length - 4; i--) {
    const byte = bytes[i] as number;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    const have = bytes.length - i;
    return length > have ? have : 0;
  }
  return 0;
}

// ——— the tools ———

const UNAVAILABLE = "Background processes are not available here.";

/** execute with `background: true`. */
export async function startBackground(
  input: ExecuteInput,
  ctx: WorkspaceToolContext,
): Promise<WorkspaceToolResult> {
  const processes = ctx.processes;
  if (!processes) return fail(UNAVAILABLE);
  const cwd = await startingDirectory(input, ctx);
  if (typeof cwd !== "string") return cwd;
  const started = await processes.start(input.command, cwd);
  if (typeof started === "string") return fail(started);
  // Its first output: until it ends or the window closes (a Stop kills it: never handed over).
  await Promise.race([started.ended, delay(processes.firstOutputMs, ctx.signal)]);
  if (ctx.signal.aborted && started.running) {
    started.signal("SIGTERM");
    setTimeout(() => started.signal("SIGKILL"), KILL_GRACE_MS).unref();
    return fail(`[stopped: background process ${started.id} and its child processes were killed]`);
  }
  const { text, dropped } = started.read();
  const state = started.state;
  if (state.kind === "failed") {
    return fail(`[the command could not be started: ${state.message}]`);
  }
  const head = `[background process ${started.id}${started.pid ? ` (pid ${started.pid})` : ""}]\n`;
  const ending = started.running
    ? `[running in the background as ${started.id}: read its output with process_output, ` +
      "stop it with process_signal]"
    : `[${started.id} already ended: ${stateText(state)}]`;
  return ok(`${head}${body(text, dropped, "(no output yet)")}${ending}`);
}

export async function processOutputTool(
  input: ProcessOutputInput,
  ctx: WorkspaceToolContext,
): Promise<WorkspaceToolResult> {
  const entry = ctx.processes?.get(input.process_id);
  if (!ctx.processes) return fail(UNAVAILABLE);
  if (!entry) return fail(unknownProcess(input.process_id, ctx.processes));
  if (!entry.hasUnread) await entry.changed(input.wait_ms ?? 0, ctx.signal);
  const { text, dropped } = entry.read();
  const state = entry.running ? "still running" : stateText(entry.state);
  return ok(`${body(text, dropped, "(no new output)")}[${entry.id}: ${state}]`);
}

export async function processListTool(
  _input: ProcessListInput,
  ctx: WorkspaceToolContext,
): Promise<WorkspaceToolResult> {
  if (!ctx.processes) return fail(UNAVAILABLE);
  const all = ctx.processes.list();
  if (all.length === 0) return ok("(no background processes)");
  const now = Date.now();
  const lines = all.map((p) => {
    const state = p.running ? "running" : stateText(p.state);
    const command =
      p.command.length > LIST_COMMAND_CHARS
        ? `${p.command.slice(0, LIST_COMMAND_CHARS)}…`
        : p.command;
    const started = `${p.startedAt.toISOString().slice(0, 19)}Z (${ago(now - p.startedAt.getTime())} ago)`;
    return `${p.id}\t${state}\tstarted ${started}\t${command.replace(/\s*\n\s*/g, " ")}`;
  });
  return ok(lines.join("\n"));
}

export async function processSignalTool(
  input: ProcessSignalInput,
  ctx: WorkspaceToolContext,
): Promise<WorkspaceToolResult> {
  const entry = ctx.processes?.get(input.process_id);
  if (!ctx.processes) return fail(UNAVAILABLE);
  if (!entry) return fail(unknownProcess(input.process_id, ctx.processes));
  if (!entry.running) return ok(`${entry.id} had already ended: ${stateText(entry.state)}.`);
  const signal: NodeJS.Signals = `SIG${input.signal}`;
  entry.signal(signal);
  await Promise.race([entry.ended, delay(SIGNAL_WAIT_MS, ctx.signal)]);
  if (!entry.running) return ok(`Sent ${signal} to ${entry.id}: ${stateText(entry.state)}.`);
  return ok(
    `Sent ${signal} to ${entry.id}; it is still running after ${SIGNAL_WAIT_MS / 1000} s` +
      (input.signal === "KILL" ? "." : " (send KILL if it does not stop)."),
  );
}

function body(text: string, dropped: number, empty: string): string {
  const note =
    dropped > 0
      ? `[… ${dropped} earlier bytes dropped: only the newest ` +
        `${LIMITS.backgroundBufferBytes / 1024} KB of unread output are kept …]\n`
      : "";
  const shown = text === "" && dropped === 0 ? empty : text;
  return `${note}${shown}${shown.endsWith("\n") || shown === "" ? "" : "\n"}`;
}

function stateText(state: ProcessState): string {
  switch (state.kind) {
    case "running":
      return "running";
    case "exited":
      return state.code !== null
        ? `exit code ${state.code}`
        : `killed by signal ${state.signal ?? "unknown"}`;
    case "failed":
      return `could not be started: ${state.message}`;
  }
}

function unknownProcess(id: string, processes: BackgroundProcesses): string {
  const known = processes.list().map((p) => p.id);
  return (
    `No background process "${id}". ` +
    (known.length > 0
      ? `Known: ${known.join(", ")} (see process_list).`
      : "None have been started.")
  );
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
