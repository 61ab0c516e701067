/**
 * Setup that forgives mistakes: a provider its type cannot work with is refused when saved (400
 * naming the field), names are unique (409 naming the name), options patch key by key so a
 * secret need not be sent again, and a delete that would break something says what to do.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { newModels, obj, useServedApi } from "./testing.ts";

const unique = (name: string) => `${name} ${randomBytes(4).toString("hex")}`;

interface Validation {
  field: string;
  detail: string;
}

describe("provider setup", () => {
  const api = useServedApi();

  const create = (json: Record<string, unknown>) =>
    api.client.post("/api/v1/providers", { token: api.s.admin, json });
  const patch = (id: string, json: Record<string, unknown>) =>
    api.client.patch(`/api/v1/providers/${id}`, { token: api.s.admin, json });
  const fields = (body: Record<string, unknown>) =>
    (body.validations as Validation[]).map((v) => v.field);

  describe("each type's required fields", () => {
    it.each([
      ["openai-compatible", {}, ["base_url"]],
      ["azure", {}, ["options.resource_name"]],
      ["azure", { options: { api_version: "2025-01-01" } }, ["options.resource_name"]],
      ["bedrock", {}, ["options.region"]],
      [
        "bedrock",
        { options: { region: "us-east-1", access_key_id: "AKIAEXAMPLE" } },
        ["options.secret_access_key"],
      ],
      [
        "bedrock",
        { options: { region: "us-east-1", secret_access_key: "s3cr3t-value" } },
        ["options.access_key_id"],
      ],
      ["openai", { options: { region: "us-east-1" } }, ["options.region"]],
      ["anthropic", { options: { api: "chat" } }, ["options.api"]],
    ] as const)("%s %j → 400 naming %j", async (type, extra, expected) => {
      const res = await create({ type, name: unique(type), ...extra });
      expect(res.status).toBe(400);
      const body = obj(res);
      expect(body.message).toMatch(/cannot work/);
      expect(fields(body)).toEqual(expected);
      for (const v of body.validations as Validation[]) expect(v.detail).not.toBe("");
    });

    it.each([
      ["openai-compatible", { base_url: "http://localhost:11434/v1" }],
      ["azure", { options: { resource_name: "team" } }],
      ["azure", { base_url: "https://gw.example.com/openai" }],
      ["bedrock", { options: { region: "us-east-1" } }],
      [
        "bedrock",
        { options: { region: "us-east-1", access_key_id: "AKIA1", secret_access_key: "s3cr3t" } },
      ],
      ["openai", { options: { api: "chat", headers: { "x-team": "a" } } }],
      ["anthropic", {}],
      ["google", {}],
      ["openrouter", {}],
    ] as const)("%s %j is accepted", async (type, extra) => {
      expect((await create({ type, name: unique(type), ...extra })).status).toBe(201);
    });

    it("a patch that would leave the provider unworkable is refused, and nothing changes", async () => {
      const created = obj(
        await create({
          type: "openai-compatible",
          name: unique("Local"),
          base_url: "http://localhost:1/v1",
        }),
      );
      const id = created.id as string;
      const res = await patch(id, { base_url: null });
      expect(res.status).toBe(400);
      expect(fields(obj(res))).toEqual(["base_url"]);
      const toAzure = await patch(id, { type: "azure", base_url: null });
      expect(fields(obj(toAzure))).toEqual(["options.resource_name"]);
      const after = obj(await api.client.get(`/api/v1/providers/${id}`, { token: api.s.admin }));
      expect(after).toMatchObject({ type: "openai-compatible", base_url: "http://localhost:1/v1" });
    });
  });

  describe("options patch key by key", () => {
    it("keeps a secret option the patch leaves out; null removes one", async () => {
      const created = obj(
        await create({
          type: "bedrock",
          name: unique("Bedrock"),
          options: {
            region: "eu-west-1",
            access_key_id: "AKIAKEEP",
            secret_access_key: "kept-SECRET-value",
            headers: { "x-team": "kept-HEADER-value" },
          },
        }),
      );
      const id = created.id as string;
      const moved = await patch(id, { options: { region: "us-east-2", headers: null } });
      expect(moved.status).toBe(200);
      expect(obj(moved).options).toEqual({
        region: "us-east-2",
        access_key_id: "AKIAKEEP",
        secret_access_key: "[redacted]",
      });
      const config = await api.deps.store.providerConfig(id);
      expect(config?.options).toEqual({
        region: "us-east-2",
        access_key_id: "AKIAKEEP",
        secret_access_key: "kept-SECRET-value",
      });
      expect(moved.text).not.toContain("kept-SECRET-value");
      // An option the type does not read may be removed (null), never set.
      expect((await patch(id, { options: { api: null } })).status).toBe(200);
      expect(fields(obj(await patch(id, { options: { api: "chat" } })))).toEqual(["options.api"]);
      // Removing the region a Bedrock provider needs is refused like leaving it out.
      const noRegion = await patch(id, { options: { region: null } });
      expect(fields(obj(noRegion))).toEqual(["options.region"]);
    });
  });

  describe("unique names", () => {
    it("a name taken (whatever the case) is a 409 naming it, on create and on rename", async () => {
      const name = unique("Team OpenAI");
      const first = obj(await create({ type: "openai", name }));
      const again = await create({ type: "anthropic", name: name.toUpperCase() });
      expect(again.status).toBe(409);
      expect(obj(again).message).toBe(
        `A provider named "${name.toUpperCase()}" already exists: choose another name.`,
      );
      const other = obj(await create({ type: "anthropic", name: unique("Other") }));
      const rename = await patch(other.id as string, { name });
      expect(rename.status).toBe(409);
      expect(obj(rename).message).toContain(`"${name}"`);
      // Renaming a provider to its own name (another case) is no conflict.
      const same = await patch(first.id as string, { name: name.toLowerCase() });
      expect(same.status).toBe(200);
    });
  });

  describe("delete refusals say what to do", () => {
    it("a provider with models: 409 with their count; without: 204", async () => {
      const m = await newModels(api.client, api.s.admin);
      const path = `/api/v1/providers/${m.providerId}`;
      const refused = await api.client.delete(path, { token: api.s.admin });
      expect(refused.status).toBe(409);
      expect(obj(refused).message).toBe(
        "This provider has 2 models: delete them or move them to another provider first.",
      );
      await api.client.delete(`/api/v1/models/${m.disabledModelId}`, { token: api.s.admin });
      const one = await api.client.delete(path, { token: api.s.admin });
      expect(obj(one).message).toBe(
        "This provider has 1 model: delete it or move it to another provider first.",
      );
      await api.client.delete(`/api/v1/models/${m.modelId}`, { token: api.s.admin });
      expect((await api.client.delete(path, { token: api.s.admin })).status).toBe(204);
    });

    it("a model chats use: 409 with their count and 'disable it instead'", async () => {
      const m = await newModels(api.client, api.s.admin);
      const startChat = () =>
        api.client.post("/api/v1/chats", {
          token: api.s.member,
          json: { model_id: m.modelId, content: [{ type: "text", text: "hi" }] },
        });
      expect((await startChat()).status).toBe(201);
      const path = `/api/v1/models/${m.modelId}`;
      const one = await api.client.delete(path, { token: api.s.admin });
      expect(one.status).toBe(409);
      expect(obj(one).message).toMatch(/^1 chat uses this model — disable it instead/);
      await startChat();
      await startChat();
      const three = await api.client.delete(path, { token: api.s.admin });
      expect(obj(three).message).toMatch(/^3 chats use this model — disable it instead/);
    });
  });
});
