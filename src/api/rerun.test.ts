/**
 * Edit and rerun (PATCH /chats/{id}/messages/{message_id}) and regenerate (POST
 * /chats/{id}/regenerate): the transcript is cut back to a user message, a `truncated` event names
 * what left, and the chat goes pending for a new turn. No daemon runs here: a test that needs a
 * turn to stop plays the worker (it releases the chat when the interrupt signal arrives).
 */
import { describe, expect, it } from "vitest";
import type { ChatEvent } from "../store/types.ts";
import { claimChat, obj, useServedApi } from "./testing.ts";

const UNKNOWN = "0195c1a4-8f1e-7b7a-9c55-2f1d0e6a4b21";

describe("edit and rerun, regenerate", () => {
  const api = useServedApi({ heartbeatMs: 60_000 });
  const text = (t: string) => [{ type: "text", text: t }];

  /**
   * A chat whose first turn ran: "first" → a reply and a tool round → "second" → a reply. The chat
   * is `waiting`; returns its id and its messages' ids in order.
   */
  async function answeredChat(token = api.s.member): Promise<{ id: string; ids: string[] }> {
    const res = await api.client.post("/api/v1/chats", {
      token,
      json: { model_id: api.s.modelId, content: text("first") },
    });
    const id = obj(res).id as string;
    const { store } = api.deps;
    const worker = await claimChat(store, id);
    const assistant = (parts: unknown[]) =>
      store.insertMessage(id, {
        role: "assistant",
        parts: parts as never,
        model_id: api.s.modelId,
      });
    await assistant([{ type: "tool_call", tool_call_id: "c1", name: "read_file", input: {} }]);
    await store.insertMessage(id, {
      role: "tool",
      parts: [
        {
          type: "tool_result",
          tool_call_id: "c1",
          name: "read_file",
          output: "x",
          is_error: false,
        },
      ],
    });
    await assistant([{ type: "text", text: "reply one" }]);
    await store.releaseChat(id, worker, "waiting");
    await store.enqueueUserMessage(id, text("second") as never);
    const again = await claimChat(store, id);
    await assistant([{ type: "text", text: "reply two" }]);
    await store.releaseChat(id, again, "waiting");
    return { id, ids: (await store.listMessages(id)).map((m) => m.id) };
  }

  const edit = (id: string, messageId: string, content: unknown, token = api.s.member) =>
    api.client.patch(`/api/v1/chats/${id}/messages/${messageId}`, { token, json: { content } });
  const regenerate = (id: string, token = api.s.member) =>
    api.client.post(`/api/v1/chats/${id}/regenerate`, { token });
  const eventsAfter = (id: string, seq: number): Promise<ChatEvent[]> =>
    api.deps.store.events.listAfter(id, seq);
  const seqOf = async (id: string) => (await api.deps.store.getChat(id))?.last_event_seq ?? 0;

  it("an edit replaces the user message, deletes every later one and queues a turn", async () => {
    const { id, ids } = await answeredChat();
    const before = await seqOf(id);
    const res = await edit(id, ids[0] ?? "", text("first, edited"));
    expect(res.status).toBe(202);
    const messages = await api.deps.store.listMessages(id);
    expect(messages.map((m) => [m.id, m.parts])).toEqual([[ids[0], text("first, edited")]]);
    const chat = await api.deps.store.getChat(id);
    expect(chat?.status).toBe("pending");
    // In order: what left, the edited message, the status.
    const events = await eventsAfter(id, before);
    expect(events.map((e) => e.type)).toEqual(["truncated", "message", "status"]);
    expect(events[0]?.data).toEqual({ after_message_id: ids[0], message_ids: ids.slice(1) });
    expect(events[1]?.data).toMatchObject({
      message: { id: ids[0], parts: text("first, edited") },
    });
    expect(events[2]?.data).toEqual({ status: "pending" });
  });

  it("regenerate deletes what followed the last user message and queues a turn", async () => {
    const { id, ids } = await answeredChat();
    const before = await seqOf(id);
    expect((await regenerate(id)).status).toBe(202);
    const left = (await api.deps.store.listMessages(id)).map((m) => m.id);
    expect(left).toEqual(ids.slice(0, -1));
    const events = await eventsAfter(id, before);
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ["truncated", { after_message_id: ids.at(-2), message_ids: ids.slice(-1) }],
      ["status", { status: "pending" }],
    ]);
  });

  it("an edit of a running chat stops its turn first, then reruns", async () => {
    const { id, ids } = await answeredChat();
    const { store } = api.deps;
    await store.enqueueUserMessage(id, text("third") as never);
    const worker = await claimChat(store, id);
    // The worker: Stop releases the chat (as the daemon does once the turn ended).
    const stop = store.signals.listen((signal) => {
      if (signal.type === "interrupt" && signal.chat_id === id) {
        void store.releaseChat(id, worker, "waiting");
      }
    });
    try {
      // ids: first, call, result, reply one, second, reply two
      const res = await edit(id, ids[4] ?? "", text("second, edited"));
      expect(res.status).toBe(202);
    } finally {
      stop();
    }
    const messages = await store.listMessages(id);
    expect(messages.map((m) => m.id)).toEqual(ids.slice(0, 5));
    expect(messages.at(-1)?.parts).toEqual(text("second, edited"));
    expect((await store.getChat(id))?.status).toBe("pending");
  });

  it.each([
    ["an assistant message", 1, 400, "Only your own messages can be edited"],
    ["a tool message", 2, 400, "Only your own messages can be edited"],
    ["an unknown message", -1, 404, "Message not found."],
  ])("editing %s: %i, nothing changed", async (_what, index, status, message) => {
    const { id, ids } = await answeredChat();
    const before = await seqOf(id);
    // ids: first, call, result, reply one, second, reply two
    const target = index === -1 ? UNKNOWN : (ids[index] ?? "");
    const res = await edit(id, target, text("changed"));
    expect(res.status).toBe(status);
    expect(obj(res).message).toContain(message);
    expect((await api.deps.store.listMessages(id)).map((m) => m.id)).toEqual(ids);
    expect(await seqOf(id)).toBe(before);
  });

  it("editing a reply of a running chat is 400 at once: the turn is not stopped", async () => {
    const { id, ids } = await answeredChat();
    await api.deps.store.enqueueUserMessage(id, text("third") as never);
    const worker = await claimChat(api.deps.store, id);
    const interrupts: string[] = [];
    const stop = api.deps.store.signals.listen((signal) => {
      if (signal.type === "interrupt") interrupts.push(signal.chat_id);
    });
    try {
      expect((await edit(id, ids[1] ?? "", text("x"))).status).toBe(400);
    } finally {
      stop();
    }
    expect(interrupts).toEqual([]);
    expect((await api.deps.store.getChat(id))?.status).toBe("running");
    await api.deps.store.releaseChat(id, worker, "waiting");
  });

  it.each([
    ["non-text parts", [{ type: "reasoning", text: "x" }]],
    ["blank text", text("   ")],
    ["no content", []],
  ])("an edit with %s is 400", async (_what, content) => {
    const { id, ids } = await answeredChat();
    expect((await edit(id, ids[0] ?? "", content)).status).toBe(400);
    expect((await api.deps.store.listMessages(id)).map((m) => m.id)).toEqual(ids);
  });

  it("regenerate while a turn runs is 409 saying to stop it first; nothing changed", async () => {
    const { id, ids } = await answeredChat();
    await api.deps.store.enqueueUserMessage(id, text("third") as never);
    const worker = await claimChat(api.deps.store, id);
    const res = await regenerate(id);
    expect(res.status).toBe(409);
    expect(obj(res).message).toContain("stop it first");
    expect((await api.deps.store.listMessages(id)).map((m) => m.id)).toEqual([
      ...ids,
      expect.any(String),
    ]);
    await api.deps.store.releaseChat(id, worker, "waiting");
  });

  it("an archived chat refuses both with 409 saying to unarchive it", async () => {
    const { id, ids } = await answeredChat();
    await api.client.patch(`/api/v1/chats/${id}`, {
      token: api.s.member,
      json: { archived: true },
    });
    for (const res of [await regenerate(id), await edit(id, ids[0] ?? "", text("x"))]) {
      expect(res.status).toBe(409);
      expect(obj(res).message).toContain("unarchive");
    }
    expect((await api.deps.store.listMessages(id)).map((m) => m.id)).toEqual(ids);
  });

  it("another member's chat is 404 for both; an admin may do either", async () => {
    const { id, ids } = await answeredChat();
    for (const res of [
      await regenerate(id, api.s.other),
      await edit(id, ids[0] ?? "", text("mine now"), api.s.other),
      await regenerate(UNKNOWN),
      await edit(UNKNOWN, ids[0] ?? "", text("x")),
    ]) {
      expect(res.status).toBe(404);
    }
    expect((await api.deps.store.listMessages(id)).map((m) => m.id)).toEqual(ids);
    expect((await regenerate(id, api.s.admin)).status).toBe(202);
  });

  it("GET /chats/{id} shows a step's error, Stop and retries where they happened", async () => {
    const { id } = await answeredChat();
    const { store } = api.deps;
    const stopped = await store.insertMessage(id, {
      role: "assistant",
      parts: [{ type: "text", text: "half a" }],
      model_id: api.s.modelId,
      stopped: true,
      retries: { count: 2, kind: "overloaded", message: "Anthropic is overloaded (529)." },
    });
    const failed = await store.insertMessage(id, {
      role: "assistant",
      parts: [{ type: "error", kind: "auth", message: "The provider refused the API key." }],
    });
    const res = await api.client.get(`/api/v1/chats/${id}`, { token: api.s.member });
    const messages = obj(res).messages as Array<Record<string, unknown>>;
    expect(messages.find((m) => m.id === stopped.id)).toMatchObject({
      model_id: api.s.modelId,
      stopped: true,
      retries: { count: 2, kind: "overloaded", message: "Anthropic is overloaded (529)." },
    });
    expect(messages.find((m) => m.id === failed.id)).toMatchObject({
      model_id: null,
      stopped: false,
      retries: null,
      parts: [{ type: "error", kind: "auth", message: "The provider refused the API key." }],
    });
    expect(messages[0]).toMatchObject({ role: "user", model_id: null, stopped: false });
  });

  it("needs authentication", async () => {
    const { id, ids } = await answeredChat();
    expect((await api.client.post(`/api/v1/chats/${id}/regenerate`)).status).toBe(401);
    const res = await api.client.patch(`/api/v1/chats/${id}/messages/${ids[0]}`, {
      json: { content: text("x") },
    });
    expect(res.status).toBe(401);
  });
});
