/**
 * Text with the words a search matched marked (`<mark>`): a word of the text that starts with a
 * word of the query, case-insensitively — as the server's search matches (the last word as a
 * prefix; the others whole, which a prefix mark shows well enough).
 */
import { Fragment } from "react";

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function Highlighted({ text, query }: { text: string; query?: string | undefined }) {
  const words = (query ?? "").match(/[\p{L}\p{N}]+/gu) ?? [];
  if (words.length === 0) return <>{text}</>;
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}])(${words.map(escapeRegExp).join("|")})`, "giu");
  const out: React.ReactNode[] = [];
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    const at = match.index ?? 0;
    out.push(<Fragment key={`t${at}`}>{text.slice(last, at)}</Fragment>);
    out.push(<mark key={`m${at}`}>{match[0]}</mark>);
    last = at + match[0].length;
  }
  out.push(<Fragment key="end">{text.slice(last)}</Fragment>);
  return <>{out}</>;
}
