/**
 * A retry keeps what the failed attempt showed (dimmed) until the retried attempt catches up with
 * it or diverges from it: the reducer over delta sequences around a `retry` event.
 */
import { describe, expect, it } from "vitest";
import type { Chat, ChatEvent } from "../api/types.ts";
import { type ChatViewState, chatViewReducer, emptyChatView, visibleMessages } from "./reducer.ts";
import { staleRemainder, streamingEntries } from "./retryKeep.ts";

const T = "2025-06-01T12:00:00.000Z";
const chat: Chat = {
  id: "c1",
  title: "t",
  status: "running",
  model_id: "model-1",
  workspace_id: null,
  last_error: null,
  last_event_seq: 10,
  pinned: false,
  archived: false,
  created_at: T,
  updated_at: T,
};

let seq = 10;
const text = (t: string, id = "a1"): ChatEvent => ({
  type: "message_part",
  seq: ++seq,
  data: { message_id: id, part: { type: "text", text: t } },
});
const reasoning = (t: string, id = "a1"): ChatEvent => ({
  type: "message_part",
  seq: ++seq,
  data: { message_id: id, part: { type: "reasoning", text: t } },
});
const retry = (): ChatEvent => ({
  type: "retry",
  seq: ++seq,
  data: {
    attempt: 1,
    delay_ms: 1000,
    kind: "overloaded",
    message: "Anthropic is overloaded (529).",
    retrying_at: T,
  },
});
const status = (s: Chat["status"]): ChatEvent => ({
  type: "status",
  seq: ++seq,
  data: { status: s },
});
const final = (t: string, id = "a1"): ChatEvent => ({
  type: "message",
  seq: ++seq,
  data: {
    message: {
      id,
      role: "assistant",
      parts: [{ type: "text", text: t }],
      cost_usd: null,
      in_progress: false,
      model_id: "model-1",
      stopped: false,
      retries: { count: 1, kind: "overloaded", message: "Anthropic is overloaded (529)." },
      created_at: T,
    },
  },
});

function play(...list: ChatEvent[]): ChatViewState {
  seq = 10;
  const start = chatViewReducer(emptyChatView, {
    type: "loaded",
    detail: { chat, messages: [], queued: [], replay_from_seq: 10 },
  });
  // Built lazily so each event's seq follows the previous one.
  return chatViewReducer(start, { type: "events", events: list });
}

/** What the page shows for a1: the new attempt's text, and the dimmed rest of the failed one. */
function shown(state: ChatViewState) {
  const entry = streamingEntries(state).find((e) => e.id === "a1");
  if (!entry) return null;
  const now = entry.parts.map((p) => ("text" in p ? p.text : "")).join("|");
  const rest = entry.stale?.rest.map((p) => ("text" in p ? p.text : "")).join("|") ?? "";
  return { now, dimmed: (entry.stale?.tail ?? "") + (rest ? `|${rest}` : "") };
}

describe("a retry keeps the partial reply, dimmed, until the retried attempt catches up", () => {
  it.each<[string, () => ChatEvent[], { now: string; dimmed: string } | null]>([
    [
      "the retry itself: all of it dimmed",
      () => [text("Hello wor"), retry()],
      { now: "", dimmed: "|Hello wor" },
    ],
    [
      "the new attempt re-streams the start: the rest stays dimmed",
      () => [text("Hello wor"), retry(), text("Hel")],
      { now: "Hel", dimmed: "lo wor" },
    ],
    [
      "it catches up exactly: nothing dimmed",
      () => [text("Hello wor"), retry(), text("Hello"), text(" wor")],
      { now: "Hello wor", dimmed: "" },
    ],
    [
      "it goes past: nothing dimmed",
      () => [text("Hello wor"), retry(), text("Hello world")],
      { now: "Hello world", dimmed: "" },
    ],
    [
      "it diverges: the old text is dropped at once",
      () => [text("Hello wor"), retry(), text("Hi")],
      { now: "Hi", dimmed: "" },
    ],
    [
      "reasoning then text: the parts not reached yet stay dimmed",
      () => [reasoning("Plan."), text("Answer"), retry(), reasoning("Pl")],
      { now: "Pl", dimmed: "an.|Answer" },
    ],
    [
      "a second retry before catching up keeps the longest shown",
      () => [text("Hello wor"), retry(), text("Hel"), retry(), text("H")],
      { now: "H", dimmed: "ello wor" },
    ],
    [
      "a second retry after diverging keeps the second attempt's text",
      () => [text("Hello"), retry(), text("Howdy"), retry()],
      { now: "", dimmed: "|Howdy" },
    ],
    [
      "the final message replaces it",
      () => [text("Hello wor"), retry(), text("He"), final("Hello world")],
      null,
    ],
    ["the turn ending drops it", () => [text("Hello wor"), retry(), status("waiting")], null],
  ])("%s", (_what, events, expected) => {
    expect(shown(play(...events()))).toEqual(expected);
  });

  it("another message's draft is not touched", () => {
    const state = play(text("one", "a0"), text("Hello wor"), retry(), text("fresh", "a2"));
    expect(state.stale).toEqual({
      a0: [{ type: "text", text: "one" }],
      a1: [{ type: "text", text: "Hello wor" }],
    });
  });

  it("a reload mid-retry: the in-progress message is shown by the kept text, not twice", () => {
    seq = 10;
    const saved = {
      id: "a1",
      role: "assistant" as const,
      parts: [],
      cost_usd: null,
      in_progress: true,
      model_id: "model-1",
      stopped: false,
      retries: null,
      created_at: T,
    };
    const start = chatViewReducer(emptyChatView, {
      type: "loaded",
      detail: { chat, messages: [saved], queued: [], replay_from_seq: 10 },
    });
    const state = chatViewReducer(start, { type: "events", events: [text("Hello wor"), retry()] });
    expect(visibleMessages(state)).toEqual([]);
    expect(streamingEntries(state).map((e) => e.id)).toEqual(["a1"]);
  });

  it("staleRemainder: the rest of the last part, then the parts not reached", () => {
    expect(
      staleRemainder(
        [{ type: "text", text: "ab" }],
        [
          { type: "text", text: "abcd" },
          { type: "reasoning", text: "r" },
        ],
      ),
    ).toEqual({ tail: "cd", rest: [{ type: "reasoning", text: "r" }] });
  });
});
