/**
 * One chat: its transcript, the live stream, and the composer. The view is `chatViewReducer` over
 * the transcript and the events; the stream resumes after the last event it applied, so a dropped
 * connection or a reload ends on the same view.
 */
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from "react";
import { ApiError, api } from "../api/client.ts";
import { followChat, type StreamState } from "../api/stream.ts";
import type { Chat, TextPart, UpdateChatRequest } from "../api/types.ts";
import { isSpendLimitError } from "../limits/api.ts";
import { LimitNotice } from "../limits/LimitNotice.tsx";
import { useSpend } from "../limits/useSpend.ts";
import { useSession } from "../session.tsx";
import { ErrorBox } from "../ui/ErrorBox.tsx";
import { ChatCost } from "./ChatCost.tsx";
import { ChatHeader } from "./ChatHeader.tsx";
import { CompactButton, CompactingNotice, CompactionDivider } from "./Compaction.tsx";
import { Composer } from "./Composer.tsx";
import { InstructionsPanel } from "./InstructionsPanel.tsx";
import { DraftView, MessageView, PendingView, type ToolResults } from "./MessageView.tsx";
import { RetryBanner } from "./RetryBanner.tsx";
import {
  canCompact,
  chatViewReducer,
  draftHasOwnContent,
  emptyChatView,
  endsWithCompaction,
  endsWithErrorNote,
  isCompaction,
  liveOutputsOf,
  streamingToolOutputs,
  type TurnError,
  toolCallIds,
  visibleMessages,
} from "./reducer.ts";
import { streamingEntries } from "./retryKeep.ts";
import { STATUS_ANNOUNCEMENT, StatusBadge } from "./StatusBadge.tsx";
import type { ChatList } from "./useChatList.ts";
import { useMessageActions } from "./useMessageActions.ts";
import { useTranscriptWindow } from "./useTranscriptWindow.ts";
import { WorkspaceBadge } from "./WorkspaceBadge.tsx";

/**
 * A turn's error the transcript does not hold (a chat that failed before errors were kept in
 * place, or whose error note could not be written): the server's sentence, which says what to do.
 */
function TurnErrorNotice({ error }: { error: TurnError }) {
  return (
    <div className="error-box" role="alert" data-kind={error.kind}>
      <strong>The turn failed.</strong> {error.message}
    </div>
  );
}

/** In place of the composer: an archived chat takes no messages until it is unarchived. */
function ArchivedBar({ onUnarchive }: { onUnarchive(): Promise<void> }) {
  const [error, setError] = useState<unknown>(null);
  return (
    <div className="archived-bar" role="status">
      <span>This chat is archived. Unarchive it to send messages.</span>
      <button
        type="button"
        className="btn-primary"
        onClick={() => onUnarchive().catch((err: unknown) => setError(err))}
      >
        Unarchive
      </button>
      <ErrorBox error={error} />
    </div>
  );
}

/**
 * Follows the bottom of the transcript unless the reader scrolled up. The transcript appears only
 * once the chat has loaded, so the scroll listener is attached when the element does (`attach`,
 * a callback ref), not at the page's first render (when there is nothing to listen to yet).
 */
function useStickToBottom(dependency: unknown) {
  const ref = useRef<HTMLDivElement | null>(null);
  const [element, setElement] = useState<HTMLDivElement | null>(null);
  const stuck = useRef(true);
  const attach = useCallback((node: HTMLDivElement | null) => {
    ref.current = node;
    setElement(node);
  }, []);
  useEffect(() => {
    if (element === null) return;
    const onScroll = () => {
      stuck.current = element.scrollHeight - element.scrollTop - element.clientHeight < 80;
    };
    element.addEventListener("scroll", onScroll, { passive: true });
    return () => element.removeEventListener("scroll", onScroll);
  }, [element]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll when the content changes
  useEffect(() => {
    const el = ref.current;
    if (el !== null && stuck.current) el.scrollTop = el.scrollHeight;
  }, [dependency, element]);
  return { ref, attach };
}

let localIds = 0;

export function ChatPage({
  chatId,
  onChatChanged,
  list,
}: {
  chatId: string;
  onChatChanged(chat: Pick<Chat, "id"> & Partial<Chat>): void;
  /** Renames, model changes and (un)archiving go through the list, so the sidebar shows them. */
  list: Pick<ChatList, "change" | "lastChange">;
}) {
  const [view, dispatch] = useReducer(chatViewReducer, emptyChatView);
  /** What was changed here or in the sidebar (PATCH): shown over the loaded chat. */
  const [changes, setChanges] = useState<Partial<Chat>>({});
  const lastChange = list.lastChange;
  /** A change made before this page opened is in what it loads already. */
  const seenAtOpen = useRef(lastChange);
  useEffect(() => {
    if (lastChange === seenAtOpen.current || lastChange?.id !== chatId) return;
    const { title, model_id, archived, pinned } = lastChange;
    setChanges((c) => ({ ...c, title, model_id, archived, pinned }));
  }, [lastChange, chatId]);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [connection, setConnection] = useState<StreamState>("connecting");

  useEffect(() => {
    const abort = new AbortController();
    (async () => {
      let detail: Awaited<ReturnType<typeof api.getChat>>;
      try {
        detail = await api.getChat(chatId);
      } catch (error) {
        if (!abort.signal.aborted) setLoadError(error);
        return;
      }
      if (abort.signal.aborted) return;
      dispatch({ type: "loaded", detail });
      await followChat({
        chatId,
        after: detail.replay_from_seq,
        signal: abort.signal,
        onEvents: (events) => dispatch({ type: "events", events }),
        onState: setConnection,
        onFatal: setLoadError,
      });
    })();
    return () => abort.abort();
  }, [chatId]);

  const status = view.chat?.status;
  const title = changes.title ?? view.chat?.title;
  // The tab is named after the chat (and says Keel again once the page is left).
  useEffect(() => {
    if (title !== undefined) document.title = title || "Untitled chat";
    return () => {
      document.title = "Keel";
    };
  }, [title]);
  useEffect(() => {
    if (status !== undefined && title !== undefined) onChatChanged({ id: chatId, status, title });
  }, [chatId, status, title, onChatChanged]);

  const running = status === "running" || status === "pending";
  const results: ToolResults = useMemo(() => {
    const map = new Map<
      string,
      Extract<(typeof view.messages)[number]["parts"][number], { type: "tool_result" }>
    >();
    for (const m of view.messages) {
      for (const p of m.parts) if (p.type === "tool_result") map.set(p.tool_call_id, p);
    }
    return map;
  }, [view.messages]);
  const toolOutputs = useMemo(() => streamingToolOutputs(view.drafts), [view.drafts]);
  const persistedCalls = useMemo(() => toolCallIds(view.messages), [view.messages]);
  const transcript = useStickToBottom(view);
  const messages = visibleMessages(view);
  const windowed = useTranscriptWindow(messages.length, transcript.ref);
  const actions = useMessageActions(chatId, view.messages, setActionError);
  const { user } = useSession();
  // Read again as the chat's status changes: a turn that just ended may have reached the limit.
  const spend = useSpend(status);
  const reloadSpend = spend.reload;

  const send = useCallback(
    async (text: string) => {
      const id = `local-${++localIds}`;
      const parts: TextPart[] = [{ type: "text", text }];
      setActionError(null);
      dispatch({ type: "sending", id, parts });
      try {
        await api.sendMessage(chatId, parts);
      } catch (error) {
        dispatch({ type: "send_failed", id });
        // Over the spend limit: the notice above the composer says so (and Send goes off).
        if (isSpendLimitError(error)) void reloadSpend();
        else setActionError(error);
        throw error;
      }
    },
    [chatId, reloadSpend],
  );

  const stop = useCallback(async () => {
    // The reducer clears it when the stopped turn is over, also when a queued follow-up's turn
    // starts at once (the chat stays `running`): that turn has its Stop button again.
    dispatch({ type: "stopping" });
    try {
      await api.interrupt(chatId);
    } catch (error) {
      // 409: the turn ended on its own meanwhile; nothing to stop.
      if (!(ApiError.isInstance(error) && error.status === 409)) setActionError(error);
      dispatch({ type: "stop_failed" });
    }
  }, [chatId]);

  const compact = useCallback(async () => {
    // Set before the request: the button is disabled at once, and the events of the compaction
    // (or Stop) clear it.
    setActionError(null);
    dispatch({ type: "compact_requested" });
    try {
      await api.compactChat(chatId);
    } catch (error) {
      setActionError(error);
      dispatch({ type: "compact_failed" });
    }
  }, [chatId]);

  if (loadError !== null) {
    return (
      <div className="page">
        <h1>Chat unavailable</h1>
        <ErrorBox error={loadError} />
      </div>
    );
  }
  if (view.chat === null) return <p className="page muted">Loading chat…</p>;
  const chat: Chat = { ...view.chat, ...changes };

  // The list's `lastChange` brings the result here too.
  async function change(patch: UpdateChatRequest) {
    await list.change(chatId, patch);
  }

  return (
    <>
      <ChatHeader chat={chat} onChange={change}>
        <WorkspaceBadge workspaceId={chat.workspace_id} />
        <ChatCost usage={view.usage} />
        {connection === "reconnecting" ? (
          <span className="conn-indicator" role="status">
            Reconnecting…
          </span>
        ) : null}
        <CompactButton
          enabled={canCompact(view)}
          busy={view.compactRequested || view.compacting !== null}
          compacted={endsWithCompaction(view.messages)}
          running={running}
          onCompact={() => void compact()}
        />
        <StatusBadge status={view.chat.status} />
      </ChatHeader>
      <InstructionsPanel chatId={chatId} />
      <div className="transcript" ref={transcript.attach}>
        {/* Announced: the chat's status, never each streamed word (the transcript is no live region). */}
        <p className="sr-only" role="status">
          {STATUS_ANNOUNCEMENT[view.chat.status]}
        </p>
        <div className="transcript-inner">
          {windowed.start > 0 ? (
            <div ref={windowed.sentinel} className="transcript-more muted">
              Loading earlier messages…
            </div>
          ) : null}
          {messages.slice(windowed.start).map((message) => {
            const usage = view.usage[message.id];
            if (isCompaction(message)) {
              return (
                <CompactionDivider
                  key={message.id}
                  message={message}
                  reason={view.compactionReasons[message.id]}
                  usage={usage?.usage}
                  cost={usage?.cost_usd}
                />
              );
            }
            return (
              <MessageView
                key={message.id}
                message={message}
                results={results}
                usage={usage?.usage}
                cost={usage?.cost_usd}
                live={liveOutputsOf(message, toolOutputs)}
                modelName={message.model_id ? actions.modelNames.get(message.model_id) : undefined}
                admin={user.role === "admin"}
                editing={actions.editing === message.id}
                later={actions.later.get(message.id) ?? 0}
                running={running}
                onEdit={chat.archived ? undefined : actions.onEdit}
                onSaveEdit={actions.onSaveEdit}
                onCancelEdit={actions.onCancelEdit}
                onRegenerate={
                  actions.lastReplyId === message.id && !running && !chat.archived
                    ? actions.onRegenerate
                    : undefined
                }
              />
            );
          })}
          {streamingEntries(view)
            .filter((entry) => entry.stale !== null || draftHasOwnContent(entry, persistedCalls))
            .map((entry) => (
              <DraftView
                key={entry.id}
                parts={entry.parts}
                stale={entry.stale}
                modelName={actions.modelNames.get(chat.model_id)}
              />
            ))}
          {view.compacting ? <CompactingNotice notice={view.compacting} /> : null}
          {view.retry ? <RetryBanner retry={view.retry} /> : null}
          {view.error && view.chat.status === "error" && !endsWithErrorNote(view.messages) ? (
            <TurnErrorNotice error={view.error} />
          ) : null}
          {view.pending.map((entry) => (
            <PendingView key={entry.id} entry={entry} running={running} />
          ))}
          <ErrorBox error={actionError} />
        </div>
      </div>
      {chat.archived ? (
        <ArchivedBar onUnarchive={() => change({ archived: false })} />
      ) : (
        <Composer
          onSend={send}
          running={running && !view.stopping}
          onStop={() => void stop()}
          onEditLast={actions.editLast}
          notice={<LimitNotice spend={spend.spend} />}
          blocked={spend.spend?.over === true}
        />
      )}
    </>
  );
}
