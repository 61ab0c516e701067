import { describe, expect, it } from "vitest";
import type { Message, MessagePart } from "../store/types.ts";
import {
  buildPrompt,
  costUsd,
  DEPLOYMENT_PROMPT_HEADING,
  MISSING_RESULT,
  unansweredToolCalls,
} from "./history.ts";

let n = 0;
function message(role: Message["role"], parts: MessagePart[]): Message {
  n += 1;
  return {
    id: `m${n}`,
    chat_id: "c",
    role,
    parts,
    usage: null,
    model_id: null,
    in_progress: false,
    created_at: new Date(0).toISOString(),
  };
}

const call = (id: string): MessagePart => ({
  type: "tool_call",
  tool_call_id: id,
  name: "add",
  input: { a: 1, b: 2 },
});
const result = (id: string): MessagePart => ({
  type: "tool_result",
  tool_call_id: id,
  name: "add",
  output: "3",
  is_error: false,
});

describe("buildPrompt", () => {
  it("maps roles and parts, skipping empty messages", () => {
    const prompt = buildPrompt(
      [
        message("user", [{ type: "text", text: "hi" }]),
        message("assistant", []),
        message("assistant", [{ type: "text", text: "" }, call("c1")]),
        message("tool", [result("c1")]),
        message("assistant", [{ type: "text", text: "3" }]),
      ],
      "SYS",
    );
    expect(prompt).toEqual([
      { role: "system", content: "SYS" },
      { role: "user", content: [{ type: "text", text: "hi" }] },
      { role: "assistant", content: [call("c1")] },
      { role: "tool", content: [result("c1")] },
      { role: "assistant", content: [{ type: "text", text: "3" }] },
    ]);
  });

  it("tells the deployment's prompt after the built-in one, each its own system message", () => {
    const prompt = buildPrompt(
      [message("user", [{ type: "text", text: "hi" }])],
      "SYS",
      "Be brief.",
    );
    expect(prompt).toEqual([
      { role: "system", content: "SYS" },
      { role: "system", content: `${DEPLOYMENT_PROMPT_HEADING}\n\nBe brief.` },
      { role: "user", content: [{ type: "text", text: "hi" }] },
    ]);
  });

  it.each([null, undefined, "", " \n "])("has no deployment section for %j", (deployment) => {
    const prompt = buildPrompt(
      [message("user", [{ type: "text", text: "hi" }])],
      "SYS",
      deployment,
    );
    expect(prompt.filter((m) => m.role === "system")).toEqual([{ role: "system", content: "SYS" }]);
  });

  it("gives every answered-too-late tool call an error result", () => {
    const prompt = buildPrompt(
      [
        message("assistant", [call("c1"), call("c2")]),
        message("tool", [result("c1")]),
        message("assistant", [call("c3")]),
        message("user", [{ type: "text", text: "hello?" }]),
      ],
      "S",
    );
    expect(prompt.slice(1)).toEqual([
      { role: "assistant", content: [call("c1"), call("c2")] },
      {
        role: "tool",
        content: [
          result("c1"),
          {
            type: "tool_result",
            tool_call_id: "c2",
            name: "add",
            output: MISSING_RESULT,
            is_error: true,
          },
        ],
      },
      { role: "assistant", content: [call("c3")] },
      {
        role: "tool",
        content: [
          {
            type: "tool_result",
            tool_call_id: "c3",
            name: "add",
            output: MISSING_RESULT,
            is_error: true,
          },
        ],
      },
      { role: "user", content: [{ type: "text", text: "hello?" }] },
    ]);
  });

  it("leaves the last message's calls open for the turn to run", () => {
    const history = [
      message("user", [{ type: "text", text: "x" }]),
      message("assistant", [call("c9")]),
    ];
    expect(buildPrompt(history, "S")).toHaveLength(3);
    expect(unansweredToolCalls(history)).toEqual([call("c9")]);
    expect(unansweredToolCalls(history.slice(0, 1))).toEqual([]);
  });
});

describe("a message saved mid-step (in_progress)", () => {
  it("counts with its text and reasoning only: its tool calls neither run nor get results", () => {
    const partial = {
      ...message("assistant", [{ type: "text", text: "Let me add." }, call("c5")]),
      in_progress: true,
    };
    const history = [message("user", [{ type: "text", text: "1+2?" }]), partial];
    expect(unansweredToolCalls(history)).toEqual([]);
    expect(buildPrompt(history, "S").slice(1)).toEqual([
      { role: "user", content: [{ type: "text", text: "1+2?" }] },
      { role: "assistant", content: [{ type: "text", text: "Let me add." }] },
    ]);
    // Not last (a queued message was moved after it): still no call and no made-up result.
    const later = [...history, message("user", [{ type: "text", text: "hello?" }])];
    expect(buildPrompt(later, "S").map((m) => m.role)).toEqual([
      "system",
      "user",
      "assistant",
      "user",
    ]);
    const onlyCall = { ...message("assistant", [call("c6")]), in_progress: true };
    expect(buildPrompt([onlyCall], "S")).toHaveLength(1);
  });
});

describe("costUsd", () => {
  const usage = {
    inputTokens: 1_000_000,
    outputTokens: 100_000,
    reasoningTokens: 0,
    cacheReadTokens: 500_000,
    cacheWriteTokens: 0,
  };
  it("charges fresh input, cache reads and output at their rates", () => {
    expect(
      costUsd(usage, { input_per_mtok: 3, output_per_mtok: 15, cache_read_per_mtok: 0.3 }),
    ).toBeCloseTo(1.5 + 0.15 + 1.5);
    expect(costUsd(usage, null)).toBeUndefined();
  });
});
