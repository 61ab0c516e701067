/**
 * How a turn ends (`TurnOutcome`), and the abort reasons that decide it: Stop (`ChatInterrupted`),
 * shutdown (`ServerShutdown`), lost ownership (`OwnershipLost`); any other reason is a terminal
 * error classified from it.
 */
import { ChatInterrupted, ServerShutdown } from "../chaterror/causes.ts";
import type { ClassifiedError } from "../chaterror/kinds.ts";
import type { ChatErrorRecord } from "../store/types.ts";

const MARKER = Symbol.for("keel.ownership-lost");

/**
 * The abort reason chatd uses when the chat's ownership was lost (another worker took it over):
 * the turn ends at once and writes nothing more — not even its partial content.
 */
export class OwnershipLost extends Error {
  readonly [MARKER] = true;
  override readonly name = "OwnershipLost";
  constructor(message = "This worker no longer owns the chat.") {
    super(message);
  }
  static isInstance(error: unknown): error is OwnershipLost {
    return typeof error === "object" && error !== null && MARKER in error;
  }
}

export type TurnOutcome =
  /** The model answered without calling a tool. */
  | { status: "completed"; steps: number }
  /** Stop: partial content persisted; the chat goes `waiting`. */
  | { status: "interrupted"; steps: number }
  /** Server shutdown: partial content persisted; the chat goes back to `pending`. */
  | { status: "shutdown"; steps: number }
  /** Ownership lost: nothing more was written; the chat is someone else's now. */
  | { status: "abandoned"; steps: number }
  /** A terminal error: one `error` event was published; the chat goes `error` with `error`. */
  | { status: "failed"; steps: number; error: ChatErrorRecord };

/** How a compaction asked for on its own (`runCompaction`) ended. */
export type CompactionOutcome =
  | TurnOutcome
  /** Compacted, or nothing to compact; `open`: the transcript ends mid-turn (a turn should run). */
  | { status: "compacted"; steps: 0; open: boolean };

export function errorRecord(classified: ClassifiedError): ChatErrorRecord {
  return {
    kind: classified.kind,
    message: classified.message,
    ...(classified.statusCode !== undefined ? { status_code: classified.statusCode } : {}),
    ...(classified.detail !== undefined ? { detail: classified.detail } : {}),
  };
}

export type StopStatus = "interrupted" | "shutdown" | "abandoned" | "failed";

/** The ending an abort reason means. */
export function stopStatus(reason: unknown): StopStatus {
  if (OwnershipLost.isInstance(reason)) return "abandoned";
  if (ChatInterrupted.isInstance(reason)) return "interrupted";
  if (ServerShutdown.isInstance(reason)) return "shutdown";
  return "failed";
}
