/**
 * The chat view reducer: the transcript from `GET /chats/{id}`, then the event stream (DESIGN.md
 * §4) applied by `seq`. The view must end where a fresh page load would, however the stream was
 * cut into batches and whatever a reconnect replayed.
 */
import { describe, expect, it } from "vitest";
import type {
  Chat,
  ChatDetail,
  ChatEvent,
  ChatEventPayloads,
  Message,
  QueuedMessage,
  Usage,
} from "../api/types.ts";
import {
  type ChatViewAction,
  type ChatViewState,
  canCompact,
  chatViewReducer,
  type DraftMessage,
  type DraftPart,
  draftHasOwnContent,
  emptyChatView,
  liveOutputsOf,
  streamingToolOutputs,
  toolCallIds,
  visibleMessages,
} from "./reducer.ts";

// ---- fixtures -------------------------------------------------------------------------------

const T = "2025-06-01T12:00:00.000Z";
type Delta = ChatEventPayloads["message_part"]["part"];
type ErrorData = ChatEventPayloads["error"];

function usageOf(input: number, output: number): Usage {
  return {
    inputTokens: input,
    outputTokens: output,
    reasoningTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
  };
}

function chatRow(over: Partial<Chat> = {}): Chat {
  return {
    id: "chat-1",
    title: "Fix the build",
    status: "waiting",
    model_id: "model-1",
    workspace_id: null,
    last_error: null,
    last_event_seq: 0,
    pinned: false,
    archived: false,
    created_at: T,
    updated_at: T,
    ...over,
  };
}

/** A message as the event stream carries it (stricter than the document's: `input` is set). */
type EventMessage = ChatEventPayloads["message"]["message"];

function msg(
  id: string,
  role: Message["role"],
  parts: EventMessage["parts"],
  extra: Partial<EventMessage> = {},
): EventMessage {
  return {
    id,
    role,
    parts,
    cost_usd: null,
    in_progress: false,
    model_id: role === "assistant" ? "model-1" : null,
    stopped: false,
    retries: null,
    created_at: T,
    ...extra,
  };
}
const userMsg = (id: string, text: string) => msg(id, "user", [{ type: "text", text }]);
const assistantMsg = (id: string, text: string, extra: Partial<EventMessage> = {}) =>
  msg(id, "assistant", [{ type: "text", text }], extra);

function detail(
  chat: Chat,
  messages: Message[] = [],
  queued: QueuedMessage[] = [],
  replayFrom = chat.last_event_seq,
): ChatDetail {
  return { chat, messages, queued, replay_from_seq: replayFrom };
}

const ev = {
  status: (seq: number, status: Chat["status"]): ChatEvent => ({
    type: "status",
    seq,
    data: { status },
  }),
  message: (seq: number, message: EventMessage): ChatEvent => ({
    type: "message",
    seq,
    data: { message },
  }),
  part: (seq: number, message_id: string, part: Delta): ChatEvent => ({
    type: "message_part",
    seq,
    data: { message_id, part },
  }),
  text: (seq: number, id: string, text: string) => ev.part(seq, id, { type: "text", text }),
  reasoning: (seq: number, id: string, text: string) =>
    ev.part(seq, id, { type: "reasoning", text }),
  call: (seq: number, id: string, callId: string, name: string, input_delta: string) =>
    ev.part(seq, id, { type: "tool_call", tool_call_id: callId, name, input_delta }),
  result: (seq: number, id: string, callId: string, output_delta: string) =>
    ev.part(seq, id, { type: "tool_result", tool_call_id: callId, output_delta }),
  retry: (seq: number, attempt: number): ChatEvent => ({
    type: "retry",
    seq,
    data: {
      attempt,
      delay_ms: 2000,
      kind: "rate_limit",
      message: "Anthropic is rate limiting requests",
      retrying_at: "2025-06-01T12:00:02.000Z",
    },
  }),
  error: (seq: number, data: ErrorData): ChatEvent => ({ type: "error", seq, data }),
  usage: (seq: number, message_id: string, usage: Usage, cost_usd?: number): ChatEvent => ({
    type: "usage",
    seq,
    data: cost_usd === undefined ? { message_id, usage } : { message_id, usage, cost_usd },
  }),
};

const events = (...list: ChatEvent[]): ChatViewAction => ({ type: "events", events: list });
const loadedAction = (d: ChatDetail): ChatViewAction => ({ type: "loaded", detail: d });
const run = (state: ChatViewState, ...actions: ChatViewAction[]) =>
  actions.reduce(chatViewReducer, state);
/** A view loaded from a snapshot (default: an idle chat at seq 10 with one exchange). */
const HISTORY = [userMsg("u0", "hi"), assistantMsg("a0", "Hello!")];
function loadedView(chat: Partial<Chat> = {}, messages = HISTORY, queued: QueuedMessage[] = []) {
  return run(
    emptyChatView,
    loadedAction(detail(chatRow({ last_event_seq: 10, ...chat }), messages, queued)),
  );
}
const running = () => run(loadedView(), events(ev.status(11, "running")));

// ---- loaded ---------------------------------------------------------------------------------

describe("loaded: the snapshot of GET /chats/{id}", () => {
  it("takes chat, messages and the resume point from the snapshot", () => {
    const view = loadedView({ last_event_seq: 42 });
    expect(view.chat?.id).toBe("chat-1");
    expect(view.messages).toEqual(HISTORY);
    expect(view.lastSeq).toBe(42);
    expect(view.drafts).toEqual([]);
    expect(view.retry).toBeNull();
    expect(view.error).toBeNull();
  });

  it("takes usage and cost per message from the persisted messages", () => {
    const priced = assistantMsg("a1", "ok", { usage: usageOf(10, 5), cost_usd: 0.25 });
    const view = loadedView({}, [userMsg("u1", "q"), priced]);
    expect(view.usage).toEqual({ a1: { usage: usageOf(10, 5), cost_usd: 0.25 } });
  });

  it("a message without pricing (cost_usd null) gets usage without cost, as its usage event", () => {
    const unpriced = assistantMsg("a1", "ok", { usage: usageOf(10, 5), cost_usd: null });
    const view = loadedView({}, [unpriced]);
    const streamed = run(running(), events(ev.usage(12, "a1", usageOf(10, 5))));
    expect(view.usage).toEqual({ a1: { usage: usageOf(10, 5) } });
    expect(view.usage.a1).toEqual(streamed.usage.a1);
  });

  it("takes the queued messages as pending (not local)", () => {
    const queued: QueuedMessage = {
      id: "q1",
      parts: [{ type: "text", text: "next" }],
      created_at: T,
    };
    const view = loadedView({ status: "running" }, HISTORY, [queued]);
    expect(view.pending).toEqual([{ id: "q1", parts: queued.parts, local: false }]);
  });

  it("keeps a local message still being sent, after the queued ones", () => {
    const queued: QueuedMessage = { id: "q1", parts: [{ type: "text", text: "a" }], created_at: T };
    const sending = run(emptyChatView, {
      type: "sending",
      id: "local-1",
      parts: [{ type: "text", text: "b" }],
    });
    const view = run(sending, loadedAction(detail(chatRow({ status: "running" }), [], [queued])));
    expect(view.pending.map((p) => [p.id, p.local])).toEqual([
      ["q1", false],
      ["local-1", true],
    ]);
  });

  it.each([
    ["error", { kind: "auth", message: "bad key", status_code: 401 }],
    ["error", { kind: "overloaded", message: "busy" }],
  ] as const)("status %s: shows the chat's last_error without its detail (%o)", (status, e) => {
    const view = loadedView({ status, last_error: { ...e, detail: "raw provider body" } });
    expect(view.error).toEqual(e);
  });

  it.each(["waiting", "running", "pending"] as const)(
    "status %s: no turn error even if last_error is set",
    (status) => {
      const view = loadedView({ status, last_error: { kind: "auth", message: "old" } });
      expect(view.error).toBeNull();
    },
  );
});

// ---- events, one type at a time -------------------------------------------------------------

describe("message_part: deltas build draft parts", () => {
  const cases: Array<[string, ChatEvent[], unknown]> = [
    [
      "text deltas concatenate into one text part",
      [ev.text(12, "a1", "Hel"), ev.text(13, "a1", "lo "), ev.text(14, "a1", "world")],
      [{ type: "text", text: "Hello world" }],
    ],
    [
      "reasoning then text: two parts in order",
      [ev.reasoning(12, "a1", "think"), ev.reasoning(13, "a1", "ing"), ev.text(14, "a1", "answer")],
      [
        { type: "reasoning", text: "thinking" },
        { type: "text", text: "answer" },
      ],
    ],
    [
      "text after a tool call starts a new text part",
      [
        ev.text(12, "a1", "Let me look."),
        ev.call(13, "a1", "c1", "read_file", ""),
        ev.text(14, "a1", "Done."),
      ],
      [
        { type: "text", text: "Let me look." },
        { type: "tool_call", tool_call_id: "c1", name: "read_file", input_text: "" },
        { type: "text", text: "Done." },
      ],
    ],
    [
      "tool call input deltas concatenate; the name comes from the first delta",
      [
        ev.call(12, "a1", "c1", "read_file", ""),
        ev.call(13, "a1", "c1", "read_file", '{"path":'),
        ev.call(14, "a1", "c1", "read_file", '"a.ts"}'),
      ],
      [{ type: "tool_call", tool_call_id: "c1", name: "read_file", input_text: '{"path":"a.ts"}' }],
    ],
    [
      "two tool calls one after the other: two parts",
      [ev.call(12, "a1", "c1", "read_file", "{}"), ev.call(13, "a1", "c2", "bash", '{"cmd":"ls"}')],
      [
        { type: "tool_call", tool_call_id: "c1", name: "read_file", input_text: "{}" },
        { type: "tool_call", tool_call_id: "c2", name: "bash", input_text: '{"cmd":"ls"}' },
      ],
    ],
    [
      "tool result deltas concatenate",
      [ev.result(12, "t1", "c1", "line 1\n"), ev.result(13, "t1", "c1", "line 2\n")],
      [{ type: "tool_result", tool_call_id: "c1", output_text: "line 1\nline 2\n" }],
    ],
    [
      // Tools run concurrently and stream into one tool message: their deltas interleave.
      "interleaved results of concurrent tools: one part per call, in first-seen order",
      [
        ev.result(12, "t1", "c1", "a1 "),
        ev.result(13, "t1", "c2", "b1 "),
        ev.result(14, "t1", "c1", "a2"),
        ev.result(15, "t1", "c2", "b2"),
      ],
      [
        { type: "tool_result", tool_call_id: "c1", output_text: "a1 a2" },
        { type: "tool_result", tool_call_id: "c2", output_text: "b1 b2" },
      ],
    ],
    [
      "interleaved input deltas of two tool calls: one part per call",
      [
        ev.call(12, "a1", "c1", "read_file", '{"path":'),
        ev.call(13, "a1", "c2", "bash", '{"cmd":'),
        ev.call(14, "a1", "c1", "read_file", '"a"}'),
        ev.call(15, "a1", "c2", "bash", '"ls"}'),
      ],
      [
        { type: "tool_call", tool_call_id: "c1", name: "read_file", input_text: '{"path":"a"}' },
        { type: "tool_call", tool_call_id: "c2", name: "bash", input_text: '{"cmd":"ls"}' },
      ],
    ],
  ];
  it.each(cases)("%s", (_name, list, parts) => {
    const view = run(running(), events(...list));
    expect(view.drafts).toEqual([
      { id: list[0]?.type === "message_part" ? list[0].data.message_id : "", parts },
    ]);
    expect(view.lastSeq).toBe(list.at(-1)?.seq);
  });

  it("deltas of two messages make two drafts, in first-seen order", () => {
    const view = run(running(), events(ev.text(12, "a1", "x"), ev.result(13, "t1", "c1", "y")));
    expect(view.drafts.map((d) => d.id)).toEqual(["a1", "t1"]);
  });
});

describe("message: a persisted message", () => {
  it("is appended to the transcript and replaces its draft", () => {
    const a1 = assistantMsg("a1", "Hello world");
    const view = run(
      running(),
      events(ev.text(12, "a1", "Hello"), ev.text(13, "t9", "other"), ev.message(14, a1)),
    );
    expect(view.messages).toEqual([...HISTORY, a1]);
    expect(view.drafts.map((d) => d.id)).toEqual(["t9"]);
  });

  it("with an id the transcript holds replaces that message in place", () => {
    const edited = assistantMsg("u0", "moved");
    const view = run(running(), events(ev.message(12, edited)));
    expect(view.messages.map((m) => m.id)).toEqual(["u0", "a0"]);
    expect(view.messages[0]).toEqual(edited);
  });

  it("does not touch pending entries when it is not a user message", () => {
    const sent = run(running(), {
      type: "sending",
      id: "local-1",
      parts: [{ type: "text", text: "ok" }],
    });
    const view = run(sent, events(ev.message(12, assistantMsg("a1", "ok"))));
    expect(view.pending.map((p) => p.id)).toEqual(["local-1"]);
  });
});

describe("truncated: edit and rerun, regenerate", () => {
  const truncated = (seq: number, after: string, ids: string[]): ChatEvent => ({
    type: "truncated",
    seq,
    data: { after_message_id: after, message_ids: ids },
  });

  it("drops the messages that left, their usage, drafts and queued entries; keeps the rest", () => {
    const a1 = assistantMsg("a1", "gone", { usage: usageOf(10, 2) });
    const base = run(
      loadedView(
        { status: "waiting" },
        [...HISTORY, userMsg("u1", "more"), a1],
        [{ id: "q1", parts: [{ type: "text", text: "queued" }], created_at: T }],
      ),
      events(ev.text(12, "a2", "half")),
    );
    const edited = userMsg("u0", "edited");
    const view = run(
      base,
      events(
        truncated(13, "u0", ["a0", "u1", "a1", "a2", "q1"]),
        ev.message(14, edited),
        ev.status(15, "pending"),
      ),
    );
    expect(view.messages).toEqual([edited]);
    expect(view.drafts).toEqual([]);
    expect(view.pending).toEqual([]);
    expect(view.usage).toEqual({});
    expect(view.chat?.status).toBe("pending");
  });

  it("a replay of it after a reload changes nothing more", () => {
    const once = run(running(), events(truncated(12, "u0", ["a0"])));
    expect(run(once, events(truncated(12, "u0", ["a0"])))).toBe(once);
    expect(once.messages.map((m) => m.id)).toEqual(["u0"]);
  });
});

describe("status", () => {
  it("running: sets the status and clears a turn error; keeps drafts", () => {
    const failed = run(
      loadedView({ status: "error", last_error: { kind: "auth", message: "bad key" } }),
      events(ev.status(11, "running"), ev.text(12, "a1", "x")),
    );
    expect(failed.chat?.status).toBe("running");
    expect(failed.error).toBeNull();
    expect(failed.drafts).toHaveLength(1);
  });

  it.each(["waiting", "pending", "error"] as const)(
    "%s: the turn is over — drafts and the retry notice are dropped",
    (status) => {
      const view = run(
        running(),
        events(
          ev.retry(12, 1),
          ev.text(13, "a1", "partial"),
          ev.retry(14, 2),
          ev.text(15, "a1", "p"),
          ev.status(16, status),
        ),
      );
      expect(view.chat?.status).toBe(status);
      expect(view.drafts).toEqual([]);
      expect(view.retry).toBeNull();
    },
  );

  it("error after an error event: the error stays", () => {
    const e = { kind: "auth", message: "bad key", status_code: 401 };
    const view = run(running(), events(ev.error(12, e), ev.status(13, "error")));
    expect(view.error).toEqual(e);
  });

  // The server clears last_error on every status but `error` (store.releaseChat, settle): a
  // failed turn whose queued message moves in goes error → pending with last_error null.
  it.each(["pending", "waiting"] as const)(
    "%s after an error clears it, as the server does",
    (status) => {
      const e = { kind: "auth", message: "bad key" };
      const view = run(running(), events(ev.error(12, e), ev.status(13, status)));
      expect(view.error).toBeNull();
    },
  );

  it("before any snapshot: no chat to update, but the seq is taken", () => {
    const view = run(emptyChatView, events(ev.status(3, "running")));
    expect(view.chat).toBeNull();
    expect(view.lastSeq).toBe(3);
  });
});

describe("retry", () => {
  it("shows the notice and drops the failed attempt's drafts, keeping persisted messages", () => {
    const a1 = assistantMsg("a1", "step one");
    const view = run(
      running(),
      events(
        ev.message(12, a1),
        ev.text(13, "a2", "half an ans"),
        ev.reasoning(14, "a2", "hmm"),
        ev.retry(15, 1),
      ),
    );
    expect(view.retry).toEqual((ev.retry(15, 1) as Extract<ChatEvent, { type: "retry" }>).data);
    expect(view.drafts).toEqual([]);
    expect(view.messages).toEqual([...HISTORY, a1]);
  });

  it("the retried attempt streams from the start: only its deltas are shown", () => {
    const view = run(
      running(),
      events(ev.text(12, "a1", "first try"), ev.retry(13, 1), ev.text(14, "a1", "second")),
    );
    expect(view.drafts).toEqual([{ id: "a1", parts: [{ type: "text", text: "second" }] }]);
  });

  it("the notice goes away when the next attempt streams", () => {
    const view = run(running(), events(ev.retry(12, 1), ev.text(13, "a1", "x")));
    expect(view.retry).toBeNull();
  });

  it("a second retry replaces the first notice", () => {
    const view = run(running(), events(ev.retry(12, 1), ev.retry(13, 2)));
    expect(view.retry?.attempt).toBe(2);
  });
});

describe("error", () => {
  it.each([
    { kind: "auth", message: "Invalid API key", status_code: 401 },
    { kind: "context_length", message: "Too long" },
  ])("records %o and drops drafts and the retry notice", (e) => {
    const view = run(running(), events(ev.retry(12, 1), ev.text(13, "a1", "x"), ev.error(14, e)));
    expect(view.error).toEqual(e);
    expect(view.retry).toBeNull();
    expect(view.drafts).toEqual([]);
  });
});

describe("usage", () => {
  it.each([
    ["with a cost", 0.0123, { usage: usageOf(100, 20), cost_usd: 0.0123 }],
    ["without pricing", undefined, { usage: usageOf(100, 20) }],
  ] as const)("records usage per message %s", (_name, cost, entry) => {
    const view = run(running(), events(ev.usage(12, "a1", usageOf(100, 20), cost)));
    expect(view.usage).toEqual({ a1: entry });
  });

  it("a later usage event for the same message replaces the entry", () => {
    const view = run(
      running(),
      events(ev.usage(12, "a1", usageOf(1, 1), 1), ev.usage(13, "a1", usageOf(2, 2))),
    );
    expect(view.usage).toEqual({ a1: { usage: usageOf(2, 2) } });
  });
});

// ---- sending and pending messages ---------------------------------------------------------

describe("sending, send_failed and pending messages", () => {
  const text = (t: string) => [{ type: "text" as const, text: t }];

  it("sending adds a local pending entry; send_failed removes only that one", () => {
    const view = run(
      running(),
      { type: "sending", id: "local-1", parts: text("a") },
      { type: "sending", id: "local-2", parts: text("b") },
      { type: "send_failed", id: "local-1" },
    );
    expect(view.pending).toEqual([{ id: "local-2", parts: text("b"), local: true }]);
  });

  it("the user message delivers the oldest local entry with the same text", () => {
    const view = run(
      running(),
      { type: "sending", id: "local-1", parts: text("again") },
      { type: "sending", id: "local-2", parts: text("again") },
      events(ev.message(12, userMsg("u1", "again"))),
    );
    expect(view.pending.map((p) => p.id)).toEqual(["local-2"]);
    expect(view.messages.at(-1)?.id).toBe("u1");
  });

  it("a queued entry is delivered by id, not by text", () => {
    const queued: QueuedMessage = { id: "q1", parts: text("same"), created_at: T };
    const view = run(
      loadedView({ status: "running" }, HISTORY, [queued]),
      { type: "sending", id: "local-1", parts: text("same") },
      events(ev.message(11, userMsg("q1", "same"))),
    );
    expect(view.pending.map((p) => p.id)).toEqual(["local-1"]);
  });

  it("a user message that matches nothing leaves pending alone", () => {
    const view = run(
      running(),
      { type: "sending", id: "local-1", parts: text("mine") },
      events(ev.message(12, userMsg("u9", "someone else's"))),
    );
    expect(view.pending.map((p) => p.id)).toEqual(["local-1"]);
  });

  it("a replayed user message does not deliver a second identical entry", () => {
    const view = run(
      running(),
      { type: "sending", id: "local-1", parts: text("again") },
      events(ev.message(12, userMsg("u1", "again"))),
      { type: "sending", id: "local-2", parts: text("again") },
      events(ev.message(12, userMsg("u1", "again"))),
    );
    expect(view.pending.map((p) => p.id)).toEqual(["local-2"]);
  });
});

describe("stopping: Stop asked for the running turn", () => {
  const stopping: ChatViewAction = { type: "stopping" };
  const streaming = () => run(running(), events(ev.text(12, "a1", "The first half")));

  it("lasts while the stopped turn still streams and saves its partial reply", () => {
    const view = run(
      streaming(),
      stopping,
      events(ev.text(13, "a1", " of"), ev.message(14, assistantMsg("a1", "The first half of"))),
    );
    expect(view.stopping).toBe(true);
  });

  // After Stop, the daemon moves a queued follow-up into the transcript and runs its turn at
  // once: the chat stays `running` and no status event comes between the two turns.
  it("ends when a queued follow-up moves in: its turn runs and can be stopped", () => {
    const queued: QueuedMessage = {
      id: "q1",
      parts: [{ type: "text", text: "And then?" }],
      created_at: T,
    };
    const view = run(
      loadedView({ status: "running" }, HISTORY, [queued]),
      events(ev.text(11, "a1", "The first half")),
      stopping,
      events(
        ev.message(12, assistantMsg("a1", "The first half")),
        ev.message(13, userMsg("q1", "And then?")),
        ev.text(14, "a2", "Then"),
      ),
    );
    expect(view.chat?.status).toBe("running");
    expect(view.stopping).toBe(false);
    expect(view.pending).toEqual([]);
    expect(view.drafts.map((d) => d.id)).toEqual(["a2"]);
  });

  // A follow-up queued after the last drain: the chat is released `pending`, then claimed again.
  it.each([
    ["waiting", ["waiting"]],
    ["error", ["error"]],
    ["pending, then running", ["pending", "running"]],
    ["running (claimed again at once)", ["running"]],
  ] as const)("ends at a status event: %s", (_name, statuses) => {
    const view = run(
      streaming(),
      stopping,
      events(...statuses.map((status, i) => ev.status(13 + i, status))),
    );
    expect(view.stopping).toBe(false);
  });

  it("stop_failed ends it (the turn had ended on its own, or the request failed)", () => {
    expect(run(streaming(), stopping, { type: "stop_failed" }).stopping).toBe(false);
  });

  it("a replayed user message of the stopped turn's start does not end it", () => {
    const view = run(
      running(),
      events(ev.message(12, userMsg("u1", "go")), ev.text(13, "a1", "x")),
      stopping,
      events(ev.message(12, userMsg("u1", "go"))),
    );
    expect(view.stopping).toBe(true);
  });
});

// ---- compaction -----------------------------------------------------------------------------

describe("compaction: the conversation summarised", () => {
  const compaction = (
    seq: number,
    reason: ChatEventPayloads["compaction"]["reason"],
    prompt_tokens?: number,
  ): ChatEvent => ({
    type: "compaction",
    seq,
    data: prompt_tokens === undefined ? { reason } : { reason, prompt_tokens },
  });
  const summary = (id: string, text = "## Goal\nSay hello.") =>
    msg(id, "assistant", [{ type: "compaction", text }]);
  /** Compact on a waiting chat, as the server streams it: pending, running, the compaction. */
  const started = [ev.status(11, "pending"), ev.status(12, "running"), compaction(13, "manual")];
  const finished = [
    ...started,
    ev.message(14, summary("s1")),
    ev.usage(15, "s1", usageOf(900, 120)),
    ev.status(16, "waiting"),
  ];

  it.each([
    [
      "threshold",
      compaction(12, "threshold", 96_000),
      { reason: "threshold", prompt_tokens: 96_000 },
    ],
    ["context_length", compaction(12, "context_length"), { reason: "context_length" }],
    ["manual", compaction(12, "manual"), { reason: "manual" }],
  ])("a %s compaction event: compacting, with its reason", (_name, event, notice) => {
    const view = run(running(), events(event));
    expect(view.compacting).toEqual(notice);
    expect(view.lastSeq).toBe(12);
  });

  it.each<[string, ChatEvent[], string[]]>([
    ["its summary message", [ev.message(13, summary("s1"))], ["u0", "a0", "s1"]],
    ["an error event", [ev.error(13, { kind: "auth", message: "Invalid API key" })], ["u0", "a0"]],
    ["status waiting (Stop)", [ev.status(13, "waiting")], ["u0", "a0"]],
    ["status error", [ev.status(13, "error")], ["u0", "a0"]],
    ["status pending (handed over)", [ev.status(13, "pending")], ["u0", "a0"]],
  ])("ends at %s", (_name, list, ids) => {
    const compacting = run(running(), events(compaction(12, "threshold")));
    expect(compacting.compacting).toEqual({ reason: "threshold" });
    const view = run(compacting, events(...list));
    expect(view.compacting).toBeNull();
    expect(visibleMessages(view).map((m) => m.id)).toEqual(ids);
  });

  it.each<[string, ChatEvent]>([
    ["status running", ev.status(13, "running")],
    ["a retry of the summary step", ev.retry(13, 1)],
    ["a plain assistant message", ev.message(13, assistantMsg("a1", "not a summary"))],
    ["a usage event", ev.usage(13, "a0", usageOf(1, 1))],
  ])("goes on through %s", (_name, event) => {
    const view = run(running(), events(compaction(12, "context_length"), event));
    expect(view.compacting).toEqual({ reason: "context_length" });
  });

  it("the summary keeps the reason seen live, by message id", () => {
    const view = run(loadedView(), events(...finished));
    expect(view.compactionReasons).toEqual({ s1: "manual" });
    expect(view.usage.s1).toEqual({ usage: usageOf(900, 120) });
    expect(view.chat?.status).toBe("waiting");
  });

  it("a summary loaded with the transcript has no reason (none was seen)", () => {
    const view = loadedView({}, [...HISTORY, summary("s1")]);
    expect(view.compacting).toBeNull();
    expect(view.compactionReasons).toEqual({});
  });

  it("the same events delivered twice: the second copy changes nothing (same object)", () => {
    const once = run(loadedView(), events(...finished));
    expect(run(once, events(...finished))).toBe(once);
    const mid = run(loadedView(), events(...started));
    expect(run(mid, events(...started))).toBe(mid);
    expect(mid.compacting).toEqual({ reason: "manual" });
  });

  it.each([
    ["overlapping replay", [finished.slice(0, 4), finished.slice(1)]],
    ["replay from the start", [finished.slice(0, 3), finished]],
    ["one event at a time, each twice", finished.map((e) => [e, e])],
  ])("%s ends as one clean delivery", (_name, batches) => {
    const once = run(loadedView(), events(...finished));
    expect(run(loadedView(), ...batches.map((b) => events(...b)))).toEqual(once);
  });

  it("a page loaded mid-compaction shows it again from the replay", () => {
    const snapshot = detail(chatRow({ status: "running", last_event_seq: 13 }), HISTORY, [], 12);
    const view = run(emptyChatView, loadedAction(snapshot), events(...started));
    expect(view.compacting).toEqual({ reason: "manual" });
  });
});

describe("Compact: asked for, then run", () => {
  const asked: ChatViewAction = { type: "compact_requested" };
  const compactionEvent = (seq: number): ChatEvent => ({
    type: "compaction",
    seq,
    data: { reason: "manual" },
  });

  it.each<[string, ChatViewState, boolean]>([
    ["a waiting chat with a reply", loadedView(), true],
    ["a running chat (compacted when its turn ends)", running(), true],
    ["a chat in error", loadedView({ status: "error" }), true],
    ["a pending chat", loadedView({ status: "pending" }), false],
    [
      "a chat whose last message is a summary",
      loadedView({}, [...HISTORY, msg("s1", "assistant", [{ type: "compaction", text: "S" }])]),
      false,
    ],
    ["a chat compacting now", run(running(), events(compactionEvent(12))), false],
    ["a chat asked already", run(loadedView(), asked), false],
    ["no chat loaded", emptyChatView, false],
  ])("can compact: %s → %s", (_name, view, expected) => {
    expect(canCompact(view)).toBe(expected);
  });

  it.each<[string, ChatViewAction[], boolean]>([
    ["asked", [], true],
    ["the POST failed", [{ type: "compact_failed" }], false],
    ["status pending (a worker will run it)", [events(ev.status(11, "pending"))], true],
    ["pending, then running", [events(ev.status(11, "pending"), ev.status(12, "running"))], true],
    ["the compaction started", [events(compactionEvent(11))], false],
    ["status waiting (Stop took it back)", [events(ev.status(11, "waiting"))], false],
    ["an error event", [events(ev.error(11, { kind: "generic", message: "x" }))], false],
  ])("compactRequested after %s: %s", (_name, actions, expected) => {
    expect(run(loadedView(), asked, ...actions).compactRequested).toBe(expected);
  });
});

// ---- replays --------------------------------------------------------------------------------

describe("replays after a reconnect", () => {
  const turn = [
    ev.status(11, "running"),
    ev.text(12, "a1", "Hel"),
    ev.text(13, "a1", "lo"),
    ev.call(14, "a1", "c1", "bash", "{}"),
    ev.message(
      15,
      msg("a1", "assistant", [
        { type: "text", text: "Hello" },
        { type: "tool_call", tool_call_id: "c1", name: "bash", input: {} },
      ]),
    ),
    ev.usage(16, "a1", usageOf(5, 5), 0.01),
    ev.result(17, "t1", "c1", "out"),
    ev.result(18, "t1", "c1", "put"),
    ev.retry(19, 1),
    ev.result(20, "t1", "c1", "output"),
  ];
  const once = run(loadedView(), events(...turn));

  it("the same events delivered twice: the second copy changes nothing (same object)", () => {
    expect(run(once, events(...turn))).toBe(once);
  });

  it.each([
    ["overlapping replay", [turn.slice(0, 6), turn.slice(2, 10)]],
    ["replay from the start", [turn.slice(0, 8), turn]],
    ["a stale replay after newer events", [turn.slice(0, 8), turn.slice(2, 5), turn.slice(8)]],
    [
      "seen events replayed in reverse",
      [turn.slice(0, 7), turn.slice(0, 7).reverse(), turn.slice(7)],
    ],
    ["one event at a time, each twice", turn.flatMap((e) => [[e], [e]])],
  ])("%s ends as one clean delivery", (_name, batches) => {
    const view = run(loadedView(), ...batches.map((b) => events(...b)));
    expect(view).toEqual(once);
  });

  // The view holds text deltas A..C (seq 12..14); a snapshot read at `read` is loaded. Its step
  // began after the `running` status (seq 11): the stream replays from there, up to E (seq 16).
  it.each([
    ["older than the view", 12],
    ["at the view's seq", 14],
    ["newer than the view", 15],
  ])("a snapshot %s: the replay rebuilds the draft whole, once", (_name, read) => {
    const stream = [
      ev.status(11, "running"),
      ...["A", "B", "C", "D", "E"].map((t, i) => ev.text(12 + i, "a1", t)),
    ];
    const held = run(loadedView(), events(...stream.filter((e) => e.seq <= 14)));
    const snapshot = detail(chatRow({ status: "running", last_event_seq: read }), HISTORY, [], 11);
    const view = run(held, loadedAction(snapshot), events(...stream.filter((e) => e.seq > 11)));
    expect(view.drafts).toEqual([{ id: "a1", parts: [{ type: "text", text: "ABCDE" }] }]);
    expect(view.lastSeq).toBe(16);
  });

  it("a message saved in_progress is shown by its rebuilt draft, then once when final", () => {
    const partial = msg("a1", "assistant", [{ type: "reasoning", text: "plan" }], {
      in_progress: true,
    });
    const snapshot = detail(
      chatRow({ status: "running", last_event_seq: 14 }),
      [...HISTORY, partial],
      [],
      11,
    );
    const replay = [
      ev.reasoning(12, "a1", "plan"),
      ev.text(13, "a1", "Do"),
      ev.text(14, "a1", "ne"),
    ];
    let view = run(emptyChatView, loadedAction(snapshot));
    // Before the replay arrives, the saved part is what there is to show.
    expect(visibleMessages(view).map((m) => m.id)).toEqual(["u0", "a0", "a1"]);
    view = run(view, events(...replay));
    expect(visibleMessages(view).map((m) => m.id)).toEqual(["u0", "a0"]);
    expect(view.drafts).toEqual([
      {
        id: "a1",
        parts: [
          { type: "reasoning", text: "plan" },
          { type: "text", text: "Done" },
        ],
      },
    ]);
    const final = msg("a1", "assistant", [
      { type: "reasoning", text: "plan" },
      { type: "text", text: "Done" },
    ]);
    view = run(view, events(ev.message(15, final)));
    expect(visibleMessages(view)).toEqual([...HISTORY, final]);
    expect(view.drafts).toEqual([]);
  });

  it("events at or below the snapshot's seq are ignored", () => {
    const view = run(loadedView(), events(ev.text(9, "a1", "old"), ev.status(10, "error")));
    expect(view).toEqual(loadedView());
  });
});

// ---- a realistic turn, however it is delivered --------------------------------------------

/** Small, seedable PRNG (mulberry32): every failure names the seed that reproduces it. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const intBelow = (rand: () => number, n: number) => Math.floor(rand() * n);

type Step =
  | { kind: "event"; event: ChatEvent }
  /** The user sends a message from this page: a local entry now, `id` once the server has it. */
  | { kind: "send"; local: string; id: string; text: string };

interface Scenario {
  base: ChatDetail;
  steps: Step[];
  events: ChatEvent[];
  /** What `GET /chats/{id}` answers when the chat's newest event is `seq`. */
  snapshotAt(seq: number): ChatDetail;
}

/** A turn as the server streams it: a user message, reasoning and 200 text deltas with a retry
 * in the middle, two tool calls, concurrent tool output, a message queued meanwhile that joins
 * the transcript after the turn, a second turn without pricing, then `waiting`. */
function realisticScenario(): Scenario {
  const BASE_SEQ = 4;
  const base = detail(chatRow({ last_event_seq: BASE_SEQ }), [
    userMsg("u0", "hi"),
    assistantMsg("a0", "Hello! How can I help?", { usage: usageOf(12, 8), cost_usd: 0.0004 }),
  ]);
  const steps: Step[] = [];
  let seq = BASE_SEQ;
  const push = (make: (seq: number) => ChatEvent) =>
    steps.push({ kind: "event", event: make(++seq) });
  const words = (n: number, prefix: string) =>
    Array.from({ length: n }, (_, i) => `${prefix}${i}${i % 17 === 16 ? "\n\n" : " "}`);

  steps.push({
    kind: "send",
    local: "local-1",
    id: "u1",
    text: "Fix the failing test in parser.ts",
  });
  push((s) => ev.message(s, userMsg("u1", "Fix the failing test in parser.ts")));
  push((s) => ev.status(s, "pending"));
  push((s) => ev.status(s, "running"));
  // First attempt: cut off by a rate limit.
  for (const w of words(20, "hmm")) push((s) => ev.reasoning(s, "a1", w));
  for (const w of words(100, "draft")) push((s) => ev.text(s, "a1", w));
  push((s) => ev.retry(s, 1));
  // Second attempt, from the start.
  const reasoning = words(20, "think");
  const text = words(200, "word");
  for (const w of reasoning) push((s) => ev.reasoning(s, "a1", w));
  for (const w of text) push((s) => ev.text(s, "a1", w));
  const input1 = ['{"path":', '"src/parser.ts"', "}"];
  const input2 = ['{"cmd":', '"npm test"', "}"];
  push((s) => ev.call(s, "a1", "c1", "read_file", ""));
  for (const d of input1) push((s) => ev.call(s, "a1", "c1", "read_file", d));
  push((s) => ev.call(s, "a1", "c2", "bash", ""));
  for (const d of input2) push((s) => ev.call(s, "a1", "c2", "bash", d));
  const a1 = msg(
    "a1",
    "assistant",
    [
      { type: "reasoning", text: reasoning.join("") },
      { type: "text", text: text.join("") },
      {
        type: "tool_call",
        tool_call_id: "c1",
        name: "read_file",
        input: { path: "src/parser.ts" },
      },
      { type: "tool_call", tool_call_id: "c2", name: "bash", input: { cmd: "npm test" } },
    ],
    { usage: usageOf(1500, 420), cost_usd: 0.0123 },
  );
  push((s) => ev.message(s, a1));
  push((s) => ev.usage(s, "a1", usageOf(1500, 420), 0.0123));
  // Meanwhile the user sends another message: queued behind the running turn.
  steps.push({ kind: "send", local: "local-2", id: "u2", text: "Also run the linter" });
  // The two tools run concurrently: their output interleaves.
  for (let i = 0; i < 15; i++) {
    push((s) => ev.result(s, "t1", "c1", `line ${i}\n`));
    push((s) => ev.result(s, "t1", "c2", `test ${i} ok\n`));
  }
  const t1 = msg("t1", "tool", [
    { type: "tool_result", tool_call_id: "c1", name: "read_file", output: "file", is_error: false },
    { type: "tool_result", tool_call_id: "c2", name: "bash", output: "tests", is_error: false },
  ]);
  push((s) => ev.message(s, t1));
  const answer = words(50, "fixed");
  for (const w of answer) push((s) => ev.text(s, "a2", w));
  const a2 = assistantMsg("a2", answer.join(""), { usage: usageOf(2000, 100), cost_usd: 0.02 });
  push((s) => ev.message(s, a2));
  push((s) => ev.usage(s, "a2", usageOf(2000, 100), 0.02));
  // The turn ends; the queued message joins the transcript and the chat runs again.
  push((s) => ev.message(s, userMsg("u2", "Also run the linter")));
  push((s) => ev.status(s, "pending"));
  push((s) => ev.status(s, "running"));
  const lint = words(30, "lint");
  for (const w of lint) push((s) => ev.text(s, "a3", w));
  // A model without pricing: no cost in the usage event, `cost_usd: null` on the message.
  const a3 = assistantMsg("a3", lint.join(""), { usage: usageOf(2100, 40) });
  push((s) => ev.message(s, a3));
  push((s) => ev.usage(s, "a3", usageOf(2100, 40)));
  push((s) => ev.status(s, "waiting"));

  const allEvents = steps.flatMap((s) => (s.kind === "event" ? [s.event] : []));

  /** The server's view at `upTo`: statuses and messages as stored, queued rows not yet moved. */
  function snapshotAt(upTo: number): ChatDetail {
    let status = base.chat.status;
    let lastError: Chat["last_error"] = null;
    let failure: ErrorData | null = null;
    const messages = [...base.messages];
    const queued: QueuedMessage[] = [];
    for (const step of steps) {
      if (step.kind === "send") {
        const delivered = allEvents.find(
          (e) => e.type === "message" && e.data.message.id === step.id,
        );
        // Sent to an idle chat it is written at once; to a running one it waits in the queue.
        if (delivered !== undefined && delivered.seq > upTo && status === "running") {
          queued.push({ id: step.id, parts: [{ type: "text", text: step.text }], created_at: T });
        }
        continue;
      }
      const e = step.event;
      if (e.seq > upTo) break;
      if (e.type === "status") {
        status = e.data.status;
        lastError = status === "error" ? failure : null;
      } else if (e.type === "error") {
        failure = e.data;
      } else if (e.type === "message") {
        const m = e.data.message as Message;
        const at = messages.findIndex((x) => x.id === m.id);
        if (at === -1) messages.push(m);
        else messages[at] = m;
        const q = queued.findIndex((x) => x.id === m.id);
        if (q !== -1) queued.splice(q, 1);
      }
    }
    // A running step began after the newest message or status event (the server's rule).
    const boundary = allEvents.findLast(
      (e) => e.seq <= upTo && (e.type === "message" || e.type === "status"),
    );
    const replayFrom = status === "running" ? (boundary?.seq ?? upTo) : upTo;
    return detail(
      { ...base.chat, status, last_error: lastError, last_event_seq: upTo },
      messages,
      queued,
      replayFrom,
    );
  }

  return { base, steps, events: allEvents, snapshotAt };
}

const SCENARIO = realisticScenario();
const LAST_SEQ = SCENARIO.events.at(-1)?.seq ?? 0;

/** The steps as actions, events cut into batches at the cuts `cut(i)` chooses. */
function deliver(steps: Step[], cutAfter: (i: number) => boolean): ChatViewAction[] {
  const actions: ChatViewAction[] = [];
  let batch: ChatEvent[] = [];
  const flush = () => {
    if (batch.length > 0) actions.push(events(...batch));
    batch = [];
  };
  steps.forEach((step, i) => {
    if (step.kind === "send") {
      flush();
      actions.push({ type: "sending", id: step.local, parts: [{ type: "text", text: step.text }] });
    } else {
      batch.push(step.event);
      if (cutAfter(i)) flush();
    }
  });
  flush();
  return actions;
}

/** The chat row is as it was read: its `last_event_seq` and `last_error` are read-time facts the
 * stream does not update (the view uses `lastSeq` and `error`). Everything else must match. */
function shown(state: ChatViewState) {
  return { ...state, chat: state.chat && { ...state.chat, last_event_seq: 0, last_error: null } };
}

describe("a realistic turn, however it is delivered", () => {
  const start = run(emptyChatView, loadedAction(SCENARIO.base));
  const oneBatch = run(start, ...deliver(SCENARIO.steps, () => false));
  const freshLoad = run(emptyChatView, loadedAction(SCENARIO.snapshotAt(LAST_SEQ)));
  // The state after each seq, delivered one event at a time.
  const bySeq = new Map<number, ChatViewState>();
  let oneAtATime = start;
  for (const action of deliver(SCENARIO.steps, () => true)) {
    oneAtATime = chatViewReducer(oneAtATime, action);
    if (action.type === "events") bySeq.set(oneAtATime.lastSeq, oneAtATime);
  }

  it("the scenario is what it claims: >400 events, one retry, ending waiting", () => {
    expect(SCENARIO.events.length).toBeGreaterThan(400);
    expect(SCENARIO.events.filter((e) => e.type === "retry")).toHaveLength(1);
    expect(SCENARIO.events.map((e) => e.seq)).toEqual(
      SCENARIO.events.map((_, i) => SCENARIO.base.chat.last_event_seq + i + 1),
    );
  });

  it("(a) in one batch: the final transcript, no drafts, nothing pending", () => {
    expect(oneBatch.messages.map((m) => m.id)).toEqual([
      "u0",
      "a0",
      "u1",
      "a1",
      "t1",
      "a2",
      "u2",
      "a3",
    ]);
    expect(oneBatch.drafts).toEqual([]);
    expect(oneBatch.pending).toEqual([]);
    expect(oneBatch.retry).toBeNull();
    expect(oneBatch.chat?.status).toBe("waiting");
    expect(oneBatch.lastSeq).toBe(LAST_SEQ);
  });

  it("(a) ends where a fresh page load shows the persisted transcript", () => {
    expect(shown(oneBatch)).toEqual(shown(freshLoad));
  });

  it("(b) one event at a time ends in the same state as one batch", () => {
    expect(oneAtATime).toEqual(oneBatch);
  });

  it("mid-stream, the draft holds exactly the retried attempt's text so far", () => {
    const lastText = SCENARIO.events.filter(
      (e) => e.type === "message_part" && e.data.message_id === "a1" && e.data.part.type === "text",
    );
    const atEnd = bySeq.get(lastText.at(-1)?.seq ?? 0);
    const a1 = SCENARIO.snapshotAt(LAST_SEQ).messages.find((m) => m.id === "a1");
    expect(atEnd?.drafts).toEqual([{ id: "a1", parts: a1?.parts.slice(0, 2) }]);
  });

  it.each(Array.from({ length: 200 }, (_, seed) => seed + 1))(
    "(c) random batches, seed %i: same state at every batch boundary and at the end",
    (seed) => {
      const rand = prng(seed);
      let view = start;
      for (const action of deliver(SCENARIO.steps, () => rand() < 0.1)) {
        view = chatViewReducer(view, action);
        if (action.type === "events") expect(view).toEqual(bySeq.get(view.lastSeq));
      }
      expect(view).toEqual(oneBatch);
    },
  );

  it.each(Array.from({ length: 200 }, (_, seed) => seed + 1))(
    "(d) reconnects re-deliver random prefixes, seed %i: the same end state",
    (seed) => {
      const rand = prng(seed * 7919);
      const actions = deliver(SCENARIO.steps, () => rand() < 0.15);
      let view = start;
      for (const action of actions) {
        view = chatViewReducer(view, action);
        if (action.type === "events" && rand() < 0.3) {
          // A reconnect: the stream replays from some earlier point up to here, in random cuts.
          const upTo = SCENARIO.events.findIndex((e) => e.seq === view.lastSeq);
          const from = intBelow(rand, upTo + 1);
          const replay = SCENARIO.events.slice(from, upTo + 1);
          const before = view;
          for (let i = 0; i < replay.length; ) {
            const n = 1 + intBelow(rand, 40);
            view = chatViewReducer(view, events(...replay.slice(i, i + n)));
            i += n;
          }
          expect(view).toBe(before);
        }
      }
      expect(view).toEqual(oneBatch);
    },
  );

  it("a fresh page load at any point, then the rest of the stream, ends like (a)", () => {
    for (let seq = SCENARIO.base.chat.last_event_seq; seq <= LAST_SEQ; seq++) {
      const snapshot = SCENARIO.snapshotAt(seq);
      const rest = SCENARIO.events.filter((e) => e.seq > snapshot.replay_from_seq);
      const view = run(emptyChatView, loadedAction(snapshot), events(...rest));
      expect(shown(view), `loaded at seq ${seq}`).toEqual(shown(freshLoad));
    }
  });

  it("a page loaded mid-stream, once the replay catches up, shows what a view that followed the stream all along shows", () => {
    for (let seq = SCENARIO.base.chat.last_event_seq + 1; seq <= LAST_SEQ; seq++) {
      const snapshot = SCENARIO.snapshotAt(seq);
      const replay = SCENARIO.events.filter(
        (e) => e.seq > snapshot.replay_from_seq && e.seq <= seq,
      );
      const view = run(emptyChatView, loadedAction(snapshot), events(...replay));
      const followed = bySeq.get(seq);
      const visible = (s: ChatViewState | undefined) => ({
        status: s?.chat?.status,
        messages: s && visibleMessages(s),
        drafts: s?.drafts,
        retry: s?.retry,
        usage: s?.usage,
        lastSeq: s?.lastSeq,
      });
      expect(visible(view), `loaded at seq ${seq}`).toEqual(visible(followed));
    }
  });

  it.each(Array.from({ length: 100 }, (_, seed) => seed + 1))(
    "a snapshot loaded after some events arrived (seed %i) replaces the view: it ends like a fresh load",
    (seed) => {
      const rand = prng(seed * 104729);
      const first = SCENARIO.base.chat.last_event_seq;
      // The view has applied events up to `held`; then a snapshot read at `read` is loaded (older,
      // same or newer), and the stream resumes after the snapshot's replay_from_seq.
      const held = first + intBelow(rand, LAST_SEQ - first + 1);
      const read = first + intBelow(rand, LAST_SEQ - first + 1);
      const snapshot = SCENARIO.snapshotAt(read);
      const eventsAfter = (n: number) => SCENARIO.events.filter((e) => e.seq > n);
      const reloaded = run(
        emptyChatView,
        events(...SCENARIO.events.filter((e) => e.seq <= held)),
        loadedAction(snapshot),
      );
      const fresh = run(emptyChatView, loadedAction(snapshot));
      const rest = eventsAfter(snapshot.replay_from_seq).slice(0, intBelow(rand, 60));
      expect(shown(run(reloaded, events(...rest))), `held ${held}, read ${read}`).toEqual(
        shown(run(fresh, events(...rest))),
      );
      expect(shown(run(reloaded, events(...eventsAfter(snapshot.replay_from_seq))))).toEqual(
        shown(freshLoad),
      );
    },
  );
});

// ---- tool output streaming into the persisted call's card -----------------------------------

describe("streaming tool output", () => {
  const call = (id: string) =>
    msg("a1", "assistant", [
      { type: "text", text: "Running it." },
      { type: "tool_call", tool_call_id: id, name: "execute", input: { command: "make" } },
    ]);
  const toolDraft = (parts: DraftPart[]): DraftMessage => ({ id: "t1", parts });

  it("collects each running call's output from the drafts", () => {
    const outputs = streamingToolOutputs([
      toolDraft([
        { type: "tool_result", tool_call_id: "c1", output_text: "building\n" },
        { type: "tool_result", tool_call_id: "c2", output_text: "testing\n" },
      ]),
    ]);
    expect([...outputs]).toEqual([
      ["c1", "building\n"],
      ["c2", "testing\n"],
    ]);
  });

  it.each([
    ["no tool is streaming", new Map<string, string>(), undefined],
    ["another message's call is streaming", new Map([["other", "x"]]), undefined],
    ["its call is streaming", new Map([["c1", "out"]]), new Map([["c1", "out"]])],
  ])("live outputs of a message when %s", (_name, outputs, expected) => {
    expect(liveOutputsOf(call("c1"), outputs)).toEqual(expected);
  });

  it.each([
    [
      "only output of a persisted call: shown in its card",
      [{ type: "tool_result", tool_call_id: "c1", output_text: "x" }],
      false,
    ],
    [
      "output of a call not persisted yet",
      [{ type: "tool_result", tool_call_id: "c9", output_text: "x" }],
      true,
    ],
    ["text", [{ type: "text", text: "hi" }], true],
  ] as Array<[string, DraftPart[], boolean]>)("a draft with %s", (_name, parts, own) => {
    expect(draftHasOwnContent(toolDraft(parts), toolCallIds([call("c1")]))).toBe(own);
  });
});
