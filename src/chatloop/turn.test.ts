/**
 * runTurn over real sockets against the fake provider, with an in-memory transcript (the turn
 * only needs listMessages/saveMessage/deleteMessage); chatd's tests cover the real store.
 */
import { beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import {
  errorReply,
  type FakeProvider,
  hangAfter,
  resetAfter,
  textReply,
  toolCallReply,
} from "../../test/fakeprovider/index.ts";
import { ChatInterrupted, ServerShutdown } from "../chaterror/causes.ts";
import type { ChatModel } from "../provider/index.ts";
import { STARTED_WITHOUT_RESULT } from "./history.ts";
import { SerialPublisher } from "./publish.ts";
import {
  MemoryTranscript,
  type RecordedEvent,
  recordingPublisher,
  useFakeModel,
} from "./testing.ts";
import { defineTool, ToolRegistry } from "./tools.ts";
import { OwnershipLost, runTurn, type TurnOptions } from "./turn.ts";

const FAST = { baseDelayMs: 1, maxDelayMs: 5 };

const add = defineTool({
  name: "add",
  description: "Adds two numbers.",
  inputSchema: z.object({ a: z.number(), b: z.number() }),
  execute: ({ a, b }) => ({ output: String(a + b), is_error: false }),
});

describe("runTurn", () => {
  const harness = useFakeModel();
  let fake: FakeProvider;
  let model: ChatModel;
  let store: MemoryTranscript;
  let events: RecordedEvent[];
  let publisher: SerialPublisher;

  beforeEach(() => {
    ({ fake, model } = harness);
    store = new MemoryTranscript();
    store.user("What is 2+3?");
    ({ events, publisher } = recordingPublisher());
  });

  async function turn(options: Partial<TurnOptions> = {}) {
    const outcome = await runTurn({
      store,
      model,
      chat: { id: "chat", model_id: "model-1" },
      tools: new ToolRegistry([add]),
      signal: new AbortController().signal,
      publish: publisher.publish,
      policy: FAST,
      silenceMs: 5_000,
      ...options,
    });
    await publisher.drain();
    return outcome;
  }

  const types = () => events.map((e) => e.type);

  it("runs tool calls between steps and persists every message once, in order", async () => {
    fake.enqueue(
      toolCallReply({ name: "add", args: { a: 2, b: 3 }, id: "call_1" }, { text: "Let me add." }),
      textReply("It is 5."),
    );
    const outcome = await turn({
      pricing: { input_per_mtok: 1, output_per_mtok: 2 },
    });
    expect(outcome).toEqual({ status: "completed", steps: 2 });
    expect(store.messages.map((m) => [m.role, m.parts])).toEqual([
      ["user", [{ type: "text", text: "What is 2+3?" }]],
      [
        "assistant",
        [
          { type: "text", text: "Let me add." },
          { type: "tool_call", tool_call_id: "call_1", name: "add", input: { a: 2, b: 3 } },
        ],
      ],
      [
        "tool",
        [
          {
            type: "tool_result",
            tool_call_id: "call_1",
            name: "add",
            output: "5",
            is_error: false,
          },
        ],
      ],
      ["assistant", [{ type: "text", text: "It is 5." }]],
    ]);
    // The second request carried the tool result.
    expect(JSON.stringify(fake.requests[1]?.body)).toContain("call_1");
    const kinds = types().filter((t) => t !== "message_part");
    expect(kinds).toEqual(["message", "usage", "message", "message", "usage"]);
    expect(types().indexOf("message_part")).toBe(0);
    const usage = events.find((e) => e.type === "usage")?.data;
    expect(usage?.message_id).toBe(store.messages[1]?.id);
    expect(usage?.cost_usd).toBeGreaterThan(0);
    // The `message` event of a step's message carries the same cost; a tool message has none.
    const announced = events
      .filter((e) => e.type === "message")
      .map(
        (e) =>
          (e.data as { message: { role: string; cost_usd: unknown; in_progress: unknown } })
            .message,
      );
    expect(announced.map((m) => [m.role, m.cost_usd, m.in_progress])).toEqual([
      ["assistant", usage?.cost_usd, false],
      ["tool", null, false],
      ["assistant", expect.any(Number), false],
    ]);
    // Deltas carry the pre-allocated id of the message they become.
    const firstPart = events[0]?.data as { message_id: string };
    expect(firstPart.message_id).toBe(store.messages[1]?.id);
  });

  it("reports a tool's failure to the model and goes on", async () => {
    fake.enqueue(
      toolCallReply({ name: "add", args: { a: "two" }, id: "call_1" }),
      textReply("Sorry."),
    );
    const outcome = await turn();
    expect(outcome.status).toBe("completed");
    const result = store.messages[2]?.parts[0];
    expect(result).toMatchObject({ type: "tool_result", is_error: true });
  });

  it("retries a reset and persists the reply exactly once", async () => {
    fake.enqueue(resetAfter("It is", 2), textReply("It is 5."));
    const outcome = await turn();
    expect(outcome.status).toBe("completed");
    expect(store.messages.at(-1)?.parts).toEqual([{ type: "text", text: "It is 5." }]);
    const retry = events.find((e) => e.type === "retry")?.data;
    expect(retry).toMatchObject({ attempt: 1, kind: "timeout" });
    expect(typeof retry?.retrying_at).toBe("string");
    expect(types().filter((t) => t === "message")).toHaveLength(1);
  });

  it("keeps the partial reply on Stop, without an error event", async () => {
    fake.enqueue(hangAfter("It is fi", 2));
    const controller = new AbortController();
    publisher = new SerialPublisher(async (type, data) => {
      events.push({ type, data: data as Record<string, unknown> });
      if (type === "message_part") setTimeout(() => controller.abort(new ChatInterrupted()), 20);
    });
    const outcome = await turn({ signal: controller.signal });
    expect(outcome.status).toBe("interrupted");
    expect(store.messages.at(-1)?.parts).toEqual([{ type: "text", text: "It is fi" }]);
    expect(types()).not.toContain("error");
    await vi.waitFor(() => expect(fake.inFlight).toBe(0));
  });

  it("keeps the partial reply on shutdown, in progress, for the next run to settle and go on from", async () => {
    fake.enqueue(hangAfter("It is fi", 2));
    const controller = new AbortController();
    setTimeout(() => controller.abort(new ServerShutdown()), 200);
    const outcome = await turn({ signal: controller.signal });
    expect(outcome.status).toBe("shutdown");
    expect(store.messages.at(-1)).toMatchObject({
      parts: [{ type: "text", text: "It is fi" }],
      in_progress: true,
    });
    expect(types()).not.toContain("error");
    expect(types()).not.toContain("message");
    // The next run keeps the text and asks the model to finish the answer.
    fake.enqueue(textReply("ve."));
    expect(await turn()).toMatchObject({ status: "completed", steps: 1 });
    expect(store.messages.map((m) => [m.in_progress, m.parts])).toEqual([
      [false, [{ type: "text", text: "What is 2+3?" }]],
      [false, [{ type: "text", text: "It is fi" }]],
      [false, [{ type: "text", text: "ve." }]],
    ]);
  });

  it("writes nothing more when ownership is lost", async () => {
    fake.enqueue(hangAfter("It is fi", 2));
    const controller = new AbortController();
    setTimeout(() => controller.abort(new OwnershipLost()), 200);
    const outcome = await turn({ signal: controller.signal });
    expect(outcome.status).toBe("abandoned");
    expect(store.messages).toHaveLength(1);
    expect(types()).not.toContain("message");
  });

  it("ends with one error event on a terminal error, the error kept in the transcript", async () => {
    fake.enqueue(errorReply("auth"));
    const outcome = await turn();
    expect(outcome).toMatchObject({ status: "failed", error: { kind: "auth", status_code: 401 } });
    expect(types()).toEqual(["message", "error"]);
    expect(events[1]?.data).toMatchObject({ kind: "auth", status_code: 401 });
    const note = store.messages[1];
    expect(note).toMatchObject({ role: "assistant", model_id: null, stopped: false });
    expect(note?.parts).toEqual([
      {
        type: "error",
        kind: "auth",
        message: (events[1]?.data as { message?: string } | undefined)?.message,
        status_code: 401,
      },
    ]);
    expect(fake.requests).toHaveLength(1);
  });

  it("stops a tool that ignores its signal at once and records the interruption", async () => {
    const slow = defineTool({
      name: "slow",
      description: "Never ends.",
      inputSchema: z.object({}),
      execute: () => new Promise(() => {}),
    });
    fake.enqueue(toolCallReply({ name: "slow", args: {}, id: "call_s" }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(new ChatInterrupted()), 300);
    const outcome = await turn({
      signal: controller.signal,
      tools: new ToolRegistry([slow]),
    });
    expect(outcome.status).toBe("interrupted");
    expect(store.messages.at(-1)).toMatchObject({
      role: "tool",
      parts: [{ type: "tool_result", tool_call_id: "call_s", is_error: true }],
    });
  });

  it("keeps what a stopped tool streamed in its result, then says it was interrupted", async () => {
    const controller = new AbortController();
    const printing = defineTool({
      name: "printing",
      description: "Prints, then never ends.",
      inputSchema: z.object({}),
      execute: (_input, context) => {
        context.onOutput?.("line-1\n");
        context.onOutput?.("line-2\n");
        setTimeout(() => controller.abort(new ChatInterrupted()), 50);
        return new Promise(() => {});
      },
    });
    fake.enqueue(toolCallReply({ name: "printing", args: {}, id: "call_p" }));
    const outcome = await turn({ signal: controller.signal, tools: new ToolRegistry([printing]) });
    expect(outcome.status).toBe("interrupted");
    expect(store.messages.at(-1)?.parts[0]).toMatchObject({
      output:
        "line-1\nline-2\n[The tool call was interrupted: The chat was interrupted by the user.]",
      is_error: true,
    });
  });

  it("runs tool calls a dead process persisted but never ran", async () => {
    await store.insertMessage("chat", {
      role: "assistant",
      parts: [{ type: "tool_call", tool_call_id: "call_x", name: "add", input: { a: 1, b: 1 } }],
    });
    fake.enqueue(textReply("2."));
    const outcome = await turn();
    expect(outcome.status).toBe("completed");
    expect(store.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
    expect(store.messages[2]?.parts[0]).toMatchObject({ output: "2", is_error: false });
  });

  it("asks the model nothing when the history already ends with the turn's answer (its server died before saying so)", async () => {
    await store.insertMessage("chat", {
      role: "assistant",
      parts: [{ type: "text", text: "It is 5." }],
    });
    const asked = fake.requests.length;
    const outcome = await turn();
    expect(outcome).toEqual({ status: "completed", steps: 0 });
    expect(fake.requests.length).toBe(asked);
    expect(store.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
  });

  it("saves each finished part silently while the step streams; the final write replaces it", async () => {
    fake.enqueue({
      kind: "stream",
      events: [
        { type: "reasoning", text: "Adding " },
        { type: "reasoning", text: "two numbers." },
        { type: "text", text: "Let me " },
        { type: "text", text: "add." },
        { type: "tool-call", id: "call_p", name: "add", args: ['{"a":2,', '"b":3}'] },
      ],
      end: "hang",
    });
    const controller = new AbortController();
    const outcome = turn({ signal: controller.signal });
    const reasoning = { type: "reasoning", text: "Adding two numbers." };
    const text = { type: "text", text: "Let me add." };
    const call = { type: "tool_call", tool_call_id: "call_p", name: "add", input: { a: 2, b: 3 } };
    // The tool call completed the text part and is complete itself: all three are saved, while
    // the stream still hangs, as the message in progress — and nothing announced it.
    await vi.waitFor(() =>
      expect(store.messages[1]).toMatchObject({
        role: "assistant",
        in_progress: true,
        parts: [reasoning, text, call],
      }),
    );
    // At part boundaries only: the reasoning part when the text began, then all at the call.
    expect(store.saves.map((save) => save.parts.length)).toEqual([1, 3]);
    expect(store.saves[0]?.parts).toMatchObject([reasoning]);
    await publisher.drain();
    expect(types()).not.toContain("message");

    controller.abort(new ChatInterrupted());
    expect((await outcome).status).toBe("interrupted");
    // Stopped: the same message, final, without the call that never ran; announced once.
    expect(store.messages).toHaveLength(2);
    expect(store.messages[1]).toMatchObject({ in_progress: false, parts: [reasoning, text] });
    expect(store.messages[1]?.parts).toHaveLength(2);
    const messages = events.filter((e) => e.type === "message");
    expect(messages).toHaveLength(1);
    expect(messages[0]?.data).toMatchObject({ message: { id: store.messages[1]?.id } });
  });

  it("a retried attempt replaces the saved parts of the failed one, never adds to them", async () => {
    fake.enqueue(
      resetAfter("Half an", 2, { reasoning: "Plan A." }),
      textReply("The whole answer.", { reasoning: "Plan B." }),
    );
    const outcome = await turn();
    expect(outcome.status).toBe("completed");
    expect(store.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(store.messages[1]).toMatchObject({
      in_progress: false,
      parts: [
        { type: "reasoning", text: "Plan B." },
        { type: "text", text: "The whole answer." },
      ],
    });
    expect(store.messages[1]?.parts).toHaveLength(2);
    // Attempt 1 saved its reasoning; attempt 2 emptied that before saving its own.
    expect(store.saves.map((save) => save.parts)).toMatchObject([
      [{ type: "reasoning", text: "Plan A." }],
      [],
      [{ type: "reasoning", text: "Plan B." }],
    ]);
    expect(new Set(store.saves.map((save) => save.id)).size).toBe(1);
    expect(types().filter((t) => t === "message")).toHaveLength(1);
  });

  it("drops the saved parts when the retried attempt is stopped before it streamed any: a Stopped mark stays", async () => {
    fake.enqueue(resetAfter("Half an", 2, { reasoning: "Plan A." }), hangAfter("", 0));
    const controller = new AbortController();
    const outcome = turn({ signal: controller.signal });
    await vi.waitFor(() => expect(fake.requests).toHaveLength(2));
    await vi.waitFor(() => expect(store.saves.at(-1)?.parts).toEqual([]));
    controller.abort(new ChatInterrupted());
    expect((await outcome).status).toBe("interrupted");
    expect(store.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(store.messages[1]).toMatchObject({
      parts: [],
      stopped: true,
      retries: { count: 1, kind: expect.any(String) },
    });
    expect(types().filter((t) => t === "message")).toHaveLength(1);
  });

  it("marks a stopped step and records its retries on the message", async () => {
    fake.enqueue(errorReply("overloaded"), errorReply("overloaded"), hangAfter("Half an", 2));
    const controller = new AbortController();
    const outcome = turn({ signal: controller.signal });
    await vi.waitFor(() => expect(fake.requests).toHaveLength(3));
    await vi.waitFor(() => expect(types()).toContain("message_part"));
    controller.abort(new ChatInterrupted());
    expect((await outcome).status).toBe("interrupted");
    expect(store.messages[1]).toMatchObject({
      stopped: true,
      retries: { count: 2, kind: "overloaded" },
      parts: [{ type: "text", text: expect.stringContaining("Half") }],
    });
  });

  it("settles a message a dead process left in progress: text kept, its tool call never run", async () => {
    await store.saveMessage("chat", {
      id: "partial-1",
      role: "assistant",
      parts: [
        { type: "text", text: "Let me add." },
        { type: "tool_call", tool_call_id: "call_dead", name: "add", input: { a: 1, b: 1 } },
      ],
      in_progress: true,
    });
    fake.enqueue(textReply("It is 5."));
    const outcome = await turn();
    expect(outcome.status).toBe("completed");
    expect(store.messages.map((m) => [m.role, m.in_progress, m.parts])).toEqual([
      ["user", false, [{ type: "text", text: "What is 2+3?" }]],
      ["assistant", false, [{ type: "text", text: "Let me add." }]],
      ["assistant", false, [{ type: "text", text: "It is 5." }]],
    ]);
    // The call was neither run nor sent to the model (it has no result to go with it).
    expect(JSON.stringify(fake.requests[0]?.body)).not.toContain("call_dead");
    expect(JSON.stringify(fake.requests[0]?.body)).toContain("Let me add.");
    // The settled message gets the `message` event the dead process never sent, before the turn's.
    const messages = events.filter((e) => e.type === "message");
    expect(messages.map((e) => (e.data as { message: { id: string } }).message.id)).toEqual([
      "partial-1",
      store.messages[2]?.id,
    ]);
  });

  it("records the tool message as started before any call runs", async () => {
    const seen: Array<[string, boolean, number]> = [];
    const probe = defineTool({
      name: "probe",
      description: "Looks at the transcript while it runs.",
      inputSchema: z.object({}),
      execute: () => {
        const last = store.messages.at(-1);
        seen.push([last?.role ?? "", last?.in_progress ?? false, last?.parts.length ?? -1]);
        return { output: "looked", is_error: false };
      },
    });
    fake.enqueue(toolCallReply({ name: "probe", args: {}, id: "call_p" }), textReply("Done."));
    const outcome = await turn({ tools: new ToolRegistry([probe]) });
    expect(outcome.status).toBe("completed");
    expect(seen).toEqual([["tool", true, 0]]);
    expect(store.messages.map((m) => [m.role, m.in_progress])).toEqual([
      ["user", false],
      ["assistant", false],
      ["tool", false],
      ["assistant", false],
    ]);
  });

  it.each([
    ["an assistant message whose calls never started: they run now", false, 1],
    ["a started tool message with no results: never run again, answered as unknown", true, 0],
  ])("after a crash, %s", async (_, started, runs) => {
    const execute = vi.fn(() => ({ output: "5", is_error: false }));
    const counted = defineTool({
      name: "add",
      description: "Adds two numbers.",
      inputSchema: z.object({ a: z.number(), b: z.number() }),
      execute,
    });
    await store.saveMessage("chat", {
      id: "step-1",
      role: "assistant",
      parts: [{ type: "tool_call", tool_call_id: "call_c", name: "add", input: { a: 2, b: 3 } }],
    });
    if (started) {
      await store.saveMessage("chat", {
        id: "tools-1",
        role: "tool",
        parts: [],
        in_progress: true,
      });
    }
    fake.enqueue(textReply("It is 5."));
    const outcome = await turn({ tools: new ToolRegistry([counted]) });
    expect(outcome.status).toBe("completed");
    expect(execute).toHaveBeenCalledTimes(runs);
    const result = store.messages.find((m) => m.role === "tool");
    expect(result?.in_progress).toBe(false);
    expect(result?.parts).toEqual([
      started
        ? {
            type: "tool_result",
            tool_call_id: "call_c",
            name: "add",
            output: STARTED_WITHOUT_RESULT,
            is_error: true,
          }
        : {
            type: "tool_result",
            tool_call_id: "call_c",
            name: "add",
            output: "5",
            is_error: false,
          },
    ]);
    // The model is told what happened.
    expect(JSON.stringify(fake.requests[0]?.body)).toContain(started ? "may have partly" : '"5"');
  });

  it("ends after maxSteps with an error", async () => {
    fake.enqueue(
      toolCallReply({ name: "add", args: { a: 1, b: 1 } }),
      toolCallReply({ name: "add", args: { a: 1, b: 1 } }),
    );
    const outcome = await turn({ maxSteps: 2 });
    expect(outcome).toMatchObject({ status: "failed", steps: 2, error: { kind: "generic" } });
  });

  it("asks its budget before every step and stops before the next once it refuses", async () => {
    fake.enqueue(
      toolCallReply(
        { name: "add", args: { a: 2, b: 3 } },
        { usage: { inputTokens: 10, outputTokens: 10 } },
      ),
      textReply("It is 5."),
    );
    const spent: number[] = [];
    let asked = 0;
    const refusal = {
      kind: "spend_limit",
      message: "You have spent $1.00 of your $0.50 daily limit.",
    };
    const outcome = await turn({
      pricing: { input_per_mtok: 0, output_per_mtok: 100_000 },
      budget: {
        async refusal() {
          asked += 1;
          return spent.length > 0 ? refusal : undefined;
        },
        spent: (usd) => spent.push(usd),
      },
    });
    // The first step ran (and its tool), cost $1, and the second was never asked for.
    expect(outcome).toEqual({ status: "failed", steps: 1, error: refusal });
    expect(asked).toBe(2);
    expect(spent).toEqual([1]);
    expect(fake.requests).toHaveLength(1);
    expect(store.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
    expect(events.filter((e) => e.type === "error").map((e) => e.data)).toEqual([refusal]);
  });
});
