import { describe, expect, it } from "vitest";
import { contextWindowOf, DEFAULT_CONTEXT_WINDOW } from "./context-windows.ts";

describe("contextWindowOf", () => {
  it.each([
    ["claude-sonnet-4-5", 200_000],
    ["us.anthropic.claude-3-7-sonnet-20250219-v1:0", 200_000],
    ["anthropic/claude-opus-4.1", 200_000],
    ["gpt-4.1-mini", 1_047_576],
    ["gpt-5-codex", 400_000],
    ["gpt-4o-2024-08-06", 128_000],
    ["o3", 200_000],
    ["o4-mini", 200_000],
    ["openai/o3-pro", 200_000],
    ["gemini-2.5-pro", 1_048_576],
    ["gemini-1.5-pro-002", 2_097_152],
    ["models/gemini-2.0-flash", 1_048_576],
    ["deepseek-chat", 128_000],
    ["some-local-model", DEFAULT_CONTEXT_WINDOW],
    ["foo3", DEFAULT_CONTEXT_WINDOW],
  ])("%s → %d", (model, tokens) => {
    expect(contextWindowOf({ model, context_window: null }).tokens).toBe(tokens);
  });

  it("prefers the window an administrator set", () => {
    expect(contextWindowOf({ model: "claude-sonnet-4-5", context_window: 1_000_000 })).toEqual({
      tokens: 1_000_000,
      source: "model",
    });
    expect(contextWindowOf({ model: "mystery", context_window: null }).source).toBe("default");
  });
});
