// `npm run bench:compaction`: what context management does to a long chat. A 100-turn coding chat
// — each turn a question, a tool call that reads ~6,000 characters, and an answer — is run through
// the real turn loop (`runTurn`, an in-memory transcript) against the fake provider over real
// sockets, which counts every prompt as a provider does. Twice, in the same run:
//
//   baseline    no context budget: every prompt carries the whole chat (what Keel did before);
//   compaction  a 32,000-token window at the default threshold (0.8): old tool outputs pruned,
//               then the conversation summarised whenever the prompt passes 25,600 tokens.
//
// Reported, not asserted: the largest and the last prompt, the input tokens sent over the whole
// chat (what a provider bills), how many prunes and summaries it took, and the wall time — each
// with its ratio to the baseline. `--turns N` changes the length.

import { parseArgs } from "node:util";
import { z } from "zod";
import { COMPACTION_SYSTEM_PROMPT } from "../src/chatloop/compaction.ts";
import { contextBudget } from "../src/chatloop/context.ts";
import { SerialPublisher } from "../src/chatloop/publish.ts";
import { MemoryTranscript } from "../src/chatloop/testing.ts";
import { defineTool, ToolRegistry } from "../src/chatloop/tools.ts";
import { runTurn } from "../src/chatloop/turn.ts";
import { createChatModel, Transport } from "../src/provider/index.ts";
import {
  type FakeProvider,
  type RecordedRequest,
  startFakeProvider,
  textReply,
  toolCallReply,
} from "../test/fakeprovider/index.ts";

const { values: opts } = parseArgs({
  options: {
    turns: { type: "string", default: "100" },
    window: { type: "string", default: "32000" },
    help: { type: "boolean", default: false },
  },
});
if (opts.help) {
  process.stdout.write(`usage: npm run bench:compaction -- [--turns N] [--window TOKENS]\n`);
  process.exit(0);
}
const TURNS = Number(opts.turns);
const WINDOW = Number(opts.window);

const read = defineTool({
  name: "read_file",
  description: "Reads a file.",
  inputSchema: z.object({ path: z.string() }),
  execute: ({ path }) => ({
    output: Array.from(
      { length: 120 },
      (_, i) => `${path}:${i + 1}  const value${i} = compute(${i}); // ${"•".repeat(20)}`,
    ).join("\n"),
    is_error: false,
  }),
});

/** The model's side of the chat, chosen from each request: summary, tool call or answer. */
function respond(request: RecordedRequest) {
  if (request.rawBody.includes(COMPACTION_SYSTEM_PROMPT.slice(0, 60))) {
    return textReply(
      `## Goal\nRefactor the service.\n## Files\n${"src/file.ts — read and changed. ".repeat(30)}\n## Open work\nContinue.`,
    );
  }
  const body = request.rawBody;
  // The last message is a tool result: answer; else call the tool.
  if (body.lastIndexOf('"tool_result"') > body.lastIndexOf("Turn ")) {
    return textReply(
      `Done with this part. ${"The change keeps the behaviour and adds a test. ".repeat(16)}`,
    );
  }
  return toolCallReply({ name: "read_file", args: { path: `src/module${request.n}.ts` } });
}

interface Result {
  maxPrompt: number;
  lastPrompt: number;
  inputTokens: number;
  requests: number;
  summaries: number;
  prunedSteps: number;
  ms: number;
}

async function run(fake: FakeProvider, transport: Transport, compact: boolean): Promise<Result> {
  fake.reset();
  fake.setResponder(respond);
  const model = createChatModel(
    { type: "anthropic", base_url: `${fake.url}/v1`, api_key: "k" },
    "claude-bench",
    transport,
  );
  const store = new MemoryTranscript();
  const publisher = new SerialPublisher(async () => {});
  const tools = new ToolRegistry([read]);
  const started = performance.now();
  for (let turn = 0; turn < TURNS; turn++) {
    store.user(`Turn ${turn}: ${"look at the next module and tidy it up. ".repeat(30)}`);
    const outcome = await runTurn({
      store,
      model,
      chat: { id: "bench", model_id: "m" },
      tools,
      signal: new AbortController().signal,
      publish: publisher.publish,
      instructions: "You are a coding agent.",
      ...(compact ? { context: contextBudget(WINDOW) } : {}),
    });
    if (outcome.status !== "completed") {
      throw new Error(`turn ${turn} ended ${outcome.status}: ${JSON.stringify(outcome)}`);
    }
  }
  await publisher.drain();
  const ms = performance.now() - started;
  const steps = fake.requests.filter(
    (r) => !r.rawBody.includes(COMPACTION_SYSTEM_PROMPT.slice(0, 60)),
  );
  return {
    maxPrompt: Math.max(...steps.map((r) => r.promptTokens)),
    lastPrompt: steps.at(-1)?.promptTokens ?? 0,
    inputTokens: fake.requests.reduce((sum, r) => sum + r.promptTokens, 0),
    requests: fake.requests.length,
    summaries: fake.requests.length - steps.length,
    prunedSteps: steps.filter((r) => r.rawBody.includes("[output elided to save context")).length,
    ms,
  };
}

const fake = await startFakeProvider();
const transport = new Transport({ http2: false });
try {
  const baseline = await run(fake, transport, false);
  const compacted = await run(fake, transport, true);
  const row = (name: string, key: keyof Result, unit = "") => {
    const b = baseline[key];
    const c = compacted[key];
    const ratio = b === 0 ? "—" : `${(c / b).toFixed(2)}×`;
    const fmt = (v: number) => `${Math.round(v).toLocaleString("en-US")}${unit}`;
    return `${name.padEnd(28)} ${fmt(b).padStart(14)} ${fmt(c).padStart(14)} ${ratio.padStart(8)}`;
  };
  process.stdout.write(
    [
      `bench:compaction — ${TURNS} turns (2 model steps each), window ${WINDOW.toLocaleString("en-US")} tokens`,
      `${"".padEnd(28)} ${"baseline".padStart(14)} ${"compaction".padStart(14)} ${"ratio".padStart(8)}`,
      row("largest prompt (tokens)", "maxPrompt"),
      row("last prompt (tokens)", "lastPrompt"),
      row("input tokens, whole chat", "inputTokens"),
      row("model requests", "requests"),
      row("summaries", "summaries"),
      row("steps with pruned outputs", "prunedSteps"),
      row("wall time", "ms", " ms"),
      "",
    ].join("\n"),
  );
} finally {
  await transport.close();
  await fake.close();
}
