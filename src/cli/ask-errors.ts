/**
 * `keel ask`'s words for a failure. The classified message (chaterror) is written for a chat on a
 * server, where an administrator configured the provider: its advice says "Ask an administrator
 * to check …". With `keel ask` the person typed the key, model and URL themselves, so that advice
 * is replaced by the flag to check; the sentence saying what happened is kept as it is, and a
 * message without the administrator advice (a retryable failure, a refused prompt) is unchanged.
 */
import type { ErrorKind } from "../chaterror/kinds.ts";

/** The server's advice sentence, always the message's last. */
const ADMIN_ADVICE = /\s*Ask an administrator to [^.]*\.$/;

export interface AskFailure {
  kind: ErrorKind;
  message: string;
}

/** What the command line gave: a missing key calls for other advice than a wrong one. */
export interface AskGiven {
  apiKey?: string;
}

function advice(failure: AskFailure, given: AskGiven): string {
  switch (failure.kind) {
    case "auth":
      if (!given.apiKey) return "Give one with --api-key (or KEEL_API_KEY).";
      return /denied access/.test(failure.message)
        ? "Check that the key given with --api-key (or KEEL_API_KEY) may use this --model."
        : "Check the key given with --api-key (or KEEL_API_KEY).";
    case "usage_limit":
      return "Check the plan and billing of the account the --api-key belongs to.";
    case "config":
      return (
        "Check --model, --base-url and --option (e.g. --option api=chat for an endpoint that " +
        "only speaks OpenAI's Chat Completions API)."
      );
    default:
      return "Check the flags given to keel ask.";
  }
}

/** The message `keel ask` prints for a failure, without advice meant for a server's users. */
export function askFailureMessage(failure: AskFailure, given: AskGiven): string {
  if (!ADMIN_ADVICE.test(failure.message)) return failure.message;
  const fact = failure.message.replace(ADMIN_ADVICE, "");
  // "No API key is configured for X." is about a provider an administrator set up.
  const said = fact.replace(
    /^No API key is configured for (.+)\.$/,
    "No API key was given for $1.",
  );
  return `${said} ${advice(failure, given)}`;
}
