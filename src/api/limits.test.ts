/**
 * Spend limits over HTTP on the real database: admins set them (default and per user), everyone
 * reads their own spend, and a user over their limit gets the one 409 on every request that
 * would start a turn — admins' pages stay open to them.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SPEND_LIMIT_CODE, spendLimitMessage } from "../chatd/spend-check.ts";
import { newUser, obj, useServedApi } from "./testing.ts";

describe("spend limits", () => {
  const api = useServedApi();

  /** A step of `userId`'s that cost `usd`, saved as a turn saves it, in a chat of theirs. */
  async function spend(userId: string, usd: number): Promise<string> {
    const store = api.deps.store;
    const { chat } = await store.createChat({
      owner_id: userId,
      model_id: api.s.modelId,
      title: "t",
      first_message: [{ type: "text", text: "hi" }],
    });
    await store.saveMessage(chat.id, {
      id: randomUUID(),
      role: "assistant",
      parts: [{ type: "text", text: "hello" }],
      usage: {
        inputTokens: 1,
        outputTokens: 1,
        reasoningTokens: 0,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
      },
      model_id: api.s.modelId,
      cost_usd: usd,
    });
    // The server's own steps are added as they finish; this one was written behind its back.
    store.spendLimits.record(userId, usd);
    return chat.id;
  }

  const put = (token: string, id: string, json: unknown) =>
    api.client.request("PUT", `/api/v1/users/${id}/limit`, { token, json });

  it("a member may not read or set limits: 403; an unknown user is a 404", async () => {
    expect((await put(api.s.member, api.s.memberId, { usd: 1, period: "day" })).status).toBe(403);
    expect((await api.client.get("/api/v1/limits", { token: api.s.member })).status).toBe(403);
    expect(
      (await api.client.delete(`/api/v1/users/${api.s.memberId}/limit`, { token: api.s.member }))
        .status,
    ).toBe(403);
    expect((await put(api.s.admin, randomUUID(), { usd: 1, period: "day" })).status).toBe(404);
  });

  it.each([
    [{ usd: 0, period: "day" }, "usd"],
    [{ usd: -3, period: "week" }, "usd"],
    [{ usd: 5, period: "year" }, "period"],
    [{ usd: "5", period: "day" }, "usd"],
    [{ usd: 5 }, "period"],
    [{ usd: 5, period: "day", extra: 1 }, "extra"],
  ])("refuses the limit %j: 400 naming %s", async (json, field) => {
    const reply = await put(api.s.admin, api.s.memberId, json);
    expect(reply.status).toBe(400);
    expect(obj(reply).validations).toEqual(
      expect.arrayContaining([expect.objectContaining({ field })]),
    );
  });

  it("default, then a user's own over it, then the default again once it is deleted", async () => {
    const user = await newUser(api.client, api.s.admin);
    const read = async () =>
      obj(await api.client.get(`/api/v1/users/${user.id}/limit`, { token: api.s.admin }));

    expect(await read()).toEqual({ user_id: user.id, own: null, effective: null });
    const settings = await api.client.patch("/api/v1/settings", {
      token: api.s.admin,
      json: { default_limit: { usd: 50, period: "month" } },
    });
    expect(obj(settings).default_limit).toEqual({ usd: 50, period: "month" });
    expect((await read()).effective).toEqual({ usd: 50, period: "month", source: "default" });

    const set = await put(api.s.admin, user.id, { usd: 5, period: "week" });
    expect(set.status).toBe(200);
    expect(obj(set)).toMatchObject({
      own: { usd: 5, period: "week" },
      effective: { usd: 5, period: "week", source: "user" },
    });
    const listed = obj(await api.client.get("/api/v1/limits", { token: api.s.admin }));
    expect(listed.default_limit).toEqual({ usd: 50, period: "month" });
    expect(listed.users).toEqual(
      expect.arrayContaining([expect.objectContaining({ user_id: user.id, usd: 5 })]),
    );

    const removed = await api.client.delete(`/api/v1/users/${user.id}/limit`, {
      token: api.s.admin,
    });
    expect(removed.status).toBe(200);
    expect(obj(removed)).toEqual({
      user_id: user.id,
      own: null,
      effective: { usd: 50, period: "month", source: "default" },
    });

    await api.client.patch("/api/v1/settings", {
      token: api.s.admin,
      json: { default_limit: null },
    });
    expect((await read()).effective).toBeNull();
  });

  it("tells a user their spend this period, with no limit", async () => {
    const user = await newUser(api.client, api.s.admin);
    await spend(user.id, 0.25);
    const reply = obj(await api.client.get("/api/v1/users/me/spend", { token: user.token }));
    expect(reply).toMatchObject({
      spent_usd: 0.25,
      period: "month",
      limit: null,
      over: false,
      message: null,
    });
  });

  it("over the limit: creating a chat and sending a message are a 409 saying what, when, whom", async () => {
    const user = await newUser(api.client, api.s.admin);
    const chatId = await spend(user.id, 2.5);
    await put(api.s.admin, user.id, { usd: 2, period: "day" });

    const spent = obj(await api.client.get("/api/v1/users/me/spend", { token: user.token }));
    expect(spent).toMatchObject({
      spent_usd: 2.5,
      period: "day",
      limit: { usd: 2, period: "day", source: "user" },
      over: true,
    });
    const resets = new Date(spent.resets_at as string);
    expect(resets.getUTCHours()).toBe(0);
    const message = spendLimitMessage({
      spent_usd: 2.5,
      resets_at: resets,
      limit: { usd: 2, period: "day", source: "user" },
    });
    expect(message).toMatch(
      /^You have spent \$2\.50 of your \$2\.00 daily limit\. It resets on \w+ \d+ \w+ \d{4} at 00:00 UTC\. Ask an administrator to raise your limit\.$/,
    );
    expect(spent.message).toBe(message);

    const created = await api.client.post("/api/v1/chats", {
      token: user.token,
      json: { model_id: api.s.modelId, content: [{ type: "text", text: "Hello" }] },
    });
    expect(created.status).toBe(409);
    expect(obj(created)).toEqual({ message, code: SPEND_LIMIT_CODE });

    const sent = await api.client.post(`/api/v1/chats/${chatId}/messages`, {
      token: user.token,
      json: { content: [{ type: "text", text: "More" }] },
    });
    expect(sent.status).toBe(409);
    expect(obj(sent)).toEqual({ message, code: SPEND_LIMIT_CODE });

    // Raised: allowed again at once.
    await put(api.s.admin, user.id, { usd: 10, period: "day" });
    const again = await api.client.post(`/api/v1/chats/${chatId}/messages`, {
      token: user.token,
      json: { content: [{ type: "text", text: "More" }] },
    });
    expect(again.status).toBe(202);
  });

  it("an admin over their limit still has the admin pages", async () => {
    await spend(api.s.adminId, 1);
    await put(api.s.admin, api.s.adminId, { usd: 0.5, period: "month" });
    try {
      const created = await api.client.post("/api/v1/chats", {
        token: api.s.admin,
        json: { model_id: api.s.modelId, content: [{ type: "text", text: "Hello" }] },
      });
      expect(created.status).toBe(409);
      expect((await api.client.get("/api/v1/users", { token: api.s.admin })).status).toBe(200);
      expect((await api.client.get("/api/v1/settings", { token: api.s.admin })).status).toBe(200);
      expect((await api.client.get("/api/v1/limits", { token: api.s.admin })).status).toBe(200);
    } finally {
      await api.client.delete(`/api/v1/users/${api.s.adminId}/limit`, { token: api.s.admin });
    }
  });

  it("a group's limit applies to its members, under their own; GET /limits lists it", async () => {
    const user = await newUser(api.client, api.s.admin);
    const group = obj(
      await api.client.post("/api/v1/groups", {
        token: api.s.admin,
        json: { name: `limited-${randomUUID().slice(0, 8)}`, user_ids: [user.id] },
      }),
    );
    const path = `/api/v1/groups/${group.id as string}/limit`;
    expect(obj(await api.client.get(path, { token: api.s.admin }))).toEqual({
      group_id: group.id,
      limit: null,
    });
    expect((await api.client.request("PUT", path, { token: api.s.member, json: {} })).status).toBe(
      403,
    );
    const set = await api.client.request("PUT", path, {
      token: api.s.admin,
      json: { usd: 3, period: "week" },
    });
    expect(set.status).toBe(200);
    expect(obj(set).limit).toMatchObject({ usd: 3, period: "week" });
    const listed = obj(await api.client.get("/api/v1/limits", { token: api.s.admin }));
    expect(listed.groups).toEqual(
      expect.arrayContaining([expect.objectContaining({ group_id: group.id, usd: 3 })]),
    );
    expect(listed.effective).toEqual(
      expect.arrayContaining([{ user_id: user.id, usd: 3, period: "week", source: "group" }]),
    );
    const effective = obj(
      await api.client.get(`/api/v1/users/${user.id}/limit`, { token: api.s.admin }),
    );
    expect(effective.effective).toEqual({ usd: 3, period: "week", source: "group" });
    const spend = obj(await api.client.get("/api/v1/users/me/spend", { token: user.token }));
    expect(spend.limit).toEqual({ usd: 3, period: "week", source: "group" });

    const removed = await api.client.delete(path, { token: api.s.admin });
    expect(obj(removed)).toEqual({ group_id: group.id, limit: null });
    expect(
      (
        await api.client.request("PUT", `/api/v1/groups/${randomUUID()}/limit`, {
          token: api.s.admin,
          json: { usd: 1, period: "day" },
        })
      ).status,
    ).toBe(404);
  });
});
