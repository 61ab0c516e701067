/**
 * The server's periodic housekeeping (docs/governance.md, "Retention"): chat retention —
 * archiving idle chats and deleting archived ones, as the deployment's settings say. Every
 * replica runs it; each pass takes its advisory lock without waiting, so one replica works at a
 * time and the others skip. It runs shortly after start and then every `intervalMs`; a failed
 * pass is logged and tried again at the next.
 */
import type { Logger } from "../api/index.ts";
import type { Store } from "../store/contract.ts";

export interface HousekeepingOptions {
  store: Pick<Store, "deploymentSettings" | "chatRetention">;
  logger: Pick<Logger, "info" | "warn">;
  /** Between passes (default one hour). */
  intervalMs?: number;
  /** Before the first pass (default 30 s: the server is serving by then). */
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
  const { store, logger } = options;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  async function pass(): Promise<void> {
    const settings = await store.deploymentSettings.get();
    const policy = {
      archiveAfterDays: settings.chat_archive_after_days,
      deleteAfterDays: settings.chat_delete_after_days,
    };
    if (policy.archiveAfterDays === null && policy.deleteAfterDays === null) return;
    const result = await store.chatRetention.apply(policy);
    if (result.archived > 0 || result.deleted > 0) {
      logger.info("chat retention", {
        archived: result.archived,
        deleted: result.deleted,
        archive_after_days: policy.archiveAfterDays,
        delete_after_days: policy.deleteAfterDays,
      });
    }
  }

  function runOnce(): Promise<void> {
    running = running.then(() =>
      stopped
        ? undefined
        : pass().catch((error: unknown) => {
            logger.warn("chat retention failed; it runs again at the next pass", {
              error: error instanceof Error ? error.message : String(error),
            });
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
  schedule(options.firstDelayMs ?? 30_000);

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
