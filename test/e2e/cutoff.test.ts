/**
 * A stream cut before its end marker, for every provider type Keel builds (DESIGN.md §2: "no end
 * marker on the wire is a transport reset, for every provider type"). Some provider packages paper
 * over a missing end marker — `@openrouter/ai-sdk-provider` reports `tool-calls` and fills
 * arguments it cannot parse with `{}` — so each cut is checked through Keel's own stream path
 * (provider → retry → silence guard → step) against the fake provider over real sockets, and a
 * tool call whose arguments do not parse is checked to never reach the tool.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { runStep, type StepOutcome } from "../../src/chatloop/step.ts";
import { defineTool, ToolRegistry } from "../../src/chatloop/tools.ts";
import type { RetryEvent } from "../../src/chatretry/retry.ts";
import {
  createChatModel,
  type StreamRequest,
  type ToolCallPart,
} from "../../src/provider/index.ts";
import {
  cutInToolCall,
  type StreamScript,
  toolCallReply,
  truncateAfter,
} from "../fakeprovider/index.ts";
import { useFakeProvider } from "./support/fake-fixture.ts";
import { FLAVOURS, TRANSPORTS } from "./support/flavours.ts";

const PROMPT: StreamRequest = {
  messages: [{ role: "user", content: [{ type: "text", text: "read a.txt" }] }],
  tools: [
    {
      name: "read_file",
      description: "Reads a file.",
      inputSchema: { type: "object", properties: { path: { type: "string" } } },
    },
  ],
};
const FAST = { baseDelayMs: 1, maxDelayMs: 5 };

/** The script's events up to (not including) its end sequence, then a clean end of the body. */
function cutBeforeEndMarker(script: StreamScript): StreamScript {
  return {
    ...script,
    events: script.events.filter((event) => event.type !== "finish"),
    end: "truncate",
  };
}

const CUTS: Array<[string, () => StreamScript]> = [
  ["after text", () => truncateAfter("Let me look", 2)],
  [
    "mid tool-call arguments",
    () => cutInToolCall({ name: "read_file" }, '{"path":"a.t', { text: "Reading." }),
  ],
  [
    "after a complete tool call",
    () =>
      cutBeforeEndMarker(
        toolCallReply({ name: "read_file", args: { path: "cut.txt" } }, { text: "Reading." }),
      ),
  ],
];

function toolCalls(outcome: StepOutcome): ToolCallPart[] {
  if (outcome.status !== "finished") return [];
  return outcome.parts.filter((part): part is ToolCallPart => part.type === "tool_call");
}

const transport = TRANSPORTS[1]; // HTTP/2: a reset there ends the body like a clean end

describe(`a stream cut before its end marker, over ${transport.name}`, () => {
  const provider = useFakeProvider(transport.server, { http2: transport.http2 });

  describe.each(FLAVOURS)("$name", (flavour) => {
    async function run() {
      const retries: RetryEvent[] = [];
      const model = createChatModel(
        flavour.config(provider.fake.url),
        "test-model",
        provider.transport,
      );
      const outcome = await runStep(model, PROMPT, {
        signal: new AbortController().signal,
        policy: FAST,
        silenceMs: 5_000,
        onRetry: (event) => retries.push(event),
      });
      return { outcome, retries };
    }

    it.each(CUTS)(
      "retries a stream cut %s as a transport reset, then takes the next attempt's reply",
      async (_, cut) => {
        provider.fake.enqueue(
          cut(),
          toolCallReply({ name: "read_file", args: { path: "a.txt" } }, { text: "Reading." }),
        );
        const { outcome, retries } = await run();
        expect(retries.map((r) => [r.attempt, r.error.kind, r.error.retryable])).toEqual([
          [1, "timeout", true],
        ]);
        expect(outcome.status).toBe("finished");
        expect(toolCalls(outcome).map((call) => [call.name, call.input])).toEqual([
          ["read_file", { path: "a.txt" }],
        ]);
        expect(provider.fake.requests).toHaveLength(2);
      },
    );

    it("never runs a tool call whose arguments do not parse", async () => {
      let runs = 0;
      const tools = new ToolRegistry([
        defineTool({
          name: "read_file",
          description: "Reads a file.",
          inputSchema: z.object({ path: z.string().optional() }),
          execute: () => {
            runs += 1;
            return { output: "contents", is_error: false };
          },
        }),
      ]);
      provider.fake.enqueue(toolCallReply({ name: "read_file", args: '{"path":"a.t' }));
      const { outcome, retries } = await run();
      expect(retries).toEqual([]);
      expect(outcome.status).toBe("finished");
      const results = await Promise.all(
        toolCalls(outcome).map((call) =>
          tools.execute(call.name, call.input, {
            signal: new AbortController().signal,
            chatId: "c",
          }),
        ),
      );
      expect(runs).toBe(0);
      expect(results.every((result) => result.is_error)).toBe(true);
    });
  });
});
