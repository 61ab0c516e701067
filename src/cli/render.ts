/** A chat as terminal text: a saved transcript (`chat show`), a live event stream (`watch`). */
import type { StreamEvent } from "./client.ts";
import { ReplyPrinter } from "./printer.ts";

interface Part {
  type: string;
  text?: string;
  name?: string;
  input?: unknown;
  output?: unknown;
  is_error?: boolean;
  /** An error part: the turn's terminal error, kept where it happened. */
  message?: string;
  kind?: string;
}
interface MessageLike {
  id: string;
  role: string;
  parts: Part[];
  stopped?: boolean;
  retries?: { count: number; message: string } | null;
}

/** Why a chat is being compacted, as the `compaction` event's `reason` says. */
const COMPACTION_REASONS: Record<string, string> = {
  threshold: "the conversation is near the model's context limit, summarising it",
  context_length: "the model said the conversation does not fit, summarising it and trying again",
  manual: "summarising the conversation",
};

function short(value: unknown, limit = 200): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  const line = (text ?? "").replace(/\s+/g, " ").trim();
  return line.length > limit ? `${line.slice(0, limit - 1)}…` : line;
}

/**
 * A persisted message as lines of text, for `chat show` and for messages not streamed live. The
 * user's text is labelled `you:`; the reply's is labelled with `assistant` when given (a
 * transcript), and left bare otherwise (a live chat, where the reply streams without a label).
 */
export function formatMessage(message: MessageLike, assistant?: string): string {
  const out: string[] = [];
  for (const part of message.parts) {
    if (part.type === "text" && part.text) {
      const label = message.role === "user" ? "you" : assistant;
      out.push(label ? `${label}: ${part.text}` : part.text);
    } else if (part.type === "tool_call") {
      out.push(`⚙ ${part.name}(${short(part.input)})`);
    } else if (part.type === "tool_result") {
      out.push(`  ${part.is_error ? "✗" : "↳"} ${short(part.output)}`);
    } else if (part.type === "compaction" && part.text) {
      out.push(`── earlier conversation summarised ──\n${part.text}\n──`);
    } else if (part.type === "error" && part.message) {
      out.push(`✗ error: ${part.message}`);
    }
  }
  if (message.retries && message.retries.count > 0) {
    const times = message.retries.count === 1 ? "once" : `${message.retries.count}×`;
    out.push(`  (retried ${times} — ${message.retries.message})`);
  }
  if (message.stopped) out.push("  [stopped]");
  return out.length ? `${out.join("\n")}\n` : "";
}

export interface RenderIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/**
 * Renders a chat's event stream for a terminal: streamed text as it comes (never twice, across
 * retries), tool calls, one line per retry, the terminal error's message. Returns the chat's
 * status after each event so callers can stop when the turn is over.
 */
export class EventRenderer {
  readonly #io: RenderIO;
  readonly #streamed = new Map<string, ReplyPrinter>();
  #current: ReplyPrinter | undefined;
  status: string | undefined;
  lastError: string | undefined;

  constructor(io: RenderIO) {
    this.#io = io;
  }

  handle(event: StreamEvent): void {
    const data = (event.data ?? {}) as Record<string, unknown>;
    switch (event.event) {
      case "status":
        this.status = String(data.status);
        // A turn that ends without the message its text was streamed for (the server running it
        // stopped): that text is void, and the reply starts again.
        if (this.#current && this.status !== "running") {
          this.#current = undefined;
          this.#io.stdout("\n");
          this.#io.stderr("(the reply above was cut off; it starts again)\n");
        }
        break;
      case "message_part": {
        const id = String(data.message_id);
        const part = (data.part ?? {}) as Part;
        if (part.type !== "text" || !part.text) break;
        let printer = this.#streamed.get(id);
        if (!printer) {
          printer = new ReplyPrinter(this.#io.stdout, this.#io.stderr);
          this.#streamed.set(id, printer);
        }
        this.#current = printer;
        printer.write(part.text);
        break;
      }
      case "message": {
        const message = data.message as MessageLike | undefined;
        if (!message) break;
        if (this.#streamed.has(message.id)) {
          // Its text is on screen already; show what was not streamed (tool calls).
          this.#io.stdout("\n");
          this.#io.stdout(
            formatMessage({ ...message, parts: message.parts.filter((p) => p.type !== "text") }),
          );
          this.#current = undefined;
        } else {
          this.#io.stdout(formatMessage(message));
        }
        break;
      }
      case "retry": {
        this.#current?.newAttempt();
        const seconds = (Number(data.delay_ms) / 1000).toFixed(1);
        this.#io.stderr(
          `retry: ${String(data.message)} [${String(data.kind)}] attempt ${Number(data.attempt) + 1} in ${seconds} s\n`,
        );
        break;
      }
      case "truncated": {
        const removed = Array.isArray(data.message_ids) ? data.message_ids.length : 0;
        this.#io.stderr(
          `(${removed} later message${removed === 1 ? "" : "s"} left the transcript: the chat runs again from there)\n`,
        );
        break;
      }
      case "compaction":
        this.#io.stderr(`compacting: ${COMPACTION_REASONS[String(data.reason)] ?? "asked for"}…\n`);
        break;
      case "error":
        this.lastError = String(data.message);
        this.#io.stderr(`error: ${this.lastError}\n`);
        break;
      default:
        break;
    }
  }
}
