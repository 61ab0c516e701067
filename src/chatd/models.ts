/**
 * The model a chat runs on: its record → its provider's decrypted config → a `ChatModel` on the
 * daemon's one shared transport, with the record's settings (temperature, output limit,
 * reasoning) in every call. Built models are cached and rebuilt when the model or provider
 * record changes (its `updated_at`), so a key fixed by an admin takes effect on the next turn.
 */
import {
  type ChatModel,
  createChatModel,
  type ModelSettings,
  type ProviderConfig,
  type Transport,
} from "../provider/index.ts";
import type { Store } from "../store/contract.ts";
import { SecretKeyError } from "../store/secrets.ts";
import type { ChatErrorRecord, ModelRecord } from "../store/types.ts";

export type ModelStore = Pick<Store, "getModel" | "getProvider" | "providerConfig">;

export type ModelFactory = (
  config: ProviderConfig,
  modelId: string,
  transport: Transport,
  settings?: ModelSettings,
) => ChatModel;

export type ResolvedModel =
  | { ok: true; model: ChatModel; record: ModelRecord }
  | { ok: false; error: ChatErrorRecord };

function configError(message: string, detail?: string): ResolvedModel {
  return { ok: false, error: { kind: "config", message, ...(detail ? { detail } : {}) } };
}

/**
 * The chat's owner may not use its model (an admin restricted it to groups they are not in):
 * their turn is refused as a disabled model's is, and they can go on with another model.
 */
export function restrictedModelError(record: ModelRecord): ChatErrorRecord {
  return {
    kind: "config",
    message: `The model "${record.display_name}" is not available to you (an administrator restricted it to some groups); choose another model or ask an administrator for access.`,
  };
}

export class ModelResolver {
  readonly #store: ModelStore;
  readonly #transport: Transport;
  readonly #factory: ModelFactory;
  readonly #cache = new Map<string, { version: string; model: ChatModel }>();

  constructor(store: ModelStore, transport: Transport, factory: ModelFactory = createChatModel) {
    this.#store = store;
    this.#transport = transport;
    this.#factory = factory;
  }

  async resolve(modelId: string): Promise<ResolvedModel> {
    const record = await this.#store.getModel(modelId);
    if (!record) {
      return configError("The chat's model no longer exists; choose another model to continue.");
    }
    if (!record.enabled) {
      return configError(
        `The model "${record.display_name}" is disabled; choose another model or ask an administrator to enable it.`,
      );
    }
    const provider = await this.#store.getProvider(record.provider_id);
    if (!provider) {
      return configError(
        `The provider of the model "${record.display_name}" is no longer configured; ask an administrator to set it up.`,
      );
    }
    const version = `${record.updated_at}|${provider.updated_at}`;
    const cached = this.#cache.get(record.id);
    if (cached?.version === version) return { ok: true, model: cached.model, record };

    let config: Awaited<ReturnType<ModelStore["providerConfig"]>>;
    try {
      config = await this.#store.providerConfig(record.provider_id);
    } catch (error) {
      if (!(error instanceof SecretKeyError)) throw error;
      return configError(
        `The credentials of the provider "${provider.name}" cannot be read: the server's secret ` +
          "key is not the one they were encrypted with. Ask an administrator to start every " +
          "server with the same key, or to enter the provider's key again.",
        error.message,
      );
    }
    if (!config) {
      return configError(
        `The provider "${provider.name}" is no longer configured; ask an administrator to set it up.`,
      );
    }
    try {
      const model = this.#factory(config, record.model, this.#transport, record.settings);
      this.#cache.set(record.id, { version, model });
      return { ok: true, model, record };
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return configError(
        `The provider "${provider.name}" is misconfigured: ${detail} Ask an administrator to fix it.`,
        detail,
      );
    }
  }
}
