/**
 * Keel's own shapes for talking to a model. Later layers (chatloop, chatd, api) see only these;
 * the AI SDK's types stay inside `src/provider`.
 */

export const PROVIDER_TYPES = [
  "openai",
  "anthropic",
  "google",
  "bedrock",
  "azure",
  "openrouter",
  "openai-compatible",
] as const;

export type ProviderType = (typeof PROVIDER_TYPES)[number];

/** What an administrator configures for one provider. */
export interface ProviderConfig {
  type: ProviderType;
  /** Display name, used in messages ("Anthropic is overloaded"). Defaults to the type's name. */
  name?: string;
  base_url?: string;
  api_key?: string;
  /**
   * Provider-specific settings: `api` ("chat" | "responses") for openai/azure; `region`,
   * `access_key_id`, `secret_access_key`, `session_token` for bedrock; `resource_name`,
   * `api_version` for azure; `headers` for any.
   */
  options?: Record<string, unknown>;
}

// ---- prompt ---------------------------------------------------------------------------------

export interface TextPart {
  type: "text";
  text: string;
}
/** Opaque provider data that must travel back with a part (thinking signatures and the like). */
export type ProviderMetadata = Record<string, Record<string, unknown>>;

export interface ReasoningPart {
  type: "reasoning";
  text: string;
  provider_metadata?: ProviderMetadata;
}
export interface ToolCallPart {
  type: "tool_call";
  tool_call_id: string;
  name: string;
  input: unknown;
  provider_metadata?: ProviderMetadata;
}
export interface ToolResultPart {
  type: "tool_result";
  tool_call_id: string;
  name: string;
  output: unknown;
  is_error: boolean;
}

export type PromptMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: TextPart[] }
  | { role: "assistant"; content: Array<TextPart | ReasoningPart | ToolCallPart> }
  | { role: "tool"; content: ToolResultPart[] };

/** A tool the model may call; `inputSchema` is a JSON Schema object. */
export interface ToolDefinition {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

export interface StreamRequest {
  messages: PromptMessage[];
  tools?: ToolDefinition[];
  maxOutputTokens?: number;
  temperature?: number;
}

// ---- stream parts ---------------------------------------------------------------------------

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

/** Why the model stopped. A stream cut before the provider's end marker never gets here. */
export type FinishReason = "stop" | "length" | "content-filter" | "tool-calls" | "other";

/**
 * One normalized stream part. A stream yields deltas and ends with exactly one `finish`; any
 * failure (HTTP error, in-band provider error, reset, missing end marker) is thrown from the
 * iterator instead, so a consumer's `for await` hands it straight to chatretry.
 */
export type StreamPart =
  | { type: "text-delta"; delta: string }
  | { type: "reasoning-delta"; delta: string; providerMetadata?: ProviderMetadata }
  | { type: "tool-input-start"; toolCallId: string; toolName: string }
  | { type: "tool-input-delta"; toolCallId: string; delta: string }
  | {
      type: "tool-call";
      toolCallId: string;
      toolName: string;
      input: unknown;
      providerMetadata?: ProviderMetadata;
    }
  | { type: "finish"; finishReason: FinishReason; usage: Usage };

/** A model ready to stream; built once per provider+model and reused across turns. */
export interface ChatModel {
  readonly providerType: ProviderType;
  /** Human name of the provider, for messages. */
  readonly providerName: string;
  readonly modelId: string;
  stream(request: StreamRequest, signal: AbortSignal): AsyncIterable<StreamPart>;
}
