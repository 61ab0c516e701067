/**
 * The signed-in user's chats for the sidebar. The server has no per-user event stream, so the
 * list is refreshed every few seconds (and at once when a chat this tab shows changes status).
 */
import { useCallback, useEffect, useState } from "react";
import { api } from "../api/client.ts";
import type { Chat } from "../api/types.ts";

const REFRESH_MS = 3000;

export interface ChatList {
  chats: Chat[];
  error: unknown;
  refresh(): Promise<void>;
  /** A newer copy of one chat (from its event stream): shown at once. */
  update(chat: Pick<Chat, "id"> & Partial<Chat>): void;
}

export function useChatList(): ChatList {
  const [chats, setChats] = useState<Chat[]>([]);
  const [error, setError] = useState<unknown>(null);
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
  return { chats, error, refresh, update };
}
