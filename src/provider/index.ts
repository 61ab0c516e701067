import { withSentCredentials } from "../chaterror/redact.ts";
import { sentCredentials } from "./credentials.ts";
import { createLanguageModel, PROVIDER_DISPLAY_NAMES } from "./models.ts";
import { streamLanguageModel } from "./stream.ts";
import type { Transport } from "./transport.ts";
import type { ChatModel, ProviderConfig, StreamPart } from "./types.ts";

export { PROVIDER_DISPLAY_NAMES, ProviderConfigError } from "./models.ts";
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

/** A ready-to-stream model for one configured provider; cheap to call stream() on repeatedly. */
export function createChatModel(
  config: ProviderConfig,
  modelId: string,
  transport: Transport,
): ChatModel {
  const model = createLanguageModel(config, modelId, transport);
  const credentials = sentCredentials(config);
  return {
    providerType: config.type,
    providerName: config.name ?? PROVIDER_DISPLAY_NAMES[config.type],
    modelId,
    stream: (request, signal) =>
      tiedToCredentials(streamLanguageModel(model, request, signal), credentials),
  };
}
