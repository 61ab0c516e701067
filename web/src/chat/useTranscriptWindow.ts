/**
 * A long chat stays fast (issue 12): only the newest messages of a transcript are rendered at
 * first, and older ones join, a step at a time, as the reader scrolls up to them — so opening a
 * 500-message chat renders (and parses the Markdown of) the last screens, not all of it. The view
 * stays where it is when older messages are added above it.
 */
import { type RefObject, useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";

/** How many messages are rendered at first: a few screens, whatever the chat's length. */
export const TRANSCRIPT_FIRST = 20;
/**
 * How many more join each time the reader nears the top: few enough that rendering them (their
 * Markdown above all) stays one short task, not a pause the reader feels.
 */
export const TRANSCRIPT_STEP = 4;
/** How far above the rendered part the reader may be before more is rendered (pixels). */
const AHEAD_PX = 2_500;

export interface TranscriptWindow {
  /** The index of the first rendered message. */
  start: number;
  /** Put on an element above the rendered messages: when it nears the viewport, more are rendered. */
  sentinel: (element: HTMLElement | null) => void;
}

export function useTranscriptWindow(
  total: number,
  scroller: RefObject<HTMLElement | null>,
): TranscriptWindow {
  const [count, setCount] = useState(TRANSCRIPT_FIRST);
  const start = Math.max(0, total - count);
  /** The scroller's height before older messages were added above. */
  const anchor = useRef<number | null>(null);
  const [element, setElement] = useState<HTMLElement | null>(null);

  useEffect(() => {
    const root = scroller.current;
    if (element === null || root === null || start === 0) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (!entries.some((entry) => entry.isIntersecting)) return;
        anchor.current = root.scrollHeight;
        setCount((c) => c + TRANSCRIPT_STEP);
      },
      { root, rootMargin: `${AHEAD_PX}px 0px 0px 0px` },
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, [element, scroller, start]);

  // Older messages were added above: move down by what they take, so what the reader sees stays
  // put (relative, so scrolling done meanwhile is kept; the scroller's own anchoring is off, CSS).
  useLayoutEffect(() => {
    const root = scroller.current;
    const before = anchor.current;
    if (root === null || before === null || count === 0) return;
    anchor.current = null;
    root.scrollTop += root.scrollHeight - before;
  }, [count, scroller]);

  const sentinel = useCallback((el: HTMLElement | null) => setElement(el), []);
  return { start, sentinel };
}
