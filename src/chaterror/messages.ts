/**
 * Messages for people: one sentence on what went wrong, naming the provider, and — when the
 * failure is final — what to do ("Anthropic rejected the API key (401). Ask an administrator…").
 * A retryable failure states only the fact ("Anthropic is overloaded (529)."): whether Keel
 * retries, and for how long, is chatretry's call, and it adds that to the words it shows.
 * The provider's own words go to `detail`, not here.
 */
import type { Verdict } from "./verdicts.ts";

export interface Names {
  /** "Anthropic" / "The provider", to start a sentence. */
  subject: string;
  /** "Anthropic" / "the provider", inside one. */
  object: string;
}

/** The provider's display name, or "the provider" when it has none. */
export function providerNames(provider: string | undefined): Names {
  const display = provider?.trim();
  return display
    ? { subject: display, object: display }
    : { subject: "The provider", object: "the provider" };
}

/** The message for a verdict: what happened and what a person can do, never a stack trace. */
export function describe(
  verdict: Verdict,
  retryable: boolean,
  names: Names,
  statusCode: number | undefined,
  firstMessage: string | undefined,
): string {
  const { subject: P, object: p } = names;
  const s = statusCode === undefined ? "" : ` (${statusCode})`;
  const again = (later: string) => (retryable ? "." : `. ${later}`);
  switch (verdict.topic) {
    case "overloaded":
      return `${P} is overloaded${s}${again("Try again in a few minutes.")}`;
    case "quota":
      return `${P} refused the request because the account's quota or credit is used up${s}. Ask an administrator to check the provider account's plan and billing.`;
    case "key":
      return `${P} rejected the API key${s}. Ask an administrator to check the provider's API key.`;
    case "missing-key":
      return `No API key is configured for ${p}. Ask an administrator to set the provider's API key.`;
    case "forbidden":
      return `${P} denied access${s}. Ask an administrator to check the API key's permissions for this model.`;
    case "rate":
      return `${P} is rate-limiting requests${s}${again("Wait a minute and try again.")}`;
    case "status":
      return statusCode === 408 || statusCode === 504
        ? `${P} did not answer in time${s}${again("Try again in a moment.")}`
        : `${P} is temporarily unavailable${s}${again("Try again in a moment.")}`;
    case "transport":
      return `The connection to ${p} was interrupted${again("Try again in a moment.")}`;
    case "truncated":
      return `${P}'s reply was cut off before it finished${again("Try again in a moment.")}`;
    case "silence":
      return `${P} stopped sending data mid-reply${again("Try again in a moment.")}`;
    case "reset":
      return `${P} closed the connection mid-reply${again("Try again in a moment.")}`;
    case "timed-out":
      return `The request to ${p} timed out${s}${again("Try again in a moment.")}`;
    case "deadline":
      return "The turn took longer than its time limit and was stopped. Send a message to continue.";
    case "model":
      return `${P} cannot serve the configured model${s}. Ask an administrator to check the model configuration.`;
    case "invalid":
      return `${P} rejected the request as invalid${s}. Ask an administrator to check the model configuration.`;
    case "endpoint":
      return `Keel could not reach ${p} at its configured address. Ask an administrator to check the provider's endpoint settings.`;
    case "http2-protocol":
      return `The connection to ${p} failed with an HTTP/2 protocol error. Ask an administrator to check the provider's endpoint settings.`;
    case "context":
      return "The conversation is longer than the model's context window. Compact it or start a new chat.";
    case "policy":
      return `${P} refused the request under its content policy. Rephrase the message and try again.`;
    case "server":
      return `${P} had an internal error${s}${again("Try again later.")}`;
    case "conflict":
      return `${P} reported a conflict${s}${again("Try again in a moment.")}`;
    case "override":
      return `${P} failed${s} and asked for the request to be retried.`;
    case "canceled":
      return "The request was canceled.";
    case "generic": {
      const what = firstMessage?.split("\n")[0]?.trim();
      return what
        ? `The request to ${p} failed: ${cap(what, 200)}`
        : `The request to ${p} failed unexpectedly.`;
    }
  }
}

/** Trims `text` to at most `limit` characters, marking a cut with "…". */
export function cap(text: string, limit: number): string {
  const clean = text.trim();
  return clean.length <= limit ? clean : `${clean.slice(0, limit - 1)}…`;
}
