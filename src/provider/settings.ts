/**
 * A model's settings (what an administrator sets per model: temperature, output limit, reasoning
 * effort) → the call options of its provider's AI SDK model. One small mapping per provider type;
 * the option names are the provider packages' own (`@ai-sdk/*` provider options schemas). A
 * combination a provider cannot express is a `ModelSettingsError` naming the field, so the API
 * refuses it when the model is saved rather than when a chat runs.
 */
import type { JSONObject } from "@ai-sdk/provider";
import type { ProviderType } from "./types.ts";

export const REASONING_EFFORTS = ["off", "low", "medium", "high"] as const;
export type ReasoningEffort = (typeof REASONING_EFFORTS)[number];

/** Per-model settings; an absent one leaves the provider's default. */
export interface ModelSettings {
  /** 0–2 (Anthropic: 0–1). */
  temperature?: number;
  /** A positive integer: the most tokens one step may write (thinking excluded). */
  max_output_tokens?: number;
  reasoning?: ReasoningEffort;
  /**
   * Keel's, not the provider's: the share of the context window a chat's prompt may fill before
   * it is compacted (DESIGN.md §7; default 0.8). Never part of a call.
   */
  compact_at?: number;
}

export const TEMPERATURE_MAX = 2;

/** What a step's `doStream` call gets from the model's settings. */
export interface CallSettings {
  temperature?: number;
  maxOutputTokens?: number;
  providerOptions?: Record<string, JSONObject>;
}

/** A setting the model's provider cannot take; `field` is the setting's name. */
export class ModelSettingsError extends Error {
  override readonly name = "ModelSettingsError";
  readonly field: keyof ModelSettings;
  constructor(field: keyof ModelSettings, message: string) {
    super(message);
    this.field = field;
  }
}

/** Thinking budgets (tokens) where a provider takes a budget rather than an effort. */
export const THINKING_BUDGETS: Record<Exclude<ReasoningEffort, "off">, number> = {
  low: 2_048,
  medium: 8_192,
  high: 24_576,
};

/** Anthropic's Messages API (also on Bedrock) takes a temperature of 0–1 only. */
const ANTHROPIC_TEMPERATURE_MAX = 1;

/** The Bedrock package's own test for an Anthropic model (`isAnthropicModel`). */
function isBedrockAnthropic(modelId: string): boolean {
  return modelId.includes("anthropic");
}

/** `effort` as OpenAI's `reasoningEffort` (chat and responses alike; off is "none"). */
function openaiEffort(effort: ReasoningEffort): string {
  return effort === "off" ? "none" : effort;
}

/** Anthropic extended thinking, checked against the temperature it cannot be combined with. */
function anthropicThinking(settings: ModelSettings, where: string): JSONObject | undefined {
  if (settings.temperature !== undefined && settings.temperature > ANTHROPIC_TEMPERATURE_MAX) {
    throw new ModelSettingsError(
      "temperature",
      `${where} takes a temperature from 0 to ${ANTHROPIC_TEMPERATURE_MAX}.`,
    );
  }
  const effort = settings.reasoning;
  if (effort === undefined) return undefined;
  if (effort === "off") return { type: "disabled" };
  if (settings.temperature !== undefined) {
    throw new ModelSettingsError(
      "reasoning",
      `${where} does not take a temperature while thinking: clear the temperature or set reasoning to "off".`,
    );
  }
  return { type: "enabled", budgetTokens: THINKING_BUDGETS[effort] };
}

type ReasoningOptions = (settings: ModelSettings, modelId: string) => Record<string, JSONObject>;

/** `options(effort)` when the settings name a reasoning effort; nothing otherwise. */
function when(
  settings: ModelSettings,
  options: (effort: ReasoningEffort) => Record<string, JSONObject>,
): Record<string, JSONObject> {
  return settings.reasoning === undefined ? {} : options(settings.reasoning);
}

/** The provider options for a model's settings, by provider type. */
export const PROVIDER_OPTIONS: Record<ProviderType, ReasoningOptions> = {
  openai: (s) => when(s, (effort) => ({ openai: { reasoningEffort: openaiEffort(effort) } })),
  azure: (s) => when(s, (effort) => ({ azure: { reasoningEffort: openaiEffort(effort) } })),
  anthropic: (s): Record<string, JSONObject> => {
    const thinking = anthropicThinking(s, "Anthropic");
    return thinking ? { anthropic: { thinking } } : {};
  },
  google: (s) =>
    when(s, (effort) => ({
      google: {
        thinkingConfig: { thinkingBudget: effort === "off" ? 0 : THINKING_BUDGETS[effort] },
      },
    })),
  bedrock: (s, modelId): Record<string, JSONObject> => {
    if (isBedrockAnthropic(modelId)) {
      const thinking = anthropicThinking(s, "An Anthropic model on Bedrock");
      return thinking ? { amazonBedrock: { reasoningConfig: thinking } } : {};
    }
    return when(s, (effort) => ({
      amazonBedrock: {
        reasoningConfig:
          effort === "off" ? { type: "disabled" } : { type: "enabled", maxReasoningEffort: effort },
      },
    }));
  },
  openrouter: (s) =>
    when(s, (effort) => ({ openrouter: { reasoning: { effort: openaiEffort(effort) } } })),
  "openai-compatible": (s) =>
    when(s, (effort) => ({ openaiCompatible: { reasoningEffort: openaiEffort(effort) } })),
};

/**
 * The call options for a model's settings on its provider type. Throws `ModelSettingsError` for
 * a setting the provider cannot take.
 */
export function callSettings(
  type: ProviderType,
  modelId: string,
  settings: ModelSettings,
): CallSettings {
  if (
    settings.temperature !== undefined &&
    !(settings.temperature >= 0 && settings.temperature <= TEMPERATURE_MAX)
  ) {
    throw new ModelSettingsError(
      "temperature",
      `Temperature must be from 0 to ${TEMPERATURE_MAX}.`,
    );
  }
  if (
    settings.max_output_tokens !== undefined &&
    !(Number.isInteger(settings.max_output_tokens) && settings.max_output_tokens > 0)
  ) {
    throw new ModelSettingsError("max_output_tokens", "Must be a positive integer.");
  }
  if (settings.reasoning !== undefined && !REASONING_EFFORTS.includes(settings.reasoning)) {
    throw new ModelSettingsError("reasoning", `Must be one of ${REASONING_EFFORTS.join(", ")}.`);
  }
  const providerOptions = PROVIDER_OPTIONS[type](settings, modelId);
  return {
    ...(settings.temperature !== undefined ? { temperature: settings.temperature } : {}),
    ...(settings.max_output_tokens !== undefined
      ? { maxOutputTokens: settings.max_output_tokens }
      : {}),
    ...(Object.keys(providerOptions).length ? { providerOptions } : {}),
  };
}
