import { describe, expect, it } from "vitest";
import { EventRenderer } from "./render.ts";

function rendered(events: Array<{ event: string; data: unknown }>) {
  let stdout = "";
  let stderr = "";
  const renderer = new EventRenderer({
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  for (const [i, e] of events.entries()) renderer.handle({ id: String(i + 1), ...e });
  return { stdout, stderr, status: renderer.status };
}

const delta = (id: string, text: string) => ({
  event: "message_part",
  data: { message_id: id, part: { type: "text", text } },
});

describe("EventRenderer", () => {
  it("says a reply cut off by the server stopping starts again, and prints the new one", () => {
    const out = rendered([
      { event: "status", data: { status: "running" } },
      delta("m1", "Half a rep"),
      { event: "status", data: { status: "pending" } },
      { event: "status", data: { status: "running" } },
      delta("m2", "The whole reply."),
    ]);
    expect(out.stdout).toBe("Half a rep\nThe whole reply.");
    expect(out.stderr).toBe("(the reply above was cut off; it starts again)\n");
    expect(out.status).toBe("running");
  });

  it("says why a chat is being compacted, then prints the summary", () => {
    const out = rendered([
      { event: "compaction", data: { reason: "threshold" } },
      {
        event: "message",
        data: {
          message: {
            id: "m9",
            role: "assistant",
            parts: [{ type: "compaction", text: "## Goal\nShip it." }],
          },
        },
      },
    ]);
    expect(out.stderr).toBe(
      "compacting: the conversation is near the model's context limit, summarising it…\n",
    );
    expect(out.stdout).toBe("── earlier conversation summarised ──\n## Goal\nShip it.\n──\n");
  });

  it("shows an error kept in the transcript, a retried step, a stopped one; says when messages left", () => {
    const out = rendered([
      {
        event: "message",
        data: {
          message: {
            id: "m1",
            role: "assistant",
            parts: [{ type: "text", text: "Half" }],
            stopped: true,
            retries: { count: 2, kind: "overloaded", message: "Anthropic is overloaded." },
          },
        },
      },
      {
        event: "message",
        data: {
          message: {
            id: "m2",
            role: "assistant",
            parts: [{ type: "error", kind: "auth", message: "The API key was refused." }],
          },
        },
      },
      { event: "truncated", data: { after_message_id: "u1", message_ids: ["m1", "m2"] } },
    ]);
    expect(out.stdout).toBe(
      "Half\n  (retried 2× — Anthropic is overloaded.)\n  [stopped]\n✗ error: The API key was refused.\n",
    );
    expect(out.stderr).toBe(
      "(2 later messages left the transcript: the chat runs again from there)\n",
    );
  });

  it("says nothing when a turn ends after its message", () => {
    const out = rendered([
      { event: "status", data: { status: "running" } },
      delta("m1", "Done."),
      {
        event: "message",
        data: {
          message: { id: "m1", role: "assistant", parts: [{ type: "text", text: "Done." }] },
        },
      },
      { event: "status", data: { status: "waiting" } },
    ]);
    expect(out.stderr).toBe("");
  });
});
