/** What Keel's prompt becomes on each provider's real wire, and what comes back. */
import { describe, expect, it } from "vitest";
import { runStep } from "../../src/chatloop/step.ts";
import {
  createChatModel,
  type PromptMessage,
  type ToolDefinition,
  Transport,
} from "../../src/provider/index.ts";
import { startFakeProvider, textReply } from "../fakeprovider/index.ts";
import { useFakeProvider } from "./support/fake-fixture.ts";
import { FLAVOURS } from "./support/flavours.ts";

const READ_FILE: ToolDefinition = {
  name: "read_file",
  description: "Read a file from the workspace.",
  inputSchema: {
    type: "object",
    properties: { path: { type: "string" } },
    required: ["path"],
    additionalProperties: false,
  },
};

const HISTORY: PromptMessage[] = [
  { role: "system", content: "You are Keel's test agent." },
  { role: "user", content: [{ type: "text", text: "What is in notes.txt?" }] },
  {
    role: "assistant",
    content: [
      { type: "text", text: "Let me look." },
      {
        type: "tool_call",
        tool_call_id: "call_42",
        name: "read_file",
        input: { path: "notes.txt" },
      },
    ],
  },
  {
    role: "tool",
    content: [
      {
        type: "tool_result",
        tool_call_id: "call_42",
        name: "read_file",
        output: "remember the milk",
        is_error: false,
      },
    ],
  },
];

describe.each(FLAVOURS)("$name", ({ config }) => {
  const provider = useFakeProvider({ http2: true });

  it("sends the system prompt, the tool call, its result and the tool definitions", async () => {
    provider.fake.enqueue(textReply("It says to remember the milk."));
    const model = createChatModel(config(provider.fake.url), "test-model", provider.transport);
    const outcome = await runStep(
      model,
      { messages: HISTORY, tools: [READ_FILE] },
      { signal: new AbortController().signal },
    );
    expect(outcome.status).toBe("finished");
    const sent = provider.fake.requests[0]?.rawBody ?? "";
    for (const expected of [
      "You are Keel's test agent.",
      "notes.txt",
      "remember the milk",
      "read_file",
    ]) {
      expect(sent).toContain(expected);
    }
    expect(sent).toContain("Read a file from the workspace.");
  });
});

describe("anthropic thinking", () => {
  it("sends the thinking signature back with the reasoning on the next step", async () => {
    const fake = await startFakeProvider({ http2: true });
    const transport = new Transport({ extraCaCerts: [fake.ca] });
    try {
      const model = createChatModel(
        { type: "anthropic", base_url: `${fake.url}/v1`, api_key: "k" },
        "claude-test",
        transport,
      );
      fake.enqueue(textReply("Answer.", { reasoning: "Let me think." }), textReply("Again."));
      const signal = new AbortController().signal;
      const first = await runStep(model, { messages: HISTORY.slice(0, 2) }, { signal });
      if (first.status !== "finished") throw new Error(`step ${first.status}`);
      const reasoning = first.parts.find((p) => p.type === "reasoning");
      expect(reasoning).toMatchObject({
        text: "Let me think.",
        provider_metadata: { anthropic: {} },
      });

      await runStep(
        model,
        {
          messages: [
            ...HISTORY.slice(0, 2),
            { role: "assistant", content: first.parts.filter((p) => p.type !== "tool_call") },
            { role: "user", content: [{ type: "text", text: "And?" }] },
          ],
        },
        { signal },
      );
      expect(fake.requests[1]?.rawBody).toContain("fake-signature-1");
    } finally {
      await transport.close();
      await fake.close();
    }
  });
});
