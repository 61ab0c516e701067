// `npm run bench:workspace`: the tool round trip server → agent → server over loopback, against
// the same tool run in-process (the baseline, measured in the same run): `read_file` of a 1 KB
// file, p50/p99 over N calls, and `execute` output streaming throughput (MB/s).
//
// Real parts: the server's AgentHub on a real HTTP server, a real `keel agent` child process
// (bin/keel.js) connected over WebSocket, the embedded database for the workspace and its token.

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openStore } from "../src/store/index.ts";
import { AgentHub } from "../src/workspace/hub.ts";
import { runWorkspaceTool } from "../src/workspace/tools/run.ts";

const { values: opts } = parseArgs({
  options: {
    calls: { type: "string", default: "1000" },
    "execute-mb": { type: "string", default: "1" },
    "execute-runs": { type: "string", default: "5" },
  },
});
const CALLS = Number(opts.calls);
const EXECUTE_BYTES = Math.round(Number(opts["execute-mb"]) * 1024 * 1024);
const EXECUTE_RUNS = Number(opts["execute-runs"]);
const KEEL = join(import.meta.dirname, "../bin/keel.js");

const quiet = { info() {}, warn() {}, error() {} };
const never = new AbortController().signal;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function summary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

const fmt = (ms: number) => `${ms.toFixed(3)} ms`;

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), "keel-bench-ws-"));
  const dir = await mkdtemp(join(tmpdir(), "keel-bench-ws-dir-"));
  await writeFile(join(dir, "one-kb.txt"), `${"x".repeat(63)}\n`.repeat(16));
  const store = await openStore({ dataDir });
  const hub = new AgentHub({ store: store.workspaces, replicaId: "bench", logger: quiet });
  const server = createServer((_req, res) => res.writeHead(404).end());
  server.on("upgrade", (req, socket, head) => {
    if (!hub.handleUpgrade(req, socket, head)) socket.destroy();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  const owner = await store.createFirstUser({
    username: "bench",
    email: "bench@example.com",
    password: "bench-password",
  });
  const { workspace, agent_token } = await store.workspaces.create({
    owner_id: owner.id,
    name: "bench",
    directory: null,
  });
  const agent: ChildProcess = spawn(
    process.execPath,
    [KEEL, "agent", "--url", `http://127.0.0.1:${port}`, "--dir", dir],
    { env: { PATH: process.env.PATH ?? "", KEEL_AGENT_TOKEN: agent_token }, stdio: "ignore" },
  );
  try {
    while (!hub.connected(workspace.id)) await new Promise((r) => setTimeout(r, 20));

    // read_file 1 KB: warm up, then alternate baseline and round trip call by call.
    const read = { path: "one-kb.txt" };
    for (let i = 0; i < 50; i++) {
      await hub.call(workspace.id, "read_file", read, { signal: never });
      await runWorkspaceTool("read_file", read, { root: dir, signal: never });
    }
    const local: number[] = [];
    const remote: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      let t = performance.now();
      await runWorkspaceTool("read_file", read, { root: dir, signal: never });
      local.push(performance.now() - t);
      t = performance.now();
      const result = await hub.call(workspace.id, "read_file", read, { signal: never });
      remote.push(performance.now() - t);
      if (result.is_error) throw new Error(`read_file failed: ${result.output}`);
    }
    const l = summary(local);
    const r = summary(remote);

    // execute: bytes streamed through onOutput per second.
    const command = `head -c ${EXECUTE_BYTES} /dev/zero | tr '\\0' a`;
    async function throughput(run: (onOutput: (d: string) => void) => Promise<unknown>) {
      const rates: number[] = [];
      for (let i = 0; i < EXECUTE_RUNS; i++) {
        let bytes = 0;
        const t = performance.now();
        await run((delta) => {
          bytes += delta.length;
        });
        rates.push(bytes / 1024 / 1024 / ((performance.now() - t) / 1000));
      }
      return summary(rates).p50;
    }
    const localRate = await throughput((onOutput) =>
      runWorkspaceTool("execute", { command }, { root: dir, signal: never, onOutput }),
    );
    const remoteRate = await throughput((onOutput) =>
      hub.call(workspace.id, "execute", { command }, { signal: never, onOutput }),
    );

    const report = {
      read_file_1kb: {
        calls: CALLS,
        round_trip: { p50_ms: r.p50, p99_ms: r.p99 },
        in_process_baseline: { p50_ms: l.p50, p99_ms: l.p99 },
        added_p50_ms: r.p50 - l.p50,
      },
      execute_stream: {
        bytes: EXECUTE_BYTES,
        runs: EXECUTE_RUNS,
        round_trip_mb_s: remoteRate,
        in_process_baseline_mb_s: localRate,
        ratio: remoteRate / localRate,
      },
    };
    console.log(`read_file 1 KB × ${CALLS}`);
    console.log(`  server → agent → server  p50 ${fmt(r.p50)}  p99 ${fmt(r.p99)}`);
    console.log(`  in-process baseline      p50 ${fmt(l.p50)}  p99 ${fmt(l.p99)}`);
    console.log(`  added by the round trip  p50 ${fmt(r.p50 - l.p50)}`);
    console.log(`execute streaming ${EXECUTE_BYTES} bytes × ${EXECUTE_RUNS} (median)`);
    console.log(`  through the agent        ${remoteRate.toFixed(1)} MB/s`);
    console.log(`  in-process baseline      ${localRate.toFixed(1)} MB/s`);
    console.log(`  ratio                    ${(remoteRate / localRate).toFixed(2)}`);
    console.log(JSON.stringify(report));
  } finally {
    agent.kill("SIGTERM");
    await hub.close();
    server.close();
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
