// `npm run soak`: replicas killed with SIGKILL and restarted at random while chats with tool calls
// stream through a round-robin proxy; then every promise of DESIGN.md §3–§5 is checked. The harness
// is test/soak/harness.ts (also run, shorter, by test/e2e/soak.test.ts). See bench/README.md.

import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { adminQuery, withDatabase } from "../test/global-setup.ts";
import { formatReport, killChildren, runSoak } from "../test/soak/harness.ts";

const HELP = `usage: npm run soak -- [options]

  --replicas N        keel server replicas on one PostgreSQL (default 3)
  --chats N           chats, each sending its next message when a turn ends (default 20)
  --minutes M         how long replicas are killed and messages sent (default 2)
  --kill-every-s A-B  a SIGKILL every A to B seconds, at random (default 10-20)
  --down-s A-B        a killed replica restarts after A to B seconds (default 1-45; past the
                      30 s stale timeout another replica takes its chats over first)
  --seed N            the kill schedule's seed (default: random, printed)
  --reply-deltas N    words per streamed reply (default 40)
  --delta-ms MS       the fake model's pause before each delta (default 60)
  --drain-s N         after the last minute: how long the last turns get (default 180)
  --postgres-url URL  where to create the run's database (default
                      postgres://postgres@127.0.0.1:5432/test; dropped at the end)
  --keep DIR          keep the logs (replicas, agent, workspace) in DIR
`;

const { values: opts } = parseArgs({
  options: {
    replicas: { type: "string", default: "3" },
    chats: { type: "string", default: "20" },
    minutes: { type: "string", default: "2" },
    "kill-every-s": { type: "string", default: "10-20" },
    "down-s": { type: "string", default: "1-45" },
    seed: { type: "string" },
    "reply-deltas": { type: "string", default: "40" },
    "delta-ms": { type: "string", default: "60" },
    "drain-s": { type: "string", default: "180" },
    "postgres-url": { type: "string", default: "postgres://postgres@127.0.0.1:5432/test" },
    keep: { type: "string" },
    help: { type: "boolean", default: false },
  },
});

if (opts.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

function usage(message: string): never {
  process.stderr.write(`${message}\n\n${HELP}`);
  process.exit(2);
}

function number(name: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) usage(`--${name} must be a number ≥ ${min}`);
  return n;
}

function range(name: string, value: string): [number, number] {
  const [a, b = a] = value.split("-");
  const min = number(name, a ?? "", 0);
  const max = number(name, b ?? "", min);
  return [min * 1000, max * 1000];
}

const replicas = number("replicas", opts.replicas, 2);
const seed =
  opts.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : number("seed", opts.seed, 0);

const adminUrl = opts["postgres-url"];
const database = `keel_soak_${process.pid}_${Date.now().toString(36)}`;
const admin = (sql: string) => adminQuery(adminUrl, sql);
await admin(`CREATE DATABASE ${database}`);
const url = withDatabase(adminUrl, database);

// Ctrl-C or SIGTERM: no report; the servers and the agent go, and so does the database.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping\n`);
    killChildren();
    setTimeout(() => {
      admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
        .catch((error: unknown) => process.stderr.write(`dropping ${database}: ${String(error)}\n`))
        .finally(() => process.exit(130));
    }, 500);
  });
}

let commit = "";
try {
  commit = execFileSync("git", ["log", "-1", "--format=%h"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  }).trim();
} catch {
  // not a git checkout
}

let exitCode = 1;
try {
  const report = await runSoak({
    postgresUrl: url,
    replicas,
    chats: number("chats", opts.chats, 1),
    durationMs: number("minutes", opts.minutes, 0.1) * 60_000,
    killEveryMs: range("kill-every-s", opts["kill-every-s"]),
    downMs: range("down-s", opts["down-s"]),
    seed,
    drainTimeoutMs: number("drain-s", opts["drain-s"], 10) * 1000,
    replyDeltas: number("reply-deltas", opts["reply-deltas"], 2),
    deltaMs: number("delta-ms", opts["delta-ms"], 0),
    ...(opts.keep ? { workDir: opts.keep } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${formatReport(report, commit)}\n`);
  exitCode = report.ok ? 0 : 1;
} finally {
  await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch((error: unknown) => {
    process.stderr.write(`dropping ${database}: ${String(error)}\n`);
  });
}
process.exit(exitCode);
