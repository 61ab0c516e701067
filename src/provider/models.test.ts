import { describe, expect, it } from "vitest";
import { createLanguageModel, ProviderConfigError } from "./models.ts";
import { Transport } from "./transport.ts";
import { PROVIDER_TYPES, type ProviderConfig } from "./types.ts";

const transport = new Transport();

describe("createLanguageModel", () => {
  it.each(
    PROVIDER_TYPES.map((type) => {
      const config: ProviderConfig = {
        type,
        api_key: "k",
        base_url: "https://gateway.test/v1",
        options: type === "bedrock" ? { region: "us-east-1" } : {},
      };
      return [type, config] as const;
    }),
  )("builds a %s model", (_, config) => {
    const model = createLanguageModel(config, "some-model", transport);
    expect(model.modelId).toBe("some-model");
    expect(model.specificationVersion).toBe("v4");
  });

  it.each([
    ["openai chat", { type: "openai", options: { api: "chat" } }, "openai.chat"],
    ["openai responses", { type: "openai" }, "openai.responses"],
    ["azure chat", { type: "azure", options: { resource_name: "r", api: "chat" } }, "azure.chat"],
  ] as const)("picks the %s API", (_, config, provider) => {
    expect(createLanguageModel({ api_key: "k", ...config }, "m", transport).provider).toBe(
      provider,
    );
  });

  it.each([
    ["openai-compatible without base_url", { type: "openai-compatible" }, /base_url/],
    ["azure without base_url or resource_name", { type: "azure" }, /resource_name/],
    ["an unknown api flavour", { type: "openai", options: { api: "completions" } }, /"api"/],
    ["a non-string option", { type: "bedrock", options: { region: 7 } }, /"region"/],
    [
      "headers that are not strings",
      { type: "anthropic", options: { headers: { a: 1 } } },
      /headers/,
    ],
  ] as const)("refuses %s with a message naming the field", (_, config, message) => {
    expect(() => createLanguageModel(config as ProviderConfig, "m", transport)).toThrow(
      ProviderConfigError,
    );
    expect(() => createLanguageModel(config as ProviderConfig, "m", transport)).toThrow(message);
  });
});
