import { beforeAll, describe, expect, it } from "vitest";
import { obj, useServedApi } from "./testing.ts";

describe("model settings", () => {
  const api = useServedApi();
  const providers: Record<string, string> = {};

  beforeAll(async () => {
    for (const type of ["anthropic", "openai", "google"] as const) {
      const created = await api.deps.store.createProvider({ type, name: `Settings ${type}` });
      providers[type] = created.id;
    }
  });

  async function create(json: Record<string, unknown>) {
    return api.client.post("/api/v1/models", { token: api.s.admin, json });
  }

  it("creates, reads and patches a model's settings; null clears one", async () => {
    const plain = obj(await create({ provider_id: providers.openai, model: "gpt-plain" }));
    expect(plain).toMatchObject({ temperature: null, max_output_tokens: null, reasoning: null });

    const created = await create({
      provider_id: providers.openai,
      model: "gpt-5",
      temperature: 0.7,
      max_output_tokens: 16_000,
      reasoning: "low",
    });
    expect(created.status).toBe(201);
    const id = obj(created).id as string;
    expect(obj(created)).toMatchObject({
      temperature: 0.7,
      max_output_tokens: 16_000,
      reasoning: "low",
    });
    expect(
      obj(await api.client.get(`/api/v1/models/${id}`, { token: api.s.member })),
    ).toMatchObject({ temperature: 0.7, max_output_tokens: 16_000, reasoning: "low" });

    const patched = await api.client.patch(`/api/v1/models/${id}`, {
      token: api.s.admin,
      json: { reasoning: "high", temperature: null },
    });
    expect(patched.status).toBe(200);
    expect(obj(patched)).toMatchObject({
      temperature: null,
      max_output_tokens: 16_000,
      reasoning: "high",
    });
    const listed = obj(await api.client.get("/api/v1/models", { token: api.s.admin })).models as
      | Array<Record<string, unknown>>
      | undefined;
    expect(listed?.find((m) => m.id === id)).toMatchObject({
      temperature: null,
      max_output_tokens: 16_000,
      reasoning: "high",
    });
    // Another field's patch keeps the settings.
    const renamed = await api.client.patch(`/api/v1/models/${id}`, {
      token: api.s.admin,
      json: { display_name: "GPT-5" },
    });
    expect(obj(renamed)).toMatchObject({ max_output_tokens: 16_000, reasoning: "high" });
    expect((await api.deps.store.getModel(id))?.settings).toEqual({
      max_output_tokens: 16_000,
      reasoning: "high",
    });
  });

  it("takes reasoning off on Google and a low temperature with thinking off on Anthropic", async () => {
    const google = await create({ provider_id: providers.google, model: "g", reasoning: "off" });
    expect(google.status).toBe(201);
    const claude = await create({
      provider_id: providers.anthropic,
      model: "claude-sonnet-4-5",
      temperature: 0.2,
      reasoning: "off",
    });
    expect(claude.status).toBe(201);
  });

  it.each([
    ["a temperature above 2", "openai", { temperature: 2.1 }, "temperature"],
    ["a negative temperature", "openai", { temperature: -0.1 }, "temperature"],
    ["a temperature that is not a number", "google", { temperature: "hot" }, "temperature"],
    ["a zero max_output_tokens", "openai", { max_output_tokens: 0 }, "max_output_tokens"],
    ["a fractional max_output_tokens", "google", { max_output_tokens: 10.5 }, "max_output_tokens"],
    ["an unknown reasoning effort", "openai", { reasoning: "max" }, "reasoning"],
    ["an Anthropic temperature above 1", "anthropic", { temperature: 1.5 }, "temperature"],
    [
      "Anthropic thinking with a temperature",
      "anthropic",
      { temperature: 0.5, reasoning: "medium" },
      "reasoning",
    ],
  ])("refuses %s with a 400 naming the field", async (_, type, settings, field) => {
    const res = await create({ provider_id: providers[type], model: "claude-m", ...settings });
    expect(res.status).toBe(400);
    const body = obj(res);
    expect(typeof body.message).toBe("string");
    expect((body.validations as Array<{ field: string }>).map((v) => v.field)).toEqual([field]);
  });

  it("refuses a patch that makes an Anthropic model's settings impossible, and keeps them", async () => {
    const created = obj(
      await create({ provider_id: providers.anthropic, model: "claude-p", reasoning: "high" }),
    );
    const res = await api.client.patch(`/api/v1/models/${created.id}`, {
      token: api.s.admin,
      json: { temperature: 0.4 },
    });
    expect(res.status).toBe(400);
    expect(obj(res).message).toMatch(/temperature while thinking/);
    expect(obj(res).validations).toEqual([{ field: "reasoning", detail: expect.any(String) }]);
    expect((await api.deps.store.getModel(created.id as string))?.settings).toEqual({
      reasoning: "high",
    });
    // Moving the model to a provider that can take both is fine.
    const moved = await api.client.patch(`/api/v1/models/${created.id}`, {
      token: api.s.admin,
      json: { temperature: 0.4, provider_id: providers.openai },
    });
    expect(moved.status).toBe(200);
    expect(obj(moved)).toMatchObject({ temperature: 0.4, reasoning: "high" });
  });

  it("an unknown model is still a 404 on patch", async () => {
    const res = await api.client.patch("/api/v1/models/00000000-0000-4000-8000-000000000000", {
      token: api.s.admin,
      json: { temperature: 1 },
    });
    expect(res.status).toBe(404);
  });
});
