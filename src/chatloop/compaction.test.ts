/**
 * Context management over real sockets against the fake provider (which counts a prompt the way
 * a provider does and can refuse one past its window): pruning, compaction at the threshold, after
 * a `context_length` error, on demand, and Stop during it.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  errorReply,
  type FakeProvider,
  hangAfter,
  textReply,
  toolCallReply,
} from "../../test/fakeprovider/index.ts";
import { ChatInterrupted } from "../chaterror/causes.ts";
import type { ChatModel } from "../provider/index.ts";
import {
  activeHistory,
  COMPACTION_SYSTEM_PROMPT,
  compactionRequest,
  SUMMARY_PREAMBLE,
} from "./compaction.ts";
import { contextBudget, pruneToolOutputs } from "./context.ts";
import type { SerialPublisher } from "./publish.ts";
import {
  MemoryTranscript,
  type RecordedEvent,
  recordingPublisher,
  useFakeModel,
} from "./testing.ts";
import { defineTool, ToolRegistry } from "./tools.ts";
import { runCompaction, runTurn, type TurnOptions } from "./turn.ts";

const FAST = { baseDelayMs: 1, maxDelayMs: 5 };

/** `read {n}` returns n lines of 40 characters: big outputs on demand. */
const read = defineTool({
  name: "read",
  description: "Reads n lines.",
  inputSchema: z.object({ n: z.number(), tag: z.string() }),
  execute: ({ n, tag }) => ({
    output: Array.from({ length: n }, (_, i) => `${tag} line ${i} ${"x".repeat(25)}`).join("\n"),
    is_error: false,
  }),
});

const readCall = (n: number, tag: string, id: string) =>
  toolCallReply({ name: "read", args: { n, tag }, id });

describe("context management", () => {
  const harness = useFakeModel();
  let fake: FakeProvider;
  let model: ChatModel;
  let store: MemoryTranscript;
  let events: RecordedEvent[];
  let publisher: SerialPublisher;

  beforeEach(() => {
    ({ fake, model } = harness);
    fake.setContextWindow(undefined);
    store = new MemoryTranscript();
    store.user("Read the files and tell me what they say.");
    ({ events, publisher } = recordingPublisher());
  });

  function options(extra: Partial<TurnOptions> = {}): TurnOptions {
    return {
      store,
      model,
      chat: { id: "chat", model_id: "model-1" },
      tools: new ToolRegistry([read]),
      signal: new AbortController().signal,
      publish: publisher.publish,
      policy: FAST,
      silenceMs: 5_000,
      instructions: "You are a test agent.",
      ...extra,
    };
  }

  async function turn(extra: Partial<TurnOptions> = {}) {
    const outcome = await runTurn(options(extra));
    await publisher.drain();
    return outcome;
  }

  const isSummaryRequest = (n: number) =>
    fake.requests[n]?.rawBody.includes(COMPACTION_SYSTEM_PROMPT.slice(0, 60)) ?? false;

  it("prunes old tool outputs from the prompt when that is enough; the transcript keeps them", async () => {
    // Two 4,000-character outputs (~1,000 tokens each) against a 1,600-token threshold: the
    // older one is elided before the third step, and no summary is needed.
    fake.enqueue(readCall(100, "alpha", "c1"), readCall(100, "beta", "c2"), textReply("Done."));
    const outcome = await turn({ context: contextBudget(2_000, 0.8) });
    expect(outcome).toEqual({ status: "completed", steps: 3 });
    expect(fake.requests).toHaveLength(3);
    const third = fake.requests[2]?.rawBody ?? "";
    expect(third).toContain("[output elided to save context: 100 lines");
    expect(third).not.toContain("alpha line 99");
    expect(third).toContain("beta line 99");
    expect(events.some((e) => e.type === "compaction")).toBe(false);
    const results = store.messages.filter((m) => m.role === "tool");
    expect(JSON.stringify(results[0]?.parts)).toContain("alpha line 99");
  });

  it("compacts when pruning is not enough, and goes on from the summary", async () => {
    fake.enqueue(
      readCall(200, "alpha", "c1"),
      textReply("## Goal\nRead the files.\n## Open work\nAnswer."),
      textReply("They list lines."),
    );
    const outcome = await turn({ context: contextBudget(2_000, 0.8) });
    expect(outcome).toEqual({ status: "completed", steps: 2 });
    expect(isSummaryRequest(1)).toBe(true);
    const after = fake.requests[2]?.rawBody ?? "";
    expect(after).toContain(SUMMARY_PREAMBLE.slice(0, 40));
    expect(after).toContain("Read the files.");
    expect(after).not.toContain("alpha line 199");
    expect(after).toContain("You are a test agent.");
    expect(fake.requests[2]?.promptTokens).toBeLessThan(2_000);

    const roles = store.messages.map((m) => [m.role, m.parts[0]?.type]);
    expect(roles).toEqual([
      ["user", "text"],
      ["assistant", "tool_call"],
      ["tool", "tool_result"],
      ["assistant", "compaction"],
      ["assistant", "text"],
    ]);
    const compaction = store.messages[3];
    expect(compaction?.usage?.inputTokens).toBe(fake.requests[1]?.promptTokens);
    const types = events.map((e) => e.type).filter((type) => type !== "message_part");
    expect(types.slice(types.indexOf("compaction"))).toEqual([
      "compaction",
      "message",
      "usage",
      "message",
      "usage",
    ]);
    expect(events.find((e) => e.type === "compaction")?.data).toMatchObject({
      reason: "threshold",
    });

    // The next turn starts from the summary, not from the start of the chat.
    store.user("And now?");
    fake.enqueue(textReply("Still lines."));
    await turn({ context: contextBudget(2_000, 0.8) });
    const next = fake.requests[3]?.rawBody ?? "";
    expect(next).toContain("Read the files.");
    expect(next).not.toContain("Read the files and tell me");
    expect(next).toContain("And now?");
  });

  it("compacts and tries the step once more after a context_length error", async () => {
    fake.enqueue(readCall(100, "alpha", "c1"), textReply("Read it."));
    await turn();
    store.user("Go on.");
    // The provider's window is now smaller than the chat: its own error says so.
    fake.setContextWindow(fake.requests[1]?.promptTokens);
    fake.enqueue(textReply("## Goal\nRead the files."), textReply("Carried on."));
    const outcome = await turn();
    expect(outcome).toMatchObject({ status: "completed" });
    expect(events.find((e) => e.type === "compaction")?.data).toMatchObject({
      reason: "context_length",
    });
    expect(events.some((e) => e.type === "error")).toBe(false);
    expect(
      fake.requests.map((r) => r.promptTokens <= (fake.requests[1]?.promptTokens ?? 0)),
    ).toEqual([true, true, false, true, true]);
    expect(store.messages.at(-1)?.parts).toEqual([{ type: "text", text: "Carried on." }]);
  });

  it("ends with the context_length error when the prompt still does not fit after compacting", async () => {
    fake.enqueue(
      errorReply("context_length"),
      textReply("## Goal\nSummary."),
      errorReply("context_length"),
    );
    const outcome = await turn();
    expect(outcome).toMatchObject({ status: "failed", error: { kind: "context_length" } });
    expect(events.filter((e) => e.type === "compaction")).toHaveLength(1);
    expect(events.filter((e) => e.type === "error")).toHaveLength(1);
  });

  it("Stop during compaction ends the turn and keeps no partial summary", async () => {
    fake.enqueue(readCall(200, "alpha", "c1"), hangAfter("## Goal\nPartial summary", 2));
    const controller = new AbortController();
    const publish = publisher.publish;
    const outcome = await turn({
      context: contextBudget(2_000, 0.8),
      signal: controller.signal,
      publish: async (type, data) => {
        await publish(type, data);
        if (type === "compaction") setTimeout(() => controller.abort(new ChatInterrupted()), 50);
      },
    });
    expect(outcome).toMatchObject({ status: "interrupted" });
    expect(store.messages.some((m) => m.parts.some((p) => p.type === "compaction"))).toBe(false);
    expect(events.some((e) => e.type === "error")).toBe(false);
  });

  it("compacts on demand, and leaves a chat with nothing new since its summary alone", async () => {
    fake.enqueue(textReply("The files say hello."));
    await turn();
    fake.enqueue(textReply("## Goal\nRead files."));
    const outcome = await runCompaction(options());
    expect(outcome).toEqual({ status: "compacted", steps: 0, open: false });
    expect(store.messages.at(-1)?.parts).toEqual([
      { type: "compaction", text: "## Goal\nRead files." },
    ]);
    expect(events.find((e) => e.type === "compaction")?.data).toMatchObject({ reason: "manual" });

    const requests = fake.requests.length;
    expect(await runCompaction(options())).toEqual({ status: "compacted", steps: 0, open: false });
    expect(fake.requests).toHaveLength(requests);
  });
});

describe("pruneToolOutputs", () => {
  const result = (id: string, output: string) => ({
    role: "tool" as const,
    content: [
      { type: "tool_result" as const, tool_call_id: id, name: "read", output, is_error: false },
    ],
  });

  it("keeps the latest results and the newest outputs within the budget, elides older large ones", () => {
    const big = "y".repeat(2_000);
    const prompt = [result("a", big), result("b", "small"), result("c", big), result("d", big)];
    const saved = pruneToolOutputs(prompt, 600);
    expect(saved).toBeGreaterThan(400);
    const outputs = prompt.map((m) => m.content[0]?.output);
    expect(outputs[3]).toBe(big); // the latest results: not read yet
    expect(outputs[2]).toMatch(/^\[output elided/); // 500 tokens on top of 500: over 600
    expect(outputs[1]).toBe("small"); // too small to bother
    expect(outputs[0]).toMatch(/^\[output elided/);
    expect(pruneToolOutputs(prompt, 600)).toBe(0); // elided once is elided
  });
});

describe("compactionRequest", () => {
  it("renders the conversation as one transcript, leaving out the oldest entries past the budget", () => {
    const prompt = [
      { role: "system" as const, content: "instructions" },
      { role: "user" as const, content: [{ type: "text" as const, text: "First request" }] },
      ...Array.from({ length: 20 }, (_, i) => ({
        role: "assistant" as const,
        content: [{ type: "text" as const, text: `step ${i} ${"z".repeat(400)}` }],
      })),
    ];
    const request = compactionRequest(prompt, 1_000);
    expect(request.messages[0]).toEqual({ role: "system", content: COMPACTION_SYSTEM_PROMPT });
    const text = JSON.stringify(request.messages[1]);
    expect(text).not.toContain("instructions");
    expect(text).toContain("First request");
    expect(text).toMatch(/earlier entries left out/);
    expect(text).toContain("step 19");
    expect(text).not.toContain("step 0 ");
  });

  it("activeHistory starts at the latest compaction", () => {
    const m = (id: string, type: "text" | "compaction") => ({
      id,
      chat_id: "c",
      role: "assistant" as const,
      parts: [{ type, text: id }],
      usage: null,
      model_id: null,
      in_progress: false,
      stopped: false,
      retries: null,
      cost_usd: null,
      created_at: "",
    });
    const history = [
      m("1", "text"),
      m("2", "compaction"),
      m("3", "text"),
      m("4", "compaction"),
      m("5", "text"),
    ];
    expect(activeHistory(history).map((x) => x.id)).toEqual(["4", "5"]);
    expect(activeHistory(history.slice(0, 1)).map((x) => x.id)).toEqual(["1"]);
  });
});
