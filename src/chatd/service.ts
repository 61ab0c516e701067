/**
 * `ChatService`: what the api asks of chatd. It only touches the store and signals; the turns run
 * in whichever replica's `ChatDaemon` claims the chat.
 *
 * It appends no event itself: the store appends the `message` and `status` events of what it
 * changes in the same transaction as the change, so by the time a daemon can claim a chat (which
 * appends `running`) its user message and `pending` are in the log — in that order, always.
 */

import type { AuditEntry } from "../store/audit.ts";
import type { Store } from "../store/contract.ts";
import type { Chat, ChatEvent, MessagePart, User } from "../store/types.ts";
import {
  ChatRequestError,
  type ChatService,
  mayUseServerDirectory,
  SERVER_DIRECTORY_ADMINS_ONLY,
} from "./contract.ts";
import { gatherInstructions, type WorkspaceContextSource } from "./instructions.ts";
import { ARCHIVED, editAndRerun, regenerate } from "./rerun.ts";
import { refuseOverLimit } from "./spend-check.ts";
import { deriveTitle } from "./title.ts";

export type ServiceStore = Pick<
  Store,
  | "getModel"
  | "mayUseModel"
  | "getUser"
  | "workspaces"
  | "createChat"
  | "getChat"
  | "enqueueUserMessage"
  | "setStatusIf"
  | "events"
  | "signals"
  | "deploymentSettings"
  | "userPreferences"
  | "requestCompaction"
  | "rewindChat"
  | "spendLimits"
>;

export interface ChatServiceOptions {
  /** Longest title derived from a first message (default 80 characters). */
  titleLength?: number;
  /** A consumer's `onEvent` threw: reported here, the stream goes on. */
  onError?: (error: unknown) => void;
  /** The workspaces' agents, for the instructions in effect (as the daemon is given them). */
  workspaces?: WorkspaceContextSource;
  /** Bound on reading a workspace's `AGENTS.md` (default 5 s). */
  workspaceReadTimeoutMs?: number;
}

export function createChatService(
  store: ServiceStore,
  options: ChatServiceOptions = {},
): ChatService {
  const onError = options.onError ?? ((error: unknown) => console.error("chatd: stream", error));

  /** A chat in a server-side directory runs only for an admin owner (checked at every request). */
  async function mayRun(chat: Chat): Promise<void> {
    if (chat.workspace_id === null) return;
    const workspace = await store.workspaces.get(chat.workspace_id);
    if (workspace?.directory && !mayUseServerDirectory(await store.getUser(chat.owner_id))) {
      throw new ChatRequestError(403, SERVER_DIRECTORY_ADMINS_ONLY);
    }
  }

  const service: ChatService = {
    async createChat(owner: User, input) {
      const content = userContent(input.content);
      await refuseOverLimit(store.spendLimits, owner.id);
      const model = await store.getModel(input.model_id);
      // A model restricted to groups the owner is not in is as unknown as a missing one.
      if (!model || !(await store.mayUseModel(owner.id, model.id))) {
        throw new ChatRequestError(404, `Model "${input.model_id}" was not found.`);
      }
      if (!model.enabled) {
        throw new ChatRequestError(400, `Model "${model.display_name}" is disabled.`);
      }
      const workspaceId = input.workspace_id ?? null;
      if (workspaceId !== null) {
        const workspace = await store.workspaces.get(workspaceId);
        // Someone else's workspace is as unknown as a missing one: ids cannot be probed.
        if (!workspace || (workspace.owner_id !== owner.id && owner.role !== "admin")) {
          throw new ChatRequestError(404, `Workspace "${workspaceId}" was not found.`);
        }
        if (workspace.directory !== null && !mayUseServerDirectory(owner)) {
          throw new ChatRequestError(403, SERVER_DIRECTORY_ADMINS_ONLY);
        }
      }
      // The store appends the message and `status: pending` events with the chat.
      const { chat } = await store.createChat({
        owner_id: owner.id,
        model_id: model.id,
        title: deriveTitle(content, options.titleLength),
        workspace_id: workspaceId,
        first_message: content,
        ...(input.audit ? { audit: input.audit } : {}),
      });
      await store.signals.send({ type: "pending", chat_id: chat.id });
      return chat;
    },

    async instructions(chat: Chat) {
      const { layers } = await gatherInstructions({
        store,
        chat,
        workspaces: options.workspaces,
        readTimeoutMs: options.workspaceReadTimeoutMs,
      });
      return layers;
    },

    async sendMessage(chat: Chat, content: MessagePart[], audit?: AuditEntry) {
      const parts = userContent(content);
      if (chat.archived) throw new ChatRequestError(409, ARCHIVED);
      await mayRun(chat);
      await refuseOverLimit(store.spendLimits, chat.owner_id);
      // Appended: the store announced it (and the chat's `pending`). Queued behind a running turn:
      // it is announced when it moves into the transcript, and a turn answers it after this one.
      const { appended } = await store.enqueueUserMessage(chat.id, parts, audit);
      if (!appended) return;
      await store.signals.send({ type: "pending", chat_id: chat.id });
    },

    async editMessage(chat: Chat, messageId: string, content: MessagePart[], audit?: AuditEntry) {
      const parts = userContent(content);
      await mayRun(chat);
      await refuseOverLimit(store.spendLimits, chat.owner_id);
      await editAndRerun(store, chat, messageId, parts, (c) => service.interrupt(c), audit);
    },

    async regenerate(chat: Chat, audit?: AuditEntry) {
      await mayRun(chat);
      await refuseOverLimit(store.spendLimits, chat.owner_id);
      await regenerate(store, chat, audit);
    },

    async interrupt(chat: Chat) {
      const current = await store.getChat(chat.id);
      if (!current) return;
      if (current.status !== "pending" && current.status !== "running") return;
      if (current.status === "pending" && current.worker_id === null) {
        // Not claimed yet: no turn to abort, so Stop takes it out of the queue — unless a worker
        // claims it first, atomically decided (the store announces `waiting` only if it applied).
        const change = await store.setStatusIf(chat.id, "pending", "waiting");
        if (change.applied) return;
      }
      // Whichever replica runs it (or is claiming it right now) aborts the turn; it persists the
      // partial reply and sets waiting.
      await store.signals.send({ type: "interrupt", chat_id: chat.id });
    },

    async compact(chat: Chat, audit?: AuditEntry) {
      if (chat.archived) throw new ChatRequestError(409, ARCHIVED);
      await refuseOverLimit(store.spendLimits, chat.owner_id);
      // The store announces a `pending` chat and signals it; a running one is re-queued when released.
      await store.requestCompaction(chat.id, audit);
    },

    async stream(chatId, afterSeq, onEvent) {
      return openStream(store, chatId, Math.max(0, afterSeq), onEvent, onError);
    },
  };
  return service;
}

/** A user's content: text parts only, and not all blank. */
function userContent(content: MessagePart[]): MessagePart[] {
  if (content.some((part) => part.type !== "text")) {
    throw new ChatRequestError(400, 'A message may only contain parts of type "text".');
  }
  if (!content.some((part) => part.type === "text" && part.text.trim() !== "")) {
    throw new ChatRequestError(400, "The message is empty.");
  }
  return content;
}

/**
 * Replay, then live, each event once and in order. The store's subscription does the work (it
 * reads the persisted events after `afterSeq`, buffers live ones meanwhile, and fills any gap from
 * the table); the guard here only makes "never twice, never backwards" local and obvious.
 */
function openStream(
  store: Pick<Store, "events">,
  chatId: string,
  afterSeq: number,
  onEvent: (event: ChatEvent) => void,
  onError: (error: unknown) => void,
): () => void {
  let last = afterSeq;
  let closed = false;
  const unsubscribe = store.events.subscribe(
    chatId,
    (event) => {
      if (closed || event.seq <= last) return;
      last = event.seq;
      try {
        onEvent(event);
      } catch (error) {
        onError(error);
      }
    },
    afterSeq,
  );
  return () => {
    closed = true;
    unsubscribe();
  };
}
