/**
 * How long a tool call ran, as this page watched it: from when its persisted call first showed
 * without a result to when its result (or Stop) arrived. Results carry no duration and messages no
 * end time, so a call this page did not watch start has none (never a guess). Kept by call id
 * outside React: the streamed draft and the persisted message render the same call in two
 * components, one after the other.
 */
import { useEffect, useState } from "react";

const started = new Map<string, number>();
/**
 * Whether the open chat's first screen has been shown (set by the chat header's workspace badge
 * once mounted). A call already running in that first screen started before the page knew of it:
 * it gets no time, rather than one counted from the page load.
 */
let shown = false;
export function setChatShown(value: boolean): void {
  shown = value;
}
const ended = new Map<string, number>();
const KEPT = 2_000;

function remember(map: Map<string, number>, id: string, at: number): number {
  const known = map.get(id);
  if (known !== undefined) return known;
  if (map.size >= KEPT) map.delete(map.keys().next().value as string);
  map.set(id, at);
  return at;
}

/** A clock that ticks each second while `on` (only running cards re-render with it). */
function useTick(on: boolean): number {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    if (!on) return;
    const timer = setInterval(() => setNow(performance.now()), 1_000);
    return () => clearInterval(timer);
  }, [on]);
  return now;
}

/**
 * `watching`: the call is persisted and this page saw it without a result (its start); a call
 * still streaming from the model has not started running yet.
 */
export function useCallDuration(
  callId: string,
  running: boolean,
  watching: boolean,
): number | undefined {
  const ticking = running && watching;
  const now = useTick(ticking);
  if (ticking) {
    const start = shown ? remember(started, callId, performance.now()) : started.get(callId);
    return start === undefined ? undefined : Math.max(0, now - start);
  }
  const start = started.get(callId);
  if (start === undefined || running) return undefined;
  return remember(ended, callId, performance.now()) - start;
}
