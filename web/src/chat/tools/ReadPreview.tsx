/**
 * read_file's result as a file preview: its numbered lines (`cat -n`: number, tab, text) with the
 * numbers in a gutter and the text highlighted, and the tool's note (more lines to read) below.
 */
import { memo, useMemo, useState } from "react";
import { highlightLines, languageOf } from "./highlight.ts";

const SHOWN_LINES = 80;

export function parseNumbered(output: string): { lines: Array<[number, string]>; note: string } {
  const lines: Array<[number, string]> = [];
  const noteAt = output.lastIndexOf("\n\n[");
  const body = noteAt === -1 ? output : output.slice(0, noteAt);
  for (const line of body.split("\n")) {
    const match = /^ *(\d+)\t(.*)$/.exec(line);
    if (match) lines.push([Number(match[1]), match[2] ?? ""]);
  }
  return { lines, note: noteAt === -1 ? "" : output.slice(noteAt + 2) };
}

export const ReadPreview = memo(function ReadPreview({
  path,
  output,
}: {
  path: string | undefined;
  output: string;
}) {
  const { lines, note } = useMemo(() => parseNumbered(output), [output]);
  const [all, setAll] = useState(false);
  const shown = useMemo(() => (all ? lines : lines.slice(0, SHOWN_LINES)), [lines, all]);
  const html = useMemo(
    () =>
      highlightLines(
        shown.map(([, text]) => text),
        languageOf(path),
      ),
    [shown, path],
  );
  if (lines.length === 0) return <p className="muted tool-note">{output}</p>;
  return (
    <div className="tool-read">
      <pre
        className="diff numbered-one"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling box must be reachable by keyboard (axe: scrollable-region-focusable)
        tabIndex={0}
      >
        {shown.map(([n], i) => (
          <span key={n} className="diff-line diff-ctx">
            <span className="ln" aria-hidden="true">
              {n}
            </span>
            {/* biome-ignore lint/security/noDangerouslySetInnerHtml: highlight.js output (escaped text in spans) */}
            <code className="hljs" dangerouslySetInnerHTML={{ __html: html[i] ?? "" }} />
          </span>
        ))}
      </pre>
      {lines.length > SHOWN_LINES ? (
        <button
          type="button"
          className="tool-more"
          aria-expanded={all}
          onClick={() => setAll(!all)}
        >
          {all ? "Show less" : `Show all ${lines.length} lines`}
        </button>
      ) : null}
      {note ? <p className="muted tool-note">{note}</p> : null}
    </div>
  );
});
