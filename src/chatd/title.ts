import type { MessagePart } from "../store/types.ts";

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
