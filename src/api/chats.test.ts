import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { ChatSignal } from "../store/index.ts";
import { appended } from "../store/test-support.ts";
import { claimChat, newUser, obj, until, useServedApi } from "./testing.ts";

describe("chats", () => {
  const api = useServedApi({ heartbeatMs: 60_000 });

  /** Every signal about `chatId` from now until `stop()`. */
  function signalsOf(chatId: string): { signals: ChatSignal[]; stop: () => void } {
    const signals: ChatSignal[] = [];
    const stop = api.deps.store.signals.listen((signal) => {
      if (signal.chat_id === chatId) signals.push(signal);
    });
    return { signals, stop };
  }

  async function show(id: string, token = api.s.member) {
    const body = obj(await api.client.get(`/api/v1/chats/${id}`, { token }));
    return {
      chat: body.chat as Record<string, unknown>,
      messages: body.messages as Array<
        { id: string; role: string; parts: unknown } & Record<string, unknown>
      >,
      queued: body.queued as Array<{ id: string; parts: unknown; created_at: string }>,
    };
  }

  const text = (t: string) => [{ type: "text", text: t }];

  async function createChat(token: string, message = "hello there"): Promise<string> {
    const res = await api.client.post("/api/v1/chats", {
      token,
      json: { model_id: api.s.modelId, content: text(message) },
    });
    expect(res.status).toBe(201);
    return obj(res).id as string;
  }

  describe("chats", () => {
    it("creates a chat and shows it with its first message", async () => {
      const res = await api.client.post("/api/v1/chats", {
        token: api.s.member,
        json: { model_id: api.s.modelId, content: text("Fix the flaky test") },
      });
      expect(res.status).toBe(201);
      const chat = obj(res);
      expect(Object.keys(chat).sort()).toEqual(
        [
          "created_at",
          "id",
          "last_error",
          "last_event_seq",
          "model_id",
          "pinned",
          "archived",
          "status",
          "title",
          "updated_at",
          "workspace_id",
        ].sort(),
      );
      expect(chat).toMatchObject({
        model_id: api.s.modelId,
        workspace_id: null,
        last_error: null,
        pinned: false,
        archived: false,
      });
      expect(typeof chat.title).toBe("string");

      const shown = obj(await api.client.get(`/api/v1/chats/${chat.id}`, { token: api.s.member }));
      expect(shown.chat).toEqual(chat);
      const messages = shown.messages as Array<Record<string, unknown>>;
      expect(messages).toHaveLength(1);
      expect(Object.keys(messages[0] ?? {}).sort()).toEqual(
        [
          "cost_usd",
          "created_at",
          "id",
          "in_progress",
          "model_id",
          "parts",
          "retries",
          "role",
          "stopped",
        ].sort(),
      );
      expect(messages[0]).toMatchObject({
        role: "user",
        parts: text("Fix the flaky test"),
        cost_usd: null,
        in_progress: false,
      });
      expect(shown.queued).toEqual([]);
    });

    it("refuses a disabled (400) or unknown model (404) and a missing one (400)", async () => {
      for (const [model_id, status] of [
        [api.s.disabledModelId, 400],
        ["00000000-0000-4000-8000-000000000000", 404],
      ] as const) {
        const res = await api.client.post("/api/v1/chats", {
          token: api.s.member,
          json: { model_id, content: text("hi") },
        });
        expect(res.status, model_id).toBe(status);
        expect(typeof obj(res).message).toBe("string");
      }
      const missing = await api.client.post("/api/v1/chats", {
        token: api.s.member,
        json: { content: text("hi") },
      });
      expect(missing.status).toBe(400);
      expect(obj(missing).validations).toEqual([{ field: "model_id", detail: "Required." }]);
    });

    it("refuses non-text content parts and empty content", async () => {
      for (const content of [
        [],
        [{ type: "image", url: "http://x" }],
        [{ type: "text", text: "" }],
        [{ type: "text", text: "x", extra: 1 }],
      ]) {
        const res = await api.client.post("/api/v1/chats", {
          token: api.s.member,
          json: { model_id: api.s.modelId, content },
        });
        expect(res.status, JSON.stringify(content)).toBe(400);
        expect((obj(res).validations as unknown[]).length).toBeGreaterThan(0);
      }
    });

    it("lists the caller's chats, newest first, in pages", async () => {
      // Users of their own: the other tests' chats are in the same store.
      const member = (await newUser(api.client, api.s.admin)).token;
      const admin = (await newUser(api.client, api.s.admin, "admin")).token;
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await createChat(member, `chat ${i}`));
      await createChat(api.s.other, "not yours");
      const first = obj(await api.client.get("/api/v1/chats?limit=2", { token: member }));
      const chats = first.chats as Array<{ id: string }>;
      expect(chats.map((c) => c.id)).toEqual([ids[4], ids[3]]);
      expect(typeof first.next_cursor).toBe("string");
      const seen = chats.map((c) => c.id);
      let cursor = first.next_cursor as string | null;
      while (cursor !== null) {
        const page = obj(
          await api.client.get(`/api/v1/chats?limit=2&cursor=${encodeURIComponent(cursor)}`, {
            token: member,
          }),
        );
        seen.push(...(page.chats as Array<{ id: string }>).map((c) => c.id));
        cursor = page.next_cursor as string | null;
      }
      expect(seen).toEqual([...ids].reverse());
      // An admin's list is the admin's own chats.
      expect(obj(await api.client.get("/api/v1/chats", { token: admin })).chats).toEqual([]);
      // Bad query values, a cursor this server did not hand out and unknown parameters are 400.
      for (const q of ["limit=0", "limit=1000", "limit=abc", "cursor=not-a-cursor", "sort=asc"]) {
        const res = await api.client.get(`/api/v1/chats?${q}`, { token: member });
        expect(res.status, q).toBe(400);
        expect(Object.keys(obj(res)).sort(), q).toEqual(["message", "validations"]);
      }
    });

    it("accepts messages (202) and interrupts (202); archive is 204, then read-only", async () => {
      const id = await createChat(api.s.member);
      const { signals, stop } = signalsOf(id);
      try {
        // Pending (no worker has it yet): the message joins the transcript the turn will read, and
        // the daemons are told.
        const sent = await api.client.post(`/api/v1/chats/${id}/messages`, {
          token: api.s.member,
          json: { content: text("and another thing") },
        });
        expect(sent.status).toBe(202);
        let shown = await show(id);
        expect(shown.chat.status).toBe("pending");
        expect(shown.messages.map((m) => m.parts)).toEqual([
          text("hello there"),
          text("and another thing"),
        ]);
        expect(signals).toEqual([{ type: "pending", chat_id: id }]);
        // Stop before any worker claimed it takes it out of the queue (no worker to signal).
        const stopped = await api.client.post(`/api/v1/chats/${id}/interrupt`, {
          token: api.s.member,
        });
        expect(stopped.status).toBe(202);
        expect((await show(id)).chat.status).toBe("waiting");
        expect(signals).toHaveLength(1);
        // A message to a waiting chat schedules a turn: pending again, and the daemons are told.
        const again = await api.client.post(`/api/v1/chats/${id}/messages`, {
          token: api.s.member,
          json: { content: text("go on") },
        });
        expect(again.status).toBe(202);
        shown = await show(id);
        expect(shown.chat.status).toBe("pending");
        expect(shown.messages).toHaveLength(3);
        expect(signals).toEqual([
          { type: "pending", chat_id: id },
          { type: "pending", chat_id: id },
        ]);
      } finally {
        stop();
      }
      const archived = await api.client.delete(`/api/v1/chats/${id}`, { token: api.s.member });
      expect(archived.status).toBe(204);
      // Still readable, out of the list, closed to messages.
      expect((await show(id)).chat.archived).toBe(true);
      const list = obj(await api.client.get("/api/v1/chats", { token: api.s.member }));
      expect((list.chats as Array<{ id: string }>).map((c) => c.id)).not.toContain(id);
      const refused = await api.client.post(`/api/v1/chats/${id}/messages`, {
        token: api.s.member,
        json: { content: text("more") },
      });
      expect(refused.status).toBe(409);
      expect(obj(refused).message).toMatch(/unarchive/);
    });

    it("compact (202): a waiting chat goes pending to be compacted; Stop first takes it back", async () => {
      const id = await createChat(api.s.member);
      const { signals, stop } = signalsOf(id);
      try {
        await api.client.post(`/api/v1/chats/${id}/interrupt`, { token: api.s.member });
        expect((await show(id)).chat.status).toBe("waiting");
        const asked = await api.client.post(`/api/v1/chats/${id}/compact`, { token: api.s.member });
        expect(asked.status).toBe(202);
        expect((await show(id)).chat.status).toBe("pending");
        expect((await api.deps.store.getChat(id))?.compact_requested).toBe(true);
        expect(signals).toEqual([{ type: "pending", chat_id: id }]);
        // Stop before a worker took it: the compaction is off too.
        await api.client.post(`/api/v1/chats/${id}/interrupt`, { token: api.s.member });
        expect((await api.deps.store.getChat(id))?.compact_requested).toBe(false);
        expect((await show(id)).chat.status).toBe("waiting");
        // An archived chat takes no compaction: 409, saying to unarchive it.
        await api.client.delete(`/api/v1/chats/${id}`, { token: api.s.member });
        const closed = await api.client.post(`/api/v1/chats/${id}/compact`, {
          token: api.s.member,
        });
        expect(closed.status).toBe(409);
        expect(obj(closed).message).toMatch(/unarchive/);
      } finally {
        stop();
      }
    });

    it("replay_from_seq: where the step being streamed began, so a reload can rebuild it", async () => {
      const id = await createChat(api.s.member);
      const replayFrom = async () => {
        const body = obj(await api.client.get(`/api/v1/chats/${id}`, { token: api.s.member }));
        return {
          replay: body.replay_from_seq,
          last: (body.chat as { last_event_seq: number }).last_event_seq,
        };
      };
      const worker = await claimChat(api.deps.store, id);
      const events = api.deps.store.events;
      const delta = { message_id: "m1", part: { type: "text", text: "Hel" } };
      const running = (await replayFrom()).last; // the `status: running` of the claim
      await events.append(id, "message_part", delta);
      await events.append(id, "retry", {
        attempt: 1,
        delay_ms: 10,
        kind: "overloaded",
        message: "x",
      });
      await events.append(id, "message_part", delta);
      // Mid-step: the deltas and the retry after the claim all belong to the step.
      expect(await replayFrom()).toEqual({ replay: running, last: running + 3 });

      const saved = await appended(events.append(id, "message", { message: { id: "m1" } }));
      await events.append(id, "usage", { message_id: "m1", usage: {} });
      await events.append(id, "message_part", { ...delta, message_id: "m2" });
      expect(await replayFrom()).toEqual({ replay: saved.seq, last: saved.seq + 2 });

      // No turn running: nothing to rebuild.
      await api.deps.store.releaseChat(id, worker, "waiting");
      const idle = await replayFrom();
      expect(idle.replay).toBe(idle.last);
    });

    it("a message to a running chat waits for the turn; Stop signals the worker running it", async () => {
      const id = await createChat(api.s.member);
      const worker = await claimChat(api.deps.store, id);
      const { signals, stop } = signalsOf(id);
      try {
        const sent = await api.client.post(`/api/v1/chats/${id}/messages`, {
          token: api.s.member,
          json: { content: text("one more thing") },
        });
        expect(sent.status).toBe(202);
        const another = await api.client.post(`/api/v1/chats/${id}/messages`, {
          token: api.s.member,
          json: { content: text("and this") },
        });
        expect(another.status).toBe(202);
        let shown = await show(id);
        expect(shown.chat.status).toBe("running");
        expect(shown.messages).toHaveLength(1);
        // Shown as queued, oldest first, under the ids they will keep in the transcript.
        expect(shown.queued.map((q) => q.parts)).toEqual([
          text("one more thing"),
          text("and this"),
        ]);
        for (const q of shown.queued)
          expect(Object.keys(q).sort()).toEqual(["created_at", "id", "parts"]);
        const queuedIds = shown.queued.map((q) => q.id);
        const seqBefore = shown.chat.last_event_seq as number;

        const stopped = await api.client.post(`/api/v1/chats/${id}/interrupt`, {
          token: api.s.member,
        });
        expect(stopped.status).toBe(202);
        await until(() => signals.length > 0);
        expect(signals).toEqual([{ type: "interrupt", chat_id: id }]);
        // The worker ends the turn (not the api): still running until it does.
        expect((await show(id)).chat.status).toBe("running");

        // It does: the queued message joins the transcript and schedules the next turn.
        expect(await api.deps.store.releaseChat(id, worker, "waiting")).toMatchObject({
          applied: true,
          status: "pending",
        });
        shown = await show(id);
        expect(shown.chat.status).toBe("pending");
        expect(shown.messages.map((m) => m.parts)).toEqual([
          text("hello there"),
          text("one more thing"),
          text("and this"),
        ]);
        expect(shown.queued).toEqual([]);
        // Delivered under the same ids, in the transcript and in the `message` events.
        expect(shown.messages.slice(1).map((m) => m.id)).toEqual(queuedIds);
        const delivered = (await api.deps.store.events.listAfter(id, seqBefore))
          .filter((e) => e.type === "message")
          .map((e) => (e.data as { message: { id: string } }).message.id);
        expect(delivered).toEqual(queuedIds);
      } finally {
        stop();
      }
    });
  });

  describe("message cost and progress", () => {
    const usage = {
      inputTokens: 1000,
      outputTokens: 200,
      reasoningTokens: 0,
      cacheReadTokens: 400,
      cacheWriteTokens: 0,
    };

    it("shows the cost_usd recorded with the message; a later price change never rewrites it", async () => {
      const pricing = { input_per_mtok: 3, output_per_mtok: 15, cache_read_per_mtok: 0.3 };
      const priced = obj(
        await api.client.post("/api/v1/models", {
          token: api.s.admin,
          json: { provider_id: api.s.providerId, model: `priced-${randomUUID()}`, pricing },
        }),
      ).id as string;
      const res = await api.client.post("/api/v1/chats", {
        token: api.s.member,
        json: { model_id: priced, content: text("what does it cost?") },
      });
      const id = obj(res).id as string;
      await claimChat(api.deps.store, id);
      const saved: Record<string, string> = {};
      const save = async (
        name: string,
        fields: {
          usage: typeof usage | null;
          model_id: string | null;
          in_progress: boolean;
          cost_usd?: number | null;
        },
      ) => {
        saved[name] ??= randomUUID();
        await api.deps.store.saveMessage(id, {
          id: saved[name],
          role: "assistant",
          parts: [{ type: "text", text: name }],
          ...fields,
        });
      };
      // (600 fresh × 3 + 400 cached × 0.3 + 200 out × 15) / 1e6
      const cost = (600 * 3 + 400 * 0.3 + 200 * 15) / 1_000_000;
      await save("streaming", { usage: null, model_id: priced, in_progress: true });
      // chatloop prices a step when it ends (src/chatloop/turn.ts); the store keeps what it was told.
      await save("final", { usage, model_id: priced, in_progress: false, cost_usd: cost });
      await save("unpriced model", { usage, model_id: api.s.modelId, in_progress: false });
      await save("model unknown", { usage, model_id: null, in_progress: false, cost_usd: cost });

      const cases: Array<[string, number | null, boolean]> = [
        ["what does it cost?", null, false],
        ["streaming", null, true],
        ["final", cost, false],
        ["unpriced model", null, false],
        ["model unknown", cost, false],
      ];
      const { messages } = await show(id);
      expect(messages).toHaveLength(cases.length);
      for (const [i, [name, expected, inProgress]] of cases.entries()) {
        const m: Record<string, unknown> = messages[i] ?? {};
        expect(m.parts, name).toEqual(text(name));
        expect(m.in_progress, name).toBe(inProgress);
        if (expected === null) expect(m.cost_usd, name).toBeNull();
        else expect(m.cost_usd as number, name).toBeCloseTo(expected, 12);
      }

      // The streaming message becomes final; a new price does not change what was recorded.
      await save("streaming", { usage, model_id: priced, in_progress: false, cost_usd: cost });
      const patched = await api.client.patch(`/api/v1/models/${priced}`, {
        token: api.s.admin,
        json: { pricing: { input_per_mtok: 1, output_per_mtok: 1 } },
      });
      expect(patched.status).toBe(200);
      const after = (await show(id)).messages;
      expect(after[1]).toMatchObject({ in_progress: false });
      expect(after[1]?.cost_usd as number).toBeCloseTo(cost, 12);
      expect(after[2]?.cost_usd as number).toBeCloseTo(cost, 12);
    });
  });

  describe("authorization", () => {
    it("another member's chat is 404 for read, stream, send, interrupt and delete", async () => {
      const id = await createChat(api.s.member, "private");
      const before = {
        chat: await api.deps.store.getChat(id),
        messages: await api.deps.store.listMessages(id),
        events: await api.deps.store.events.listAfter(id, 0),
      };
      const { signals, stop } = signalsOf(id);
      const attempts: Array<[string, string, unknown]> = [
        ["GET", `/api/v1/chats/${id}`, undefined],
        ["GET", `/api/v1/chats/${id}/stream`, undefined],
        ["POST", `/api/v1/chats/${id}/messages`, { content: text("let me in") }],
        ["POST", `/api/v1/chats/${id}/interrupt`, undefined],
        ["POST", `/api/v1/chats/${id}/compact`, undefined],
        ["DELETE", `/api/v1/chats/${id}`, undefined],
      ];
      for (const [method, path, json] of attempts) {
        const res = await api.client.request(method, path, { token: api.s.other, json });
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(obj(res)).toEqual({ message: "Chat not found." });
        expect(res.text).not.toContain("private");
      }
      // Same answer as for an id that does not exist.
      const missing = await api.client.get("/api/v1/chats/00000000-0000-4000-8000-000000000000", {
        token: api.s.other,
      });
      expect(missing.status).toBe(404);
      expect(obj(missing)).toEqual({ message: "Chat not found." });
      // Nothing reached chatd — no signal, no event, no stream, the chat and its transcript as they
      // were — and the chat is intact for its owner.
      stop();
      expect(signals).toEqual([]);
      expect(api.deps.subscriptions(id)).toBe(0);
      expect(await api.deps.store.events.listAfter(id, 0)).toEqual(before.events);
      expect(await api.deps.store.getChat(id)).toEqual(before.chat);
      expect(await api.deps.store.listMessages(id)).toEqual(before.messages);
      expect((await api.client.get(`/api/v1/chats/${id}`, { token: api.s.member })).status).toBe(
        200,
      );
    });

    it("an admin can act on any chat", async () => {
      const id = await createChat(api.s.member);
      expect((await api.client.get(`/api/v1/chats/${id}`, { token: api.s.admin })).status).toBe(
        200,
      );
      const send = await api.client.post(`/api/v1/chats/${id}/messages`, {
        token: api.s.admin,
        json: { content: text("admin here") },
      });
      expect(send.status).toBe(202);
      expect(
        (await api.client.post(`/api/v1/chats/${id}/interrupt`, { token: api.s.admin })).status,
      ).toBe(202);
      const stream = await fetch(`${api.served.url}/api/v1/chats/${id}/stream`, {
        headers: { authorization: `Bearer ${api.s.admin}` },
      });
      expect(stream.status).toBe(200);
      await stream.body?.cancel();
      expect((await api.client.delete(`/api/v1/chats/${id}`, { token: api.s.admin })).status).toBe(
        204,
      );
    });

    it("every chat route needs authentication", async () => {
      const id = await createChat(api.s.member);
      for (const [method, path] of [
        ["POST", "/api/v1/chats"],
        ["GET", "/api/v1/chats"],
        ["GET", `/api/v1/chats/${id}`],
        ["GET", `/api/v1/chats/${id}/stream`],
        ["POST", `/api/v1/chats/${id}/messages`],
        ["POST", `/api/v1/chats/${id}/interrupt`],
        ["POST", `/api/v1/chats/${id}/compact`],
        ["DELETE", `/api/v1/chats/${id}`],
      ] as const) {
        const res = await api.client.request(method, path);
        expect(res.status, `${method} ${path}`).toBe(401);
      }
    });
  });
});
