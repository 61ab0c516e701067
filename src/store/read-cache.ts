/**
 * Hot reads kept in memory (DESIGN.md §5): what every turn and many requests ask for and rarely
 * changes — a model, a provider, the deployment's settings, a user's preferences — so a busy
 * database is not asked the same thing each time.
 *
 * An entry is dropped when it changes: at once on the replica that wrote it, and on every other
 * replica by a NOTIFY on `CACHE_CHANNEL` naming the keys (sent with the write). A LISTEN
 * connection that was down may have missed some, so a reconnect drops everything; and no entry
 * outlives `ttlMs` whatever happens. Concurrent misses share one load. Secrets are never cached
 * here (a provider's decrypted configuration is read when a model is built, see chatd/models.ts).
 */
import type { Database } from "./db.ts";

export const CACHE_CHANNEL = "keel_cache";
const DEFAULT_TTL_MS = 30_000;

interface Entry {
  readonly at: number;
  readonly value: Promise<unknown>;
}

export class ReadCache {
  readonly #db: Database;
  readonly #instanceId: string;
  readonly #ttlMs: number;
  readonly #entries = new Map<string, Entry>();

  constructor(db: Database, instanceId: string, ttlMs = DEFAULT_TTL_MS) {
    this.#db = db;
    this.#instanceId = instanceId;
    this.#ttlMs = ttlMs;
  }

  /**
   * The cached value of `key`, or `load()`'s (cached unless it fails). Each caller gets its own
   * copy: whatever it does with it, the cache keeps the value as read.
   */
  async get<T>(key: string, load: () => Promise<T>): Promise<T> {
    // Inside a transaction the read may see its uncommitted writes: never cached, never shared.
    if (this.#db.inTransaction()) return load();
    return structuredClone(await this.#shared(key, load));
  }

  #shared<T>(key: string, load: () => Promise<T>): Promise<T> {
    const entry = this.#entries.get(key);
    if (entry && Date.now() - entry.at < this.#ttlMs) return entry.value as Promise<T>;
    const value = load();
    const fresh: Entry = { at: Date.now(), value };
    this.#entries.set(key, fresh);
    // A failed read is not remembered (only this entry: an invalidation may have replaced it).
    value.catch(() => {
      if (this.#entries.get(key) === fresh) this.#entries.delete(key);
    });
    return value;
  }

  /**
   * `keys` changed (call after the write committed): dropped here, and on the other replicas by
   * NOTIFY. A failed NOTIFY is not the write's failure: their entries expire within the TTL.
   */
  async changed(...keys: string[]): Promise<void> {
    // In an ambient transaction (an audited change) the drop waits for the COMMIT: a read in
    // between would cache the old value again.
    await this.#db.afterCommit(async () => {
      for (const key of keys) this.#entries.delete(key);
      if (!this.#db.shared) return;
      await this.#db
        .notify(CACHE_CHANNEL, JSON.stringify({ o: this.#instanceId, k: keys }))
        .catch(() => {});
    });
  }

  onNotification(payload: string): void {
    try {
      const { o, k } = JSON.parse(payload) as { o?: unknown; k?: unknown };
      if (o === this.#instanceId || !Array.isArray(k)) return;
      for (const key of k) if (typeof key === "string") this.#entries.delete(key);
    } catch {
      this.clear();
    }
  }

  /** Forgets everything (the LISTEN connection came back: notifications may have been lost). */
  clear(): void {
    this.#entries.clear();
  }
}

export const cacheKeys = {
  model: (id: string) => `model:${id}`,
  provider: (id: string) => `provider:${id}`,
  settings: "settings",
  preferences: (userId: string) => `preferences:${userId}`,
  /** Which models are restricted to which groups (`groups.ts`). */
  modelGroups: "model_groups",
};
