/**
 * The audit log's retention (docs/governance.md, "The audit log"): deletes audit events older
 * than the `audit_retention_days` setting (default 365; null keeps them forever), in batches,
 * right after start and then hourly. Every replica runs the job; the store's prune takes its
 * advisory lock without waiting, so one replica deletes at a time and the others skip the pass.
 */
import type { Logger } from "../api/index.ts";
import type { Store } from "../store/contract.ts";

export interface AuditRetentionOptions {
  store: Pick<Store, "audit">;
  logger: Pick<Logger, "info" | "warn">;
  /** Between passes (default one hour). */
  intervalMs?: number;
  /** Before the first pass (default 5 s: the server is serving by then). */
  firstDelayMs?: number;
}

export interface AuditRetention {
  /** One pass now (tests; the timer's passes call it too); the number of events deleted. */
  runOnce(): Promise<number>;
  /** No pass starts after this; resolves once a running one ended. */
  stop(): Promise<void>;
}

const HOUR_MS = 60 * 60 * 1000;

export function startAuditRetention(options: AuditRetentionOptions): AuditRetention {
  const { store, logger } = options;
  let running: Promise<number> = Promise.resolve(0);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  async function pass(): Promise<number> {
    const deleted = await store.audit.prune();
    if (deleted > 0) {
      logger.info("audit retention", { deleted });
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
    }
    return deleted;
  }

  function runOnce(): Promise<number> {
    running = running.then(() =>
      stopped
        ? 0
        : pass().catch((error: unknown) => {
            logger.warn("audit retention failed; it runs again at the next pass", {
              error: error instanceof Error ? error.message : String(error),
            });
            return 0;
          }),
    );
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
