import { describe, expect, it } from "vitest";
import type { ChatModel, ProviderConfig } from "../provider/index.ts";
import { Transport } from "../provider/index.ts";
import { SecretKeyError } from "../store/index.ts";
import type { ModelRecord, ProviderRecord } from "../store/types.ts";
import { ModelResolver, type ModelStore } from "./models.ts";

function fixtures() {
  const model: ModelRecord = {
    id: "m1",
    provider_id: "p1",
    model: "claude-test",
    display_name: "Claude Test",
    context_window: null,
    pricing: null,
    enabled: true,
    settings: {},
    created_at: "2026-01-01T00:00:00.000Z",
    updated_at: "2026-01-01T00:00:00.000Z",
  };
  const provider: ProviderRecord = {
    id: "p1",
    type: "anthropic",
    name: "Anthropic",
    base_url: null,
    options: {},
    has_api_key: true,
    created_at: "2026-01-01T00:00:00.000Z",
    updated_at: "2026-01-01T00:00:00.000Z",
  };
  let config: ProviderConfig | null = { type: "anthropic", api_key: "k1" };
  const store: ModelStore = {
    getModel: async (id) => (id === model.id ? model : null),
    getProvider: async (id) => (id === provider.id ? provider : null),
    providerConfig: async () => config,
  };
  const built: string[] = [];
  const factory = (c: ProviderConfig, modelId: string): ChatModel => {
    built.push(`${modelId}:${c.api_key}`);
    if (c.api_key === "bad") throw new Error("Provider option broken.");
    return {
      providerType: c.type,
      providerName: "Anthropic",
      modelId,
      stream: async function* () {},
    };
  };
  return {
    model,
    provider,
    store,
    built,
    factory,
    setConfig: (c: ProviderConfig | null) => {
      config = c;
    },
  };
}

describe("ModelResolver", () => {
  const transport = new Transport();

  it("caches a built model until the model or provider record changes", async () => {
    const f = fixtures();
    const resolver = new ModelResolver(f.store, transport, f.factory);
    const first = await resolver.resolve("m1");
    const again = await resolver.resolve("m1");
    expect(first.ok && again.ok && first.model === again.model).toBe(true);
    expect(f.built).toEqual(["claude-test:k1"]);

    f.setConfig({ type: "anthropic", api_key: "k2" });
    f.provider.updated_at = "2026-01-02T00:00:00.000Z";
    await resolver.resolve("m1");
    expect(f.built).toEqual(["claude-test:k1", "claude-test:k2"]);
  });

  it("reports missing, disabled and misconfigured models as config errors", async () => {
    const f = fixtures();
    const resolver = new ModelResolver(f.store, transport, f.factory);
    expect(await resolver.resolve("nope")).toMatchObject({ ok: false, error: { kind: "config" } });
    f.model.enabled = false;
    expect(await resolver.resolve("m1")).toMatchObject({
      ok: false,
      error: { kind: "config", message: expect.stringMatching(/disabled/) },
    });
    f.model.enabled = true;
    f.setConfig({ type: "anthropic", api_key: "bad" });
    expect(await resolver.resolve("m1")).toMatchObject({
      ok: false,
      error: { kind: "config", detail: "Provider option broken." },
    });
    f.setConfig(null);
    expect(await resolver.resolve("m1")).toMatchObject({ ok: false, error: { kind: "config" } });
  });

  it("says plainly when the provider's credentials cannot be decrypted with this server's key", async () => {
    const f = fixtures();
    const store: ModelStore = {
      ...f.store,
      providerConfig: async () => {
        throw new SecretKeyError("cannot decrypt a stored provider API key");
      },
    };
    const resolved = await new ModelResolver(store, transport, f.factory).resolve("m1");
    expect(resolved).toMatchObject({
      ok: false,
      error: {
        kind: "config",
        message: expect.stringMatching(
          /credentials of the provider "Anthropic" cannot be read: the server's secret key/,
        ),
      },
    });
  });
});
