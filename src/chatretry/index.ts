export {
  ChatInterrupted,
  ProviderTransportReset,
  ServerShutdown,
  StreamSilenceTimeout,
  TurnDeadlineExceeded,
} from "../chaterror/causes.ts";
export { backoffDelay, DEFAULT_RETRY_POLICY, type RetryPolicy, retryDelay } from "./policy.ts";
export { type Attempt, type RetryEvent, type RetryOptions, retry } from "./retry.ts";
