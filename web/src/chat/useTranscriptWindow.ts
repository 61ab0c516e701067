/**
 * A long chat stays fast (issue 12): only the newest messages of a transcript are rendered at
 * first, and older ones join, a step at a time, as the reader scrolls up to them — so opening a
 * 500-message chat renders (and parses the Markdown of) the last screens, not all of it. The view
 * stays where it is when older messages are added above it.
 *
 * What is rendered is not all painted: each message is `content-visibility: auto` (styles.css), so
 * the browser lays out and paints only those near the viewport — without it, every scroll frame of
 * a 500-message transcript re-walked all of it (Chromium's pre-paint, ~40 ms a frame). A skipped
 * message takes a guessed height until it is first shown, then its own; when that (or any change of
 * a message's height) happens above the viewport, the view is moved by as much so it stays put.
 */
import {
  type RefObject,
  startTransition,
  useCallback,
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
} from "react";

/** How many messages are rendered at first: a few screens, whatever the chat's length. */
export const TRANSCRIPT_FIRST = 20;
/**
 * How many more join each time the reader nears the top: few enough that rendering them (their
 * Markdown above all, in a transition that yields to scrolling) is no pause the reader feels.
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
  /** The first rendered message and where it was before older messages were added above it. */
  const anchor = useRef<{ element: Element; top: number } | null>(null);
  const [element, setElement] = useState<HTMLElement | null>(null);

  useEffect(() => {
    const root = scroller.current;
    if (element === null || root === null || start === 0) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (!entries.some((entry) => entry.isIntersecting)) return;
        // Where the first rendered message is: what joins above moves it down by its height.
        const first = element.nextElementSibling;
        if (first === null) return;
        anchor.current = { element: first, top: offsetIn(root, first) };
        // A transition: rendering the step (its Markdown) yields to scrolling, never one long task.
        startTransition(() => setCount((c) => c + TRANSCRIPT_STEP));
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
    if (before.element.isConnected) root.scrollTop += offsetIn(root, before.element) - before.top;
  }, [count, scroller]);

  // The transcript is on the page once the chat is loaded.
  const loaded = total > 0;
  useEffect(() => {
    const root = scroller.current;
    if (!loaded) return;
    const inner = root?.querySelector(":scope > .transcript-inner");
    if (root === null || root === undefined || inner === null || inner === undefined) return;
    const heights = new Map<Element, number>();
    const resized = new ResizeObserver((entries) => {
      const top = root.getBoundingClientRect().top;
      const changes: HeightChange[] = [];
      for (const entry of entries) {
        const before = heights.get(entry.target);
        const after = entry.target.getBoundingClientRect().height;
        heights.set(entry.target, after);
        if (before !== undefined && before !== after) {
          changes.push({ top: entry.target.getBoundingClientRect().top - top, before, after });
        }
      }
      const shift = shiftAbove(changes);
      if (shift !== 0) root.scrollTop += shift;
    });
    const watch = (node: Node) => {
      if (!(node instanceof Element) || heights.has(node)) return;
      heights.set(node, node.getBoundingClientRect().height);
      resized.observe(node);
    };
    const added = new MutationObserver((records) => {
      for (const record of records) {
        record.addedNodes.forEach(watch);
        record.removedNodes.forEach((node) => {
          if (node instanceof Element) {
            heights.delete(node);
            resized.unobserve(node);
          }
        });
      }
    });
    for (const child of inner.children) watch(child);
    added.observe(inner, { childList: true });
    return () => {
      added.disconnect();
      resized.disconnect();
    };
  }, [scroller, loaded]);

  const sentinel = useCallback((el: HTMLElement | null) => setElement(el), []);
  return { start, sentinel };
}

/** Where an element is in the scroller's content (not its viewport). */
function offsetIn(root: HTMLElement, element: Element): number {
  return element.getBoundingClientRect().top - root.getBoundingClientRect().top + root.scrollTop;
}

/** A message whose height changed: where it starts, relative to the viewport's top, and its heights. */
export interface HeightChange {
  top: number;
  before: number;
  after: number;
}

/**
 * How far to scroll so that what the reader sees stays put: the growth of the messages that ended
 * above the viewport before they changed (one the reader sees, or below, moves nothing above it).
 */
export function shiftAbove(changes: readonly HeightChange[]): number {
  let shift = 0;
  for (const { top, before, after } of changes) if (top + before <= 0) shift += after - before;
  return shift;
}
