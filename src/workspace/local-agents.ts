/**
 * Keeps one supervised local agent per workspace that has a server-side directory: started when
 * the workspace appears (with a freshly minted token, since only its hash is stored), stopped
 * when it is deleted. Polling the workspaces table keeps this independent of which request
 * created the workspace. With several replicas, the directory is on the machine of the replica
 * that created the workspace (recorded with it): only that replica runs its agent, and the
 * others reach it through the relay. A workspace recorded with no replica (made before replicas
 * were recorded) is run by the replica told to `adoptUnrecorded` — the embedded database's one.
 */
import type { WorkspaceStore } from "../store/contract.ts";
import type { AgentSupervisor } from "./supervisor.ts";

export interface LocalAgentsOptions {
  store: Pick<WorkspaceStore, "directoryWorkspaces" | "rotateAgentToken">;
  /** This replica: it runs the agents of the directory workspaces recorded as its own. */
  replicaId: string;
  /** Also run those recorded with no replica (only where no other replica can exist). */
  adoptUnrecorded: boolean;
  supervisor: Pick<AgentSupervisor, "ensure" | "stop" | "close">;
  log: (message: string, fields?: Record<string, unknown>) => void;
  /** How often to look for new and deleted workspaces (default 2 s). */
  intervalMs?: number;
}

export class LocalAgents {
  readonly #o: LocalAgentsOptions;
  /** Workspace id → the directory its agent runs in. */
  readonly #running = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #reconciling: Promise<void> | undefined;
  #closed = false;

  constructor(options: LocalAgentsOptions) {
    this.#o = options;
  }

  start(): void {
    void this.reconcile();
    this.#timer = setInterval(() => void this.reconcile(), this.#o.intervalMs ?? 2_000);
    this.#timer.unref();
  }

  /** One pass: start agents for new directory workspaces, stop those of deleted ones. */
  reconcile(): Promise<void> {
    this.#reconciling ??= this.#reconcile().finally(() => {
      this.#reconciling = undefined;
    });
    return this.#reconciling;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#reconciling;
    await this.#o.supervisor.close();
  }

  async #reconcile(): Promise<void> {
    try {
      const wanted = (await this.#o.store.directoryWorkspaces()).filter((w) =>
        w.replica === null ? this.#o.adoptUnrecorded : w.replica === this.#o.replicaId,
      );
      for (const workspace of wanted) {
        const dir = workspace.directory;
        if (this.#closed || this.#running.get(workspace.id) === dir) continue;
        const token = await this.#o.store.rotateAgentToken(workspace.id);
        if (token === null) continue; // deleted meanwhile
        this.#o.supervisor.ensure(workspace.id, dir, token);
        this.#running.set(workspace.id, dir);
        this.#o.log("local agent started", { workspace: workspace.id, dir });
      }
      const ids = new Set(wanted.map((w) => w.id));
      for (const id of [...this.#running.keys()]) {
        if (ids.has(id)) continue;
        this.#running.delete(id);
        await this.#o.supervisor.stop(id);
        this.#o.log("local agent stopped: workspace deleted", { workspace: id });
      }
    } catch (error) {
      this.#o.log("supervising local agents failed", { error: String(error) });
    }
  }
}
