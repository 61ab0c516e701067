/**
 * Edit and rerun, and regenerate, for the chat page: which user message is open in the editor,
 * what saving it and Regenerate send, and where each is offered. The server does the work and
 * announces it (a `truncated` event, then `status: pending`); the page only follows the stream.
 */
import { useCallback, useMemo, useState } from "react";
import { api } from "../api/client.ts";
import type { Message, ModelList } from "../api/types.ts";
import { useAsync } from "../ui/useAsync.ts";

export interface MessageActions {
  /** The user message open in the editor. */
  editing: string | null;
  onEdit(id: string): void;
  onSaveEdit(id: string, text: string): Promise<void>;
  onCancelEdit(): void;
  onRegenerate(): void;
  /** ↑ in an empty composer: the last user message, in the editor. */
  editLast(): boolean;
  /** The reply Regenerate is offered on: the transcript's last message, when it is a reply. */
  lastReplyId: string | null;
  /** How many messages follow each one (what an edit removes), by id. */
  later: ReadonlyMap<string, number>;
  /** The display name of each model, by id (the model's name on its replies). */
  modelNames: ReadonlyMap<string, string>;
}

export function useMessageActions(
  chatId: string,
  messages: readonly Message[],
  onError: (error: unknown) => void,
): MessageActions {
  const [editing, setEditing] = useState<string | null>(null);
  const models = useAsync<ModelList>(() => api.listModels());

  const onEdit = useCallback((id: string) => setEditing(id), []);
  const onCancelEdit = useCallback(() => setEditing(null), []);
  const onSaveEdit = useCallback(
    async (id: string, text: string) => {
      onError(null);
      try {
        await api.editMessage(chatId, id, [{ type: "text", text }]);
        setEditing(null);
      } catch (error) {
        onError(error);
        throw error;
      }
    },
    [chatId, onError],
  );
  const onRegenerate = useCallback(() => {
    onError(null);
    api.regenerate(chatId).catch(onError);
  }, [chatId, onError]);

  const lastUser = messages.findLast((m) => m.role === "user")?.id ?? null;
  const editLast = useCallback(() => {
    if (lastUser === null) return false;
    setEditing(lastUser);
    return true;
  }, [lastUser]);

  const last = messages.at(-1);
  const lastReplyId = last !== undefined && last.role !== "user" ? last.id : null;
  const later = useMemo(() => {
    // Tool messages are shown inside their calls' cards: they are not counted.
    const counts = new Map<string, number>();
    let after = 0;
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i];
      if (m === undefined) continue;
      counts.set(m.id, after);
      if (m.role !== "tool") after += 1;
    }
    return counts;
  }, [messages]);
  const modelNames = useMemo(
    () => new Map((models.data?.models ?? []).map((m) => [m.id, m.display_name] as const)),
    [models.data],
  );

  return {
    editing,
    onEdit,
    onSaveEdit,
    onCancelEdit,
    onRegenerate,
    editLast,
    lastReplyId,
    later,
    modelNames,
  };
}
