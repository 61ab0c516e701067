/**
 * A chat's title: at once from its first message's first line (`deriveTitle`), then, after its
 * first reply, one a model writes (`generateTitle`; chatd runs it off the turn's path).
 */
import { isNote } from "../chatloop/notes.ts";
import type { ChatModel, StreamRequest } from "../provider/types.ts";
import type { Store } from "../store/contract.ts";
import type { Chat, MessagePart } from "../store/types.ts";
import type { ModelResolver } from "./models.ts";

export const DEFAULT_TITLE_LENGTH = 80;
export const UNTITLED = "New chat";

/**
 * A chat's title from its first message, at once: the first non-blank line of its text, with
 * runs of whitespace collapsed, cut at a word boundary to at most `maxLength` characters ("…"
 * marks a cut).
 */
export function deriveTitle(content: MessagePart[], maxLength = DEFAULT_TITLE_LENGTH): string {
  const text = content.flatMap((part) => (part.type === "text" ? [part.text] : [])).join("\n");
  const line = text
    .split(/\r?\n/)
    .map((l) => l.replace(/\s+/g, " ").trim())
    .find((l) => l !== "");
  if (!line) return UNTITLED;
  const chars = [...line];
  if (chars.length <= maxLength) return line;
  const cut = chars.slice(0, maxLength - 1).join("");
  const space = cut.lastIndexOf(" ");
  const head = space >= maxLength / 2 ? cut.slice(0, space) : cut;
  return `${head.trimEnd()}…`;
}

/** A generated title's longest length, in characters. */
export const GENERATED_TITLE_LENGTH = 60;
/** A title request's bound: past it the chat keeps its first-line title. */
export const DEFAULT_TITLE_TIMEOUT_MS = 20_000;
/** How much of the first message and of the reply the title model reads. */
const EXCERPT_CHARS = 2_000;

export const TITLE_PROMPT = [
  "You write the title of a chat between a user and an AI coding agent.",
  `Answer with the title only: at most ${GENERATED_TITLE_LENGTH} characters, one line, in the`,
  "language of the user's message, no quotes, no trailing period, no preamble.",
].join(" ");

/** Quotes, backticks and emphasis a model may wrap a title in. */
const WRAPPERS = /^["'`*_“”‘’«»„]+|["'`*_“”‘’«»„]+$/g;

/**
 * A model's answer → a title: its first non-blank line, without a "Title:" label, wrapping quotes
 * or emphasis, double quotes anywhere or a trailing period, cut to `GENERATED_TITLE_LENGTH`
 * characters at a word boundary. Null when nothing is left.
 */
export function cleanTitle(answer: string): string | null {
  const line = answer
    .split(/\r?\n/)
    .map((l) => l.replace(/\s+/g, " ").trim())
    .find((l) => l !== "");
  if (!line) return null;
  const bare = line
    .replace(/^(?:#+\s*)?(?:chat\s+)?title\s*:\s*/i, "")
    .replace(WRAPPERS, "")
    .replace(/["“”„«»]/g, "")
    .replace(/\.$/, "")
    .trim();
  if (!bare) return null;
  return deriveTitle([{ type: "text", text: bare }], GENERATED_TITLE_LENGTH);
}

function excerpt(text: string): string {
  const chars = [...text.trim()];
  return chars.length <= EXCERPT_CHARS
    ? chars.join("")
    : `${chars.slice(0, EXCERPT_CHARS).join("")}…`;
}

/** The title request for a chat's first message and first reply (their text parts). */
export function titleRequest(firstMessage: string, reply: string): StreamRequest {
  return {
    messages: [
      { role: "system", content: TITLE_PROMPT },
      {
        role: "user",
        content: [
          {
            type: "text",
            text: `The user's message:\n${excerpt(firstMessage)}\n\nThe agent's reply:\n${excerpt(reply)}\n\nThe chat's title:`,
          },
        ],
      },
    ],
    maxOutputTokens: 200,
  };
}

/**
 * Asks `model` for a title, once (no retry), within `signal` (the caller bounds it). Throws what
 * the provider threw, or when the answer holds no usable title.
 */
export async function generateTitle(
  model: ChatModel,
  request: StreamRequest,
  signal: AbortSignal,
): Promise<string> {
  let answer = "";
  for await (const part of model.stream(request, signal)) {
    if (part.type === "text-delta") answer += part.delta;
  }
  const title = cleanTitle(answer);
  if (title === null) throw new Error("the title model answered without a title");
  return title;
}

/**
 * Titles a chat after its first reply: the title model (an admin's choice; one since disabled or
 * removed, or none: the chat's own) writes it from the first exchange; it is saved and announced
 * with a `title` event. A chat with a later user message is past its first exchange: left as it
 * is, and so is one renamed while the title was written (its owner's title wins). Throws on
 * failure (the caller logs it; the chat keeps its first-line title).
 */
export async function titleFirstExchange(
  deps: {
    store: Pick<Store, "listMessages" | "updateChat" | "events" | "getChat">;
    models: ModelResolver;
  },
  /** The chat as the turn began (its title then: a different one now is a rename). */
  chat: Pick<Chat, "id" | "model_id" | "title">,
  chatModel: ChatModel,
  titleModelId: string | null,
  signal: AbortSignal,
  /** The title is saved and announced only once this settles (the turn's status is out). */
  announceAfter: Promise<unknown> = Promise.resolve(),
): Promise<void> {
  const messages = await deps.store.listMessages(chat.id);
  // A failed first turn's error (or an empty stopped step) is no reply: the chat is titled after
  // the first real one.
  const firstReply = messages.findIndex((m) => m.role === "assistant" && !isNote(m));
  if (firstReply === -1 || messages.slice(firstReply).some((m) => m.role === "user")) return;
  const textOf = (role: "user" | "assistant") =>
    messages
      .filter((m) => m.role === role)
      .flatMap((m) => m.parts.flatMap((p) => (p.type === "text" ? [p.text] : [])))
      .join("\n");
  let model = chatModel;
  if (titleModelId !== null && titleModelId !== chat.model_id) {
    const resolved = await deps.models.resolve(titleModelId);
    if (resolved.ok) model = resolved.model;
  }
  const title = await generateTitle(
    model,
    titleRequest(textOf("user"), textOf("assistant")),
    signal,
  );
  if (signal.aborted) throw signal.reason;
  await announceAfter;
  if ((await deps.store.getChat(chat.id))?.title !== chat.title) return;
  await deps.store.updateChat(chat.id, { title });
  await deps.store.events.append(chat.id, "title", { title });
}
