// `npm run bench:cli`: what one `keel` command costs to start, in CPU and memory. Each command
// runs N times under `/usr/bin/time -f "%U %S %M"` (user + system CPU seconds, peak RSS in KiB),
// interleaved with the baseline — `node -e 0` on the same Node.js — so the figures say what Keel
// adds to starting Node at all. `keel chat list` runs against a real `keel server` (embedded
// database, a first user logged in through KEEL_URL/KEEL_TOKEN, a few chats to list).
// Target (issue 12): `keel --help` and `keel chat list` ≤ 0.35 s of CPU. Reported, not asserted:
// `--strict` exits 1 on a miss. Linux only (GNU time).

import { execFile, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { freePort, startKeel } from "../test/e2e/support/keel-process.ts";

const run = promisify(execFile);

const { values: opts } = parseArgs({
  options: {
    runs: { type: "string", default: "9" },
    "keel-bin": { type: "string", default: join(import.meta.dirname, "../bin/keel.js") },
    strict: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});

if (opts.help) {
  process.stdout.write(`usage: npm run bench:cli -- [options]

  --runs N          runs of each command (default 9); medians are reported
  --keel-bin FILE   the keel.js to run (default this checkout's; another checkout's to compare)
  --strict          exit 1 when a target is missed
`);
  process.exit(0);
}

const RUNS = Number(opts.runs);
const TIME = "/usr/bin/time";
const TARGET_CPU_S = 0.35;

interface Sample {
  cpu: number;
  rssMiB: number;
}

/** One run of `node ARGS` under GNU time; its own output is discarded, time's goes to a file. */
async function measure(args: string[], env: NodeJS.ProcessEnv, scratch: string): Promise<Sample> {
  const out = join(scratch, "time.txt");
  try {
    await run(TIME, ["-o", out, "-f", "%U %S %M", process.execPath, ...args], { env });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`node ${args.join(" ")} failed:\n${stderr}`);
  }
  const [user, sys, kib] =
    (await readFile(out, "utf8")).trim().split("\n").at(-1)?.split(" ") ?? [];
  return { cpu: Number(user) + Number(sys), rssMiB: Number(kib) / 1024 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** The first user of a fresh server, and a few chats for `chat list` to print. */
async function setUp(url: string): Promise<string> {
  const api = async <T>(path: string, body: unknown, token?: string): Promise<T> => {
    const response = await fetch(`${url}/api/v1${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  const { session_token: token } = await api<{ session_token: string }>("/users/first", {
    username: "bench",
    email: "bench@example.com",
    password: "a long enough password",
  });
  // A provider nobody answers: the chats fail at once and stay in the list.
  const provider = await api<{ id: string }>(
    "/providers",
    { type: "openai-compatible", name: "none", base_url: "http://127.0.0.1:9/v1" },
    token,
  );
  const model = await api<{ id: string }>(
    "/models",
    { provider_id: provider.id, model: "none" },
    token,
  );
  for (let i = 0; i < 5; i++) {
    await api(
      "/chats",
      { model_id: model.id, content: [{ type: "text", text: `chat ${i}` }] },
      token,
    );
  }
  return token;
}

async function main(): Promise<number> {
  if (spawnSync(TIME, ["-f", "", "true"]).status !== 0) {
    process.stderr.write(`bench:cli needs GNU time at ${TIME} (apt-get install time).\n`);
    return 1;
  }
  const scratch = await mkdtemp(join(os.tmpdir(), "keel-bench-cli-"));
  // Its own temporary directory: as root, the database's OS user must reach it (not `scratch`).
  const dataDir = await mkdtemp(join(os.tmpdir(), "keel-bench-cli-data-"));
  const server = await startKeel({ dataDir, port: await freePort() });
  try {
    const token = await setUp(server.url);
    const env = {
      PATH: process.env.PATH,
      HOME: scratch,
      KEEL_CONFIG_DIR: join(scratch, "config"),
      KEEL_URL: server.url,
      KEEL_TOKEN: token,
    };
    const keel = opts["keel-bin"];
    const commands: Array<[string, string[]]> = [
      ["node -e 0 (baseline)", ["-e", "0"]],
      ["keel --help", [keel, "--help"]],
      ["keel --version", [keel, "--version"]],
      ["keel chat list", [keel, "chat", "list"]],
    ];
    const samples = new Map<string, Sample[]>(commands.map(([name]) => [name, []]));
    for (let i = 0; i < RUNS; i++) {
      // Interleaved, so a noisy moment on the machine lands on every command alike.
      for (const [name, args] of commands)
        samples.get(name)?.push(await measure(args, env, scratch));
    }
    const baseline = median((samples.get(commands[0]?.[0] ?? "") ?? []).map((s) => s.cpu));
    process.stdout.write(
      `bench:cli — ${RUNS} runs each, medians; ${keel}; Node ${process.version}, ` +
        `${os.cpus().length} CPUs, load ${os.loadavg()[0]?.toFixed(2)}\n` +
        `${"".padEnd(22)}${"CPU (user+sys)".padStart(16)}${"over baseline".padStart(15)}${"max RSS".padStart(12)}\n`,
    );
    const misses: string[] = [];
    for (const [name] of commands) {
      const list = samples.get(name) ?? [];
      const cpu = median(list.map((s) => s.cpu));
      const rss = median(list.map((s) => s.rssMiB));
      const over = name.startsWith("node") ? "—" : `+${(cpu - baseline).toFixed(2)} s`;
      process.stdout.write(
        `${name.padEnd(22)}${`${cpu.toFixed(2)} s`.padStart(16)}${over.padStart(15)}${`${rss.toFixed(0)} MiB`.padStart(12)}\n`,
      );
      if ((name === "keel --help" || name === "keel chat list") && cpu > TARGET_CPU_S) {
        misses.push(`${name} ${cpu.toFixed(2)} s > ${TARGET_CPU_S} s`);
      }
    }
    process.stdout.write(
      misses.length
        ? `FAIL: ${misses.join("; ")}\n`
        : `PASS: keel --help and keel chat list ≤ ${TARGET_CPU_S} s of CPU\n`,
    );
    return misses.length && opts.strict ? 1 : 0;
  } finally {
    await server.stop();
    await rm(scratch, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
