import { createAmazonBedrock } from "@ai-sdk/amazon-bedrock";
import { createAnthropic } from "@ai-sdk/anthropic";
import { createAzure } from "@ai-sdk/azure";
import { createGoogle } from "@ai-sdk/google";
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import type { LanguageModelV4 } from "@ai-sdk/provider";
import { createOpenRouter } from "@openrouter/ai-sdk-provider";
import type { Transport } from "./transport.ts";
import type { ProviderConfig, ProviderType } from "./types.ts";

/** A provider configuration that cannot work: names the field and what to do. */
export class ProviderConfigError extends Error {
  override readonly name = "ProviderConfigError";
}

export const PROVIDER_DISPLAY_NAMES: Record<ProviderType, string> = {
  openai: "OpenAI",
  anthropic: "Anthropic",
  google: "Google",
  bedrock: "Amazon Bedrock",
  azure: "Azure OpenAI",
  openrouter: "OpenRouter",
  "openai-compatible": "OpenAI-compatible endpoint",
};

function option(config: ProviderConfig, key: string): string | undefined {
  const value = config.options?.[key];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") {
    throw new ProviderConfigError(`Provider option "${key}" must be a string.`);
  }
  return value;
}

function headersOption(config: ProviderConfig): Record<string, string> | undefined {
  const value = config.options?.headers;
  if (value === undefined) return undefined;
  const ok =
    typeof value === "object" &&
    value !== null &&
    Object.values(value).every((v) => typeof v === "string");
  if (!ok) throw new ProviderConfigError('Provider option "headers" must map names to strings.');
  return value as Record<string, string>;
}

function apiFlavour(config: ProviderConfig): "chat" | "responses" {
  const api = option(config, "api") ?? "responses";
  if (api !== "chat" && api !== "responses") {
    throw new ProviderConfigError('Provider option "api" must be "chat" or "responses".');
  }
  return api;
}

/**
 * Builds the AI SDK language model for one configured provider and model id. Every provider
 * shares the one transport's fetch. The SDK's retry loop lives in `streamText`/`generateText`,
 * which Keel does not use: it calls the model's `doStream` directly, so chatretry is the only
 * place that retries.
 */
export function createLanguageModel(
  config: ProviderConfig,
  modelId: string,
  transport: Transport,
): LanguageModelV4 {
  const common = {
    baseURL: config.base_url,
    apiKey: config.api_key,
    headers: headersOption(config),
    fetch: transport.fetch,
  };
  switch (config.type) {
    case "openai": {
      const provider = createOpenAI(common);
      return apiFlavour(config) === "chat" ? provider.chat(modelId) : provider.responses(modelId);
    }
    case "azure": {
      const resourceName = option(config, "resource_name");
      if (!resourceName && !config.base_url) {
        throw new ProviderConfigError(
          'Azure OpenAI needs either base_url or the "resource_name" option.',
        );
      }
      const provider = createAzure({
        ...common,
        resourceName,
        apiVersion: option(config, "api_version"),
      });
      return apiFlavour(config) === "chat" ? provider.chat(modelId) : provider.responses(modelId);
    }
    case "anthropic":
      return createAnthropic(common)(modelId);
    case "google":
      return createGoogle(common)(modelId);
    case "bedrock":
      return createAmazonBedrock({
        ...common,
        region: option(config, "region"),
        accessKeyId: option(config, "access_key_id"),
        secretAccessKey: option(config, "secret_access_key"),
        sessionToken: option(config, "session_token"),
      })(modelId);
    case "openrouter":
      return createOpenRouter({ ...common, compatibility: "strict" }).chat(modelId);
    case "openai-compatible": {
      if (!config.base_url) {
        throw new ProviderConfigError("An OpenAI-compatible provider needs a base_url.");
      }
      return createOpenAICompatible({
        ...common,
        baseURL: config.base_url,
        name: config.name ?? "openai-compatible",
        includeUsage: true,
      })(modelId);
    }
  }
}
