import { describe, expect, it } from "vitest";
import { newModels, obj, useServedApi } from "./testing.ts";

describe("providers and models", () => {
  const api = useServedApi();

  const ids = (items: unknown) => (items as Array<{ id: string }>).map((item) => item.id);

  const KEY = "sk-live-THE-SECRET-KEY-0123456789";
  const AWS_SECRET = "aws-SECRET-ACCESS-KEY-abcdef";
  const HEADER_SECRET = "header-SECRET-value-42";

  describe("providers", () => {
    it("never returns or logs the key, on create, list, get and patch", async () => {
      const before = ids(
        obj(await api.client.get("/api/v1/providers", { token: api.s.admin })).providers,
      );
      const created = await api.client.post("/api/v1/providers", {
        token: api.s.admin,
        json: {
          type: "bedrock",
          name: "Bedrock",
          api_key: KEY,
          options: {
            region: "eu-west-1",
            access_key_id: "AKIAEXAMPLE",
            secret_access_key: AWS_SECRET,
            headers: { "x-extra": HEADER_SECRET },
          },
        },
      });
      expect(created.status).toBe(201);
      const p = obj(created);
      expect(Object.keys(p).sort()).toEqual(
        [
          "base_url",
          "created_at",
          "has_api_key",
          "id",
          "name",
          "options",
          "type",
          "updated_at",
        ].sort(),
      );
      expect(p).toMatchObject({
        type: "bedrock",
        name: "Bedrock",
        base_url: null,
        has_api_key: true,
      });
      // The store keeps the secret options (`headers` as a whole) encrypted and names them only.
      expect(p.options).toEqual({
        region: "eu-west-1",
        access_key_id: "AKIAEXAMPLE",
        secret_access_key: "[redacted]",
        headers: "[redacted]",
      });
      const id = p.id as string;

      expect(
        ids(obj(await api.client.get("/api/v1/providers", { token: api.s.admin })).providers),
      ).toEqual([...before, id]);
      expect(
        obj(await api.client.get(`/api/v1/providers/${id}`, { token: api.s.admin })),
      ).toMatchObject({
        has_api_key: true,
      });
      const renamed = await api.client.patch(`/api/v1/providers/${id}`, {
        token: api.s.admin,
        json: { name: "Renamed", base_url: "https://bedrock.example.com" },
      });
      expect(obj(renamed)).toMatchObject({
        name: "Renamed",
        base_url: "https://bedrock.example.com",
        has_api_key: true,
      });
      const rotated = await api.client.patch(`/api/v1/providers/${id}`, {
        token: api.s.admin,
        json: { api_key: `${KEY}-rotated` },
      });
      expect(obj(rotated)).toMatchObject({ has_api_key: true });
      const removed = await api.client.patch(`/api/v1/providers/${id}`, {
        token: api.s.admin,
        json: { api_key: null },
      });
      expect(obj(removed)).toMatchObject({ has_api_key: false });

      // A failing request that carried the key does not echo or log it either.
      const invalid = await api.client.post("/api/v1/providers", {
        token: api.s.admin,
        json: { type: "nope", name: "x", api_key: KEY },
      });
      expect(invalid.status).toBe(400);

      for (const secret of [KEY, AWS_SECRET, HEADER_SECRET]) {
        for (const body of api.client.seen) expect(body).not.toContain(secret);
        for (const line of api.served.logs) expect(line).not.toContain(secret);
      }
      expect(api.served.logs.some((l) => l.includes("provider created"))).toBe(true);
    });

    it("refuses the redaction placeholder sent back as a secret", async () => {
      const res = await api.client.patch(`/api/v1/providers/${api.s.providerId}`, {
        token: api.s.admin,
        json: { options: { secret_access_key: "[redacted]", headers: { a: "[redacted]" } } },
      });
      expect(res.status).toBe(400);
      expect(obj(res).validations).toEqual([
        { field: "options.secret_access_key", detail: expect.stringMatching(/placeholder/) },
        { field: "options.headers.a", detail: expect.stringMatching(/placeholder/) },
      ]);
      // `headers` as a provider reads back (the whole object redacted) is refused too.
      const echoed = await api.client.patch(`/api/v1/providers/${api.s.providerId}`, {
        token: api.s.admin,
        json: { options: { headers: "[redacted]" } },
      });
      expect(echoed.status).toBe(400);
      expect(obj(echoed).validations).toEqual([
        { field: "options.headers", detail: expect.any(String) },
      ]);
    });

    it("validates type, base_url and options", async () => {
      const res = await api.client.post("/api/v1/providers", {
        token: api.s.admin,
        json: { type: "skynet", name: "x", base_url: "ftp://x", options: { colour: "red" } },
      });
      expect(res.status).toBe(400);
      const fields = (obj(res).validations as Array<{ field: string }>).map((v) => v.field).sort();
      expect(fields).toEqual(["base_url", "options.colour", "type"]);
    });

    it("deletes: 204, then 404", async () => {
      const created = obj(
        await api.client.post("/api/v1/providers", {
          token: api.s.admin,
          json: { type: "anthropic", name: "A", api_key: KEY },
        }),
      );
      const path = `/api/v1/providers/${created.id}`;
      const del = await api.client.delete(path, { token: api.s.admin });
      expect(del.status).toBe(204);
      expect(del.text).toBe("");
      expect((await api.client.get(path, { token: api.s.admin })).status).toBe(404);
      expect((await api.client.delete(path, { token: api.s.admin })).status).toBe(404);
      expect(
        (await api.client.patch(path, { token: api.s.admin, json: { name: "again" } })).status,
      ).toBe(404);
    });

    it("is admin-only: 403 for members, 401 without credentials", async () => {
      const path = `/api/v1/providers/${api.s.providerId}`;
      const calls: Array<[string, string, unknown]> = [
        ["POST", "/api/v1/providers", { type: "openai", name: "x" }],
        ["GET", "/api/v1/providers", undefined],
        ["GET", path, undefined],
        ["PATCH", path, { name: "y" }],
        ["DELETE", path, undefined],
      ];
      for (const [method, p, json] of calls) {
        const asMember = await api.client.request(method, p, { token: api.s.member, json });
        expect(asMember.status, `${method} ${p}`).toBe(403);
        const anonymous = await api.client.request(method, p, { json });
        expect(anonymous.status, `${method} ${p}`).toBe(401);
      }
    });
  });

  describe("models", () => {
    it("creates a model with pricing; an unknown provider is a 400 on provider_id", async () => {
      const created = await api.client.post("/api/v1/models", {
        token: api.s.admin,
        json: {
          provider_id: api.s.providerId,
          model: "claude-x",
          display_name: "Claude X",
          context_window: 200_000,
          pricing: { input_per_mtok: 3, output_per_mtok: 15, cache_read_per_mtok: 0.3 },
        },
      });
      expect(created.status).toBe(201);
      expect(obj(created)).toMatchObject({
        provider_id: api.s.providerId,
        model: "claude-x",
        display_name: "Claude X",
        context_window: 200_000,
        pricing: { input_per_mtok: 3, output_per_mtok: 15, cache_read_per_mtok: 0.3 },
        enabled: true,
      });

      const unknown = await api.client.post("/api/v1/models", {
        token: api.s.admin,
        json: { provider_id: "00000000-0000-4000-8000-000000000000", model: "m" },
      });
      expect(unknown.status).toBe(400);
      expect(obj(unknown).validations).toEqual([
        { field: "provider_id", detail: "No provider has this id." },
      ]);

      const badPricing = await api.client.post("/api/v1/models", {
        token: api.s.admin,
        json: { provider_id: api.s.providerId, model: "m", pricing: { input_per_mtok: -1 } },
      });
      expect(badPricing.status).toBe(400);
      const fields = (obj(badPricing).validations as Array<{ field: string }>).map((v) => v.field);
      expect(fields.sort()).toEqual(["pricing.input_per_mtok", "pricing.output_per_mtok"]);
    });

    it("lists what the caller may use: members see enabled models, admins all", async () => {
      const m = await newModels(api.client, api.s.admin);
      // Every model in the store (the other tests' too): admins see all, members the enabled ones.
      const stored = await api.deps.store.listModels();
      const enabled = stored.filter((model) => model.enabled).map((model) => model.id);
      const asMember = ids(
        obj(await api.client.get("/api/v1/models", { token: api.s.member })).models,
      );
      expect(asMember).toEqual(enabled);
      expect(asMember).toContain(m.modelId);
      expect(asMember).not.toContain(m.disabledModelId);
      const asAdmin = ids(
        obj(await api.client.get("/api/v1/models", { token: api.s.admin })).models,
      );
      expect(asAdmin).toEqual(stored.map((model) => model.id));
      expect(asAdmin).toEqual(expect.arrayContaining([m.modelId, m.disabledModelId]));
      expect(
        (await api.client.get(`/api/v1/models/${m.disabledModelId}`, { token: api.s.member }))
          .status,
      ).toBe(404);
      expect(
        (await api.client.get(`/api/v1/models/${m.modelId}`, { token: api.s.member })).status,
      ).toBe(200);
      expect((await api.client.get("/api/v1/models")).status).toBe(401);
    });

    it("admins patch and delete; members get 403", async () => {
      const m = await newModels(api.client, api.s.admin);
      const path = `/api/v1/models/${m.modelId}`;
      expect(
        (await api.client.patch(path, { token: api.s.member, json: { enabled: false } })).status,
      ).toBe(403);
      expect((await api.client.delete(path, { token: api.s.member })).status).toBe(403);
      expect(
        (
          await api.client.post("/api/v1/models", {
            token: api.s.member,
            json: { provider_id: m.providerId, model: "m" },
          })
        ).status,
      ).toBe(403);

      const patched = await api.client.patch(path, {
        token: api.s.admin,
        json: { enabled: false },
      });
      expect(obj(patched)).toMatchObject({ id: m.modelId, enabled: false });
      const asMember = ids(
        obj(await api.client.get("/api/v1/models", { token: api.s.member })).models,
      );
      expect(asMember).not.toContain(m.modelId);
      expect(asMember).toEqual(
        (await api.deps.store.listModels({ enabledOnly: true })).map((model) => model.id),
      );

      const badProvider = await api.client.patch(path, {
        token: api.s.admin,
        json: { provider_id: "00000000-0000-4000-8000-000000000000" },
      });
      expect(badProvider.status).toBe(400);

      expect((await api.client.delete(path, { token: api.s.admin })).status).toBe(204);
      expect(
        (await api.client.patch(path, { token: api.s.admin, json: { enabled: true } })).status,
      ).toBe(404);
      expect((await api.client.delete(path, { token: api.s.admin })).status).toBe(404);
    });
  });
});
