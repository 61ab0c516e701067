/** The kinds of DESIGN.md §2. Each decides retryability and what the UI offers. */
export const ERROR_KINDS = [
  "overloaded",
  "usage_limit",
  "auth",
  "rate_limit",
  "timeout",
  "config",
  "context_length",
  "content_filter",
  "server_error",
  "canceled",
  "generic",
] as const;

export type ErrorKind = (typeof ERROR_KINDS)[number];

/** The verdict of `classify`: what happened, whether to retry, and what to tell a person. */
export interface ClassifiedError {
  kind: ErrorKind;
  retryable: boolean;
  /** HTTP status of the failed response, when there was one (4xx/5xx only). */
  statusCode?: number;
  /** How long the provider asked us to wait (Retry-After / retry-after-ms), uncapped. */
  retryAfterMs?: number;
  /** One sentence for a person: what happened and what to do. Never a stack trace or a secret. */
  message: string;
  /**
   * The provider's own words, capped at ~500 characters, for logs and "details"; every credential
   * in them replaced by `[redacted]` (redact.ts).
   */
  detail?: string;
  /** The original error, untouched. */
  cause: unknown;
}
