import { createLanguageModel, PROVIDER_DISPLAY_NAMES } from "./models.ts";
import { streamLanguageModel } from "./stream.ts";
import type { Transport } from "./transport.ts";
import type { ChatModel, ProviderConfig } from "./types.ts";

export { PROVIDER_DISPLAY_NAMES, ProviderConfigError } from "./models.ts";
export { ProviderStreamError } from "./stream.ts";
export { DEFAULT_TRANSPORT, Transport, type TransportOptions } from "./transport.ts";
export * from "./types.ts";

/** A ready-to-stream model for one configured provider; cheap to call stream() on repeatedly. */
export function createChatModel(
  config: ProviderConfig,
  modelId: string,
  transport: Transport,
): ChatModel {
  const model = createLanguageModel(config, modelId, transport);
  return {
    providerType: config.type,
    providerName: config.name ?? PROVIDER_DISPLAY_NAMES[config.type],
    modelId,
    stream: (request, signal) => streamLanguageModel(model, request, signal),
  };
}
