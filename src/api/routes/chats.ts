/**
 * Chats. Every route that names a chat goes through `loadChat`, which answers 404 — not 403 —
 * when the caller neither owns the chat nor is an admin, so ids of other people's chats cannot
 * be probed. An archived chat stays readable (and can be unarchived) but takes no new message or
 * compaction (409); only `DELETE ?permanent=true` removes a chat.
 */

import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Chat, MessagePart, User } from "../../store/types.ts";
import { changesOf } from "../audit.ts";
import { currentUser, presentedToken } from "../auth.ts";
import type { ApiApp, AppEnv, RouteContext } from "../context.ts";
import { notFound } from "../errors.ts";
import {
  ChatDetail,
  ChatSchema,
  CreateChatBody,
  EditMessageBody,
  IdParams,
  InstructionsResponse,
  MessageParams,
  SendMessageBody,
  StreamHeaders,
  StreamQuery,
} from "../schemas.ts";
import { eventStreamResponse } from "../sse.ts";
import { StreamAccessChecks } from "../stream-access.ts";
import { chatView, messageView, queuedMessageView } from "../views.ts";
import { chatManagementRoutes, chatTarget } from "./chat-manage.ts";
import { errors, json, jsonBody, newRouter, noContent, SECURED } from "./common.ts";

/** The events a step begins after: a persisted message or a status change. Deltas, retries and
 * usage after the newest of them all belong to the step streaming now. */
const STEP_BOUNDARIES = ["message", "status"] as const;

export function chatRoutes(ctx: RouteContext): ApiApp {
  const { store, chats, logger, options } = ctx;
  const app = newRouter();
  const user = [ctx.requireUser];
  const tags = ["chats"];

  /** The chat if `caller` may act on it now (its owner, or an admin); else null. */
  async function readableChat(id: string, caller: User): Promise<Chat | null> {
    const chat = await store.getChat(id);
    if (chat === null) return null;
    if (chat.owner_id !== caller.id && caller.role !== "admin") return null;
    return chat;
  }

  /** The chat of the path's `{id}`, if the caller owns it or is an admin; else 404. */
  async function loadChat(c: Context<AppEnv>): Promise<Chat> {
    const chat = await readableChat(c.req.param("id") ?? "", currentUser(c));
    if (chat === null) throw notFound("Chat");
    return chat;
  }

  const create = createRoute({
    method: "post",
    path: "/chats",
    tags,
    summary: "Start a chat with a first message; its first turn is queued",
    description:
      "409 with `code: spend_limit_reached` when the caller's spend reached their limit " +
      "(the message says what was spent, when it resets and whom to ask).",
    security: SECURED,
    middleware: user,
    request: { body: jsonBody(CreateChatBody) },
    responses: { 201: json(ChatSchema, "The chat"), ...errors(400, 401, 404, 409, 413, 415) },
  });
  app.openapi(create, async (c) => {
    const input = c.req.valid("json");
    const workspace_id = input.workspace_id ?? null;
    // The audit row is written by the statement that creates the chat (no transaction around it).
    const chat = await ctx.audit.inStatement(
      c,
      "chat.create",
      (audit) =>
        chats.createChat(currentUser(c), {
          model_id: input.model_id,
          content: input.content as MessagePart[],
          workspace_id,
          audit,
        }),
      { changes: changesOf(null, { model_id: input.model_id, workspace_id }) },
    );
    return c.json(chatView(chat), 201);
  });

  const get = createRoute({
    method: "get",
    path: "/chats/{id}",
    tags,
    summary: "A chat, its transcript and its queued messages",
    security: SECURED,
    middleware: user,
    request: { params: IdParams },
    responses: {
      200: json(ChatDetail, "The chat, its messages and the messages queued behind its turn"),
      ...errors(401, 404),
    },
  });
  app.openapi(get, async (c) => {
    const chat = await loadChat(c);
    // The queue first: a message drained in between is then in both lists (and shown once, in
    // the transcript), never in neither.
    const queued = await store.listQueuedMessages(chat.id);
    const messages = await store.listMessages(chat.id);
    const inTranscript = new Set(messages.map((m) => m.id));
    const replayFrom =
      chat.status === "running"
        ? await store.events.lastSeqOfType(chat.id, STEP_BOUNDARIES, chat.last_event_seq)
        : chat.last_event_seq;
    return c.json(
      {
        chat: chatView(chat),
        messages: messages.map(messageView),
        queued: queued.filter((q) => !inTranscript.has(q.id)).map(queuedMessageView),
        replay_from_seq: replayFrom,
      },
      200,
    );
  });

  const send = createRoute({
    method: "post",
    path: "/chats/{id}/messages",
    tags,
    summary: "Send a message; queued behind a running turn",
    description:
      "409 for an archived chat, and with `code: spend_limit_reached` when the chat's owner " +
      "reached their spend limit.",
    security: SECURED,
    middleware: user,
    request: { params: IdParams, body: jsonBody(SendMessageBody) },
    responses: {
      202: noContent("Accepted; follow the event stream"),
      ...errors(400, 401, 404, 409, 413, 415),
    },
  });
  app.openapi(send, async (c) => {
    const { content } = c.req.valid("json");
    const chat = await loadChat(c);
    // The audit row goes in the store's own transaction of the change: see `chatTarget`.
    const target = chatTarget(chat);
    await ctx.audit.inStatement(
      c,
      "chat.message",
      (audit) => chats.sendMessage(chat, content as MessagePart[], audit),
      {
        target,
      },
    );
    return c.body(null, 202);
  });

  const interrupt = createRoute({
    method: "post",
    path: "/chats/{id}/interrupt",
    tags,
    summary: "Stop the running turn, keeping what was streamed",
    security: SECURED,
    middleware: user,
    request: { params: IdParams },
    responses: { 202: noContent("Accepted"), ...errors(401, 404, 409) },
  });
  app.openapi(interrupt, async (c) => {
    const chat = await loadChat(c);
    await ctx.audit.after(c, "chat.interrupt", () => chats.interrupt(chat), {
      target: chatTarget(chat),
    });
    logger.info("chat interrupted", { chat_id: chat.id, by: currentUser(c).id });
    return c.body(null, 202);
  });

  const edit = createRoute({
    method: "patch",
    path: "/chats/{id}/messages/{message_id}",
    tags,
    summary: "Edit a user message and rerun the chat from it",
    description:
      "Replaces the user message's content; every later message leaves the transcript (deleted " +
      "for good: a `truncated` event names them), a running turn is stopped first, and a new turn " +
      "answers the edited message (status pending). 400 for a message that is not the user's, " +
      "409 for an archived chat.",
    security: SECURED,
    middleware: user,
    request: { params: MessageParams, body: jsonBody(EditMessageBody) },
    responses: {
      202: noContent("Accepted; follow the event stream"),
      ...errors(400, 401, 403, 404, 409, 413, 415),
    },
  });
  app.openapi(edit, async (c) => {
    const { content } = c.req.valid("json");
    const { message_id } = c.req.valid("param");
    const chat = await loadChat(c);
    await ctx.audit.inStatement(
      c,
      "chat.message_edit",
      (audit) => chats.editMessage(chat, message_id, content as MessagePart[], audit),
      { target: chatTarget(chat) },
    );
    logger.info("chat message edited", { chat_id: chat.id, by: currentUser(c).id });
    return c.body(null, 202);
  });

  const regenerate = createRoute({
    method: "post",
    path: "/chats/{id}/regenerate",
    tags,
    summary: "Replace the last reply: a new turn answers the last user message again",
    description:
      "What followed the last user message leaves the transcript (a `truncated` event names it) " +
      "and a new turn answers that message. 409 while a turn runs (stop it first), for a chat " +
      "with no user message, or an archived one.",
    security: SECURED,
    middleware: user,
    request: { params: IdParams },
    responses: {
      202: noContent("Accepted; follow the event stream"),
      ...errors(401, 403, 404, 409),
    },
  });
  app.openapi(regenerate, async (c) => {
    const chat = await loadChat(c);
    await ctx.audit.inStatement(c, "chat.regenerate", (audit) => chats.regenerate(chat, audit), {
      target: chatTarget(chat),
    });
    logger.info("chat reply regenerated", { chat_id: chat.id, by: currentUser(c).id });
    return c.body(null, 202);
  });

  const compact = createRoute({
    method: "post",
    path: "/chats/{id}/compact",
    tags,
    summary: "Summarise the conversation now, so later turns start from the summary",
    description:
      "A waiting chat runs just the compaction (status pending → running → waiting); a running one " +
      "is compacted when its turn ends. A `compaction` event, then a `message` event whose part is " +
      '`{type: "compaction", text}`, follow on the chat\'s stream. The transcript keeps everything.',
    security: SECURED,
    middleware: user,
    request: { params: IdParams },
    responses: { 202: noContent("Accepted"), ...errors(401, 404, 409) },
  });
  app.openapi(compact, async (c) => {
    const chat = await loadChat(c);
    await ctx.audit.inStatement(c, "chat.compact", (audit) => chats.compact(chat, audit), {
      target: chatTarget(chat),
    });
    logger.info("chat compaction asked for", { chat_id: chat.id, by: currentUser(c).id });
    return c.body(null, 202);
  });

  const instructions = createRoute({
    method: "get",
    path: "/chats/{id}/instructions",
    tags,
    summary: "The instructions in effect: what the chat's next turn is told, layer by layer",
    security: SECURED,
    middleware: user,
    request: { params: IdParams },
    responses: { 200: json(InstructionsResponse, "The layers, in order"), ...errors(401, 404) },
  });
  app.openapi(instructions, async (c) => {
    const chat = await loadChat(c);
    const layers = await chats.instructions(chat);
    return c.json({ layers }, 200);
  });

  const stream = createRoute({
    method: "get",
    path: "/chats/{id}/stream",
    tags,
    summary: "The chat's events (SSE); resume with Last-Event-ID",
    description:
      "Server-Sent Events: each event has `id:` (the chat's event sequence), `event:` (status, " +
      "message_part, message, retry, error, usage, title, compaction, truncated) and a JSON `data:`. With `Last-Event-ID` " +
      "(or `?after=`) the stream starts after that id: every later event once, in order, then " +
      "live ones. A `: keep-alive` comment is sent every 15 s.",
    security: SECURED,
    middleware: user,
    request: { params: IdParams, query: StreamQuery, headers: StreamHeaders },
    responses: {
      200: {
        description: "An event stream",
        content: { "text/event-stream": { schema: z.string() } },
      },
      ...errors(400, 401, 404),
    },
  });
  // Every open stream's access check, batched (one statement for the streams due together).
  const accessChecks = new StreamAccessChecks(store);
  app.openapi(stream, async (c) => {
    const chat = await loadChat(c);
    const lastEventId = c.req.valid("header")["last-event-id"];
    const { after } = c.req.valid("query");
    const afterSeq = Number(lastEventId ?? after ?? 0);
    const token = presentedToken(c) ?? "";
    return eventStreamResponse((onEvent) => chats.stream(chat.id, afterSeq, onEvent), {
      heartbeatMs: options.heartbeatMs,
      maxBufferedBytes: options.maxStreamBufferBytes,
      logger,
      // Access is checked again while the stream is open: a logout, a deactivation or a lost
      // role ends it within seconds, whichever replica it happened on.
      stillAllowed: () => accessChecks.mayStillRead(token, chat.id),
      accessCheckMs: options.streamAccessCheckMs,
      requestSignal: c.req.raw.signal,
      ...(options.shutdown ? { shutdown: options.shutdown } : {}),
      label: { chat_id: chat.id },
    });
  });

  // The list, search, PATCH and DELETE: their own module, behind the same `loadChat`.
  app.route("/", chatManagementRoutes(ctx, loadChat));

  return app;
}
