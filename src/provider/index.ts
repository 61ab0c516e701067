import { withSentCredentials } from "../chaterror/redact.ts";
import { sentCredentials } from "./credentials.ts";
import { createLanguageModel, PROVIDER_DISPLAY_NAMES } from "./models.ts";
import { callSettings, type ModelSettings } from "./settings.ts";
import { streamLanguageModel } from "./stream.ts";
import type { Transport } from "./transport.ts";
import type { ChatModel, ProviderConfig, StreamPart } from "./types.ts";

export { PROVIDER_DISPLAY_NAMES, ProviderConfigError } from "./models.ts";
export {
  type CallSettings,
  callSettings,
  type ModelSettings,
  ModelSettingsError,
  REASONING_EFFORTS,
  type ReasoningEffort,
  TEMPERATURE_MAX,
} from "./settings.ts";
export { ProviderStreamError } from "./stream.ts";
export { DEFAULT_TRANSPORT, Transport, type TransportOptions } from "./transport.ts";
export * from "./types.ts";

/**
 * Where a provider's failure leaves the provider layer: the error is tied to the credentials its
 * request sent, so whatever the provider echoed of them is scrubbed when it is classified.
 */
async function* tiedToCredentials(
  parts: AsyncIterable<StreamPart>,
  credentials: readonly string[],
): AsyncGenerator<StreamPart> {
  try {
    yield* parts;
  } catch (error) {
    throw withSentCredentials(error, credentials);
  }
}

/**
 * A ready-to-stream model for one configured provider; cheap to call stream() on repeatedly.
 * `settings` (the model's own) go into every call; one its provider cannot take throws
 * `ModelSettingsError` here, before any request.
 */
export function createChatModel(
  config: ProviderConfig,
  modelId: string,
  transport: Transport,
  settings: ModelSettings = {},
): ChatModel {
  const model = createLanguageModel(config, modelId, transport);
  const call = callSettings(config.type, modelId, settings);
  const credentials = sentCredentials(config);
  return {
    providerType: config.type,
    providerName: config.name ?? PROVIDER_DISPLAY_NAMES[config.type],
    modelId,
    stream: (request, signal) =>
      tiedToCredentials(streamLanguageModel(model, request, signal, call), credentials),
  };
}
