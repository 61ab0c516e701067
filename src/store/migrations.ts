/**
 * The schema's history: numbered migrations, applied in order at open, on the embedded PostgreSQL
 * and on an external one (15 and later) alike. Append new migrations at the end; never edit one
 * that has shipped.
 *
 * Why a hand-written runner and not a migration library: it was written when one of the two
 * engines (PGlite) was not a `pg` client, which the libraries (node-pg-migrate, Kysely's migrator,
 * umzug + a pg adapter) require; with one engine left a library would fit, but this runner is a
 * few dozen tested lines and the migrations are plain SQL, so it stays. The runner is one
 * transaction: take an advisory lock (two servers starting together
 * queue here, and the second finds nothing left to do), read `schema_migrations`, apply what is
 * missing, record it, commit. PostgreSQL's DDL is transactional, so a failed migration leaves
 * nothing half-applied. (A future migration that cannot run in a transaction, such as
 * `CREATE INDEX CONCURRENTLY`, would need its own step.)
 */
import { AUDIT_MIGRATION } from "./audit.ts";
import { CHAT_RETENTION_MIGRATION } from "./chat-retention.ts";
import type { Database, Queryable } from "./db.ts";
import { GROUPS_MIGRATION } from "./groups.ts";
import { SPEND_LIMITS_MIGRATION } from "./spend-limits.ts";
import { USAGE_MIGRATION } from "./usage.ts";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Advisory lock keys (two int4s): the namespace "keel" and the purpose. */
export const LOCK_NAMESPACE = 0x6b65656c;
export const LOCK_MIGRATIONS = 1;
export const LOCK_FIRST_USER = 2;
/** Held by every change of a user's role or active flag (see `SqlStore.updateUser`). */
export const LOCK_ADMINS = 3;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "initial schema",
    sql: `
CREATE TABLE settings (
  key text PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE users (
  id text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  username text NOT NULL,
  email text NOT NULL,
  role text NOT NULL CHECK (role IN ('admin', 'member')),
  -- scrypt$N$r$p$salt$hash (base64url); see passwords.ts
  password_hash text NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_username_key ON users (lower(username));

CREATE TABLE api_tokens (
  id text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- hex sha256 of the token; the token itself is never stored
  token_hash text NOT NULL UNIQUE,
  kind text NOT NULL CHECK (kind IN ('session', 'api')),
  name text,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  expires_at timestamptz(3),
  last_used_at timestamptz(3)
);
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);

CREATE TABLE providers (
  id text PRIMARY KEY,
  type text NOT NULL,
  name text NOT NULL,
  base_url text,
  options jsonb NOT NULL DEFAULT '{}',
  -- v1.<iv>.<tag>.<ciphertext>, AES-256-GCM under the server key; see secrets.ts
  api_key_encrypted text,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE models (
  id text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  provider_id text NOT NULL REFERENCES providers (id),
  model text NOT NULL,
  display_name text NOT NULL,
  context_window integer,
  pricing jsonb,
  enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX models_provider_id ON models (provider_id);

CREATE TABLE chats (
  id text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  owner_id text NOT NULL REFERENCES users (id),
  title text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'running', 'waiting', 'error')),
  model_id text NOT NULL REFERENCES models (id),
  workspace_id text,
  archived boolean NOT NULL DEFAULT false,
  worker_id text,
  heartbeat_at timestamptz(3),
  last_error jsonb,
  last_event_seq bigint NOT NULL DEFAULT 0,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX chats_owner_recent ON chats (owner_id, updated_at DESC, id DESC) WHERE NOT archived;
CREATE INDEX chats_recent ON chats (updated_at DESC, id DESC) WHERE NOT archived;
CREATE INDEX chats_pending ON chats (updated_at, id) WHERE status = 'pending';
CREATE INDEX chats_running ON chats (heartbeat_at) WHERE status = 'running';
CREATE INDEX chats_model_id ON chats (model_id);

CREATE TABLE messages (
  id text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  -- transcript order
  pos bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  chat_id text NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
  parts jsonb NOT NULL,
  usage jsonb,
  model_id text REFERENCES models (id) ON DELETE SET NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX messages_chat_pos ON messages (chat_id, pos);

CREATE TABLE queued_messages (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  chat_id text NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
  parts jsonb NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX queued_messages_chat ON queued_messages (chat_id, id);

CREATE TABLE chat_events (
  chat_id text NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
  seq bigint NOT NULL,
  type text NOT NULL,
  data jsonb NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (chat_id, seq)
);
`,
  },
  {
    version: 2,
    name: "messages saved while their step streams",
    sql: `
-- An assistant message saved part by part while its model step streams: its tool calls come from
-- a stream that has not finished, so they are never run (the next turn settles the message).
ALTER TABLE messages ADD COLUMN in_progress boolean NOT NULL DEFAULT false;
`,
  },
  {
    version: 3,
    name: "secret provider options encrypted at rest",
    sql: `
-- Provider options that are credentials (Bedrock's secret access key and session token, extra
-- request headers) are kept out of the plain options column, encrypted like the API key.
ALTER TABLE providers ADD COLUMN secret_options_encrypted text;
ALTER TABLE providers ADD COLUMN secret_option_names text[] NOT NULL DEFAULT '{}';
`,
  },
  {
    version: 4,
    name: "users can be deactivated",
    sql: `
-- Set when an admin deactivates the user: no sign-in, and no token of theirs authenticates.
ALTER TABLE users ADD COLUMN deactivated_at timestamptz(3);
`,
  },
  {
    version: 5,
    name: "queued messages keep their id into the transcript",
    sql: `
-- The id a queued message keeps when it moves into messages (a volatile default: every existing
-- row gets its own), so a client can match a queued message with its "message" event.
ALTER TABLE queued_messages ADD COLUMN message_id text NOT NULL DEFAULT gen_random_uuid()::text;
`,
  },
  {
    version: 6,
    name: "workspaces and their agents",
    sql: `
-- Where a chat's tools run. The agent token is stored as its sha256, like API tokens. The replica
-- holding the agent's connection records itself and refreshes agent_last_seen_at while it does.
CREATE TABLE workspaces (
  id text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  owner_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name text NOT NULL,
  directory text,
  agent_token_hash text NOT NULL UNIQUE,
  agent_replica text,
  agent_version text,
  agent_last_seen_at timestamptz(3),
  created_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX workspaces_owner ON workspaces (owner_id, created_at);
`,
  },
  {
    version: 7,
    name: "sign-in limits",
    sql: `
-- Failed sign-ins per key (an email + client address, or a client address alone), shared by every
-- replica: a security control lives in the database, never per process. A window starts at a
-- key's first failure; rows whose window has ended are swept (see signin-limits.ts).
CREATE TABLE signin_limits (
  key text PRIMARY KEY,
  failures integer NOT NULL,
  window_ends_at timestamptz(3) NOT NULL
);
CREATE INDEX signin_limits_window_ends_at ON signin_limits (window_ends_at);
`,
  },
  {
    version: 8,
    name: "model settings",
    sql: `
-- A model's own settings (temperature, max_output_tokens, reasoning), each absent for the
-- provider's default. Checked against the model's provider type when saved (src/provider/settings.ts).
ALTER TABLE models ADD COLUMN settings jsonb NOT NULL DEFAULT '{}'::jsonb;
`,
  },
  {
    version: 9,
    name: "user instructions",
    sql: `
-- A user's own instructions, told to the model of every chat of theirs after the deployment's
-- system prompt (DESIGN.md §7). NULL: none (blank is stored as none).
ALTER TABLE users ADD COLUMN instructions text;
`,
  },
  {
    version: 10,
    name: "mcp servers",
    sql: `
-- MCP servers an admin configures (Streamable HTTP); their tools reach every chat as
-- <name>__<tool>. The headers (credentials, typically Authorization) are one AES-256-GCM
-- ciphertext of their JSON, like a provider's API key (secrets.ts); only their names are plain.
CREATE TABLE mcp_servers (
  id text PRIMARY KEY,
  name text NOT NULL UNIQUE,
  url text NOT NULL,
  headers_encrypted text,
  header_names text[] NOT NULL DEFAULT '{}',
  enabled boolean NOT NULL DEFAULT true,
  -- NULL: every tool of the server; else only these (by the server's own tool names)
  tools_allow text[],
  tools_deny text[],
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now()
);
`,
  },
  {
    version: 11,
    name: "context management",
    sql: `
-- A compaction asked for (POST /chats/{id}/compact): chatd compacts the chat when it next runs
-- it, and a chat released with the flag set goes back to pending instead of waiting.
ALTER TABLE chats ADD COLUMN compact_requested boolean NOT NULL DEFAULT false;
-- A user's own compaction threshold, a share of the context window; it can only lower the
-- model's. NULL: the model's.
ALTER TABLE users ADD COLUMN compact_at real;
`,
  },
  {
    version: 12,
    name: "chats people manage: pinned, search",
    sql: `
-- Pinned chats lead the owner's list; archived chats are a list of their own (no longer gone).
ALTER TABLE chats ADD COLUMN pinned boolean NOT NULL DEFAULT false;
DROP INDEX chats_owner_recent;
CREATE INDEX chats_owner_recent ON chats (owner_id, archived, pinned DESC, updated_at DESC, id DESC);

-- Full-text search (GET /chats?q=) over titles and the text parts of messages, with the 'simple'
-- configuration (no stemming, no stop words: code and names in any language match as typed). The
-- text of a message is its "text" parts, joined, and bounded: a tsvector holds at most 1 MB, and an
-- index expression that fails would refuse the message itself. Tool results, reasoning and
-- summaries are not searched. The queries repeat these expressions exactly, so the indexes apply.
CREATE FUNCTION keel_message_text(parts jsonb) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $fn$
    SELECT left(string_agg(t.value #>> '{}', E'\n' ORDER BY t.n), 100000)
      FROM jsonb_path_query(parts, '$[*] ? (@.type == "text").text') WITH ORDINALITY AS t(value, n)
  $fn$;
CREATE INDEX chats_title_search ON chats USING gin (to_tsvector('simple'::regconfig, title));
CREATE INDEX messages_text_search ON messages
  USING gin (to_tsvector('simple'::regconfig, keel_message_text(parts)));
`,
  },
  {
    version: 13,
    name: "provider names are unique",
    sql: `
-- A provider is chosen by name (the UI, \`keel providers\`), so two may not share one, whatever
-- the case. Names saved twice before this keep the oldest as it was; the others get the start of
-- their id appended ("OpenAI (3f2a9c1e)"), so the index can be built and nothing is lost.
UPDATE providers AS p
   SET name = p.name || ' (' || left(p.id, 8) || ')', updated_at = now()
  FROM (SELECT id, row_number() OVER (PARTITION BY lower(name) ORDER BY created_at, id) AS n
          FROM providers) AS d
 WHERE p.id = d.id AND d.n > 1;
CREATE UNIQUE INDEX providers_name_key ON providers (lower(name));
`,
  },
  {
    version: 14,
    name: "stopped and retried steps",
    sql: `
-- A step Stop cut short keeps what it streamed, marked so the transcript says "Stopped" after a
-- reload too; a step that was retried records how often and why last ({count, kind}), for the
-- quiet "retried 2x" note. (A turn's terminal error is an "error" part of its own message.)
ALTER TABLE messages ADD COLUMN stopped boolean NOT NULL DEFAULT false;
ALTER TABLE messages ADD COLUMN retries jsonb;
`,
  },
  {
    version: 15,
    name: "tool calls across replicas",
    sql: `
-- A tool call whose chat runs on one replica while the workspace's agent is connected to another:
-- the origin writes the call here and NOTIFYs the target (a pointer: a call's input can be far
-- larger than a NOTIFY payload); the target sends it to its agent at most once per connection
-- ('pending' -> 'sent' under target_replica) and writes the result back. Input and result are
-- JSON as text, not jsonb: jsonb refuses the NUL character a file's content may hold.
CREATE TABLE agent_calls (
  id text PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  origin_replica text NOT NULL,
  target_replica text,
  tool text NOT NULL,
  input text NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'done')),
  cancel_requested boolean NOT NULL DEFAULT false,
  result text,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX agent_calls_target ON agent_calls (target_replica) WHERE state = 'pending';
CREATE INDEX agent_calls_created ON agent_calls (created_at);
-- What the agent's current connection said of itself (its OS and directory, the MCP tools it
-- offered, as JSON text), so that every replica knows them; and the replica that runs a
-- server-side directory's agent (the one whose machine holds the directory).
ALTER TABLE workspaces ADD COLUMN agent_platform text;
ALTER TABLE workspaces ADD COLUMN agent_directory text;
ALTER TABLE workspaces ADD COLUMN agent_mcp_tools text;
ALTER TABLE workspaces ADD COLUMN directory_replica text;
`,
  },
  // Governance (issue 14), one module each; a line below is replaced by its migration's constant.
  AUDIT_MIGRATION,
  USAGE_MIGRATION,
  GROUPS_MIGRATION,
  SPEND_LIMITS_MIGRATION,
  CHAT_RETENTION_MIGRATION,
];

/**
 * Applies the migrations `db` lacks, under the migration lock. Returns the versions this call
 * applied (empty when another process, or an earlier start, already did).
 */
export async function migrate(
  db: Database,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1, $2)", [LOCK_NAMESPACE, LOCK_MIGRATIONS]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz(3) NOT NULL DEFAULT now()
    )`);
    const done = new Set(await appliedVersions(tx));
    const known = Math.max(0, ...migrations.map((m) => m.version));
    const newest = Math.max(0, ...done);
    if (newest > known) {
      throw new Error(
        `the database schema is at version ${newest}, newer than this Keel knows (${known}): ` +
          "upgrade Keel before starting it against this database",
      );
    }
    const applied: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      await tx.exec(migration.sql);
      await tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    return applied;
  });
}

async function appliedVersions(q: Queryable): Promise<number[]> {
  const rows = await q.query<{ version: number }>(
    "SELECT version FROM schema_migrations ORDER BY version",
  );
  return rows.map((row) => Number(row.version));
}
