/**
 * How a route records what it did in the audit log (docs/governance.md, "The audit log"). The
 * route names its action (and target); the actor, the client's address (the one the sign-in
 * rate limit uses, so `--trust-proxy` applies alike) and the user agent come from the request.
 *
 *   app.openapi(route, (c) => ctx.audit.run(c, "group.create", async (note) => { … }));
 *
 * `run` makes the change and its row one transaction; `after` is for what must not run inside
 * one (a chat's changes that wait on the chat event log, a provider test that calls out) or
 * changes no row: it records the outcome on its own once `fn` has finished.
 */
import type { Context } from "hono";
import { ChatRequestError } from "../chatd/contract.ts";
import {
  type AuditActor,
  type AuditChanges,
  type AuditEntry,
  type AuditNote,
  type AuditTarget,
  SECRET_CHANGED,
} from "../store/audit.ts";
import { ConflictError, type Store } from "../store/contract.ts";
import type { AppEnv } from "./context.ts";
import { ApiError } from "./errors.ts";

export type { AuditNote, AuditTarget };

export interface AuditOptions {
  /** Known before the change (an update's, a delete's); a create sets `note.target`. */
  target?: AuditTarget | null;
  /** Default: the signed-in user (none: an anonymous user). */
  actor?: AuditActor;
}

export interface Auditor {
  /** `change` and its audit row in one transaction; a failure recorded on its own, rethrown. */
  run<T>(
    c: Context<AppEnv>,
    action: string,
    change: (note: AuditNote) => Promise<T>,
    options?: AuditOptions,
  ): Promise<T>;
  /** `fn` outside any transaction, then its outcome recorded on its own (see the top). */
  after<T>(
    c: Context<AppEnv>,
    action: string,
    fn: (note: AuditNote) => Promise<T>,
    options?: AuditOptions,
  ): Promise<T>;
  /**
   * For a store statement that writes its own audit row (a new chat's): `fn` gets the success
   * row to write with its change; a failure is recorded on its own, rethrown.
   */
  inStatement<T>(
    c: Context<AppEnv>,
    action: string,
    fn: (entry: AuditEntry) => Promise<T>,
    options?: AuditOptions & { changes?: AuditChanges | null },
  ): Promise<T>;
  /** A row with everything given (a failed sign-in: no user, the attempted name). */
  record(
    c: Context<AppEnv>,
    entry: Pick<AuditEntry, "action" | "outcome"> & Partial<AuditEntry>,
  ): Promise<void>;
}

/** What a failure row says: the status and message the client got, never an internal detail. */
export function failureText(error: unknown): string {
  if (error instanceof ApiError) {
    return `${error.status} ${error.code ? `${error.code}: ` : ""}${error.message}`;
  }
  if (error instanceof ChatRequestError) {
    return `${error.status} ${error.code ? `${error.code}: ` : ""}${error.message}`;
  }
  if (error instanceof ConflictError) return `409 ${error.message}`;
  return "500 Internal error";
}

export function createAuditor(
  store: Pick<Store, "audit">,
  clientIp: (c: Context) => string,
): Auditor {
  function actorOf(c: Context<AppEnv>, options?: AuditOptions): AuditActor {
    if (options?.actor) return options.actor;
    const user = c.get("user");
    return user
      ? { type: "user", id: user.id, name: user.username }
      : { type: "user", id: null, name: null };
  }

  function sourceOf(c: Context<AppEnv>) {
    const address = clientIp(c);
    return {
      address: address === "unknown" ? null : address,
      user_agent: c.req.header("user-agent")?.slice(0, 512) ?? null,
    };
  }

  async function recordFailure(
    c: Context<AppEnv>,
    action: string,
    note: AuditNote,
    error: unknown,
    options?: AuditOptions,
  ): Promise<void> {
    await store.audit
      .record({
        actor: actorOf(c, options),
        action,
        target: note.target,
        source: sourceOf(c),
        outcome: "failure",
        error: failureText(error),
        changes: null,
      })
      // The request's own error is what the client must get, not the audit's.
      .catch(() => {});
  }

  return {
    async run(c, action, change, options) {
      const note: AuditNote = { target: options?.target ?? null, changes: null };
      try {
        return await store.audit.audited(
          { actor: actorOf(c, options), action, source: sourceOf(c), target: note.target },
          async (inner) => {
            const result = await change(inner);
            note.target = inner.target;
            return result;
          },
        );
      } catch (error) {
        await recordFailure(c, action, note, error, options);
        throw error;
      }
    },

    async after(c, action, fn, options) {
      const note: AuditNote = { target: options?.target ?? null, changes: null };
      let result: Awaited<ReturnType<typeof fn>>;
      try {
        result = await fn(note);
      } catch (error) {
        await recordFailure(c, action, note, error, options);
        throw error;
      }
      await store.audit.record({
        actor: actorOf(c, options),
        action,
        target: note.target,
        source: sourceOf(c),
        outcome: "success",
        error: null,
        changes: note.changes,
      });
      return result;
    },

    async inStatement(c, action, fn, options) {
      const target = options?.target ?? null;
      try {
        return await fn({
          actor: actorOf(c, options),
          action,
          target,
          source: sourceOf(c),
          outcome: "success",
          error: null,
          changes: options?.changes ?? null,
        });
      } catch (error) {
        await recordFailure(c, action, { target, changes: null }, error, options);
        throw error;
      }
    },

    async record(c, entry) {
      await store.audit.record({
        actor: entry.actor ?? actorOf(c),
        target: entry.target ?? null,
        source: entry.source ?? sourceOf(c),
        error: entry.error ?? null,
        changes: entry.changes ?? null,
        action: entry.action,
        outcome: entry.outcome,
      });
    },
  };
}

/** Fields no diff shows: they change with everything or are the target itself. */
const NOT_CHANGES = new Set(["id", "created_at", "updated_at", "last_used_at"]);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The diff `{field: {from, to}}` between two views of a row (a create has no `before`, a delete
 * no `after`). Views never hold secrets; `secrets` names the secret fields the request set (an
 * API key, a password, a secret option `options.x`): each reads `"[changed]"`, whatever the views
 * show. A nested object (`options`) is diffed a level down, as `options.name`.
 */
export function changesOf(
  before: object | null,
  after: object | null,
  secrets: readonly string[] = [],
): AuditChanges | null {
  const out: AuditChanges = {};
  const walk = (
    from: Record<string, unknown> | null,
    to: Record<string, unknown> | null,
    prefix: string,
  ) => {
    const keys = new Set([...Object.keys(from ?? {}), ...Object.keys(to ?? {})]);
    for (const key of keys) {
      if (prefix === "" && NOT_CHANGES.has(key)) continue;
      const a = from?.[key];
      const b = to?.[key];
      if (from !== null && to !== null && same(a, b)) continue;
      const path = `${prefix}${key}`;
      if (from !== null && to !== null && isPlainObject(a) && isPlainObject(b)) {
        walk(a, b, `${path}.`);
        continue;
      }
      const change: { from?: unknown; to?: unknown } = {};
      if (from !== null && a !== undefined) change.from = a;
      if (to !== null && b !== undefined) change.to = b;
      out[path] = change;
    }
  };
  walk(before as Record<string, unknown> | null, after as Record<string, unknown> | null, "");
  for (const secret of secrets) out[secret] = SECRET_CHANGED;
  return Object.keys(out).length > 0 ? out : null;
}

/** The secret fields of a request body that it sets (present, null included: a removal). */
export function secretsSet(body: object, names: readonly string[]): string[] {
  return names.filter(
    (name) => name in body && (body as Record<string, unknown>)[name] !== undefined,
  );
}

/** Option names whose values are credentials (as the views' redaction names them). */
const SECRET_OPTION = /secret|token|password|api[_-]?key|credential|authorization/i;

/**
 * The options a request set (or removed) whose values a view hides — `headers`, a name that
 * reads as a credential, or one the view shows as `redacted` — as `options.name`: secrets whose
 * change reads `"[changed]"`.
 */
export function secretOptionsSet(
  sent: Record<string, unknown> | undefined,
  shown: Record<string, unknown>,
  redacted: string,
): string[] {
  return Object.keys(sent ?? {})
    .filter((key) => key === "headers" || SECRET_OPTION.test(key) || shown[key] === redacted)
    .map((key) => `options.${key}`);
}
