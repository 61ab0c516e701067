import { describe, expect, it } from "vitest";
import type { Message, MessagePart } from "../store/types.ts";
import {
  buildPrompt,
  capWorkspaceInstructions,
  costUsd,
  DEPLOYMENT_PROMPT_HEADING,
  instructionLayers,
  keelPrompt,
  MAX_WORKSPACE_INSTRUCTIONS_BYTES,
  MISSING_RESULT,
  SYSTEM_PROMPT,
  USER_INSTRUCTIONS_HEADING,
  unansweredToolCalls,
  workspaceInstructionsHeading,
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
    stopped: false,
    retries: null,
    cost_usd: null,
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

describe("instructions", () => {
  const now = new Date("2031-02-03T23:59:00Z");

  it("tells the four layers in order, each its own system message, before the conversation", () => {
    const layers = instructionLayers({
      environment: { now, platform: "linux x64", directory: "/work/repo" },
      deploymentPrompt: "Be brief.",
      userInstructions: "Call me Ada.",
      workspaceFile: { name: "AGENTS.md", text: "Run npm test.\n" },
    });
    expect(layers.map((layer) => layer.source)).toEqual([
      "keel",
      "deployment",
      "user",
      "workspace",
    ]);
    const prompt = buildPrompt([message("user", [{ type: "text", text: "hi" }])], layers);
    expect(prompt).toEqual([
      { role: "system", content: layers[0]?.text },
      { role: "system", content: `${DEPLOYMENT_PROMPT_HEADING}\n\nBe brief.` },
      { role: "system", content: `${USER_INSTRUCTIONS_HEADING}\n\nCall me Ada.` },
      { role: "system", content: `${workspaceInstructionsHeading("AGENTS.md")}\n\nRun npm test.` },
      { role: "user", content: [{ type: "text", text: "hi" }] },
    ]);
    const keel = layers[0]?.text ?? "";
    expect(keel.startsWith(SYSTEM_PROMPT)).toBe(true);
    expect(keel).toContain("Today's date: 2031-02-03 (UTC)");
    expect(keel).toContain("operating system: linux x64");
    expect(keel).toContain("working directory: /work/repo");
  });

  it("says what the agent is and how it works", () => {
    for (const words of ["Read before you edit", "run the tests", "small", "what failed"]) {
      expect(SYSTEM_PROMPT).toContain(words);
    }
  });

  it("has no layer for what is absent or blank, and no workspace environment without an agent", () => {
    for (const blank of [null, undefined, "", " \n "]) {
      const layers = instructionLayers({
        environment: { now },
        deploymentPrompt: blank,
        userInstructions: blank,
        workspaceFile:
          blank === null || blank === undefined ? blank : { name: "AGENTS.md", text: blank },
      });
      expect(layers).toEqual([{ source: "keel", text: keelPrompt(SYSTEM_PROMPT, { now }) }]);
      expect(layers[0]?.text).not.toContain("operating system");
      expect(layers[0]?.text).not.toContain("working directory");
    }
    const userOnly = instructionLayers({ environment: { now }, userInstructions: "Use tabs." });
    expect(userOnly.map((layer) => layer.source)).toEqual(["keel", "user"]);
  });

  it("cuts a workspace file past 32 KB, with a note, and marks the layer truncated", () => {
    const line = `${"é".repeat(99)}\n`; // 199 bytes a line
    const long = line.repeat(200); // ~39 KB
    const [, layer] = instructionLayers({
      environment: { now },
      workspaceFile: { name: "CLAUDE.md", text: long },
    });
    expect(layer?.source).toBe("workspace");
    expect(layer?.truncated).toBe(true);
    expect(layer?.text.startsWith(`${workspaceInstructionsHeading("CLAUDE.md")}\n\n`)).toBe(true);
    expect(layer?.text).toMatch(
      /\[CLAUDE\.md is longer than 32 KB: only its start is shown here\./,
    );
    const cut = capWorkspaceInstructions("CLAUDE.md", long);
    const body = cut.text.slice(0, cut.text.lastIndexOf("\n\n["));
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_WORKSPACE_INSTRUCTIONS_BYTES);
    expect(body.endsWith("é")).toBe(true); // whole lines, no broken character
    expect(long.startsWith(body)).toBe(true);
  });

  it("keeps a file of at most 32 KB whole, and notes a file read only in part", () => {
    const exact = "a".repeat(MAX_WORKSPACE_INSTRUCTIONS_BYTES);
    expect(capWorkspaceInstructions("AGENTS.md", exact)).toEqual({ text: exact, truncated: false });
    const partial = capWorkspaceInstructions("AGENTS.md", "short", true);
    expect(partial.truncated).toBe(true);
    expect(partial.text).toMatch(/^short\n\n\[AGENTS\.md is longer than 32 KB/);
  });
});
