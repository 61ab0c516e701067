/**
 * Causes: why an attempt's signal was aborted, or why a stream failed without a status.
 *
 * Abort-shaped errors carry no intent; these classes do. The caller puts one in
 * `AbortController.abort(reason)`, and chatretry reads it back from `signal.reason` — the twin of
 * Go's `context.Cause(ctx)`. Like the AI SDK's errors they are recognised by a symbol marker, not
 * by `instanceof`, so two copies of this module still agree.
 */

const MARKER = Symbol.for("keel.cause");

function formatSeconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}

type CauseName =
  | "ChatInterrupted"
  | "ServerShutdown"
  | "StreamSilenceTimeout"
  | "ProviderTransportReset"
  | "TurnDeadlineExceeded";

abstract class KeelCause extends Error {
  readonly [MARKER] = true;
  abstract override readonly name: CauseName;

  static isCause(error: unknown): error is KeelCause {
    return typeof error === "object" && error !== null && MARKER in error;
  }
}

function isNamed<T extends KeelCause>(error: unknown, name: CauseName): error is T {
  return KeelCause.isCause(error) && error.name === name;
}

/** The user pressed Stop. Ends the turn cleanly: partial content is kept, no error event. */
export class ChatInterrupted extends KeelCause {
  override readonly name = "ChatInterrupted";
  constructor(message = "The chat was interrupted by the user.") {
    super(message);
  }
  static isInstance(error: unknown): error is ChatInterrupted {
    return isNamed(error, "ChatInterrupted");
  }
}

/** The server is shutting down. The chat is released to resume elsewhere; no error event. */
export class ServerShutdown extends KeelCause {
  override readonly name = "ServerShutdown";
  constructor(message = "The server is shutting down; the chat will resume when it is back.") {
    super(message);
  }
  static isInstance(error: unknown): error is ServerShutdown {
    return isNamed(error, "ServerShutdown");
  }
}

/** No stream part arrived for `silenceMs`: the attempt is abandoned and retried. */
export class StreamSilenceTimeout extends KeelCause {
  override readonly name = "StreamSilenceTimeout";
  readonly silenceMs: number;
  constructor(silenceMs: number, options?: ErrorOptions) {
    super(`The provider sent nothing for ${formatSeconds(silenceMs)}.`, options);
    this.silenceMs = silenceMs;
  }
  static isInstance(error: unknown): error is StreamSilenceTimeout {
    return isNamed(error, "StreamSilenceTimeout");
  }
}

/**
 * The provider side broke the stream: a reset, a hang-up, or a body that ended before the
 * provider's end-of-stream marker while the caller was healthy. Always a retryable `timeout`.
 */
export class ProviderTransportReset extends KeelCause {
  override readonly name = "ProviderTransportReset";
  constructor(message = "The provider closed the connection mid-reply.", options?: ErrorOptions) {
    super(message, options);
  }
  static isInstance(error: unknown): error is ProviderTransportReset {
    return isNamed(error, "ProviderTransportReset");
  }
}

/** The turn's own overall deadline passed: a `timeout` that is not retried. */
export class TurnDeadlineExceeded extends KeelCause {
  override readonly name = "TurnDeadlineExceeded";
  constructor(deadlineMs: number) {
    super(`The turn took longer than its ${formatSeconds(deadlineMs)} limit.`);
  }
  static isInstance(error: unknown): error is TurnDeadlineExceeded {
    return isNamed(error, "TurnDeadlineExceeded");
  }
}

/** True for the causes a caller uses to stop on purpose: they end a turn without an error. */
export function isCallerStop(reason: unknown): reason is ChatInterrupted | ServerShutdown {
  return ChatInterrupted.isInstance(reason) || ServerShutdown.isInstance(reason);
}
