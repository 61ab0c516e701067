/**
 * Tool output as monospace text in a scrolling box. Long output is cut to its last lines (a
 * command's: where the result and the errors are) or its first (a listing's), with "Show all";
 * while a command runs, the box follows the newest line unless the reader scrolled up.
 */
import { memo, useLayoutEffect, useRef, useState } from "react";

const SHOWN_LINES = 200;

export const OutputBlock = memo(function OutputBlock({
  text,
  keep = "end",
  follow = false,
}: {
  text: string;
  /** Which end of long output is shown until "Show all". */
  keep?: "start" | "end";
  /** Scroll to the newest line as it grows (a running command). */
  follow?: boolean;
}) {
  const [all, setAll] = useState(false);
  const ref = useRef<HTMLPreElement>(null);
  const stuck = useRef(true);
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const cut = !all && lines.length > SHOWN_LINES;
  const shown = cut
    ? (keep === "end" ? lines.slice(-SHOWN_LINES) : lines.slice(0, SHOWN_LINES)).join("\n")
    : lines.join("\n");
  // biome-ignore lint/correctness/useExhaustiveDependencies: follow the text as it grows
  useLayoutEffect(() => {
    const el = ref.current;
    if (follow && el && stuck.current) el.scrollTop = el.scrollHeight;
  }, [shown, follow]);
  const more = cut ? (
    <button type="button" className="tool-more" aria-expanded={false} onClick={() => setAll(true)}>
      Show all {lines.length} lines
      {keep === "end" ? ` (${lines.length - SHOWN_LINES} earlier hidden)` : ""}
    </button>
  ) : all && lines.length > SHOWN_LINES ? (
    <button type="button" className="tool-more" aria-expanded={true} onClick={() => setAll(false)}>
      Show less
    </button>
  ) : null;
  return (
    <div className="tool-output">
      {keep === "end" ? more : null}
      <pre
        ref={ref}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling box must be reachable by keyboard (axe: scrollable-region-focusable)
        tabIndex={0}
        onScroll={(event) => {
          const el = event.currentTarget;
          stuck.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {shown === "" ? <span className="muted">(no output)</span> : shown}
      </pre>
      {keep === "start" ? more : null}
    </div>
  );
});
