import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ChatEventPayloads, ChatEventType } from "./events.ts";
import { DeltaCoalescer, type Publish, SerialPublisher } from "./publish.ts";

type Published = { type: ChatEventType; data: ChatEventPayloads[ChatEventType] };

function recorder(): { events: Published[]; publish: Publish } {
  const events: Published[] = [];
  const publish: Publish = async (type, data) => {
    events.push({ type, data });
  };
  return { events, publish };
}

function parts(events: Published[]): unknown[] {
  return events.map((e) => (e.type === "message_part" ? (e.data as { part: unknown }).part : e));
}

describe("DeltaCoalescer", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sends a part's first delta at once and merges the rest per interval", () => {
    const { events, publish } = recorder();
    const coalescer = new DeltaCoalescer(publish, 50);
    coalescer.push("1", "m", { type: "text", text: "He" });
    expect(parts(events)).toEqual([{ type: "text", text: "He" }]);
    coalescer.push("1", "m", { type: "text", text: "l" });
    coalescer.push("1", "m", { type: "text", text: "lo" });
    expect(events).toHaveLength(1);
    vi.advanceTimersByTime(50);
    expect(parts(events)).toEqual([
      { type: "text", text: "He" },
      { type: "text", text: "llo" },
    ]);
  });

  it("flushes at a part boundary, keeping the order of parts", () => {
    const { events, publish } = recorder();
    const coalescer = new DeltaCoalescer(publish, 50);
    coalescer.push("1", "m", { type: "reasoning", text: "a" });
    coalescer.push("1", "m", { type: "reasoning", text: "b" });
    coalescer.push("2", "m", { type: "text", text: "c" });
    coalescer.push("2", "m", { type: "text", text: "d" });
    coalescer.flush();
    expect(parts(events)).toEqual([
      { type: "reasoning", text: "a" },
      { type: "reasoning", text: "b" },
      { type: "text", text: "c" },
      { type: "text", text: "d" },
    ]);
  });

  it("merges interleaved parts per key", () => {
    const { events, publish } = recorder();
    const coalescer = new DeltaCoalescer(publish, 50);
    const out = (id: string, d: string) =>
      coalescer.push(id, "t", { type: "tool_result", tool_call_id: id, output_delta: d });
    out("a", "1");
    out("b", "1");
    for (let i = 0; i < 100; i++) {
      out("a", "x");
      out("b", "y");
    }
    coalescer.flush();
    expect(events).toHaveLength(4);
    expect(parts(events).slice(2)).toEqual([
      { type: "tool_result", tool_call_id: "a", output_delta: "x".repeat(100) },
      { type: "tool_result", tool_call_id: "b", output_delta: "y".repeat(100) },
    ]);
  });

  it("drops buffered deltas on reset and starts parts afresh", () => {
    const { events, publish } = recorder();
    const coalescer = new DeltaCoalescer(publish, 50);
    coalescer.push("1", "m", { type: "text", text: "a" });
    coalescer.push("1", "m", { type: "text", text: "b" });
    coalescer.reset();
    vi.advanceTimersByTime(100);
    coalescer.push("1", "m", { type: "text", text: "c" });
    expect(parts(events)).toEqual([
      { type: "text", text: "a" },
      { type: "text", text: "c" },
    ]);
  });

  it("publishes a bounded number of events for a long reply", () => {
    const { events, publish } = recorder();
    const coalescer = new DeltaCoalescer(publish, 50);
    for (let i = 0; i < 2_000; i++) {
      coalescer.push("1", "m", { type: "text", text: "x" });
      vi.advanceTimersByTime(1); // 2,000 deltas over 2 s
    }
    coalescer.flush();
    expect(events.length).toBeLessThanOrEqual(2_000 / 50 + 2);
    const text = parts(events)
      .map((p) => (p as { text: string }).text)
      .join("");
    expect(text).toBe("x".repeat(2_000));
  });
});

describe("SerialPublisher", () => {
  it("appends in call order even when appends take different times", async () => {
    const seen: string[] = [];
    const publisher = new SerialPublisher(async (type) => {
      await new Promise((r) => setTimeout(r, type === "status" ? 20 : 1));
      seen.push(type);
    });
    void publisher.publish("status", { status: "running" });
    void publisher.publish("error", { kind: "auth", message: "x" });
    await publisher.drain();
    expect(seen).toEqual(["status", "error"]);
    expect(publisher.count).toBe(2);
  });

  it("reports a failed append and keeps going; drops events once closed", async () => {
    const errors: string[] = [];
    let open = true;
    const seen: string[] = [];
    const publisher = new SerialPublisher(
      async (type) => {
        if (type === "status") throw new Error("db down");
        seen.push(type);
      },
      { isOpen: () => open, onError: (_, type) => errors.push(type) },
    );
    await publisher.publish("status", { status: "running" });
    await publisher.publish("error", { kind: "auth", message: "x" });
    open = false;
    await publisher.publish("error", { kind: "auth", message: "y" });
    expect(errors).toEqual(["status"]);
    expect(seen).toEqual(["error"]);
  });
});

describe("DeltaCoalescer under a slow database", () => {
  it("keeps merging while the previous flush is still being written", async () => {
    vi.useFakeTimers();
    try {
      const written: string[] = [];
      const publish: Publish = async (_type, data) => {
        await new Promise((r) => setTimeout(r, 500)); // every append takes 500 ms
        written.push((data as { part: { text: string } }).part.text);
      };
      const coalescer = new DeltaCoalescer(publish, 50);
      coalescer.push("1", "m", { type: "text", text: "a" });
      for (let i = 0; i < 100; i++) {
        coalescer.push("1", "m", { type: "text", text: "b" });
        await vi.advanceTimersByTimeAsync(10);
      }
      coalescer.flush();
      await vi.advanceTimersByTimeAsync(5_000);
      // 1 s of deltas: the first, one flush per finished write (~2), and the final flush.
      expect(written.length).toBeLessThanOrEqual(5);
      expect(written.join("")).toBe(`a${"b".repeat(100)}`);
    } finally {
      vi.useRealTimers();
    }
  });
});
