/**
 * The chat view as a pure function of what the server said: a transcript loaded with
 * `GET /chats/{id}`, then the event stream applied in `seq` order. A reconnect replays events the
 * view may already hold; each is applied at most once (by `seq`), and a persisted `message`
 * replaces whatever was streamed for it, so the view always ends where a fresh page load would.
 */
import type {
  Chat,
  ChatDetail,
  ChatEvent,
  ChatEventPayloads,
  CompactionNotice,
  CompactionReason,
  Message,
  MessagePart,
  QueuedMessage,
  TextPart,
  Usage,
} from "../api/types.ts";

import { catchingUp, keptOnRetry } from "./retryKeep.ts";
/** A part being streamed: text grows; tool input and output arrive as raw text until persisted. */
export type DraftPart =
  | { type: "text"; text: string }
  | { type: "reasoning"; text: string }
  | { type: "tool_call"; tool_call_id: string; name: string; input_text: string }
  | { type: "tool_result"; tool_call_id: string; output_text: string };

/** A message whose deltas are arriving and that has no `message` event yet. */
export interface DraftMessage {
  id: string;
  parts: DraftPart[];
}

/** A user message not yet in the transcript: waiting behind the running turn, or being sent. */
export interface PendingMessage {
  /** The queue row's id when the server told us; a local id while the POST is in flight. */
  id: string;
  parts: TextPart[] | MessagePart[];
  local: boolean;
}

export type RetryNotice = ChatEventPayloads["retry"];
export type TurnError = ChatEventPayloads["error"];

export interface ChatViewState {
  chat: Chat | null;
  messages: Message[];
  drafts: DraftMessage[];
  pending: PendingMessage[];
  usage: Record<string, { usage: Usage; cost_usd?: number }>;
  retry: RetryNotice | null;
  error: TurnError | null;
  /**
   * Stop was asked for the running turn (the Stop button is hidden meanwhile). The turn that was
   * stopped is over at the next `status` event, or when a user message moves into the transcript
   * (a queued follow-up: the chat stays `running` and a new turn answers it, with no status
   * event between the two turns).
   */
  stopping: boolean;
  /**
   * A compaction is running: its `compaction` event was applied and its summary message not yet.
   * It ends with that message, an `error` event, or any status but `running` (Stop, a failure).
   */
  compacting: CompactionNotice | null;
  /** Why each compaction seen live happened, by its message id (a transcript load cannot say). */
  compactionReasons: Record<string, CompactionReason>;
  /**
   * Compaction was asked for (Compact) and has not run yet: it ends like `compacting`, or when
   * the chat goes back to waiting without one (Stop took it back).
   */
  compactRequested: boolean;
  /**
   * What a failed attempt of the step being streamed had shown, by message id, kept after its
   * `retry` until the retried attempt's deltas catch up with it or diverge from it: the page
   * shows the rest of it dimmed after the new text, so a retry does not make the reply vanish
   * and re-stream from nothing. Dropped with the message's final `message`, or when the turn ends.
   */
  stale: Record<string, DraftPart[]>;
  /** The newest event applied: the stream resumes after it. */
  lastSeq: number;
}

export type ChatViewAction =
  | { type: "loaded"; detail: ChatDetail }
  | { type: "events"; events: ChatEvent[] }
  | { type: "sending"; id: string; parts: TextPart[] }
  | { type: "send_failed"; id: string }
  | { type: "stopping" }
  | { type: "stop_failed" }
  | { type: "compact_requested" }
  | { type: "compact_failed" };

export const emptyChatView: ChatViewState = {
  chat: null,
  messages: [],
  drafts: [],
  pending: [],
  usage: {},
  retry: null,
  error: null,
  stopping: false,
  compacting: null,
  compactionReasons: {},
  compactRequested: false,
  stale: {},
  lastSeq: 0,
};

export function chatViewReducer(state: ChatViewState, action: ChatViewAction): ChatViewState {
  switch (action.type) {
    case "loaded":
      return loaded(state, action.detail);
    case "events":
      return action.events.reduce(applyEvent, state);
    case "sending":
      return {
        ...state,
        pending: [...state.pending, { id: action.id, parts: action.parts, local: true }],
      };
    case "send_failed":
      return { ...state, pending: state.pending.filter((p) => p.id !== action.id) };
    case "stopping":
      return { ...state, stopping: true };
    case "stop_failed":
      return { ...state, stopping: false };
    case "compact_requested":
      return { ...state, compactRequested: true };
    case "compact_failed":
      return { ...state, compactRequested: false };
  }
}

/**
 * A snapshot replaces the view. The step being streamed (if any) is not in it whole: the caller
 * streams after the new `lastSeq` (the snapshot's `replay_from_seq`), whose replay rebuilds the
 * step's drafts and retry notice from its first delta, so a reload mid-reply shows the reply from
 * its start, not from the moment of the reload.
 */
function loaded(state: ChatViewState, detail: ChatDetail): ChatViewState {
  const { chat, messages } = detail;
  const stillSending = state.pending.filter((p) => p.local);
  const usage: ChatViewState["usage"] = {};
  for (const m of messages) {
    if (m.usage) usage[m.id] = { usage: m.usage, ...costOf(m) };
  }
  return {
    chat,
    messages,
    drafts: [],
    pending: [...queuedEntries(detail.queued), ...stillSending],
    usage,
    retry: null,
    error: chat.status === "error" && chat.last_error ? turnError(chat.last_error) : null,
    stopping: false,
    // A compaction under way is in the replay after `replay_from_seq`, which shows it again.
    compacting: null,
    compactionReasons: state.compactionReasons,
    compactRequested: false, // a chat `pending` for it shows Compact disabled anyway
    stale: {},
    lastSeq: detail.replay_from_seq,
  };
}

/**
 * The transcript to show: a message the server saved `in_progress` while its step streams is
 * shown by its draft (which the replay rebuilt whole) until its final `message` arrives.
 */
export function visibleMessages(
  state: Pick<ChatViewState, "messages" | "drafts"> & Partial<Pick<ChatViewState, "stale">>,
): Message[] {
  const kept = state.stale ? Object.keys(state.stale) : [];
  if (state.drafts.length === 0 && kept.length === 0) return state.messages;
  // A retried step's message is shown by what its failed attempt had streamed, until it is final.
  const drafting = new Set([...state.drafts.map((d) => d.id), ...kept]);
  return state.messages.filter((m) => !(m.in_progress && drafting.has(m.id)));
}

/** A message without pricing has `cost_usd: null`; its `usage` event has no `cost_usd`. */
function costOf(m: Message): { cost_usd?: number } {
  return m.cost_usd === undefined || m.cost_usd === null ? {} : { cost_usd: m.cost_usd };
}

function queuedEntries(queued: QueuedMessage[]): PendingMessage[] {
  return queued.map((q) => ({ id: q.id, parts: q.parts, local: false }));
}

function turnError(e: NonNullable<Chat["last_error"]>): TurnError {
  return {
    kind: e.kind,
    message: e.message,
    ...(e.status_code === undefined ? {} : { status_code: e.status_code }),
  };
}

export function applyEvent(state: ChatViewState, event: ChatEvent): ChatViewState {
  if (event.seq <= state.lastSeq) return state; // a replay of what the view already holds
  const next = { ...state, lastSeq: event.seq };
  switch (event.type) {
    case "status":
      return onStatus(next, event.data);
    case "message_part":
      return onDelta(next, event.data);
    case "message":
      return onMessage(next, event.data.message);
    case "retry":
      // The failed attempt's deltas are void: the retried attempt streams from the start. What
      // they showed stays (dimmed) until the new attempt catches up with it.
      return { ...next, retry: event.data, drafts: [], stale: keptOnRetry(next) };
    case "error":
      return {
        ...next,
        error: event.data,
        retry: null,
        drafts: [],
        stale: {},
        compacting: null,
        compactRequested: false,
      };
    case "usage": {
      const { message_id, usage, cost_usd } = event.data;
      const entry = cost_usd === undefined ? { usage } : { usage, cost_usd };
      return { ...next, usage: { ...next.usage, [message_id]: entry } };
    }
    case "title":
      // The page passes the chat on to the sidebar, which shows the new title at once.
      return next.chat ? { ...next, chat: { ...next.chat, title: event.data.title } } : next;
    case "compaction":
      return { ...next, compacting: event.data, compactRequested: false };
    case "truncated":
      return onTruncated(next, event.data.message_ids);
  }
}

/** Edit and rerun, or regenerate: these messages left the transcript (a `status` follows). */
function onTruncated(state: ChatViewState, ids: readonly string[]): ChatViewState {
  const gone = new Set(ids);
  return {
    ...state,
    messages: state.messages.filter((m) => !gone.has(m.id)),
    drafts: state.drafts.filter((d) => !gone.has(d.id)),
    pending: state.pending.filter((p) => !gone.has(p.id)),
    stale: without(state.stale, gone),
    usage: without(state.usage, gone),
  };
}

function onStatus(state: ChatViewState, data: ChatEventPayloads["status"]): ChatViewState {
  const chat = state.chat ? { ...state.chat, status: data.status } : null;
  // As on the server, a turn error lasts only while the chat's status is `error`.
  const error = data.status === "error" ? state.error : null;
  // Whatever Stop was asked for ended here: a `running` chat runs a turn that may be stopped.
  if (data.status === "running") return { ...state, chat, error, stopping: false };
  // The turn is over: whatever it kept arrived as `message` events; anything else is void. A
  // compaction asked for stays asked while the chat is `pending` (a worker is about to run it).
  return {
    ...state,
    chat,
    error,
    retry: null,
    drafts: [],
    stale: {},
    stopping: false,
    compacting: null,
    compactRequested: state.compactRequested && data.status === "pending",
  };
}

function onDelta(
  state: ChatViewState,
  { message_id, part }: ChatEventPayloads["message_part"],
): ChatViewState {
  const index = state.drafts.findIndex((d) => d.id === message_id);
  const draft = index === -1 ? { id: message_id, parts: [] } : state.drafts[index];
  if (draft === undefined) return state;
  const updated = { id: message_id, parts: appendDelta(draft.parts, part) };
  const drafts = index === -1 ? [...state.drafts, updated] : state.drafts.with(index, updated);
  const stale = state.stale[message_id];
  if (stale === undefined || catchingUp(updated.parts, stale))
    return { ...state, drafts, retry: null };
  return { ...state, drafts, retry: null, stale: without(state.stale, [message_id]) };
}

function without<T>(record: Record<string, T>, ids: Iterable<string>): Record<string, T> {
  const gone = new Set(ids);
  return Object.fromEntries(Object.entries(record).filter(([id]) => !gone.has(id)));
}

type Delta = ChatEventPayloads["message_part"]["part"];

/** Adds a delta to the last part when it continues it, else starts a new part. Tool calls and
 * results continue the part of their `tool_call_id` wherever it is: tools run concurrently, so
 * their output deltas interleave. */
export function appendDelta(parts: DraftPart[], delta: Delta): DraftPart[] {
  const last = parts.at(-1);
  switch (delta.type) {
    case "text":
    case "reasoning":
      if (last?.type === delta.type) {
        return parts.with(-1, { type: delta.type, text: last.text + delta.text });
      }
      return [...parts, { type: delta.type, text: delta.text }];
    case "tool_call": {
      const at = parts.findLastIndex(
        (p) => p.type === "tool_call" && p.tool_call_id === delta.tool_call_id,
      );
      const part = parts[at];
      if (part?.type === "tool_call") {
        return parts.with(at, { ...part, input_text: part.input_text + delta.input_delta });
      }
      return [
        ...parts,
        {
          type: "tool_call",
          tool_call_id: delta.tool_call_id,
          name: delta.name,
          input_text: delta.input_delta,
        },
      ];
    }
    case "tool_result": {
      const at = parts.findLastIndex(
        (p) => p.type === "tool_result" && p.tool_call_id === delta.tool_call_id,
      );
      const part = parts[at];
      if (part?.type === "tool_result") {
        return parts.with(at, { ...part, output_text: part.output_text + delta.output_delta });
      }
      return [
        ...parts,
        { type: "tool_result", tool_call_id: delta.tool_call_id, output_text: delta.output_delta },
      ];
    }
  }
}

function onMessage(state: ChatViewState, message: Message): ChatViewState {
  const index = state.messages.findIndex((m) => m.id === message.id);
  const messages =
    index === -1 ? [...state.messages, message] : state.messages.with(index, message);
  return {
    ...state,
    ...(isCompaction(message) ? compacted(state, message.id) : {}),
    messages,
    drafts: state.drafts.filter((d) => d.id !== message.id),
    stale: message.id in state.stale ? without(state.stale, [message.id]) : state.stale,
    pending: message.role === "user" ? withoutDelivered(state.pending, message) : state.pending,
    // A user message moves into the transcript between turns: the stopped turn is over, and the
    // one that answers it can be stopped in turn.
    stopping: message.role === "user" ? false : state.stopping,
    // A final message carries its usage, as the transcript does; a `usage` event may follow.
    usage: message.usage
      ? { ...state.usage, [message.id]: { usage: message.usage, ...costOf(message) } }
      : state.usage,
  };
}

export function isCompaction(message: Pick<Message, "parts">): boolean {
  return message.parts.some((p) => p.type === "compaction");
}

/** A compaction's summary arrived: it is over, and its reason (if seen live) is kept. */
function compacted(
  state: ChatViewState,
  id: string,
): Pick<ChatViewState, "compacting" | "compactRequested" | "compactionReasons"> {
  const reason = state.compacting?.reason;
  return {
    compacting: null,
    compactRequested: false,
    compactionReasons:
      reason === undefined ? state.compactionReasons : { ...state.compactionReasons, [id]: reason },
  };
}

/** Whether Compact would do anything now: not asked already, not running one, not just done. */
export function canCompact(state: ChatViewState): boolean {
  if (state.chat === null || state.compactRequested || state.compacting !== null) return false;
  if (state.chat.status === "pending") return false;
  return state.messages.length > 0 && !endsWithCompaction(state.messages);
}

/** The transcript's last message keeps a turn's error in place (so no other notice is needed). */
export function endsWithErrorNote(messages: readonly Message[]): boolean {
  return messages.at(-1)?.parts.some((p) => p.type === "error") ?? false;
}

/** The transcript's last message is a summary: nothing new to compact. */
export function endsWithCompaction(messages: readonly Message[]): boolean {
  const last = messages.findLast((m) => m.role !== "tool");
  return last !== undefined && isCompaction(last);
}

/** The pending entry this user message delivers: the queue row by id, else the oldest local
 * entry with the same text (a POST answers 202 without an id). */
function withoutDelivered(pending: PendingMessage[], message: Message): PendingMessage[] {
  const byId = pending.findIndex((p) => p.id === message.id);
  if (byId !== -1) return pending.toSpliced(byId, 1);
  const text = textOf(message.parts);
  const local = pending.findIndex((p) => p.local && textOf(p.parts) === text);
  return local === -1 ? pending : pending.toSpliced(local, 1);
}

export function textOf(parts: ReadonlyArray<{ type: string; text?: string }>): string {
  return parts
    .filter((p) => p.type === "text")
    .map((p) => p.text ?? "")
    .join("\n");
}

/** Output streaming from tools that are running now, by tool call id (from the drafts). */
export function streamingToolOutputs(drafts: readonly DraftMessage[]): ReadonlyMap<string, string> {
  const outputs = new Map<string, string>();
  for (const draft of drafts) {
    for (const part of draft.parts) {
      if (part.type === "tool_result") outputs.set(part.tool_call_id, part.output_text);
    }
  }
  return outputs;
}

/**
 * The live output for `message`'s tool calls, or undefined when none of them is streaming (so a
 * memoized message that has no running tool is not re-rendered per delta).
 */
export function liveOutputsOf(
  message: Message,
  outputs: ReadonlyMap<string, string>,
): ReadonlyMap<string, string> | undefined {
  if (outputs.size === 0) return undefined;
  let live: Map<string, string> | undefined;
  for (const part of message.parts) {
    if (part.type !== "tool_call") continue;
    const output = outputs.get(part.tool_call_id);
    if (output === undefined) continue;
    live ??= new Map();
    live.set(part.tool_call_id, output);
  }
  return live;
}

/** The ids of every tool call in the transcript (memoize per `messages`: not per delta). */
export function toolCallIds(messages: readonly Message[]): ReadonlySet<string> {
  const ids = new Set<string>();
  for (const m of messages) {
    for (const p of m.parts) if (p.type === "tool_call") ids.add(p.tool_call_id);
  }
  return ids;
}

/** Whether a draft shows anything of its own: a tool message's streamed output is shown inside
 * the persisted call's card instead. */
export function draftHasOwnContent(
  draft: DraftMessage,
  persistedCalls: ReadonlySet<string>,
): boolean {
  return draft.parts.some((p) => p.type !== "tool_result" || !persistedCalls.has(p.tool_call_id));
}
