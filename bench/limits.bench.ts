// `npm run bench:limits`: what the spend-limit check costs a chat turn. The check runs before
// every model step (`turnBudget(…).refusal()`, src/chatd/spend-check.ts), so it must cost next
// to nothing while the spend is in memory, and its database read must stay cheap when it is not.
//
// A fresh database on the given PostgreSQL is seeded with one user under a limit who has
// `--messages` metered steps this month (over `--chats` chats) and as many of other users'. Then,
// in the same run:
//
//   baseline   an awaited no-op check, per call: what any awaited check costs at least;
//   warm       the real per-step check with the spend and the limit in memory, per call;
//   cold       the same check with nothing kept in memory: the limit, the default and the spend
//              read from the database each time, per call;
//   query      the spend query alone (`spentSince`), per call.
//
// Reported, not asserted: µs per call (median and p99 of batches), and warm's ratio to the
// baseline. Figures are wall-clock on whatever machine runs it.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import pg from "pg";
import { turnBudget } from "../src/chatd/spend-check.ts";
import type { Store } from "../src/store/contract.ts";
import { openPostgres } from "../src/store/db-postgres.ts";
import { SqlDeploymentSettingsStore } from "../src/store/deployment-settings.ts";
import { openStore } from "../src/store/index.ts";
import { ReadCache } from "../src/store/read-cache.ts";
import { periodBounds, SqlSpendLimitStore } from "../src/store/spend-limits.ts";
import { adminQuery, withDatabase } from "../test/global-setup.ts";

const { values: opts } = parseArgs({
  options: {
    "postgres-url": { type: "string", default: "postgres://postgres@127.0.0.1:5432/test" },
    messages: { type: "string", default: "20000" },
    chats: { type: "string", default: "200" },
    warm: { type: "string", default: "200000" },
    cold: { type: "string", default: "300" },
    help: { type: "boolean", default: false },
  },
});
if (opts.help) {
  process.stdout.write(
    "usage: npm run bench:limits -- [--postgres-url URL] [--messages N] [--chats N] " +
      "[--warm CALLS] [--cold CALLS]\n",
  );
  process.exit(0);
}
const MESSAGES = Number(opts.messages);
const CHATS = Number(opts.chats);
const WARM_CALLS = Number(opts.warm);
const COLD_CALLS = Number(opts.cold);

interface Figures {
  median: number;
  p99: number;
}

/** µs per call of `fn`: `calls` calls in batches, each batch's mean; median and p99 over batches. */
async function measure(calls: number, batch: number, fn: () => Promise<unknown>): Promise<Figures> {
  for (let i = 0; i < Math.min(calls / 10, 1_000); i++) await fn();
  const perCall: number[] = [];
  for (let done = 0; done < calls; done += batch) {
    const start = performance.now();
    for (let i = 0; i < batch; i++) await fn();
    perCall.push(((performance.now() - start) * 1_000) / batch);
  }
  perCall.sort((x, y) => x - y);
  const at = (q: number) => perCall[Math.min(perCall.length - 1, Math.floor(q * perCall.length))];
  return { median: at(0.5) ?? 0, p99: at(0.99) ?? 0 };
}

async function seed(url: string, store: Store): Promise<string> {
  const admin = await store.createFirstUser({
    username: "admin",
    email: "admin@example.com",
    password: "bench-password",
  });
  const user = await store.createUser({
    username: "spender",
    email: "spender@example.com",
    password: "bench-password",
    role: "member",
  });
  const provider = await store.createProvider({ type: "openai-compatible", name: "Bench" });
  const model = await store.createModel({ provider_id: provider.id, model: "bench-1" });
  await store.spendLimits.setUserLimit(user.id, { usd: 1_000_000, period: "month" });
  await store.deploymentSettings.update({ default_limit: { usd: 10, period: "month" } });
  const monthStart = periodBounds("month", new Date()).start;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // The user's steps and as many of another user's, spread over this month so far; metered as
    // a turn writes them (cost and owner on the message, migration 17).
    for (const owner of [user.id, admin.id]) {
      await client.query(
        `WITH c AS (
           INSERT INTO chats (owner_id, title, status, model_id)
           SELECT $1, 'bench ' || i, 'waiting', $2 FROM generate_series(1, $3) AS i
           RETURNING id
         ), numbered AS (SELECT id, row_number() OVER () AS n FROM c)
         INSERT INTO messages (chat_id, role, parts, usage, model_id, created_at, cost_usd,
           input_tokens, output_tokens, user_id)
         SELECT numbered.id, 'assistant', '[{"type":"text","text":"ok"}]',
           '{"inputTokens":1000,"outputTokens":200}', $2,
           $5::timestamptz + (now() - $5::timestamptz) * random(), 0.0042, 1000, 200, $1
           FROM generate_series(1, $4) AS i JOIN numbered ON numbered.n = 1 + i % $3`,
        [owner, model.id, CHATS, MESSAGES, monthStart],
      );
    }
    // What autovacuum would have done by now on a live server: statistics and the visibility map
    // (without it an index-only scan still visits the heap).
    await client.query("VACUUM ANALYZE messages");
  } finally {
    await client.end();
  }
  return user.id;
}

/** The plan of the spend query (`SqlSpendLimitStore.spentSince`), as PostgreSQL ran it. */
async function explain(url: string, userId: string, since: Date): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ "QUERY PLAN": string }>(
      `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
       SELECT (SELECT coalesce(sum(cost_usd), 0) FROM messages
                WHERE user_id = $1 AND user_id IS NOT NULL AND created_at >= $2)
            + (SELECT coalesce(sum(cost_usd), 0) FROM usage_removed
                WHERE user_id = $1 AND created_at >= $2) AS usd`,
      [userId, since],
    );
    return result.rows.map((row) => row["QUERY PLAN"]);
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const adminUrl = opts["postgres-url"];
  const name = `keel_bench_limits_${process.pid}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  const url = withDatabase(adminUrl, name);
  const dataDir = await mkdtemp(join(tmpdir(), "keel-bench-limits-"));
  const closers: Array<() => Promise<void>> = [];
  try {
    const store = await openStore({ dataDir, postgresUrl: url });
    closers.push(() => store.close());
    const userId = await seed(url, store);
    const since = periodBounds("month", new Date()).start;

    const noop = { refusal: async () => undefined };
    const baseline = await measure(WARM_CALLS, 1_000, () => noop.refusal());
    const budget = turnBudget(store.spendLimits, userId);
    const refused = await budget.refusal();
    if (refused) throw new Error(`the bench user is over their limit: ${refused.message}`);
    const warm = await measure(WARM_CALLS, 1_000, () => budget.refusal());
    // Cold: the same check over a limit store that keeps nothing (its read cache and its spend
    // expire at once), so every call reads the user's limit, the default and the spend.
    const db = await openPostgres(url, { poolSize: 2 });
    closers.push(() => db.close());
    const uncached = new ReadCache(db, "bench", 0);
    const coldLimits = new SqlSpendLimitStore(
      db,
      uncached,
      new SqlDeploymentSettingsStore(db, uncached),
      { spendTtlMs: 0 },
    );
    const cold = await measure(COLD_CALLS, 1, () => turnBudget(coldLimits, userId).refusal());
    const query = await measure(COLD_CALLS, 1, () => coldLimits.spentSince(userId, since));
    const spent = await store.spendLimits.spentSince(userId, since);
    const plan = await explain(url, userId, since);

    const row = (label: string, f: Figures, note = "") =>
      `${label.padEnd(10)} ${f.median.toFixed(2).padStart(10)} µs ${f.p99.toFixed(2).padStart(10)} µs  ${note}`;
    process.stdout.write(
      [
        `spend-limit check: ${MESSAGES} metered steps of the user this month over ${CHATS} chats ` +
          `(and as many of another user's); spent $${spent.toFixed(2)}`,
        `${"".padEnd(10)} ${"median".padStart(13)} ${"p99".padStart(13)}`,
        row("baseline", baseline, "an awaited no-op check"),
        row("warm", warm, `${(warm.median / baseline.median).toFixed(1)}× the baseline`),
        row("cold", cold, "limit, default and spend read from the database"),
        row("query", query, "the spend query alone"),
        "",
        "the spend query's plan:",
        ...plan.map((line) => `  ${line}`),
        "",
      ].join("\n"),
    );
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {});
    await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
