/**
 * How many tokens a model's prompt may hold. An administrator may set it per model
 * (`models.context_window`); otherwise Keel knows the windows of well-known models by their id —
 * as the provider names them, whatever the route (Bedrock's `us.anthropic.claude-…-v1:0`,
 * OpenRouter's `anthropic/claude-…`) — and assumes `DEFAULT_CONTEXT_WINDOW` for the rest.
 */

/** The window of a model Keel does not know and no administrator described. */
export const DEFAULT_CONTEXT_WINDOW = 128_000;

/** Well-known model families, most specific first: the first pattern found in the id wins. */
const KNOWN_WINDOWS: ReadonlyArray<readonly [RegExp, number]> = [
  // Anthropic (also on Bedrock, Vertex and OpenRouter).
  [/claude/, 200_000],
  // OpenAI.
  [/gpt-4\.1/, 1_047_576],
  [/gpt-5/, 400_000],
  [/gpt-4o|gpt-4-turbo|chatgpt-4o/, 128_000],
  [/gpt-3\.5-turbo/, 16_385],
  [/(^|[^a-z0-9])o[134](-mini|-pro)?($|[^a-z0-9])/, 200_000],
  [/gpt-oss/, 131_072],
  // Google.
  [/gemini-1\.5-pro/, 2_097_152],
  [/gemini/, 1_048_576],
  // Others often served through OpenAI-compatible endpoints.
  [/deepseek/, 128_000],
  [/mistral-large|codestral/, 128_000],
  [/llama-?3\.[123]|llama-?4/, 128_000],
  [/qwen3?-coder/, 262_144],
];

export type ContextWindowSource = "model" | "known" | "default";

/** A model's context window and where the number comes from (shown to admins). */
export function contextWindowOf(model: { model: string; context_window: number | null }): {
  tokens: number;
  source: ContextWindowSource;
} {
  if (model.context_window !== null && model.context_window > 0) {
    return { tokens: model.context_window, source: "model" };
  }
  const id = model.model.toLowerCase();
  for (const [pattern, tokens] of KNOWN_WINDOWS) {
    if (pattern.test(id)) return { tokens, source: "known" };
  }
  return { tokens: DEFAULT_CONTEXT_WINDOW, source: "default" };
}
