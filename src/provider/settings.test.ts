import { describe, expect, it } from "vitest";
import { callSettings, type ModelSettings, ModelSettingsError } from "./settings.ts";
import type { ProviderType } from "./types.ts";

const claude = "claude-sonnet-4-5";
const bedrockClaude = "us.anthropic.claude-sonnet-4-5-v1:0";

describe("callSettings", () => {
  it.each<[ProviderType, string, ModelSettings["reasoning"], unknown]>([
    ["openai", "gpt-5", "low", { openai: { reasoningEffort: "low" } }],
    ["openai", "gpt-5", "high", { openai: { reasoningEffort: "high" } }],
    ["openai", "gpt-5", "off", { openai: { reasoningEffort: "none" } }],
    ["azure", "gpt-5", "medium", { azure: { reasoningEffort: "medium" } }],
    ["azure", "gpt-5", "off", { azure: { reasoningEffort: "none" } }],
    [
      "anthropic",
      claude,
      "low",
      { anthropic: { thinking: { type: "enabled", budgetTokens: 2048 } } },
    ],
    [
      "anthropic",
      claude,
      "medium",
      { anthropic: { thinking: { type: "enabled", budgetTokens: 8192 } } },
    ],
    [
      "anthropic",
      claude,
      "high",
      { anthropic: { thinking: { type: "enabled", budgetTokens: 24576 } } },
    ],
    ["anthropic", claude, "off", { anthropic: { thinking: { type: "disabled" } } }],
    ["google", "gemini-2.5-pro", "low", { google: { thinkingConfig: { thinkingBudget: 2048 } } }],
    ["google", "gemini-2.5-pro", "off", { google: { thinkingConfig: { thinkingBudget: 0 } } }],
    [
      "bedrock",
      bedrockClaude,
      "medium",
      { amazonBedrock: { reasoningConfig: { type: "enabled", budgetTokens: 8192 } } },
    ],
    ["bedrock", bedrockClaude, "off", { amazonBedrock: { reasoningConfig: { type: "disabled" } } }],
    [
      "bedrock",
      "amazon.nova-2-lite-v1:0",
      "high",
      { amazonBedrock: { reasoningConfig: { type: "enabled", maxReasoningEffort: "high" } } },
    ],
    [
      "bedrock",
      "amazon.nova-2-lite-v1:0",
      "off",
      { amazonBedrock: { reasoningConfig: { type: "disabled" } } },
    ],
    ["openrouter", "openai/gpt-5", "high", { openrouter: { reasoning: { effort: "high" } } }],
    ["openrouter", "openai/gpt-5", "off", { openrouter: { reasoning: { effort: "none" } } }],
    ["openai-compatible", "qwen3", "low", { openaiCompatible: { reasoningEffort: "low" } }],
    ["openai-compatible", "qwen3", "off", { openaiCompatible: { reasoningEffort: "none" } }],
  ])("maps %s (%s) reasoning %s to its provider options", (type, model, reasoning, options) => {
    expect(callSettings(type, model, { reasoning })).toEqual({ providerOptions: options });
  });

  it.each<ProviderType>([
    "openai",
    "azure",
    "anthropic",
    "google",
    "bedrock",
    "openrouter",
    "openai-compatible",
  ])("leaves %s to its defaults when nothing is set", (type) => {
    expect(callSettings(type, "m", {})).toEqual({});
  });

  it("passes temperature and max_output_tokens as the call's own options", () => {
    expect(
      callSettings("openai", "gpt-4.1", { temperature: 0.2, max_output_tokens: 4000 }),
    ).toEqual({ temperature: 0.2, maxOutputTokens: 4000 });
    expect(callSettings("anthropic", claude, { temperature: 0, reasoning: "off" })).toEqual({
      temperature: 0,
      providerOptions: { anthropic: { thinking: { type: "disabled" } } },
    });
  });

  it.each<[string, ProviderType, string, ModelSettings, keyof ModelSettings, RegExp]>([
    ["a temperature above 2", "openai", "gpt-4.1", { temperature: 2.5 }, "temperature", /0 to 2/],
    ["a negative temperature", "google", "gemini", { temperature: -1 }, "temperature", /0 to 2/],
    [
      "an Anthropic temperature above 1",
      "anthropic",
      claude,
      { temperature: 1.5 },
      "temperature",
      /0 to 1/,
    ],
    [
      "a Bedrock Anthropic temperature above 1",
      "bedrock",
      bedrockClaude,
      { temperature: 1.2 },
      "temperature",
      /0 to 1/,
    ],
    [
      "Anthropic thinking with a temperature",
      "anthropic",
      claude,
      { temperature: 0.5, reasoning: "low" },
      "reasoning",
      /temperature/,
    ],
    [
      "Bedrock Anthropic thinking with a temperature",
      "bedrock",
      bedrockClaude,
      { temperature: 0.5, reasoning: "high" },
      "reasoning",
      /temperature/,
    ],
    [
      "a fractional max_output_tokens",
      "openai",
      "m",
      { max_output_tokens: 1.5 },
      "max_output_tokens",
      /positive integer/,
    ],
    [
      "a zero max_output_tokens",
      "openai",
      "m",
      { max_output_tokens: 0 },
      "max_output_tokens",
      /positive integer/,
    ],
    [
      "an unknown effort",
      "openai",
      "m",
      { reasoning: "max" as ModelSettings["reasoning"] },
      "reasoning",
      /off, low, medium, high/,
    ],
  ])("refuses %s, naming the field", (_, type, model, settings, field, message) => {
    let error: unknown;
    try {
      callSettings(type, model, settings);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModelSettingsError);
    expect((error as ModelSettingsError).field).toBe(field);
    expect((error as ModelSettingsError).message).toMatch(message);
  });
});
