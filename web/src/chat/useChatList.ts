/**
 * The signed-in user's chats for the sidebar. The server has no per-user event stream, so the
 * list's first page is refreshed every few seconds (and at once when a chat this tab shows
 * changes status, or after a change made here); older pages are fetched when asked for and kept.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api } from "../api/client.ts";
import type { Chat, UpdateChatRequest } from "../api/types.ts";

const REFRESH_MS = 3000;

export interface ChatList {
  /** The first page, then the older pages loaded (`loadOlder`). */
  chats: Chat[];
  /** Whether there are older chats than those loaded. */
  hasOlder: boolean;
  loadOlder(): Promise<void>;
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
  /** The chat as the last change made here left it (the open chat's page shows it at once). */
  lastChange: Chat | null;
}

export function useChatList(): ChatList {
  const [first, setFirst] = useState<Chat[]>([]);
  const [older, setOlder] = useState<Chat[]>([]);
  /** Where the next older page starts: the first page's cursor until an older page is loaded. */
  const [cursor, setCursor] = useState<string | null>(null);
  const olderLoaded = useRef(false);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);
  const [lastChange, setLastChange] = useState<Chat | null>(null);
  const refresh = useCallback(async () => {
    try {
      const page = await api.listChats();
      setFirst(page.chats);
      if (!olderLoaded.current) setCursor(page.next_cursor);
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, []);
  const loadOlder = useCallback(async () => {
    if (cursor === null) return;
    try {
      const page = await api.listChats({ cursor });
      setOlder((list) => [...list, ...page.chats]);
      setCursor(page.next_cursor);
      olderLoaded.current = true;
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, [cursor]);
  useEffect(() => {
    void refresh();
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") void refresh();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [refresh]);
  const update = useCallback((chat: Pick<Chat, "id"> & Partial<Chat>) => {
    const apply = (list: Chat[]) => {
      const index = list.findIndex((c) => c.id === chat.id);
      if (index === -1) return list;
      const current = list[index];
      if (current === undefined) return list;
      const merged = { ...current, ...chat };
      return Object.entries(chat).every(([k, v]) => current[k as keyof Chat] === v)
        ? list
        : list.with(index, merged);
    };
    setFirst(apply);
    setOlder(apply);
  }, []);
  const change = useCallback(
    async (chatId: string, patch: UpdateChatRequest) => {
      const changed = await api.updateChat(chatId, patch);
      update(changed);
      setLastChange(changed);
      if (changed.archived) setOlder((list) => list.filter((c) => c.id !== chatId));
      setVersion((v) => v + 1);
      await refresh();
      return changed;
    },
    [refresh, update],
  );
  const remove = useCallback(
    async (chatId: string) => {
      await api.deleteChat(chatId);
      setFirst((list) => list.filter((c) => c.id !== chatId));
      setOlder((list) => list.filter((c) => c.id !== chatId));
      setVersion((v) => v + 1);
      await refresh();
    },
    [refresh],
  );
  // An older chat that became active meanwhile is in the first page now: shown once.
  const chats = useMemo(() => {
    const seen = new Set(first.map((c) => c.id));
    return [...first, ...older.filter((c) => !seen.has(c.id))];
  }, [first, older]);
  return {
    chats,
    hasOlder: cursor !== null,
    loadOlder,
    error,
    refresh,
    update,
    change,
    remove,
    version,
    lastChange,
  };
}
