/** The retry banner's words: what failed (the server's sentence), when, and which attempt is next. */
import { describe, expect, it } from "vitest";
import type { RetryNotice } from "./reducer.ts";
import { retryText, secondsUntil } from "./retryText.ts";

function notice(message: string, attempt: number): RetryNotice {
  return {
    attempt,
    delay_ms: 4000,
    kind: "overloaded",
    message,
    retrying_at: "2025-06-01T12:00:04.000Z",
  };
}

describe("retryText", () => {
  // The server's retryable messages (src/chaterror/messages.ts) state only the fact, naming the
  // provider; `attempt` is the attempt that failed (1-based), so the banner names attempt + 1.
  it.each([
    [
      "Anthropic is overloaded (529).",
      1,
      4,
      "Anthropic is overloaded (529) — retrying in 4 s, attempt 2",
    ],
    [
      "OpenAI is rate-limiting requests (429).",
      2,
      30,
      "OpenAI is rate-limiting requests (429) — retrying in 30 s, attempt 3",
    ],
    [
      "The provider is temporarily unavailable (503).",
      1,
      1,
      "The provider is temporarily unavailable (503) — retrying in 1 s, attempt 2",
    ],
    [
      "The connection to Amazon Bedrock was interrupted.",
      4,
      12,
      "The connection to Amazon Bedrock was interrupted — retrying in 12 s, attempt 5",
    ],
    [
      "Google Vertex's reply was cut off before it finished.",
      1,
      2,
      "Google Vertex's reply was cut off before it finished — retrying in 2 s, attempt 2",
    ],
    // A provider whose display name ends in a period keeps it; only the sentence's is dropped.
    [
      "The request to Acme Inc. timed out (408).",
      1,
      3,
      "The request to Acme Inc. timed out (408) — retrying in 3 s, attempt 2",
    ],
    [
      "The connection to Acme Inc. was interrupted.",
      1,
      3,
      "The connection to Acme Inc. was interrupted — retrying in 3 s, attempt 2",
    ],
    // A message that already says it retries does not say it twice.
    [
      "Anthropic is overloaded (529). Retrying.",
      1,
      4,
      "Anthropic is overloaded (529) — retrying in 4 s, attempt 2",
    ],
    [
      "OpenRouter had an internal error (500); retrying",
      1,
      4,
      "OpenRouter had an internal error (500) — retrying in 4 s, attempt 2",
    ],
    [
      "Azure OpenAI is overloaded: retrying.",
      1,
      4,
      "Azure OpenAI is overloaded — retrying in 4 s, attempt 2",
    ],
    // No time left (or the deadline passed): the next attempt is starting.
    [
      "Anthropic is overloaded (529).",
      1,
      0,
      "Anthropic is overloaded (529) — retrying now, attempt 2",
    ],
    [
      "Anthropic is overloaded (529).",
      9,
      0,
      "Anthropic is overloaded (529) — retrying now, attempt 10",
    ],
    // Without a final period nothing is cut.
    [
      "The request to ollama failed: connection refused",
      1,
      5,
      "The request to ollama failed: connection refused — retrying in 5 s, attempt 2",
    ],
  ])("%j (attempt %i failed, %i s left)", (message, attempt, seconds, text) => {
    expect(retryText(notice(message, attempt), seconds)).toBe(text);
  });
});

describe("secondsUntil", () => {
  const deadline = Date.parse("2025-06-01T12:00:10.000Z");
  // Rounded up: a countdown never shows 0 while time is left, and shows whole seconds.
  it.each([
    [10_000, 10],
    [9_999, 10],
    [9_001, 10],
    [9_000, 9],
    [1_500, 2],
    [1, 1],
    [0, 0],
    [-1, 0],
    [-60_000, 0],
  ])("%i ms before the deadline: %i s", (msLeft, seconds) => {
    expect(secondsUntil(deadline, deadline - msLeft)).toBe(seconds);
  });

  it("a deadline already passed: the banner says now", () => {
    const seconds = secondsUntil(deadline, deadline + 5_000);
    expect(retryText(notice("Anthropic is overloaded (529).", 1), seconds)).toBe(
      "Anthropic is overloaded (529) — retrying now, attempt 2",
    );
  });
});
