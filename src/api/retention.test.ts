import { describe, expect, it } from "vitest";
import { obj, useServedApi } from "./testing.ts";

describe("chat retention settings", () => {
  const api = useServedApi();

  const get = (token: string) => api.client.get("/api/v1/settings", { token });
  const patch = (token: string, json: unknown) =>
    api.client.patch("/api/v1/settings", { token, json });

  it("off by default; set, read back, cleared with null", async () => {
    expect(obj(await get(api.s.admin))).toMatchObject({
      chat_archive_after_days: null,
      chat_delete_after_days: null,
    });
    const set = await patch(api.s.admin, {
      chat_archive_after_days: 90,
      chat_delete_after_days: 30,
    });
    expect(set.status).toBe(200);
    expect(obj(set)).toMatchObject({ chat_archive_after_days: 90, chat_delete_after_days: 30 });
    expect(obj(await get(api.s.admin))).toMatchObject({
      chat_archive_after_days: 90,
      chat_delete_after_days: 30,
    });
    expect(obj(await patch(api.s.admin, { chat_archive_after_days: null }))).toMatchObject({
      chat_archive_after_days: null,
      chat_delete_after_days: 30,
    });
    await patch(api.s.admin, { chat_delete_after_days: null });
  });

  it("a member may not change them", async () => {
    expect((await patch(api.s.member, { chat_delete_after_days: 1 })).status).toBe(403);
  });

  it.each([
    ["zero days", { chat_archive_after_days: 0 }, "chat_archive_after_days"],
    ["a fraction", { chat_archive_after_days: 1.5 }, "chat_archive_after_days"],
    ["a string", { chat_delete_after_days: "30" }, "chat_delete_after_days"],
    ["over 100 years", { chat_delete_after_days: 36_501 }, "chat_delete_after_days"],
  ])("%s: 400 naming the field, nothing changed", async (_name, body, field) => {
    const before = obj(await get(api.s.admin));
    const reply = await patch(api.s.admin, body);
    expect(reply.status).toBe(400);
    const validations = obj(reply).validations as Array<{ field: string }>;
    expect(validations.map((v) => v.field)).toContain(field);
    expect(obj(await get(api.s.admin))).toEqual(before);
  });
});
