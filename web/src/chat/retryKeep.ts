/**
 * A retry without the reply vanishing (issue 12): after a `retry` event the failed attempt's
 * drafts are void (the retried attempt streams the step again from its start), but what they had
 * shown stays on the page, dimmed after the new text, until the new attempt has re-streamed all
 * of it or has said something else. Pure, for the reducer and the page.
 */
import type { ChatViewState, DraftPart } from "./reducer.ts";

/**
 * A draft's parts as one string, in order, each part marked by its kind: a retried attempt that
 * streams the same reply again has a prefix of the failed attempt's.
 */
function flat(parts: readonly DraftPart[]): string {
  return parts
    .map((p): string => {
      if (p.type === "text" || p.type === "reasoning") return `\u0001${p.type}\u0002${p.text}`;
      if (p.type === "tool_call") {
        return `\u0001call:${p.tool_call_id}\u0002${p.name}\u0002${p.input_text}`;
      }
      return `\u0001result:${p.tool_call_id}\u0002${p.output_text}`;
    })
    .join("");
}

/** The new attempt has not yet re-streamed all that was shown, and has not said anything else. */
export function catchingUp(parts: readonly DraftPart[], stale: readonly DraftPart[]): boolean {
  const now = flat(parts);
  const before = flat(stale);
  return now.length < before.length && before.startsWith(now);
}

/** On a retry: each draft's content is kept, unless what was kept from an earlier attempt has more. */
export function keptOnRetry(
  state: Pick<ChatViewState, "drafts" | "stale">,
): Record<string, DraftPart[]> {
  const stale = { ...state.stale };
  for (const draft of state.drafts) {
    const earlier = stale[draft.id];
    if (draft.parts.length === 0) continue;
    if (earlier !== undefined && catchingUp(draft.parts, earlier)) continue;
    stale[draft.id] = draft.parts;
  }
  return stale;
}

/** What a draft shows of a failed attempt beyond its own parts: the rest of its last part's text,
 * then the parts it has not reached. */
export interface StaleRemainder {
  tail: string;
  rest: DraftPart[];
}

export function staleRemainder(
  parts: readonly DraftPart[],
  stale: readonly DraftPart[],
): StaleRemainder {
  const last = parts.at(-1);
  const same = stale[parts.length - 1];
  const tail =
    last !== undefined &&
    same !== undefined &&
    (last.type === "text" || last.type === "reasoning") &&
    same.type === last.type
      ? same.text.slice(last.text.length)
      : "";
  return { tail, rest: stale.slice(parts.length) };
}

/** A message being streamed, as the page shows it: its draft, and what a failed attempt showed. */
export interface StreamingEntry {
  id: string;
  parts: DraftPart[];
  stale: StaleRemainder | null;
}

/** The drafts in order, then any message only a failed attempt had shown so far. */
export function streamingEntries(state: Pick<ChatViewState, "drafts" | "stale">): StreamingEntry[] {
  const entries: StreamingEntry[] = state.drafts.map((d) => {
    const stale = state.stale[d.id];
    return { id: d.id, parts: d.parts, stale: stale ? staleRemainder(d.parts, stale) : null };
  });
  for (const [id, stale] of Object.entries(state.stale)) {
    if (!state.drafts.some((d) => d.id === id)) {
      entries.push({ id, parts: [], stale: { tail: "", rest: stale } });
    }
  }
  return entries;
}
