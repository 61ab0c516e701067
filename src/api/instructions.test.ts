/**
 * The instructions a user gives (`PATCH /users/me {instructions}`) and the instructions in effect
 * for a chat (`GET /chats/{id}/instructions`).
 */
import { describe, expect, it } from "vitest";
import { SYSTEM_PROMPT, USER_INSTRUCTIONS_HEADING } from "../chatloop/history.ts";
import { MAX_USER_INSTRUCTIONS_CHARS } from "./schemas.ts";
import { obj, useServedApi } from "./testing.ts";

describe("instructions", () => {
  const api = useServedApi();

  const me = (token: string) => api.client.get("/api/v1/users/me", { token });
  const patchMe = (token: string, json: unknown) =>
    api.client.patch("/api/v1/users/me", { token, json });
  const user = async (token: string) => obj(await me(token)).user as Record<string, unknown>;

  it("round trip: set, read back in GET /users/me, clear with null or blank", async () => {
    expect((await user(api.s.other)).instructions).toBeNull();
    const set = await patchMe(api.s.other, { instructions: "Answer in French.\nUse tabs." });
    expect(set.status).toBe(200);
    expect((obj(set).user as Record<string, unknown>).instructions).toBe(
      "Answer in French.\nUse tabs.",
    );
    expect(await user(api.s.other)).toMatchObject({
      username: expect.any(String),
      instructions: "Answer in French.\nUse tabs.",
    });
    // Someone else's are not theirs.
    expect((await user(api.s.member)).instructions).toBeNull();

    expect((await patchMe(api.s.other, { instructions: " \n " })).status).toBe(200);
    expect((await user(api.s.other)).instructions).toBeNull();
    await patchMe(api.s.other, { instructions: "x" });
    expect(obj(await patchMe(api.s.other, { instructions: null })).user).toMatchObject({
      instructions: null,
    });
    expect((await user(api.s.other)).instructions).toBeNull();
  });

  it.each([
    ["too long", { instructions: "x".repeat(MAX_USER_INSTRUCTIONS_CHARS + 1) }, "instructions", ""],
    ["U+0000", { instructions: "a\u0000b" }, "instructions", "U+0000"],
    ["an unpaired surrogate", { instructions: "a\ud800b" }, "instructions", "U+0000"],
    ["not a string", { instructions: 42 }, "instructions", ""],
    ["missing", {}, "instructions", ""],
    ["an unknown field", { instructions: "x", role: "admin" }, "role", ""],
    ["a compaction threshold under the least", { compact_at: 0.05 }, "compact_at", ""],
    ["a compaction threshold over the most", { compact_at: 0.99 }, "compact_at", ""],
    ["a compaction threshold not a number", { compact_at: "half" }, "compact_at", ""],
  ])("%s: 400 naming the field, nothing changed", async (_name, body, field, detail) => {
    await patchMe(api.s.member, { instructions: "Keep me." });
    const res = await patchMe(api.s.member, body);
    expect(res.status).toBe(400);
    const validations = obj(res).validations as Array<{ field: string; detail: string }>;
    expect(validations.map((v) => v.field)).toContain(field);
    expect(validations.find((v) => v.field === field)?.detail).toContain(detail);
    expect((await user(api.s.member)).instructions).toBe("Keep me.");
    expect((await user(api.s.member)).role).toBe("member");
  });

  it("compact_at: set, read back, kept when instructions change, cleared with null", async () => {
    const set = await patchMe(api.s.member, { compact_at: 0.5 });
    expect(set.status).toBe(200);
    expect((obj(set).user as { compact_at: number }).compact_at).toBe(0.5);
    await patchMe(api.s.member, { instructions: "Be brief." });
    expect(await user(api.s.member)).toMatchObject({ compact_at: 0.5, instructions: "Be brief." });
    await patchMe(api.s.member, { compact_at: null });
    expect((await user(api.s.member)).compact_at).toBeNull();
  });

  it("exactly the limit is accepted", async () => {
    const long = "y".repeat(MAX_USER_INSTRUCTIONS_CHARS);
    expect((await patchMe(api.s.member, { instructions: long })).status).toBe(200);
    expect((await user(api.s.member)).instructions).toBe(long);
    await patchMe(api.s.member, { instructions: null });
  });

  it("without a session: 401", async () => {
    expect(
      (await api.client.patch("/api/v1/users/me", { json: { instructions: "x" } })).status,
    ).toBe(401);
  });

  describe("GET /chats/{id}/instructions", () => {
    async function chatOf(token: string): Promise<string> {
      const res = await api.client.post("/api/v1/chats", {
        token,
        json: { model_id: api.s.modelId, content: [{ type: "text", text: "hi" }] },
      });
      expect(res.status).toBe(201);
      return obj(res).id as string;
    }
    const layersOf = async (chatId: string, token: string) =>
      obj(await api.client.get(`/api/v1/chats/${chatId}/instructions`, { token })).layers as Array<{
        source: string;
        text: string;
        truncated?: boolean;
      }>;

    it("lists the layers in order with their source; the owner's instructions, not the reader's", async () => {
      const chatId = await chatOf(api.s.member);
      await patchMe(api.s.member, { instructions: "Call me Ada." });
      await patchMe(api.s.admin, { instructions: "Admin's own." });
      await api.client.patch("/api/v1/settings", {
        token: api.s.admin,
        json: { system_prompt: "Be kind." },
      });
      try {
        for (const reader of [api.s.member, api.s.admin]) {
          const layers = await layersOf(chatId, reader);
          expect(layers.map((l) => l.source)).toEqual(["keel", "deployment", "user"]);
          expect(layers[0]?.text.startsWith(SYSTEM_PROMPT)).toBe(true);
          expect(layers[0]?.text).toContain(
            `Today's date: ${new Date().toISOString().slice(0, 10)}`,
          );
          expect(layers[1]?.text).toContain("Be kind.");
          expect(layers[2]?.text).toBe(`${USER_INSTRUCTIONS_HEADING}\n\nCall me Ada.`);
        }
      } finally {
        await api.client.patch("/api/v1/settings", {
          token: api.s.admin,
          json: { system_prompt: null },
        });
        await patchMe(api.s.member, { instructions: null });
        await patchMe(api.s.admin, { instructions: null });
      }
      expect((await layersOf(chatId, api.s.member)).map((l) => l.source)).toEqual(["keel"]);
    });

    it("another member, no session, an unknown chat: 404 / 401", async () => {
      const chatId = await chatOf(api.s.member);
      const path = `/api/v1/chats/${chatId}/instructions`;
      expect((await api.client.get(path, { token: api.s.other })).status).toBe(404);
      expect((await api.client.get(path)).status).toBe(401);
      const unknown = "/api/v1/chats/0195c1a4-8f1e-7b7a-9c55-2f1d0e6a4b21/instructions";
      expect((await api.client.get(unknown, { token: api.s.member })).status).toBe(404);
    });
  });
});
