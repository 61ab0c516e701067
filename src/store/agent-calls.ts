/**
 * Tool calls relayed between replicas (`agent_calls`, migration 15): the chat's replica (the
 * origin) writes the call and NOTIFYs the replica holding the workspace's agent (the target); the
 * target claims it once (`pending` → `sent`), streams output back as NOTIFYs and writes the result.
 * Each replica LISTENs on a channel of its own, so it only hears what concerns it. A NOTIFY
 * payload is capped at 8000 bytes: calls and results travel as pointers (read the row), output in
 * chunks that fit. A lost NOTIFY is covered by the origin polling `states` and the target scanning
 * `pendingFor` after its LISTEN connection came back.
 */
import { createHash } from "node:crypto";
import type {
  AgentCallState,
  AgentCallStore,
  ClaimedAgentCall,
  NewAgentCall,
  RelayMessage,
} from "./contract.ts";
import type { Database } from "./db.ts";

/** Output characters per NOTIFY: even if every one is escaped as `\uXXXX`, it stays under 8000. */
const OUTPUT_CHUNK_CHARS = 1200;

/** Every replica hears here that a workspace's agent connected or disconnected (its id). */
export const AGENTS_CHANNEL = "keel_agents";

/** A replica's channel: a valid identifier whatever the replica id holds (`host:hex`). */
export function relayChannel(replica: string): string {
  return `keel_calls_${createHash("sha256").update(replica).digest("hex").slice(0, 24)}`;
}

type CallRow = {
  id: string;
  state: "pending" | "sent" | "done";
  target_replica: string | null;
  result: string | null;
};

export class SqlAgentCallStore implements AgentCallStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async listen(
    replica: string,
    onMessage: (message: RelayMessage) => void,
    onReconnect: () => void,
  ): Promise<() => Promise<void>> {
    return this.#db.listen(
      [relayChannel(replica), AGENTS_CHANNEL],
      (channel, payload) => {
        if (channel === AGENTS_CHANNEL) {
          onMessage({ t: "agent", id: payload });
          return;
        }
        const message = parseMessage(payload);
        if (message) onMessage(message);
      },
      onReconnect,
    );
  }

  async send(call: NewAgentCall): Promise<void> {
    // A call sent again (its target lost the agent) keeps its id and row: it is retargeted, unless
    // a result came meanwhile. Sent again to the target that already claimed it, nothing changes
    // (a claim is once); still unclaimed, its target is told again.
    await this.#db.query(
      `WITH sent AS (
         INSERT INTO agent_calls (id, workspace_id, origin_replica, target_replica, tool, input)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET target_replica = EXCLUDED.target_replica,
           state = 'pending', updated_at = now()
           WHERE agent_calls.state = 'pending'
              OR (agent_calls.state = 'sent'
                  AND agent_calls.target_replica IS DISTINCT FROM EXCLUDED.target_replica)
         RETURNING id)
       SELECT pg_notify($7, $8) FROM sent`,
      [
        call.id,
        call.workspace_id,
        call.origin,
        call.target,
        call.tool,
        JSON.stringify(call.input ?? null),
        relayChannel(call.target),
        JSON.stringify({ t: "call", id: call.id } satisfies RelayMessage),
      ],
    );
  }

  async claim(id: string, replica: string): Promise<ClaimedAgentCall | null> {
    const [row] = await this.#db.query<{
      id: string;
      workspace_id: string;
      origin_replica: string;
      tool: string;
      input: string;
      cancel_requested: boolean;
    }>(
      `UPDATE agent_calls SET state = 'sent', updated_at = now()
        WHERE id = $1 AND target_replica = $2 AND state = 'pending'
        RETURNING id, workspace_id, origin_replica, tool, input, cancel_requested`,
      [id, replica],
    );
    if (!row) return null;
    return {
      id: row.id,
      workspace_id: row.workspace_id,
      origin: row.origin_replica,
      tool: row.tool,
      input: JSON.parse(row.input) as unknown,
      cancelled: row.cancel_requested === true,
    };
  }

  async pendingFor(replica: string): Promise<string[]> {
    const rows = await this.#db.query<{ id: string }>(
      "SELECT id FROM agent_calls WHERE target_replica = $1 AND state = 'pending' ORDER BY created_at",
      [replica],
    );
    return rows.map((row) => row.id);
  }

  async output(origin: string, from: string, id: string, delta: string): Promise<void> {
    for (let start = 0; start < delta.length; ) {
      let end = Math.min(delta.length, start + OUTPUT_CHUNK_CHARS);
      // Never split a surrogate pair between two NOTIFYs.
      if (end < delta.length && isHighSurrogate(delta.charCodeAt(end - 1))) end -= 1;
      const message: RelayMessage = { t: "out", id, from, d: delta.slice(start, end) };
      await this.#db.notify(relayChannel(origin), JSON.stringify(message));
      start = end;
    }
  }

  async finish(
    origin: string,
    from: string,
    id: string,
    result: { output: string; is_error: boolean },
  ): Promise<void> {
    await this.#db.query(
      `WITH done AS (
         UPDATE agent_calls SET state = 'done', result = $2, updated_at = now()
          WHERE id = $1 AND state <> 'done' RETURNING id)
       SELECT pg_notify($3, $4) FROM done`,
      [
        id,
        JSON.stringify(result),
        relayChannel(origin),
        JSON.stringify({ t: "done", id, from } satisfies RelayMessage),
      ],
    );
  }

  async release(origin: string, from: string, id: string): Promise<void> {
    await this.#db.query(
      `WITH released AS (
         UPDATE agent_calls SET state = 'pending', target_replica = NULL, updated_at = now()
          WHERE id = $1 AND target_replica = $2 AND state <> 'done' RETURNING id)
       SELECT pg_notify($3, $4) FROM released`,
      [
        id,
        from,
        relayChannel(origin),
        JSON.stringify({ t: "gone", id, from } satisfies RelayMessage),
      ],
    );
  }

  async releaseClaimed(replica: string): Promise<string[]> {
    const rows = await this.#db.query<{ id: string; origin_replica: string }>(
      `UPDATE agent_calls SET state = 'pending', target_replica = NULL, updated_at = now()
        WHERE target_replica = $1 AND state = 'sent' RETURNING id, origin_replica`,
      [replica],
    );
    for (const row of rows) {
      const message: RelayMessage = { t: "gone", id: row.id, from: replica };
      await this.#db.notify(relayChannel(row.origin_replica), JSON.stringify(message));
    }
    return rows.map((row) => row.id);
  }

  async cancel(id: string): Promise<void> {
    const [row] = await this.#db.query<{ target_replica: string | null }>(
      `UPDATE agent_calls SET cancel_requested = true, updated_at = now()
        WHERE id = $1 AND state <> 'done' RETURNING target_replica`,
      [id],
    );
    if (row?.target_replica) {
      const message: RelayMessage = { t: "cancel", id };
      await this.#db.notify(relayChannel(row.target_replica), JSON.stringify(message));
    }
  }

  async states(ids: readonly string[]): Promise<AgentCallState[]> {
    if (ids.length === 0) return [];
    const rows = await this.#db.query<CallRow>(
      "SELECT id, state, target_replica, result FROM agent_calls WHERE id = ANY($1::text[])",
      [[...ids]],
    );
    return rows.map((row) => ({
      id: row.id,
      state: row.state,
      target: row.target_replica,
      result: row.result === null ? null : parseResult(row.result),
    }));
  }

  async remove(id: string): Promise<void> {
    await this.#db.query("DELETE FROM agent_calls WHERE id = $1", [id]);
  }

  async prune(olderThanMs: number): Promise<void> {
    // Rows whose origin died before it read them: nobody else ever will.
    await this.#db.query(
      "DELETE FROM agent_calls WHERE created_at < now() - make_interval(secs => $1::double precision)",
      [olderThanMs / 1000],
    );
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function parseResult(text: string): { output: string; is_error: boolean } {
  const value = JSON.parse(text) as { output?: unknown; is_error?: unknown };
  return { output: String(value.output ?? ""), is_error: value.is_error === true };
}

/** Only this store writes the channel, but a payload is checked all the same. */
function parseMessage(payload: string): RelayMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const m = value as Record<string, unknown>;
  if (typeof m.id !== "string") return null;
  switch (m.t) {
    case "call":
    case "cancel":
      return { t: m.t, id: m.id };
    case "done":
    case "gone":
      return typeof m.from === "string" ? { t: m.t, id: m.id, from: m.from } : null;
    case "out":
      return typeof m.from === "string" && typeof m.d === "string"
        ? { t: "out", id: m.id, from: m.from, d: m.d }
        : null;
    default:
      return null;
  }
}
