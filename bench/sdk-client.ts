// The server benchmark's SDK baseline, run as a child process so that its CPU time is its own: N
// concurrent streams from the paced fake provider read through the AI SDK's OpenAI Chat
// Completions model (`doStream`, the layer Keel's stream path wraps, built as Keel builds it:
// `createLanguageModel` on a `Transport`), all at once like the bench's direct phase. It reports
// the CPU this process used per text delta: what parsing the same paced streams costs the SDK
// itself, the yardstick of the Keel server's CPU per relayed token.
//
// Protocol (IPC): argv[2] = JSON `SdkConfig`. Sends `{type: "ready"}` once warmed up (a few
// unpaced streams, `w…` tags, so the JIT has seen the path), then waits for `{type: "run"}` and
// answers with `SdkResult`, then exits.

import type { LanguageModelV4 } from "@ai-sdk/provider";
import { type ProviderConfig, Transport } from "../src/provider/index.ts";
import { createLanguageModel } from "../src/provider/models.ts";
import { BENCH_MODEL, replyDeltas } from "./reply.ts";

export interface SdkConfig {
  /** The fake provider's base URL (without `/v1`). */
  url: string;
  streams: number;
  tokens: number;
  /** Tags are `<prefix><i>` (the fake's records for the phase). */
  prefix: string;
  warmup: number;
  timeoutMs: number;
}

export interface SdkStream {
  tag: string;
  /** Epoch ms: request sent, first and last text delta received. */
  start: number;
  firstToken: number;
  lastToken: number;
  deltas: number;
  ok: boolean;
  error?: string;
}

export interface SdkResult {
  type: "result";
  streams: SdkStream[];
  /** CPU seconds (user + system) this process used from the first request to the last delta. */
  cpuSeconds: number;
  /** CPU seconds per second while idle (timers, IPC), measured before the phase. */
  idleCpuPerSecond: number;
  wallMs: number;
}

export type SdkMessage = { type: "ready" } | SdkResult;

const now = (): number => performance.timeOrigin + performance.now();
const cpuSeconds = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

async function readStream(
  model: LanguageModelV4,
  tag: string,
  expected: string,
  signal: AbortSignal,
): Promise<SdkStream> {
  const sample: SdkStream = {
    tag,
    start: now(),
    firstToken: Number.NaN,
    lastToken: Number.NaN,
    deltas: 0,
    ok: false,
  };
  let text = "";
  try {
    const { stream } = await model.doStream({
      prompt: [
        {
          role: "user",
          content: [{ type: "text", text: `Write a very long story. bench-tag:${tag}` }],
        },
      ],
      abortSignal: signal,
    });
    for await (const part of stream) {
      if (part.type === "error") throw part.error;
      if (part.type !== "text-delta" || !part.delta) continue;
      const t = now();
      if (text === "") sample.firstToken = t;
      sample.lastToken = t;
      text += part.delta;
      sample.deltas++;
    }
    sample.ok = text === expected;
    if (!sample.ok) sample.error = `text differs (${text.length}/${expected.length} chars)`;
  } catch (error) {
    sample.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
  return sample;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? "{}") as SdkConfig;
  const expected = replyDeltas(config.tokens).join("");
  const transport = new Transport();
  const provider: ProviderConfig = {
    type: "openai",
    base_url: `${config.url}/v1`,
    api_key: "sk-bench",
    options: { api: "chat" },
  };
  const model = createLanguageModel(provider, BENCH_MODEL, transport);
  const send = (message: SdkMessage) =>
    new Promise<void>((resolve) => process.send?.(message, () => resolve()));

  const warm = AbortSignal.timeout(config.timeoutMs);
  const warmed = await Promise.all(
    Array.from({ length: config.warmup }, (_, i) =>
      readStream(model, `w${5000 + i}`, expected, warm),
    ),
  );
  const bad = warmed.find((s) => !s.ok);
  if (bad) throw new Error(`SDK warm-up failed: ${bad.error}`);

  // What this process costs while it waits (IPC, timers): subtracted from the phase's CPU. Half a
  // second first, for the compiler and GC threads to finish what the warm-up left them.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const idle0 = cpuSeconds();
  const idleStart = now();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const idleCpuPerSecond = (cpuSeconds() - idle0) / ((now() - idleStart) / 1000);

  await send({ type: "ready" });
  await new Promise<void>((resolve) => {
    process.once("message", () => resolve());
  });
  const signal = AbortSignal.timeout(config.timeoutMs);
  const cpu0 = cpuSeconds();
  const started = now();
  const streams = await Promise.all(
    Array.from({ length: config.streams }, (_, i) =>
      readStream(model, `${config.prefix}${i}`, expected, signal),
    ),
  );
  const cpu = cpuSeconds() - cpu0;
  const last = Math.max(...streams.map((s) => (Number.isFinite(s.lastToken) ? s.lastToken : 0)));
  await send({
    type: "result",
    streams,
    cpuSeconds: cpu,
    idleCpuPerSecond,
    wallMs: (last > started ? last : now()) - started,
  });
  await transport.close();
  process.disconnect();
}

process.on("disconnect", () => process.exit(0));
main().catch((error: unknown) => {
  process.stderr.write(
    `sdk client: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
