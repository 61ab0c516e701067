// `npm run bench`: streams one long reply (≥ 20,000 small deltas) from a fake OpenAI Chat
// Completions server through Keel's full stream path and through a baseline (undici fetch + an SSE
// parser + JSON.parse), alternating, and reports throughput and time to first token of both.
// See bench/README.md.

import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { LanguageModelV4 } from "@ai-sdk/provider";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { fetch as undiciFetch } from "undici";
import { runStep } from "../src/chatloop/step.ts";
import {
  type ChatModel,
  createChatModel,
  type ProviderConfig,
  type StreamRequest,
  Transport,
} from "../src/provider/index.ts";
import { createLanguageModel } from "../src/provider/models.ts";
import { BENCH_MODEL, CHAT_PATH, replyDeltas } from "./reply.ts";
import type { ReadyMessage } from "./server.ts";

// ---- targets ------------------------------------------------------------------------------------

const TARGET_RATIO = 0.8;
const TARGET_ADDED_TTFT_MS = 5;

// ---- options ------------------------------------------------------------------------------------

const HELP = `usage: npm run bench -- [options]

  --tokens N        deltas in the reply (default 25000, at least 20000 for the targets)
  --runs N          measured runs per client and transport (default 15)
  --warmup N        unmeasured runs per client and transport first (default 3)
  --transport T     h1 | h2 | both (default both; h1 is plain HTTP/1.1, h2 is HTTP/2 over TLS)
  --only C          baseline | keel: run one client only (for --cpu-prof)
  --layers          also measure Keel's layers on their own: "sdk" (the AI SDK model's doStream,
                    read directly) and "keel-stream" (ChatModel.stream, without runStep)
  --strict          exit 1 when a target is missed (default: report only, exit 0)
  --out FILE        JSON results (default bench/results/stream.json)
`;

const { values: opts } = parseArgs({
  options: {
    tokens: { type: "string", default: "25000" },
    runs: { type: "string", default: "15" },
    warmup: { type: "string", default: "3" },
    transport: { type: "string", default: "both" },
    only: { type: "string" },
    layers: { type: "boolean", default: false },
    strict: { type: "boolean", default: false },
    out: { type: "string", default: new URL("./results/stream.json", import.meta.url).pathname },
    help: { type: "boolean", default: false },
  },
});

if (opts.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`--${name} must be a positive integer\n`);
    process.exit(2);
  }
  return n;
}

const TOKENS = positiveInt("tokens", opts.tokens);
const RUNS = positiveInt("runs", opts.runs);
const WARMUP = Number(opts.warmup) >= 0 ? Math.floor(Number(opts.warmup)) : 3;
const TRANSPORTS = (opts.transport === "both" ? ["h1", "h2"] : [opts.transport]) as TransportKind[];
if (!TRANSPORTS.every((t) => t === "h1" || t === "h2")) {
  process.stderr.write("--transport must be h1, h2 or both\n");
  process.exit(2);
}
if (opts.only !== undefined && opts.only !== "baseline" && opts.only !== "keel") {
  process.stderr.write("--only must be baseline or keel\n");
  process.exit(2);
}

type TransportKind = "h1" | "h2";
type ClientName = "baseline" | "keel" | "sdk" | "keel-stream";

const TRANSPORT_LABEL: Record<TransportKind, string> = {
  h1: "HTTP/1.1",
  h2: "HTTP/2+TLS",
};

// ---- the reply ----------------------------------------------------------------------------------

const EXPECTED_TEXT = replyDeltas(TOKENS).join("");
const PROMPT = "Write a very long story.";

// ---- clients ------------------------------------------------------------------------------------

interface Sample {
  /** Text deltas seen (each delta is one token of the reply). */
  tokens: number;
  /** Call start → first non-empty text delta. */
  ttftMs: number;
  /** Call start → the whole reply consumed (runStep resolved / body ended). */
  totalMs: number;
  text: string;
}

interface Client {
  name: ClientName;
  run(): Promise<Sample>;
  close(): Promise<void>;
}

/** One shape of OpenAI Chat Completions chunk: only what the baseline reads. */
interface ChatChunk {
  choices?: Array<{ delta?: { content?: string | null } }>;
}

/**
 * The baseline: what any hand-written client would do. undici fetch (same undici, its own Agent
 * with Keel's transport settings) → TextDecoderStream → eventsource-parser → JSON.parse →
 * `choices[0].delta.content`.
 */
function baselineClient(url: string, transport: Transport): Client {
  const body = JSON.stringify({
    model: BENCH_MODEL,
    messages: [{ role: "user", content: PROMPT }],
    stream: true,
    stream_options: { include_usage: true },
  });
  return {
    name: "baseline",
    async run() {
      const chunks: string[] = [];
      let ttft = -1;
      const start = performance.now();
      const response = await undiciFetch(`${url}${CHAT_PATH}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer bench" },
        body,
        dispatcher: transport.dispatcher,
      });
      if (!response.ok || !response.body) throw new Error(`baseline: HTTP ${response.status}`);
      const events = response.body
        .pipeThrough(new TextDecoderStream())
        .pipeThrough(new EventSourceParserStream());
      for await (const event of events) {
        if (event.data === "[DONE]") continue;
        const chunk = JSON.parse(event.data) as ChatChunk;
        const content = chunk.choices?.[0]?.delta?.content;
        if (content) {
          if (ttft < 0) ttft = performance.now() - start;
          chunks.push(content);
        }
      }
      const totalMs = performance.now() - start;
      return { tokens: chunks.length, ttftMs: ttft, totalMs, text: chunks.join("") };
    },
    close: () => transport.close(),
  };
}

const REQUEST: StreamRequest = {
  messages: [{ role: "user", content: [{ type: "text", text: PROMPT }] }],
};

/** Keel's full path: runStep (retry, silence guard, ContentBuilder) → ChatModel.stream → SDK. */
function keelClient(model: ChatModel, transport: Transport): Client {
  return {
    name: "keel",
    async run() {
      let tokens = 0;
      let ttft = -1;
      const controller = new AbortController();
      const start = performance.now();
      const outcome = await runStep(model, REQUEST, {
        signal: controller.signal,
        onPart: (part) => {
          if (part.type !== "text-delta") return;
          if (tokens === 0) ttft = performance.now() - start;
          tokens++;
        },
      });
      const totalMs = performance.now() - start;
      if (outcome.status !== "finished") {
        const why = outcome.status === "failed" ? outcome.error : outcome.cause;
        throw new Error(`keel: step ${outcome.status}`, { cause: why });
      }
      const text = outcome.parts.map((p) => (p.type === "text" ? p.text : "")).join("");
      return { tokens, ttftMs: ttft, totalMs, text };
    },
    close: () => transport.close(),
  };
}

/** Layer: ChatModel.stream alone (stream.ts over the SDK), no runStep / retry / silence guard. */
function keelStreamClient(model: ChatModel, transport: Transport): Client {
  return {
    name: "keel-stream",
    async run() {
      const chunks: string[] = [];
      let ttft = -1;
      const controller = new AbortController();
      const start = performance.now();
      for await (const part of model.stream(REQUEST, controller.signal)) {
        if (part.type !== "text-delta") continue;
        if (ttft < 0) ttft = performance.now() - start;
        chunks.push(part.delta);
      }
      const totalMs = performance.now() - start;
      return { tokens: chunks.length, ttftMs: ttft, totalMs, text: chunks.join("") };
    },
    close: () => transport.close(),
  };
}

/** Layer: the AI SDK model's doStream, read directly (what Keel's stream.ts wraps). */
function sdkClient(model: LanguageModelV4, transport: Transport): Client {
  return {
    name: "sdk",
    async run() {
      const chunks: string[] = [];
      let ttft = -1;
      const start = performance.now();
      const { stream } = await model.doStream({
        prompt: [{ role: "user", content: [{ type: "text", text: PROMPT }] }],
      });
      for await (const part of stream) {
        if (part.type !== "text-delta" || !part.delta) continue;
        if (ttft < 0) ttft = performance.now() - start;
        chunks.push(part.delta);
      }
      const totalMs = performance.now() - start;
      return { tokens: chunks.length, ttftMs: ttft, totalMs, text: chunks.join("") };
    },
    close: () => transport.close(),
  };
}

function clientsFor(url: string, ca: string | undefined): Client[] {
  // Every client gets its own Transport (its own undici Agent and connections), built the same way.
  const transport = () => new Transport(ca ? { extraCaCerts: [ca] } : {});
  // OpenAI provider, Chat Completions API: the format the fake renders most simply and the one
  // most OpenAI-compatible gateways speak.
  const config: ProviderConfig = {
    type: "openai",
    base_url: `${url}/v1`,
    api_key: "bench",
    options: { api: "chat" },
  };
  const out: Client[] = [];
  if (opts.only !== "keel") out.push(baselineClient(url, transport()));
  if (opts.only !== "baseline") {
    const t = transport();
    out.push(keelClient(createChatModel(config, BENCH_MODEL, t), t));
  }
  if (opts.layers) {
    const t1 = transport();
    out.push(sdkClient(createLanguageModel(config, BENCH_MODEL, t1), t1));
    const t2 = transport();
    out.push(keelStreamClient(createChatModel(config, BENCH_MODEL, t2), t2));
  }
  return out;
}

// ---- server -------------------------------------------------------------------------------------

async function startServer(): Promise<{ child: ChildProcess; ready: ReadyMessage }> {
  const child = fork(new URL("./server.ts", import.meta.url), [String(TOKENS)], {
    // Not the parent's flags: `--cpu-prof` should profile the client only.
    execArgv: [],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const ready = await new Promise<ReadyMessage>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`bench server exited early (code ${code})`)));
    child.once("message", (message) => resolve(message as ReadyMessage));
  });
  child.removeAllListeners("exit");
  child.removeAllListeners("error");
  return { child, ready };
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  if (child.connected) child.send("close");
  const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
}

// ---- statistics ---------------------------------------------------------------------------------

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const round = (n: number, digits: number) => Number(n.toFixed(digits));

interface ClientSummary {
  runs: number;
  tokens: number;
  tokensPerSec: { median: number; min: number; max: number };
  totalMs: { median: number; min: number; max: number };
  ttftMs: { median: number; min: number; max: number };
  samples: Array<{ tokensPerSec: number; totalMs: number; ttftMs: number }>;
}

function summarize(samples: readonly Sample[]): ClientSummary {
  const tps = samples.map((s) => (s.tokens * 1000) / s.totalMs);
  const total = samples.map((s) => s.totalMs);
  const ttft = samples.map((s) => s.ttftMs);
  const stat = (xs: number[], d: number) => ({
    median: round(median(xs), d),
    min: round(Math.min(...xs), d),
    max: round(Math.max(...xs), d),
  });
  return {
    runs: samples.length,
    tokens: samples[0]?.tokens ?? 0,
    tokensPerSec: stat(tps, 0),
    totalMs: stat(total, 2),
    ttftMs: stat(ttft, 3),
    samples: samples.map((s, i) => ({
      tokensPerSec: round(tps[i] ?? 0, 0),
      totalMs: round(s.totalMs, 2),
      ttftMs: round(s.ttftMs, 3),
    })),
  };
}

interface TransportResult {
  transport: TransportKind;
  url: string;
  clients: Partial<Record<ClientName, ClientSummary>>;
  /** Keel's median tokens/s over the baseline's. */
  ratio?: number;
  /** Median of the per-round ratios (keel run ÷ the baseline run just before it). */
  pairedRatio?: number;
  /** Keel's median TTFT minus the baseline's, ms. */
  addedTtftMs?: number;
  pass?: boolean;
}

// ---- the run ------------------------------------------------------------------------------------

function check(sample: Sample, client: ClientName): void {
  if (sample.tokens !== TOKENS || sample.text !== EXPECTED_TEXT || sample.ttftMs < 0) {
    throw new Error(
      `${client}: got ${sample.tokens} deltas / ${sample.text.length} chars, expected ${TOKENS} / ${EXPECTED_TEXT.length}`,
    );
  }
}

async function benchTransport(kind: TransportKind, ready: ReadyMessage): Promise<TransportResult> {
  const url = kind === "h1" ? ready.h1Url : ready.h2Url;
  const clients = clientsFor(url, kind === "h2" ? ready.ca : undefined);
  const samples = new Map<ClientName, Sample[]>(clients.map((c) => [c.name, []]));
  try {
    for (let i = 0; i < WARMUP; i++) {
      for (const client of clients) check(await client.run(), client.name);
    }
    // Alternate: baseline, keel, baseline, keel, … so drift and noise hit both alike.
    for (let i = 0; i < RUNS; i++) {
      for (const client of clients) {
        const sample = await client.run();
        check(sample, client.name);
        samples.get(client.name)?.push(sample);
      }
      process.stderr.write(".");
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }

  const result: TransportResult = { transport: kind, url, clients: {} };
  for (const [name, list] of samples) result.clients[name] = summarize(list);
  const base = samples.get("baseline");
  const keel = samples.get("keel");
  if (base?.length && keel?.length) {
    const b = result.clients.baseline;
    const k = result.clients.keel;
    if (b && k) {
      result.ratio = round(k.tokensPerSec.median / b.tokensPerSec.median, 3);
      result.addedTtftMs = round(k.ttftMs.median - b.ttftMs.median, 3);
      result.pairedRatio = round(
        median(keel.map((s, i) => (base[i]?.totalMs ?? Number.NaN) / s.totalMs)),
        3,
      );
      result.pass = result.ratio >= TARGET_RATIO && result.addedTtftMs < TARGET_ADDED_TTFT_MS;
    }
  }
  return result;
}

function printTable(results: readonly TransportResult[], bodyBytes: number): void {
  const mb = (bodyBytes / 1024 / 1024).toFixed(1);
  const lines: string[] = [
    "",
    `stream bench: ${TOKENS.toLocaleString("en")} text deltas, OpenAI Chat Completions SSE (${mb} MiB), ` +
      `${RUNS} runs each after ${WARMUP} warm-up, medians`,
    ...(TOKENS < 20_000 ? ["note: fewer than the 20,000 deltas the targets are defined for"] : []),
    "",
    `${"transport".padEnd(12)}${"client".padEnd(13)}${"tokens/s".padStart(11)}${"total ms".padStart(11)}${"TTFT ms".padStart(10)}`,
  ];
  for (const r of results) {
    for (const [name, s] of Object.entries(r.clients)) {
      lines.push(
        `${TRANSPORT_LABEL[r.transport].padEnd(12)}${name.padEnd(13)}` +
          `${s.tokensPerSec.median.toLocaleString("en").padStart(11)}` +
          `${s.totalMs.median.toFixed(1).padStart(11)}` +
          `${s.ttftMs.median.toFixed(2).padStart(10)}`,
      );
    }
    if (r.ratio !== undefined && r.addedTtftMs !== undefined) {
      const verdict = r.pass ? "PASS" : "FAIL";
      lines.push(
        `${"".padEnd(12)}keel/baseline throughput ${r.ratio.toFixed(3)} (target ≥ ${TARGET_RATIO}, ` +
          `paired ${r.pairedRatio?.toFixed(3)}), added TTFT ${r.addedTtftMs.toFixed(2)} ms ` +
          `(target < ${TARGET_ADDED_TTFT_MS})  ${verdict}`,
      );
    }
    lines.push("");
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

function packageVersion(name: string): string {
  try {
    const url = new URL(`../node_modules/${name}/package.json`, import.meta.url);
    const json = JSON.parse(readFileSync(url, "utf8")) as { version?: string };
    return json.version ?? "?";
  } catch {
    return "?";
  }
}

async function main(): Promise<number> {
  const { child, ready } = await startServer();
  const results: TransportResult[] = [];
  const started = performance.now();
  try {
    for (const kind of TRANSPORTS) {
      process.stderr.write(`${TRANSPORT_LABEL[kind]} `);
      results.push(await benchTransport(kind, ready));
      process.stderr.write("\n");
    }
  } finally {
    await stopServer(child);
  }
  printTable(results, ready.bodyBytes);

  const compared = results.filter((r) => r.pass !== undefined);
  const pass = compared.length > 0 ? compared.every((r) => r.pass) : undefined;
  const report = {
    date: new Date().toISOString(),
    durationS: round((performance.now() - started) / 1000, 1),
    targets: { ratio: TARGET_RATIO, addedTtftMs: TARGET_ADDED_TTFT_MS },
    config: {
      tokens: TOKENS,
      runs: RUNS,
      warmup: WARMUP,
      bodyBytes: ready.bodyBytes,
      provider: "openai (Chat Completions API)",
      model: BENCH_MODEL,
      only: opts.only ?? null,
      layers: opts.layers,
    },
    environment: {
      node: process.version,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? "?",
      undici: packageVersion("undici"),
      ai: packageVersion("ai"),
      "@ai-sdk/openai": packageVersion("@ai-sdk/openai"),
      // The copy @ai-sdk/openai itself loads (nested when it differs from the top-level one).
      "@ai-sdk/provider-utils (openai's)":
        packageVersion("@ai-sdk/openai/node_modules/@ai-sdk/provider-utils") === "?"
          ? packageVersion("@ai-sdk/provider-utils")
          : packageVersion("@ai-sdk/openai/node_modules/@ai-sdk/provider-utils"),
      "eventsource-parser": packageVersion("eventsource-parser"),
    },
    pass: pass ?? null,
    results,
  };
  const out = resolve(opts.out);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`results: ${out}\n`);

  if (pass === undefined) return 0;
  process.stdout.write(
    pass
      ? "PASS: Keel meets both targets.\n"
      : `FAIL: a target was missed${opts.strict ? "" : " (reported only; use --strict to fail)"}.\n`,
  );
  return !pass && opts.strict ? 1 : 0;
}

process.exitCode = await main();
