import { describe, expect, it } from "vitest";
import { RecentEvents } from "./recent-events.ts";
import type { ChatEvent } from "./types.ts";

const event = (seq: number, chat = "c"): ChatEvent => ({
  chat_id: chat,
  seq,
  type: "message_part",
  data: { seq },
  created_at: "2026-12-06T00:00:00.000Z",
});
const seqs = (events: ChatEvent[] | undefined) => events?.map((e) => e.seq);

describe("RecentEvents", () => {
  it.each([
    {
      name: "a contiguous run answers from its first seq",
      recorded: [1, 2, 3],
      after: 0,
      want: [1, 2, 3],
    },
    { name: "…and from within", recorded: [1, 2, 3], after: 2, want: [3] },
    { name: "nothing after the last", recorded: [1, 2, 3], after: 3, want: [] },
    {
      name: "a jump starts the run again",
      recorded: [1, 2, 10_003, 10_004],
      after: 0,
      want: undefined,
    },
    {
      name: "…which answers after the jump",
      recorded: [1, 2, 10_003, 10_004],
      after: 10_002,
      want: [10_003, 10_004],
    },
    {
      name: "a copy or an overtaken event changes nothing",
      recorded: [1, 2, 2, 1, 3],
      after: 0,
      want: [1, 2, 3],
    },
    {
      name: "an event out of order restarts the run",
      recorded: [1, 3, 2],
      after: 0,
      want: undefined,
    },
  ])("$name", ({ recorded, after, want }) => {
    const recent = new RecentEvents();
    for (const seq of recorded) recent.record(event(seq));
    expect(seqs(recent.after("c", after))).toEqual(want);
  });

  it("keeps a bounded number of events per chat and of chats", () => {
    const recent = new RecentEvents(2, 4);
    for (let seq = 1; seq <= 9; seq++) recent.record(event(seq));
    expect(recent.after("c", 0)).toBeUndefined();
    // Trimmed to the last 4 once past twice that.
    expect(seqs(recent.after("c", 5))).toEqual([6, 7, 8, 9]);
    recent.record(event(1, "d"));
    recent.record(event(1, "e"));
    expect(recent.after("c", 8)).toBeUndefined(); // the least recently touched chat went
    expect(seqs(recent.after("e", 0))).toEqual([1]);
    recent.forget("e");
    expect(recent.after("e", 0)).toBeUndefined();
  });
});
