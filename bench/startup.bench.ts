// `npm run bench:startup`: how fast `keel server` is ready on the embedded default, and what it
// costs at rest. Each run starts a real `keel server` on a fresh data directory (first start:
// initdb, migrations), stops it with SIGTERM, and starts it again on the same directory (restart),
// timing each from spawn to the first 200 from /readyz, then measures the idle memory of Keel's
// process and of its PostgreSQL processes (PSS, from /proc/<pid>/smaps_rollup: shared pages are
// split between the processes that share them, so the sum is what the server really costs).
//
// Baseline, measured in the same run with the same binaries: PostgreSQL on its own — initdb plus a
// server start for the first start, a server start for the restart — so the ratios say what Keel
// adds to what PostgreSQL needs anyway. Targets (issue 9): ready in < 3 s, idle < 200 MB together.
// Linux only (/proc).

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { findBinaries } from "../src/store/embedded/binaries.ts";
import { EmbeddedPostgres } from "../src/store/embedded/cluster.ts";
import { freePort } from "../test/e2e/support/keel-process.ts";
import { clusterPssMiB, pssMiB } from "./procs.ts";

const { values: opts } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    "keel-bin": { type: "string", default: join(import.meta.dirname, "../bin/keel.js") },
    "idle-ms": { type: "string", default: "3000" },
    strict: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});

if (opts.help) {
  process.stdout.write(`usage: npm run bench:startup -- [options]

  --runs N          first start + restart pairs (default 3); medians are reported
  --keel-bin FILE   the keel.js to run (default this checkout's; another checkout's to compare)
  --idle-ms MS      how long the server idles before its memory is read (default 3000)
  --strict          exit 1 when a target is missed
`);
  process.exit(0);
}

const RUNS = Number(opts.runs);
const IDLE_MS = Number(opts["idle-ms"]);

async function rss(pid: number): Promise<number> {
  try {
    const text = await readFile(`/proc/${pid}/status`, "utf8");
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(text)?.[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

interface Started {
  child: ChildProcess;
  readyMs: number;
}

async function startKeel(dataDir: string): Promise<Started> {
  const port = await freePort();
  const began = performance.now();
  const child = spawn(
    process.execPath,
    [opts["keel-bin"], "server", "--address", `127.0.0.1:${port}`, "--data-dir", dataDir],
    { stdio: ["ignore", "ignore", "pipe"], env: { PATH: process.env.PATH, HOME: os.tmpdir() } },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`keel server exited:\n${stderr}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) break;
    } catch {
      // not yet
    }
    if (performance.now() - began > 60_000) throw new Error(`not ready in 60 s:\n${stderr}`);
    await sleep(10);
  }
  return { child, readyMs: performance.now() - began };
}

async function stopKeel(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

interface Idle {
  keelPss: number;
  keelRss: number;
  postgresPss: number;
  postgresProcesses: number;
}

async function idle(child: ChildProcess, dataDir: string): Promise<Idle> {
  await sleep(IDLE_MS);
  const cluster = await clusterPssMiB(dataDir);
  return {
    keelPss: await pssMiB(child.pid ?? 0),
    keelRss: await rss(child.pid ?? 0),
    postgresPss: cluster.mib,
    postgresProcesses: cluster.processes,
  };
}

/** PostgreSQL alone: initdb + start (first), start (restart), with Keel's own cluster code. */
async function baseline(): Promise<{ first: number; restart: number }> {
  const dataDir = await mkdtemp(join(os.tmpdir(), "keel-bench-pg-"));
  try {
    let began = performance.now();
    await (await EmbeddedPostgres.start({ dataDir })).stop();
    const first = performance.now() - began;
    began = performance.now();
    const cluster = await EmbeddedPostgres.start({ dataDir });
    const restart = performance.now() - began;
    await cluster.stop();
    return { first, restart };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function main(): Promise<number> {
  await findBinaries();
  const samples = {
    first: [] as number[],
    restart: [] as number[],
    baseFirst: [] as number[],
    baseRestart: [] as number[],
    idle: [] as Idle[],
  };
  for (let run = 0; run < RUNS; run++) {
    const base = await baseline();
    samples.baseFirst.push(base.first);
    samples.baseRestart.push(base.restart);
    const dataDir = await mkdtemp(join(os.tmpdir(), "keel-bench-start-"));
    try {
      const first = await startKeel(dataDir);
      samples.first.push(first.readyMs);
      await stopKeel(first.child);
      const again = await startKeel(dataDir);
      samples.restart.push(again.readyMs);
      samples.idle.push(await idle(again.child, dataDir));
      await stopKeel(again.child);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
    process.stderr.write(`run ${run + 1}/${RUNS} done\n`);
  }
  const first = median(samples.first);
  const restart = median(samples.restart);
  const baseFirst = median(samples.baseFirst);
  const baseRestart = median(samples.baseRestart);
  const keelPss = median(samples.idle.map((i) => i.keelPss));
  const keelRss = median(samples.idle.map((i) => i.keelRss));
  const pgPss = median(samples.idle.map((i) => i.postgresPss));
  const processes = samples.idle[0]?.postgresProcesses ?? 0;
  const total = keelPss + pgPss;
  const row = (name: string, keel: number, base: number) =>
    `${name.padEnd(26)}${`${keel.toFixed(0)} ms`.padStart(10)}${`${base.toFixed(0)} ms`.padStart(14)}${(keel / base).toFixed(2).padStart(8)}`;
  process.stdout.write(
    `startup bench: ${RUNS} runs, medians; ${opts["keel-bin"]}; Node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0]?.toFixed(2)}\n` +
      `${"".padEnd(26)}${"keel".padStart(10)}${"PostgreSQL".padStart(14)}${"ratio".padStart(8)}\n` +
      `${row("first start → /readyz", first, baseFirst)}\n` +
      `${row("restart → /readyz", restart, baseRestart)}\n` +
      `idle after ${IDLE_MS} ms: keel PSS ${keelPss.toFixed(1)} MiB (RSS ${keelRss.toFixed(1)}), ` +
      `PostgreSQL PSS ${pgPss.toFixed(1)} MiB in ${processes} processes, together ${total.toFixed(1)} MiB\n`,
  );
  const misses = [
    first > 3000 ? `first start ${first.toFixed(0)} ms ≥ 3000 ms` : "",
    restart > 3000 ? `restart ${restart.toFixed(0)} ms ≥ 3000 ms` : "",
    total > 200 ? `idle ${total.toFixed(0)} MiB ≥ 200 MiB` : "",
  ].filter(Boolean);
  process.stdout.write(
    misses.length ? `FAIL: ${misses.join("; ")}\n` : "PASS: ready < 3 s, idle < 200 MiB\n",
  );
  return misses.length && opts.strict ? 1 : 0;
}

process.exitCode = await main();
