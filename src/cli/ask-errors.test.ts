import { describe, expect, it } from "vitest";
import type { ErrorKind } from "../chaterror/kinds.ts";
import { describe as serverMessage } from "../chaterror/messages.ts";
import type { Topic } from "../chaterror/verdicts.ts";
import { askFailureMessage } from "./ask-errors.ts";

const names = { subject: "Anthropic", object: "Anthropic" };
const failure = (topic: Topic, kind: ErrorKind, status?: number) => ({
  kind,
  message: serverMessage({ kind, rank: 0, topic }, false, names, status, undefined),
});
const withKey = { apiKey: "sk-typed" };

describe("askFailureMessage", () => {
  // Every message whose server wording sends the reader to an administrator.
  it.each<[Topic, ErrorKind, number | undefined, { apiKey?: string }, string]>([
    [
      "key",
      "auth",
      401,
      withKey,
      "Anthropic rejected the API key (401). Check the key given with --api-key (or KEEL_API_KEY).",
    ],
    [
      "missing-key",
      "auth",
      undefined,
      {},
      "No API key was given for Anthropic. Give one with --api-key (or KEEL_API_KEY).",
    ],
    [
      "forbidden",
      "auth",
      403,
      withKey,
      "Anthropic denied access (403). Check that the key given with --api-key (or KEEL_API_KEY) may use this --model.",
    ],
    [
      "quota",
      "usage_limit",
      402,
      withKey,
      "Anthropic refused the request because the account's quota or credit is used up (402). Check the plan and billing of the account the --api-key belongs to.",
    ],
    ["model", "config", 404, withKey, "Anthropic cannot serve the configured model (404). Check"],
    ["invalid", "config", 400, withKey, "Anthropic rejected the request as invalid (400). Check"],
    ["endpoint", "config", undefined, withKey, "--base-url"],
    ["http2-protocol", "config", undefined, withKey, "--option"],
  ])("words %s (%s) for the person who typed the flags", (topic, kind, status, given, expected) => {
    const message = askFailureMessage(failure(topic, kind, status), given);
    expect(message).not.toMatch(/administrator/i);
    expect(message).toContain(expected);
  });

  it.each<[Topic, ErrorKind]>([
    ["overloaded", "overloaded"],
    ["context", "context_length"],
    ["policy", "content_filter"],
  ])("keeps a message with no administrator advice (%s) as it is", (topic, kind) => {
    const given = failure(topic, kind, 529);
    expect(askFailureMessage(given, withKey)).toBe(given.message);
  });
});
