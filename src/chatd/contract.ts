/**
 * What the api asks of chatd. The api authenticates and authorizes (owner or admin) before it
 * calls any of these; chatd applies the chat lifecycle of DESIGN.md §3.
 */
import type { InstructionLayer } from "../chatloop/history.ts";
import type { AuditEntry } from "../store/audit.ts";
import type { Chat, ChatEvent, MessagePart, User } from "../store/types.ts";

export interface ChatService {
  /** Creates a chat (title from the first message) and queues its first turn. */
  createChat(
    owner: User,
    input: {
      model_id: string;
      content: MessagePart[];
      workspace_id?: string | null;
      /** The chat's audit row, written in the statement that creates it. */
      audit?: AuditEntry;
    },
  ): Promise<Chat>;
  /** Appends a user message (or queues it behind the running turn) and schedules a turn. */
  sendMessage(chat: Chat, content: MessagePart[], audit?: AuditEntry): Promise<void>;
  /**
   * Edit and rerun: replaces a user message's content, deletes every later message (a
   * `truncated` event says which) and queues a turn that answers it. A running turn is stopped
   * first (waiting, bounded, for it to end). 400 for a message that is not a user message, 404
   * for an unknown one, 409 for an archived chat.
   */
  editMessage(
    chat: Chat,
    messageId: string,
    content: MessagePart[],
    audit?: AuditEntry,
  ): Promise<void>;
  /**
   * Regenerate: deletes what followed the last user message and queues a turn that answers it
   * again. 409 while a turn runs (stop it first), for a chat with no user message, or archived.
   */
  regenerate(chat: Chat, audit?: AuditEntry): Promise<void>;
  /** Stop: ends the running turn (wherever it runs) keeping partial content; status `waiting`. */
  interrupt(chat: Chat): Promise<void>;
  /**
   * Asks for the chat's conversation to be summarised now (DESIGN.md §7): a waiting chat runs
   * just the compaction; a running one is compacted when its turn ends. The summary arrives as a
   * `message` event with a `compaction` part.
   */
  compact(chat: Chat, audit?: AuditEntry): Promise<void>;
  /**
   * The instructions the chat's next turn would be given, read now the way the turn reads them
   * (`gatherInstructions`): every layer with its source, in order.
   */
  instructions(chat: Chat): Promise<InstructionLayer[]>;
  /**
   * Every event with `seq > afterSeq` (persisted), then live events, each exactly once, in
   * order. Returns the function that ends the subscription.
   */
  stream(
    chatId: string,
    afterSeq: number,
    onEvent: (event: ChatEvent) => void,
  ): Promise<() => void>;
}

/** Raised for a request chatd refuses (unknown or disabled model, archived chat). */
export class ChatRequestError extends Error {
  override readonly name = "ChatRequestError";
  readonly status: 400 | 403 | 404 | 409;
  /** A stable code for clients to recognise the refusal by (e.g. `spend_limit_reached`). */
  readonly code: string | undefined = undefined;
  constructor(status: 400 | 403 | 404 | 409, message: string) {
    super(message);
    this.status = status;
  }
}

/**
 * A workspace with a server-side `directory` runs its tools as the server's own OS user: only an
 * active admin may use it, checked at the moment it runs — a chat created, a message sent, every
 * tool call — so an admin who is demoted or deactivated loses it at once.
 */
export function mayUseServerDirectory(user: Pick<User, "role" | "active"> | null): boolean {
  return user?.active === true && user.role === "admin";
}

/** Why a chat in a server-side directory may not run (to the user, and to the model). */
export const SERVER_DIRECTORY_ADMINS_ONLY =
  "This chat's workspace runs commands on the server itself, which only admins may do, and the " +
  "chat's owner is not an admin. Ask an admin to run it, or use a workspace with its own agent " +
  "(keel agent).";
