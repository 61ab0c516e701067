/**
 * Chats as their owner manages them: the list and search (`GET /chats`), rename, model, pin and
 * archive (`PATCH /chats/{id}`), archive or delete for good (`DELETE /chats/{id}`). Mounted by
 * `chats.ts`, whose `loadChat` every route naming a chat goes through (404 for other people's).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ConflictError, InvalidCursorError } from "../../store/contract.ts";
import type { Chat } from "../../store/types.ts";
import { changesOf } from "../audit.ts";
import { currentUser } from "../auth.ts";
import type { ApiApp, AppEnv, RouteContext } from "../context.ts";
import { ApiError, notFound } from "../errors.ts";
import {
  ChatList,
  ChatSchema,
  DEFAULT_PAGE,
  DeleteChatQuery,
  IdParams,
  ListChatsQuery,
  UpdateChatBody,
} from "../schemas.ts";
import { chatView } from "../views.ts";
import { errors, json, jsonBody, newRouter, noContent, SECURED } from "./common.ts";

/**
 * A chat as an audit target. Chat actions never hold an ambient transaction around the chat
 * event log (an append can wait on a group commit that skips the locked chat row): the store
 * statements that change a chat row alone (manage, delete) are audited in their transaction;
 * what goes through chatd (create, send, edit, regenerate, compact) hands its audit row to the
 * store, which writes it in the change's own statement or transaction; an interrupt (a signal,
 * no row changed) is recorded right after it.
 */
export function chatTarget(chat: Chat) {
  return { type: "chat", id: chat.id, name: chat.title };
}

/** How long deleting a chat for good waits for its running turn to stop before deleting anyway. */
const STOP_WAIT_MS = 10_000;

export function chatManagementRoutes(
  ctx: RouteContext,
  /** The chat of the path's `{id}` if the caller may act on it; else it throws a 404. */
  loadChat: (c: Context<AppEnv>) => Promise<Chat>,
): ApiApp {
  const { store, chats, logger } = ctx;
  const app = newRouter();
  const user = [ctx.requireUser];
  const tags = ["chats"];

  const list = createRoute({
    method: "get",
    path: "/chats",
    tags,
    summary: "The caller's chats (pinned first, then newest), or those matching a search",
    description:
      "Without `q`: pinned chats first, then by last activity, newest first. With `q`: a " +
      "full-text search over titles and message text, best match first (a title match counts " +
      "double), newest first among equals, each with a `snippet` of its best matching message. " +
      "`archived=true` lists or searches the archived chats instead. Only the caller's own " +
      "chats, also for an admin.",
    security: SECURED,
    middleware: user,
    request: { query: ListChatsQuery },
    responses: { 200: json(ChatList, "A page of chats"), ...errors(400, 401) },
  });
  app.openapi(list, async (c) => {
    const { limit, cursor, q, archived } = c.req.valid("query");
    const options = {
      limit: limit ?? DEFAULT_PAGE,
      archived: archived ?? false,
      ...(cursor !== undefined ? { before: cursor } : {}),
    };
    const owner = currentUser(c).id;
    const badCursor = (err: unknown): never => {
      if (!(err instanceof InvalidCursorError)) throw err;
      throw new ApiError(400, "Invalid query parameters.", {
        validations: [{ field: "cursor", detail: "Not a cursor from a previous page." }],
      });
    };
    if (q !== undefined && q.trim() !== "") {
      const page = await store.searchChats(owner, q, options).catch(badCursor);
      const chats = page.items.map((hit) => ({ ...chatView(hit.chat), snippet: hit.snippet }));
      return c.json({ chats, next_cursor: page.next_cursor }, 200);
    }
    const page = await store.listChats(owner, options).catch(badCursor);
    return c.json({ chats: page.items.map(chatView), next_cursor: page.next_cursor }, 200);
  });

  const update = createRoute({
    method: "patch",
    path: "/chats/{id}",
    tags,
    summary: "Rename a chat, change its model, pin or archive it (or undo either)",
    description:
      "A new model applies from the chat's next turn (a chat whose model was disabled can go on " +
      "with another). Archiving stops a running turn first. Renaming announces a `title` event.",
    security: SECURED,
    middleware: user,
    request: { params: IdParams, body: jsonBody(UpdateChatBody) },
    responses: { 200: json(ChatSchema, "The chat"), ...errors(400, 401, 404, 413, 415) },
  });
  app.openapi(update, async (c) => {
    const patch = c.req.valid("json");
    const chat = await loadChat(c);
    if (patch.model_id !== undefined && patch.model_id !== chat.model_id) {
      await usableModel(patch.model_id, chat.owner_id, currentUser(c).role === "admin");
    }
    if (patch.archived === true && !chat.archived) await chats.interrupt(chat);
    const fields = Object.keys(patch).filter((k) => patch[k as keyof typeof patch] !== undefined);
    const action =
      fields.length === 1 && patch.archived !== undefined
        ? patch.archived
          ? "chat.archive"
          : "chat.unarchive"
        : fields.length === 1 && patch.title !== undefined
          ? "chat.rename"
          : "chat.update";
    // Only the row's UPDATE is in the audited transaction: no event is appended inside it.
    const changed = await ctx.audit.run(
      c,
      action,
      async (note) => {
        const changed = await store.manageChat(chat.id, patch).catch((err: unknown) => {
          // The model was deleted between the check and the update.
          if (err instanceof ConflictError) throw modelRefused(404, "No model has this id.");
          throw err;
        });
        if (changed === null) throw notFound("Chat");
        const view = (x: Chat) => ({
          title: x.title,
          model_id: x.model_id,
          pinned: x.pinned,
          archived: x.archived,
        });
        note.changes = changesOf(view(chat), view(changed));
        return changed;
      },
      { target: chatTarget(chat) },
    );
    if (patch.title !== undefined && patch.title !== chat.title) {
      // Other tabs showing the chat learn its new title as they learn a generated one.
      await store.events.append(chat.id, "title", { title: changed.title });
    }
    logger.info("chat changed", {
      chat_id: chat.id,
      by: currentUser(c).id,
      fields: Object.keys(patch).filter((k) => patch[k as keyof typeof patch] !== undefined),
    });
    return c.json(chatView(changed), 200);
  });

  function modelRefused(status: 400 | 404, detail: string): ApiError {
    return new ApiError(status, status === 404 ? "Model not found." : "Invalid request body.", {
      validations: [{ field: "model_id", detail }],
    });
  }

  /**
   * A model a chat may switch to, named `model_id`: existing (else 404), one the chat's owner may
   * use (its turns run as theirs; else 404 to a member — a model restricted to groups they are
   * not in is as unknown as a missing one — and 400 to an admin, who sees it) and enabled (else
   * 400).
   */
  async function usableModel(id: string, ownerId: string, callerIsAdmin: boolean): Promise<void> {
    const model = await store.getModel(id);
    if (model === null) throw modelRefused(404, "No model has this id.");
    if (!(await store.mayUseModel(ownerId, model.id))) {
      if (!callerIsAdmin) throw modelRefused(404, "No model has this id.");
      throw modelRefused(
        400,
        `The chat's owner is in none of the groups the model "${model.display_name}" is restricted to.`,
      );
    }
    if (!model.enabled) {
      throw modelRefused(
        400,
        `The model "${model.display_name}" is disabled; pick an enabled one.`,
      );
    }
  }

  const remove = createRoute({
    method: "delete",
    path: "/chats/{id}",
    tags,
    summary: "Archive a chat, or with permanent=true delete it for good",
    description:
      "A running turn is stopped first. Without `permanent` the chat is archived (as PATCH " +
      "`{archived: true}`). With `permanent=true` the chat, its messages, queued messages and " +
      "events are deleted; this cannot be undone.",
    security: SECURED,
    middleware: user,
    request: { params: IdParams, query: DeleteChatQuery },
    responses: { 204: noContent("Archived, or deleted"), ...errors(400, 401, 404) },
  });
  app.openapi(remove, async (c) => {
    const { permanent } = c.req.valid("query");
    const chat = await loadChat(c);
    const by = currentUser(c).id;
    if (permanent === true) {
      await stopTurn(chat);
      await ctx.audit.run(
        c,
        "chat.delete",
        async () => {
          if (!(await store.deleteChat(chat.id))) throw notFound("Chat");
        },
        { target: chatTarget(chat) },
      );
      logger.info("chat deleted", { chat_id: chat.id, by });
      return c.body(null, 204);
    }
    if (chat.status === "running" || chat.status === "pending") await chats.interrupt(chat);
    await ctx.audit.run(
      c,
      "chat.archive",
      async (note) => {
        if ((await store.manageChat(chat.id, { archived: true })) === null) throw notFound("Chat");
        if (!chat.archived) note.changes = { archived: { from: false, to: true } };
      },
      { target: chatTarget(chat) },
    );
    logger.info("chat archived", { chat_id: chat.id, by });
    return c.body(null, 204);
  });

  /**
   * Stops the chat's turn and waits (bounded) until it has: the worker running it then writes no
   * more into a chat that is about to be deleted.
   */
  async function stopTurn(chat: Chat): Promise<void> {
    const busy = (status: Chat["status"]) => status === "running" || status === "pending";
    if (!busy(chat.status)) return;
    await chats.interrupt(chat);
    const deadline = Date.now() + STOP_WAIT_MS;
    while (Date.now() < deadline) {
      const current = await store.getChat(chat.id);
      if (current === null || !busy(current.status)) return;
      await sleep(50);
    }
    logger.warn("chat deleted while its turn was still stopping", { chat_id: chat.id });
  }

  return app;
}
