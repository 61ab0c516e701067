/**
 * The tool calls a `keel agent` runs, across its connections to the server (agent.ts). A call
 * outlives the connection that brought it: when the connection drops, the call keeps running and
 * waits (ORPHAN_GRACE_MS) for the server to send it again on the next connection — the server
 * does so with the same id — and that connection gets its further output and its result. So a
 * command that was half-way when the network blinked is neither killed nor run a second time.
 * A call the server never sends again within the grace is stopped (the server gave up on it:
 * it waits 30 s for an agent), and one that finished meanwhile is answered from its result.
 */

import type { WorkspaceMcp } from "./mcp/servers.ts";
import type { AgentFrame, ServerFrame } from "./protocol.ts";
import type { BackgroundProcesses } from "./tools/processes.ts";
import { runWorkspaceTool } from "./tools/run.ts";
import { fail, type WorkspaceToolResult } from "./tools/types.ts";

/** Results kept to answer a call the server sends again after a reconnect. */
const RECENT_RESULTS = 256;
/**
 * How long a call whose connection dropped keeps running without being sent again. Longer than
 * the server's own wait for an agent to come back (30 s), so a re-send always finds it.
 */
export const ORPHAN_GRACE_MS = 45_000;
/** Output is sent at most this often, or as soon as this much is buffered. */
const OUTPUT_FLUSH_MS = 50;
const OUTPUT_FLUSH_CHARS = 16 * 1024;
/** One output frame's delta at most (JSON escapes at most ×6: far below MAX_FRAME_BYTES). */
const OUTPUT_FRAME_CHARS = 256 * 1024;
/** A result's output above this is cut so that its frame always fits MAX_FRAME_BYTES. */
const RESULT_OUTPUT_CHARS = 512 * 1024;

interface RunningCall {
  readonly controller: AbortController;
  readonly done: Promise<void>;
  /** Stopped by the server's `cancel` (not by a lost connection's grace running out). */
  cancelled: boolean;
  /**
   * Set while no connection has the call (its own dropped, and the server has not sent it again
   * on the next): its frames are dropped, and when the timer fires it is stopped.
   */
  orphaned: NodeJS.Timeout | undefined;
}

export interface AgentCallsOptions {
  dir: string;
  log(line: string): void;
  processes: BackgroundProcesses;
  mcp?: WorkspaceMcp;
  /** Default ORPHAN_GRACE_MS (tests shorten it). */
  orphanGraceMs?: number;
}

export class AgentCalls {
  readonly #o: AgentCallsOptions;
  readonly #running = new Map<string, RunningCall>();
  // Results outlive a connection: a call whose result was lost with it is answered again, not
  // run again (a second `write_file` or `execute` could do harm).
  readonly #recent = new RecentResults();
  /** The current connection's send; null between connections (frames are then dropped). */
  #send: ((frame: AgentFrame) => void) | null = null;

  constructor(options: AgentCallsOptions) {
    this.#o = options;
  }

  /** A connection is up: frames go to it from now on. */
  attach(send: (frame: AgentFrame) => void): void {
    this.#send = send;
  }

  /** The connection dropped: its calls keep running until sent again, or the grace ends. */
  detach(): void {
    this.#send = null;
    const graceMs = this.#o.orphanGraceMs ?? ORPHAN_GRACE_MS;
    for (const [id, call] of this.#running) {
      if (call.orphaned) continue;
      call.orphaned = setTimeout(() => {
        this.#o.log(`stopping ${id}: the server did not send it again after the reconnect`);
        call.controller.abort();
      }, graceMs);
      call.orphaned.unref();
    }
  }

  start(frame: Extract<ServerFrame, { type: "call" }>): void {
    const id = frame.call_id;
    const running = this.#running.get(id);
    if (running) {
      if (running.orphaned) {
        clearTimeout(running.orphaned);
        running.orphaned = undefined;
        this.#o.log(`${id} is still running: its result goes to this connection`);
      } else {
        this.#o.log(`ignored a second call ${id}: it is already running`);
      }
      return;
    }
    const answered = this.#recent.get(id);
    if (answered) {
      this.#o.log(`answering ${id} again from its result (it already ran)`);
      this.#send?.({ type: "result", call_id: id, ...fitResult(answered) });
      return;
    }
    this.#o.log(`running ${frame.tool} (${id})`);
    const controller = new AbortController();
    // Frames of a call go to the current connection only once it has the call (it was sent
    // there): a call the server gave up on never answers on a connection that never asked.
    const send = (frame: AgentFrame) => {
      if (!this.#running.get(id)?.orphaned) this.#send?.(frame);
    };
    const output = new OutputCoalescer((delta) => send({ type: "output", call_id: id, delta }));
    // Built-in tool names have no "__"; MCP tools' always do (`<server>__<tool>`).
    const mcp = frame.tool.includes("__") ? this.#o.mcp : undefined;
    const run = mcp
      ? mcp.call(frame.tool, frame.input, controller.signal)
      : runWorkspaceTool(frame.tool, frame.input, {
          root: this.#o.dir,
          signal: controller.signal,
          onOutput: (delta: string) => output.push(delta),
          processes: this.#o.processes,
        });
    const done = run
      .catch((error: unknown) => fail(`The agent failed to run the tool: ${String(error)}`))
      .then((result: WorkspaceToolResult) => {
        output.close();
        // Stopped because the agent is stopping or the grace ran out: it did not finish, and a
        // later send runs it anew. Finished (or cancelled by the server): that is its answer.
        const call = this.#running.get(id);
        if (!controller.signal.aborted || call?.cancelled) this.#recent.set(id, result);
        send({ type: "result", call_id: id, ...fitResult(result) });
      })
      .finally(() => {
        clearTimeout(this.#running.get(id)?.orphaned);
        this.#running.delete(id);
      });
    this.#running.set(id, { controller, done, cancelled: false, orphaned: undefined });
  }

  cancel(id: string): void {
    const call = this.#running.get(id);
    if (!call) return; // already finished: its result is on its way
    this.#o.log(`cancelling ${id}`);
    call.cancelled = true;
    call.controller.abort();
  }

  /** Stops every call (the agent is stopping); resolves once each has ended or `graceMs` passed. */
  async stopAll(graceMs: number): Promise<void> {
    const calls = [...this.#running.values()];
    for (const call of calls) {
      clearTimeout(call.orphaned);
      call.controller.abort();
    }
    await settledWithin(
      calls.map((c) => c.done),
      graceMs,
    );
  }
}

/** The results of the last RECENT_RESULTS calls, by call id (ids are unique per call). */
class RecentResults {
  readonly #results = new Map<string, WorkspaceToolResult>();

  get(id: string): WorkspaceToolResult | undefined {
    return this.#results.get(id);
  }

  set(id: string, result: WorkspaceToolResult): void {
    this.#results.set(id, result);
    if (this.#results.size > RECENT_RESULTS) {
      const oldest = this.#results.keys().next().value;
      if (oldest !== undefined) this.#results.delete(oldest);
    }
  }
}

/** Buffers a call's output and sends it every OUTPUT_FLUSH_MS, or at once past a size. */
class OutputCoalescer {
  readonly #send: (delta: string) => void;
  #buffer = "";
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(send: (delta: string) => void) {
    this.#send = send;
  }

  push(delta: string): void {
    if (this.#closed || delta === "") return;
    this.#buffer += delta;
    if (this.#buffer.length >= OUTPUT_FLUSH_CHARS) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), OUTPUT_FLUSH_MS);
  }

  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#buffer !== "") {
      const cut = safeCut(this.#buffer, OUTPUT_FRAME_CHARS);
      this.#send(this.#buffer.slice(0, cut));
      this.#buffer = this.#buffer.slice(cut);
    }
  }

  /** Sends what is left; later output (there should be none) is dropped. */
  close(): void {
    this.flush();
    this.#closed = true;
  }
}

/** A result whose frame fits MAX_FRAME_BYTES (the tools cap far lower; this is the backstop). */
function fitResult(result: WorkspaceToolResult): WorkspaceToolResult {
  if (result.output.length <= RESULT_OUTPUT_CHARS) {
    return { output: result.output, is_error: result.is_error };
  }
  const head = result.output.slice(0, safeCut(result.output, RESULT_OUTPUT_CHARS));
  return {
    output: `${head}\n[… output cut by the agent: it exceeded ${RESULT_OUTPUT_CHARS} characters]`,
    is_error: result.is_error,
  };
}

/** Where to cut `text` at most `max` characters in, without splitting a surrogate pair. */
function safeCut(text: string, max: number): number {
  if (text.length <= max) return text.length;
  const last = text.charCodeAt(max - 1);
  return last >= 0xd800 && last <= 0xdbff ? max - 1 : max;
}

async function settledWithin(promises: Promise<unknown>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([Promise.allSettled(promises), deadline]);
  clearTimeout(timer);
}
