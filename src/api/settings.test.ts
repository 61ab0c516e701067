import { describe, expect, it } from "vitest";
import { MAX_SYSTEM_PROMPT_CHARS } from "./schemas.ts";
import { obj, useServedApi } from "./testing.ts";

describe("deployment settings", () => {
  const api = useServedApi();

  const get = (token: string) => api.client.get("/api/v1/settings", { token });
  const patch = (token: string, json: unknown) =>
    api.client.patch("/api/v1/settings", { token, json });

  it("a member may neither read nor change them: 403", async () => {
    expect((await get(api.s.member)).status).toBe(403);
    expect((await patch(api.s.member, { system_prompt: "x" })).status).toBe(403);
  });

  // The fields of other parts (spend limits, retention) are tested with them: here, these four.
  it("round trip: set both, read them back, clear them with null", async () => {
    expect(obj(await get(api.s.admin))).toMatchObject({
      system_prompt: null,
      title_model_id: null,
      summary_model_id: null,
      default_model_id: null,
      default_limit: null,
    });

    const set = await patch(api.s.admin, {
      system_prompt: "Answer in British English.",
      title_model_id: api.s.modelId,
      summary_model_id: api.s.modelId,
      default_model_id: api.s.modelId,
    });
    expect(set.status).toBe(200);
    const expected = {
      system_prompt: "Answer in British English.",
      title_model_id: api.s.modelId,
      summary_model_id: api.s.modelId,
      default_model_id: api.s.modelId,
      default_limit: null,
    };
    expect(obj(set)).toMatchObject(expected);
    expect(obj(await get(api.s.admin))).toMatchObject(expected);

    // A field left out is kept.
    expect(
      obj(
        await patch(api.s.admin, {
          title_model_id: null,
          summary_model_id: null,
          default_model_id: null,
        }),
      ),
    ).toMatchObject({
      system_prompt: "Answer in British English.",
      title_model_id: null,
      summary_model_id: null,
      default_model_id: null,
      default_limit: null,
    });
    // A blank prompt is no prompt.
    expect(obj(await patch(api.s.admin, { system_prompt: "  \n " }))).toMatchObject({
      system_prompt: null,
      title_model_id: null,
      summary_model_id: null,
      default_model_id: null,
      default_limit: null,
    });
    expect(api.served.logs.join("\n")).toContain("settings changed");
  });

  it.each([
    [
      "an unknown title model",
      { title_model_id: "0195c1a4-8f1e-7b7a-9c55-2f1d0e6a4b21" },
      "title_model_id",
      "No model has this id.",
    ],
    ["a disabled title model", "disabled", "title_model_id", "is disabled"],
    [
      "an unknown summary model",
      { summary_model_id: "0195c1a4-8f1e-7b7a-9c55-2f1d0e6a4b21" },
      "summary_model_id",
      "No model has this id.",
    ],
    [
      "an unknown default model",
      { default_model_id: "0195c1a4-8f1e-7b7a-9c55-2f1d0e6a4b21" },
      "default_model_id",
      "No model has this id.",
    ],
    ["a title model id that is not a UUID", { title_model_id: "gpt" }, "title_model_id", ""],
    [
      "a prompt over the limit",
      { system_prompt: "x".repeat(MAX_SYSTEM_PROMPT_CHARS + 1) },
      "system_prompt",
      "",
    ],
    ["a prompt with U+0000", { system_prompt: "a\u0000b" }, "system_prompt", "U+0000"],
    ["an unknown field", { theme: "dark" }, "theme", ""],
  ])("%s: 400 naming the field, nothing changed", async (_name, body, field, detail) => {
    const before = obj(await get(api.s.admin));
    const json = body === "disabled" ? { title_model_id: api.s.disabledModelId } : body;
    const reply = await patch(api.s.admin, json);
    expect(reply.status).toBe(400);
    const validations = obj(reply).validations as Array<{ field: string; detail: string }>;
    expect(validations.map((v) => v.field)).toContain(field);
    expect(validations.find((v) => v.field === field)?.detail).toContain(detail);
    expect(obj(await get(api.s.admin))).toEqual(before);
  });

  it("a prompt of exactly the limit is accepted", async () => {
    const prompt = "y".repeat(MAX_SYSTEM_PROMPT_CHARS);
    expect(obj(await patch(api.s.admin, { system_prompt: prompt })).system_prompt).toBe(prompt);
    await patch(api.s.admin, { system_prompt: null });
  });
});
