/**
 * Workspaces: where a chat's tools run, and the token their `keel agent` authenticates with. The
 * token is stored hashed (sha256, like API tokens) in its own table column, under its own prefix,
 * so it can never authenticate as a user, and a user token never as an agent.
 *
 * Whether an agent is connected is a database fact, so every replica answers the same: the
 * replica holding the agent's WebSocket records itself and refreshes `agent_last_seen_at`; a
 * replica that dies stops refreshing, and after `AGENT_STALE` the agent counts as disconnected.
 */
import { AGENTS_CHANNEL, SqlAgentCallStore } from "./agent-calls.ts";
import type { AgentCallStore, AgentEnvironment, WorkspaceStore } from "./contract.ts";
import { ConflictError } from "./contract.ts";
import { hashToken, newToken } from "./credentials.ts";
import { type Database, FOREIGN_KEY_VIOLATION, sqlState } from "./db.ts";
import { iso, isoOrNull } from "./rows.ts";
import type { Workspace } from "./types.ts";

export const AGENT_TOKEN_PREFIX = "keelws_";
/** An agent whose replica has not vouched for it for this long is shown disconnected. */
const AGENT_STALE = "60 seconds";

const COLUMNS = `id, owner_id, name, directory, agent_version, agent_last_seen_at, created_at,
  (agent_replica IS NOT NULL AND agent_last_seen_at > now() - interval '${AGENT_STALE}') AS connected`;

type WorkspaceRow = {
  id: string;
  owner_id: string;
  name: string;
  directory: string | null;
  agent_version: string | null;
  agent_last_seen_at: unknown;
  created_at: unknown;
  connected: boolean;
};

function toWorkspace(row: WorkspaceRow): Workspace {
  return {
    id: row.id,
    owner_id: row.owner_id,
    name: row.name,
    directory: row.directory,
    agent: {
      connected: row.connected === true,
      version: row.agent_version,
      last_seen_at: isoOrNull(row.agent_last_seen_at),
    },
    created_at: iso(row.created_at),
  };
}

export class SqlWorkspaceStore implements WorkspaceStore {
  readonly #db: Database;
  readonly calls: AgentCallStore;
  #replica: string | null = null;

  constructor(db: Database) {
    this.#db = db;
    this.calls = new SqlAgentCallStore(db);
  }

  setReplica(replica: string): void {
    this.#replica = replica;
  }

  async create(input: {
    owner_id: string;
    name: string;
    directory: string | null;
  }): Promise<{ workspace: Workspace; agent_token: string }> {
    const token = newToken(AGENT_TOKEN_PREFIX);
    const rows = await this.#db
      .query<WorkspaceRow>(
        `INSERT INTO workspaces (owner_id, name, directory, agent_token_hash, directory_replica)
         VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
        [
          input.owner_id,
          input.name,
          input.directory,
          hashToken(token),
          // The directory was named on this replica's machine: this replica runs its agent.
          input.directory === null ? null : this.#replica,
        ],
      )
      .catch((error: unknown) => {
        if (sqlState(error) === FOREIGN_KEY_VIOLATION) throw new ConflictError("unknown owner");
        throw error;
      });
    return { workspace: toWorkspace(one(rows)), agent_token: token };
  }

  async get(id: string): Promise<Workspace | null> {
    const [row] = await this.#db.query<WorkspaceRow>(
      `SELECT ${COLUMNS} FROM workspaces WHERE id = $1`,
      [id],
    );
    return row ? toWorkspace(row) : null;
  }

  async list(ownerId: string | undefined): Promise<Workspace[]> {
    const rows = await this.#db.query<WorkspaceRow>(
      `SELECT ${COLUMNS} FROM workspaces WHERE $1::text IS NULL OR owner_id = $1
       ORDER BY created_at, id`,
      [ownerId ?? null],
    );
    return rows.map(toWorkspace);
  }

  async delete(id: string): Promise<boolean> {
    const rows = await this.#db.query("DELETE FROM workspaces WHERE id = $1 RETURNING id", [id]);
    return rows.length > 0;
  }

  async forAgentToken(token: string): Promise<Workspace | null> {
    if (!token.startsWith(AGENT_TOKEN_PREFIX)) return null;
    const [row] = await this.#db.query<WorkspaceRow>(
      `SELECT ${COLUMNS} FROM workspaces
        WHERE agent_token_hash = $1
          AND owner_id IN (SELECT id FROM users WHERE deactivated_at IS NULL)`,
      [hashToken(token)],
    );
    return row ? toWorkspace(row) : null;
  }

  async rotateAgentToken(id: string): Promise<string | null> {
    const token = newToken(AGENT_TOKEN_PREFIX);
    const rows = await this.#db.query(
      "UPDATE workspaces SET agent_token_hash = $2 WHERE id = $1 RETURNING id",
      [id, hashToken(token)],
    );
    return rows.length > 0 ? token : null;
  }

  async agentConnected(
    id: string,
    replica: string,
    version: string,
    environment?: AgentEnvironment,
  ): Promise<void> {
    await this.#db.query(
      // A new connection starts with no MCP tools until its agent offers them. The other replicas
      // hear of it at once (where it runs goes into their chats' instructions).
      `WITH moved AS (
         UPDATE workspaces SET agent_replica = $2, agent_version = $3, agent_last_seen_at = now(),
           agent_platform = $4, agent_directory = $5, agent_mcp_tools = NULL
          WHERE id = $1 RETURNING id)
       SELECT pg_notify('${AGENTS_CHANNEL}', id) FROM moved`,
      [id, replica, version, environment?.platform ?? null, environment?.directory ?? null],
    );
  }

  async agentsSeen(ids: readonly string[], replica: string): Promise<string[]> {
    if (ids.length === 0) return [];
    // A record cleared while this replica holds a live connection (its own disconnect of an
    // earlier connection committed after the new one's connect) is taken back. The SELECT sees
    // the rows as they were before the UPDATE: those naming another replica are the moved ones.
    const rows = await this.#db.query<{ id: string }>(
      `WITH seen AS (
         UPDATE workspaces SET agent_replica = $2, agent_last_seen_at = now()
          WHERE id = ANY($1::text[]) AND (agent_replica = $2 OR agent_replica IS NULL)
          RETURNING id)
       SELECT id FROM workspaces
        WHERE id = ANY($1::text[]) AND agent_replica <> $2 AND id NOT IN (SELECT id FROM seen)`,
      [[...ids], replica],
    );
    return rows.map((row) => row.id);
  }

  async agentDisconnected(id: string, replica: string): Promise<void> {
    // Only this replica's record: the agent may already have reconnected to another one.
    await this.#db.query(
      `WITH left_ AS (
         UPDATE workspaces SET agent_replica = NULL, agent_last_seen_at = now()
          WHERE id = $1 AND agent_replica = $2 RETURNING id)
       SELECT pg_notify('${AGENTS_CHANNEL}', id) FROM left_`,
      [id, replica],
    );
  }

  async agentHolder(id: string): Promise<string | null> {
    const [row] = await this.#db.query<{ agent_replica: string | null }>(
      `SELECT agent_replica FROM workspaces
        WHERE id = $1 AND agent_last_seen_at > now() - interval '${AGENT_STALE}'`,
      [id],
    );
    return row?.agent_replica ?? null;
  }

  async heldAgents(): Promise<Array<{ id: string; replica: string } & AgentEnvironment>> {
    const rows = await this.#db.query<{
      id: string;
      agent_replica: string;
      agent_platform: string | null;
      agent_directory: string | null;
    }>(
      `SELECT id, agent_replica, agent_platform, agent_directory FROM workspaces
        WHERE agent_replica IS NOT NULL
          AND agent_last_seen_at > now() - interval '${AGENT_STALE}'`,
    );
    return rows.map((row) => ({
      id: row.id,
      replica: row.agent_replica,
      platform: row.agent_platform,
      directory: row.agent_directory,
    }));
  }

  async setAgentMcpTools(id: string, replica: string, toolsJson: string): Promise<void> {
    await this.#db.query(
      "UPDATE workspaces SET agent_mcp_tools = $3 WHERE id = $1 AND agent_replica = $2",
      [id, replica, toolsJson],
    );
  }

  async agentMcpTools(id: string): Promise<string | null> {
    const [row] = await this.#db.query<{ agent_mcp_tools: string | null }>(
      "SELECT agent_mcp_tools FROM workspaces WHERE id = $1",
      [id],
    );
    return row?.agent_mcp_tools ?? null;
  }

  async directoryWorkspaces(): Promise<
    Array<{ id: string; directory: string; replica: string | null }>
  > {
    const rows = await this.#db.query<{
      id: string;
      directory: string;
      directory_replica: string | null;
    }>(
      `SELECT id, directory, directory_replica FROM workspaces
        WHERE directory IS NOT NULL ORDER BY created_at, id`,
    );
    return rows.map((row) => ({
      id: row.id,
      directory: row.directory,
      replica: row.directory_replica,
    }));
  }
}

function one<T>(rows: T[]): T {
  const [row] = rows;
  if (row === undefined) throw new Error("expected a row");
  return row;
}
