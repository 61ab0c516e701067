/**
 * Usage and cost (issue 14): what each model step used and cost, recorded on its message when the
 * step ends, and the totals over those rows.
 *
 * A step's message (an assistant message with `usage`) is "metered": besides the usage JSON it
 * carries its tokens in columns, the cost in USD computed by chatloop with the pricing in force
 * when the step ran (null when the model had no pricing; a later price change never rewrites it),
 * and — copied at insert, so that totals and a user's spend need no join — the chat owner's id
 * (`user_id`) and the model's provider (`provider_id`). `user_id IS NOT NULL` is what marks a
 * metered message: every query here says so, which lets the partial indexes apply.
 */
import type { Migration } from "./migrations.ts";

/** The integer in `usage`'s field `field` (camelCase, as `Usage` has it), rounded and bounded. */
function tokens(usage: string, field: string): string {
  return `LEAST(round(GREATEST((${usage} ->> '${field}')::numeric, 0)), 2147483647)::integer`;
}

/**
 * What `costUsd` (src/chatloop/history.ts) computes, in SQL, from a usage and a pricing JSON:
 * input tokens include the cache reads and writes, charged at their own rates when priced.
 */
function costSql(usage: string, pricing: string): string {
  const rate = (field: string) => `(${pricing} ->> '${field}')::float8`;
  const n = (field: string) => `COALESCE((${usage} ->> '${field}')::float8, 0)`;
  return `CASE WHEN jsonb_typeof(${pricing}) = 'object' THEN (
      GREATEST(0, ${n("inputTokens")} - ${n("cacheReadTokens")} - ${n("cacheWriteTokens")})
        * ${rate("input_per_mtok")}
      + ${n("cacheReadTokens")} * COALESCE(${rate("cache_read_per_mtok")}, ${rate("input_per_mtok")})
      + ${n("cacheWriteTokens")} * COALESCE(${rate("cache_write_per_mtok")}, ${rate("input_per_mtok")})
      + ${n("outputTokens")} * ${rate("output_per_mtok")}
    ) / 1000000 END`;
}

export const USAGE_MIGRATION: Migration = {
  version: 17,
  name: "usage and cost per message",
  sql: `
-- A step's tokens and cost, recorded when the step ends (src/store/usage.ts): the cost with the
-- pricing in force then, never recomputed. user_id (the chat's owner) and provider_id are copied
-- at insert so totals and a user's spend read one table; they are set exactly on the messages
-- that have usage, and the partial indexes below hold only those.
ALTER TABLE messages
  ADD COLUMN cost_usd double precision,
  ADD COLUMN input_tokens integer,
  ADD COLUMN output_tokens integer,
  ADD COLUMN reasoning_tokens integer,
  ADD COLUMN cache_read_tokens integer,
  ADD COLUMN cache_write_tokens integer,
  ADD COLUMN user_id text,
  ADD COLUMN provider_id text;

-- Messages written before: their tokens from the usage JSON, their cost from the model's pricing
-- now (the best there is: the pricing of their time was never kept), the model being the
-- message's own or, if that was deleted, the chat's.
UPDATE messages AS m
   SET input_tokens = ${tokens("m.usage", "inputTokens")},
       output_tokens = ${tokens("m.usage", "outputTokens")},
       reasoning_tokens = ${tokens("m.usage", "reasoningTokens")},
       cache_read_tokens = ${tokens("m.usage", "cacheReadTokens")},
       cache_write_tokens = ${tokens("m.usage", "cacheWriteTokens")},
       cost_usd = ${costSql("m.usage", "s.pricing")},
       user_id = s.owner_id,
       provider_id = s.provider_id
  FROM (SELECT m2.id, c.owner_id, mo.provider_id, mo.pricing
          FROM messages AS m2
          JOIN chats AS c ON c.id = m2.chat_id
          LEFT JOIN models AS mo ON mo.id = COALESCE(m2.model_id, c.model_id)
         WHERE jsonb_typeof(m2.usage) = 'object') AS s
 WHERE m.id = s.id;

-- Totals over a period (GET /usage: a range of created_at), and one user's over a period (their
-- own usage; their spend against a limit), the latter with the cost in the index so a spend
-- check reads the index alone.
CREATE INDEX messages_metered_created ON messages (created_at) WHERE user_id IS NOT NULL;
CREATE INDEX messages_metered_user ON messages (user_id, created_at) INCLUDE (cost_usd)
  WHERE user_id IS NOT NULL;

-- A step was paid for even when its message goes: a deleted chat (by its owner or by retention)
-- or the steps an edit-and-rerun or a regenerate dropped. A metered message's usage moves here
-- when it is deleted, so totals and a user's spend never shrink (deleting chats does not reset a
-- spend limit). Read together with the metered messages (src/store/usage-report.ts).
CREATE TABLE usage_removed (
  message_id text PRIMARY KEY,
  chat_id text NOT NULL,
  user_id text NOT NULL,
  model_id text,
  provider_id text,
  cost_usd double precision,
  input_tokens integer,
  output_tokens integer,
  reasoning_tokens integer,
  cache_read_tokens integer,
  cache_write_tokens integer,
  created_at timestamptz(3) NOT NULL,
  removed_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX usage_removed_created ON usage_removed (created_at);
CREATE INDEX usage_removed_user ON usage_removed (user_id, created_at) INCLUDE (cost_usd);
CREATE FUNCTION keel_keep_removed_usage() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO usage_removed (message_id, chat_id, user_id, model_id, provider_id, cost_usd,
      input_tokens, output_tokens, reasoning_tokens, cache_read_tokens, cache_write_tokens,
      created_at)
    VALUES (OLD.id, OLD.chat_id, OLD.user_id, OLD.model_id, OLD.provider_id, OLD.cost_usd,
      OLD.input_tokens, OLD.output_tokens, OLD.reasoning_tokens, OLD.cache_read_tokens,
      OLD.cache_write_tokens, OLD.created_at)
    ON CONFLICT (message_id) DO NOTHING;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER messages_keep_removed_usage AFTER DELETE ON messages
  FOR EACH ROW WHEN (OLD.user_id IS NOT NULL) EXECUTE FUNCTION keel_keep_removed_usage();
`,
};

/**
 * Every metered step of `[$since, $until)` (parameters given as `$n`), kept or removed, with the
 * columns a report reads, as one relation; `userParam` narrows it to one user. Each branch has
 * its own range condition, so each reads its own index.
 */
export function meteredSteps(p: { since: string; until: string; user?: string }): string {
  const cols =
    "chat_id, user_id, model_id, provider_id, cost_usd, input_tokens, output_tokens, " +
    "reasoning_tokens, cache_read_tokens, cache_write_tokens, created_at";
  const user = p.user ? ` AND user_id = ${p.user}` : "";
  return `(SELECT ${cols} FROM messages
           WHERE user_id IS NOT NULL AND created_at >= ${p.since} AND created_at < ${p.until}${user}
         UNION ALL
         SELECT ${cols} FROM usage_removed
           WHERE created_at >= ${p.since} AND created_at < ${p.until}${user})`;
}

/** The metered columns, in the order `meteredValues` gives them. */
export const METERED_COLUMNS =
  "cost_usd, input_tokens, output_tokens, reasoning_tokens, cache_read_tokens, cache_write_tokens, user_id, provider_id";

/** `SET`s of an upsert's `ON CONFLICT … DO UPDATE`: the metered columns as the new row has them. */
export const METERED_UPDATES = METERED_COLUMNS.split(", ")
  .map((column) => `${column} = excluded.${column}`)
  .join(", ");

/**
 * The values of `METERED_COLUMNS` for a message being inserted, from the parameters (given as
 * `$n`) of its usage (jsonb or NULL), its cost, its chat and its model. Without usage all are
 * NULL: the message is not metered.
 */
export function meteredValues(p: { usage: string; cost: string; chat: string; model: string }) {
  const usage = `${p.usage}::jsonb`;
  const when = (value: string) => `CASE WHEN jsonb_typeof(${usage}) = 'object' THEN ${value} END`;
  return [
    when(`${p.cost}::float8`),
    when(tokens(usage, "inputTokens")),
    when(tokens(usage, "outputTokens")),
    when(tokens(usage, "reasoningTokens")),
    when(tokens(usage, "cacheReadTokens")),
    when(tokens(usage, "cacheWriteTokens")),
    when(`(SELECT owner_id FROM chats WHERE id = ${p.chat})`),
    when(`(SELECT provider_id FROM models WHERE id = ${p.model})`),
  ].join(", ");
}
