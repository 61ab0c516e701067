import type { ClassifiedError, ErrorKind } from "./kinds.ts";

const MARKER = Symbol.for("keel.chat-error");

/** A classified failure that ends an operation: what chatretry throws when it stops retrying. */
export class ChatError extends Error {
  readonly [MARKER] = true;
  override readonly name = "ChatError";
  readonly classified: ClassifiedError;
  /** How many attempts were made before giving up (1 when the first failure was terminal). */
  readonly attempts: number;

  constructor(classified: ClassifiedError, attempts = 1) {
    super(classified.message, { cause: classified.cause });
    this.classified = classified;
    this.attempts = attempts;
  }

  get kind(): ErrorKind {
    return this.classified.kind;
  }

  static isInstance(error: unknown): error is ChatError {
    return typeof error === "object" && error !== null && MARKER in error;
  }
}
