/**
 * The server's periodic housekeeping (docs/governance.md, "Retention"): tasks that keep the
 * database as the deployment's settings say — chat retention (archive idle chats, delete
 * archived ones) and the audit log's retention. Every replica runs them; each task takes its own
 * advisory lock without waiting, so one replica works at a time and the others skip. They run
 * shortly after start and then every `intervalMs`, one after the other; a failed task is logged
 * and tried again at the next pass, and never stops the others.
 */
import type { Logger } from "../api/index.ts";
import type { Store } from "../store/contract.ts";

/** One kind of work; `run` answers what to log (counts), or null when it did nothing. */
export interface HousekeepingTask {
  readonly name: string;
  run(): Promise<Record<string, number | null> | null>;
}

export interface HousekeepingOptions {
  tasks: readonly HousekeepingTask[];
  logger: Pick<Logger, "info" | "warn">;
  /** Between passes (default one hour). */
  intervalMs?: number;
  /** Before the first pass (default 5 s: the server is serving by then). */
  firstDelayMs?: number;
}

export interface Housekeeping {
  /** One pass now (tests; the timer's passes call it too). */
  runOnce(): Promise<void>;
  /** No pass starts after this; resolves once a running one ended. */
  stop(): Promise<void>;
}

const HOUR_MS = 60 * 60 * 1000;

export function startHousekeeping(options: HousekeepingOptions): Housekeeping {
  const { tasks, logger } = options;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  async function pass(): Promise<void> {
    for (const task of tasks) {
      if (stopped) return;
      try {
        const done = await task.run();
        if (done !== null) logger.info(task.name, done);
      } catch (error) {
        logger.warn(`${task.name} failed; it runs again at the next pass`, {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }

  function runOnce(): Promise<void> {
    running = running.then(() => (stopped ? undefined : pass()));
    return running;
  }

  function schedule(ms: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      void runOnce().then(() => schedule(options.intervalMs ?? HOUR_MS));
    }, ms);
    timer.unref();
  }
  schedule(options.firstDelayMs ?? 5_000);

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** Chat retention as the deployment's settings say (off unless an admin set a period). */
export function chatRetentionTask(
  store: Pick<Store, "deploymentSettings" | "chatRetention">,
): HousekeepingTask {
  return {
    name: "chat retention",
    async run() {
      const settings = await store.deploymentSettings.get();
      const policy = {
        archiveAfterDays: settings.chat_archive_after_days,
        deleteAfterDays: settings.chat_delete_after_days,
      };
      if (policy.archiveAfterDays === null && policy.deleteAfterDays === null) return null;
      const result = await store.chatRetention.apply(policy);
      if (result.archived === 0 && result.deleted === 0) return null;
      return {
        archived: result.archived,
        deleted: result.deleted,
        archive_after_days: policy.archiveAfterDays,
        delete_after_days: policy.deleteAfterDays,
      };
    },
  };
}

/** The audit log's retention: events older than `audit_retention_days` are deleted. */
export function auditRetentionTask(store: Pick<Store, "audit">): HousekeepingTask {
  return {
    name: "audit retention",
    async run() {
      const deleted = await store.audit.prune();
      if (deleted === 0) return null;
      // Even the log's own pruning leaves a trace: how many went, by which setting.
      await store.audit.record({
        actor: { type: "system", id: null, name: "audit retention" },
        action: "audit.prune",
        target: { type: "audit_log", id: null, name: null },
        source: { address: null, user_agent: null },
        outcome: "success",
        error: null,
        changes: {
          deleted: { to: deleted },
          retention_days: { to: await store.audit.retentionDays() },
        },
      });
      return { deleted };
    },
  };
}
