/**
 * The embedded default: `keel server` runs a local `keel agent` child for each workspace that has
 * a server-side directory — the same protocol and token path as a remote agent. A child that dies
 * is restarted with backoff; one that exits 0 chose to stop (another agent took the workspace
 * over) and is left alone. The child's environment is an allow-list: the server's secrets (its
 * key, its database URL, provider API keys) never reach a process that runs the model's commands.
 *
 * Children run in their own process group (a Ctrl-C at the server's terminal reaches the server
 * only, which then stops them in order) and hold an IPC channel to the server: `keel agent`
 * stops when it closes, so a server that dies does not leave agents behind.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

export interface AgentSupervisorOptions {
  /** Where the children connect (http://127.0.0.1:PORT of this server). */
  serverUrl: string;
  /** The `bin/keel.js` to run with this Node.js. */
  keelBin: string;
  log: (line: string) => void;
  /** Restart delay after a crash: doubles from minMs (default 1 s) up to maxMs (default 30 s). */
  restartBackoff?: { minMs?: number; maxMs?: number };
}

/** The only variables a child inherits (plus LC_*), then its token. */
const ENV_ALLOW_LIST = ["PATH", "HOME", "USER", "LANG", "TERM", "TMPDIR", "SHELL", "TZ"];
const KILL_AFTER_MS = 2_000;
/** A child that ran this long was healthy: the restart backoff starts over. */
const STABLE_RUN_MS = 10_000;
const MAX_LOG_LINE = 2_000;

/** The environment of an agent child: allow-listed variables of `source`, and the token. */
export function agentEnvironment(source: NodeJS.ProcessEnv, token: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(source)) {
    if (value !== undefined && (ENV_ALLOW_LIST.includes(name) || name.startsWith("LC_"))) {
      env[name] = value;
    }
  }
  env.KEEL_AGENT_TOKEN = token;
  return env;
}

interface SupervisedAgent {
  readonly workspaceId: string;
  readonly dir: string;
  readonly token: string;
  child: ChildProcess | null;
  startedAt: number;
  failures: number;
  restartTimer: NodeJS.Timeout | undefined;
  stopped: boolean;
}

export class AgentSupervisor {
  readonly #o: AgentSupervisorOptions;
  readonly #agents = new Map<string, SupervisedAgent>();
  #closed = false;

  constructor(options: AgentSupervisorOptions) {
    this.#o = options;
  }

  /** Starts the workspace's agent, or restarts it when its directory or token changed. */
  ensure(workspaceId: string, dir: string, token: string): void {
    if (this.#closed) return;
    const current = this.#agents.get(workspaceId);
    if (current && current.dir === dir && current.token === token && isRunning(current)) return;
    if (current) void this.#stopAgent(current);
    const agent: SupervisedAgent = {
      workspaceId,
      dir,
      token,
      child: null,
      startedAt: 0,
      failures: 0,
      restartTimer: undefined,
      stopped: false,
    };
    this.#agents.set(workspaceId, agent);
    this.#start(agent);
  }

  /** Stops the workspace's agent (SIGTERM, SIGKILL after 2 s); resolves when it has exited. */
  async stop(workspaceId: string): Promise<void> {
    const agent = this.#agents.get(workspaceId);
    if (!agent) return;
    this.#agents.delete(workspaceId);
    await this.#stopAgent(agent);
  }

  /** Stops every agent; resolves when all have exited. Later `ensure` calls do nothing. */
  async close(): Promise<void> {
    this.#closed = true;
    const agents = [...this.#agents.values()];
    this.#agents.clear();
    await Promise.all(agents.map((agent) => this.#stopAgent(agent)));
  }

  #start(agent: SupervisedAgent): void {
    const { serverUrl, keelBin } = this.#o;
    // --no-mcp: a `.mcp.json` in a server-side directory would run its commands on the server.
    const child = spawn(
      process.execPath,
      [keelBin, "agent", "--url", serverUrl, "--dir", agent.dir, "--no-mcp"],
      {
        env: agentEnvironment(process.env, agent.token),
        stdio: ["ignore", "pipe", "pipe", "ipc"],
        detached: true,
      },
    );
    agent.child = child;
    agent.startedAt = Date.now();
    const log = (line: string) =>
      this.#o.log(`[agent ${agent.workspaceId}] ${line.slice(0, MAX_LOG_LINE)}`);
    forwardLines(child.stdout, log);
    forwardLines(child.stderr, log);
    child.once("error", (error) => {
      log(`could not run: ${error.message}`);
      if (child.pid === undefined) this.#onExit(agent, child, null, null);
    });
    child.once("exit", (code, signal) => this.#onExit(agent, child, code, signal));
  }

  #onExit(
    agent: SupervisedAgent,
    child: ChildProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    if (agent.child !== child) return;
    agent.child = null;
    if (agent.stopped) return;
    const log = (line: string) => this.#o.log(`[agent ${agent.workspaceId}] ${line}`);
    if (code === 0) {
      log("exited by itself (another agent took the workspace over?); not restarting");
      return;
    }
    if (Date.now() - agent.startedAt > STABLE_RUN_MS) agent.failures = 0;
    const minMs = this.#o.restartBackoff?.minMs ?? 1_000;
    const maxMs = this.#o.restartBackoff?.maxMs ?? 30_000;
    const delay = Math.min(maxMs, minMs * 2 ** Math.min(agent.failures++, 30));
    log(`exited (${signal ?? `code ${code}`}); restarting in ${(delay / 1000).toFixed(1)} s`);
    agent.restartTimer = setTimeout(() => {
      agent.restartTimer = undefined;
      if (!agent.stopped) this.#start(agent);
    }, delay);
  }

  #stopAgent(agent: SupervisedAgent): Promise<void> {
    agent.stopped = true;
    clearTimeout(agent.restartTimer);
    const child = agent.child;
    if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const force = setTimeout(() => child.kill("SIGKILL"), KILL_AFTER_MS);
      child.once("exit", () => {
        clearTimeout(force);
        resolve();
      });
      child.kill("SIGTERM");
    });
  }
}

function isRunning(agent: SupervisedAgent): boolean {
  return !agent.stopped && (agent.child !== null || agent.restartTimer !== undefined);
}

function forwardLines(stream: Readable | null, log: (line: string) => void): void {
  if (!stream) return;
  createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on("line", log);
}
