/**
 * The signed-in user's chats for the sidebar. The server has no per-user event stream, so the
 * list is refreshed every few seconds (and at once when a chat this tab shows changes status, or
 * after a change made here).
 */
import { useCallback, useEffect, useState } from "react";
import { api } from "../api/client.ts";
import type { Chat, UpdateChatRequest } from "../api/types.ts";

const REFRESH_MS = 3000;

export interface ChatList {
  chats: Chat[];
  error: unknown;
  refresh(): Promise<void>;
  /** A newer copy of one chat (from its event stream): shown at once. */
  update(chat: Pick<Chat, "id"> & Partial<Chat>): void;
  /** Renames, pins, archives or unarchives a chat on the server, then shows the list as it is. */
  change(chatId: string, patch: UpdateChatRequest): Promise<Chat>;
  /** Deletes a chat for good, then shows the list as it is. */
  remove(chatId: string): Promise<void>;
  /** Bumped after every change made here, so other lists (archived, search) reload too. */
  version: number;
}

export function useChatList(): ChatList {
  const [chats, setChats] = useState<Chat[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);
  const refresh = useCallback(async () => {
    try {
      setChats((await api.listChats()).chats);
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, []);
  useEffect(() => {
    void refresh();
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") void refresh();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [refresh]);
  const update = useCallback((chat: Pick<Chat, "id"> & Partial<Chat>) => {
    setChats((list) => {
      const index = list.findIndex((c) => c.id === chat.id);
      if (index === -1) return list;
      const current = list[index];
      if (current === undefined) return list;
      const merged = { ...current, ...chat };
      return Object.entries(chat).every(([k, v]) => current[k as keyof Chat] === v)
        ? list
        : list.with(index, merged);
    });
  }, []);
  const change = useCallback(
    async (chatId: string, patch: UpdateChatRequest) => {
      const changed = await api.updateChat(chatId, patch);
      update(changed);
      setVersion((v) => v + 1);
      await refresh();
      return changed;
    },
    [refresh, update],
  );
  const remove = useCallback(
    async (chatId: string) => {
      await api.deleteChat(chatId);
      setChats((list) => list.filter((c) => c.id !== chatId));
      setVersion((v) => v + 1);
      await refresh();
    },
    [refresh],
  );
  return { chats, error, refresh, update, change, remove, version };
}
