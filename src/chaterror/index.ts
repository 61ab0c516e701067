/** chaterror: what went wrong with a provider call, whether to retry, and what to tell a person. */
export {
  ChatInterrupted,
  isCallerStop,
  ProviderTransportReset,
  ServerShutdown,
  StreamSilenceTimeout,
  TurnDeadlineExceeded,
} from "./causes.ts";
export { ChatError } from "./chat-error.ts";
export { type ClassifyContext, classify, DETAIL_LIMIT } from "./classify.ts";
export { type ClassifiedError, ERROR_KINDS, type ErrorKind } from "./kinds.ts";
export { REDACTED, redactSecrets, withSentCredentials } from "./redact.ts";
export { parseRetryAfter } from "./retry-after.ts";
