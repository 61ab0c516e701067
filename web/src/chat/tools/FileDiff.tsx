/**
 * A unified diff of what edit_file or write_file changed, computed in the browser (jsdiff) from
 * the call's input: each edit's old_string → new_string, or nothing → the written content. Line
 * numbers are the file's when the result said where the edit landed, else none (not the
 * snippet's own, which would read as the file's).
 */
import { structuredPatch } from "diff";
import { memo, useMemo, useState } from "react";
import { highlightLines, languageOf } from "./highlight.ts";

export interface FileChange {
  before: string;
  after: string;
  /** The file's line where `before` started, when known. */
  firstLine?: number | undefined;
}

type Row =
  | { kind: "add" | "del" | "ctx"; oldNo?: number; newNo?: number; text: string }
  | { kind: "gap" };

/** Rows of the diff: hunks with 3 lines of context, a gap between hunks and between edits. */
export function diffRows(changes: readonly FileChange[]): Row[] {
  const rows: Row[] = [];
  for (const change of changes) {
    const patch = structuredPatch("a", "b", change.before, change.after, "", "", { context: 3 });
    for (const hunk of patch.hunks) {
      if (rows.length > 0) rows.push({ kind: "gap" });
      const base = change.firstLine === undefined ? undefined : change.firstLine - 1;
      let oldNo = hunk.oldStart;
      let newNo = hunk.newStart;
      for (const line of hunk.lines) {
        const sign = line[0];
        if (sign === "\\") continue; // "\ No newline at end of file"
        const text = line.slice(1);
        const at = (n: number) => (base === undefined ? undefined : base + n);
        if (sign === "+") rows.push({ kind: "add", ...num("newNo", at(newNo++)), text });
        else if (sign === "-") rows.push({ kind: "del", ...num("oldNo", at(oldNo++)), text });
        else {
          rows.push({
            kind: "ctx",
            ...num("oldNo", at(oldNo++)),
            ...num("newNo", at(newNo++)),
            text,
          });
        }
      }
    }
  }
  return rows;
}

const num = <K extends string>(key: K, value: number | undefined) =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, number>>;

const SIGN = { add: "+", del: "−", ctx: " " } as const;
const SPOKEN = { add: "added", del: "removed", ctx: "" } as const;
const SHOWN_ROWS = 60;

export const FileDiff = memo(function FileDiff({
  path,
  changes,
}: {
  path: string | undefined;
  changes: readonly FileChange[];
}) {
  const rows = useMemo(() => diffRows(changes), [changes]);
  const html = useMemo(
    () =>
      highlightLines(
        rows.map((r) => (r.kind === "gap" ? "" : r.text)),
        languageOf(path),
      ),
    [rows, path],
  );
  const [all, setAll] = useState(false);
  const shown = all ? rows : rows.slice(0, SHOWN_ROWS);
  // A gutter for each side that has numbers: a new file's diff has only the new side's.
  const oldSide = rows.some((r) => r.kind !== "gap" && r.oldNo !== undefined);
  const newSide = rows.some((r) => r.kind !== "gap" && r.newNo !== undefined);
  const numbered = oldSide || newSide;
  if (rows.length === 0) return <p className="muted tool-note">No change.</p>;
  return (
    <div className="tool-diff">
      <pre className={numbered ? "diff numbered" : "diff"}>
        {shown.map((row, i) =>
          row.kind === "gap" ? (
            // biome-ignore lint/suspicious/noArrayIndexKey: rows are fixed for a call
            <span key={i} className="diff-line diff-gap" aria-hidden="true">
              ⋯
            </span>
          ) : (
            // biome-ignore lint/suspicious/noArrayIndexKey: rows are fixed for a call
            <span key={i} className={`diff-line diff-${row.kind}`}>
              {oldSide ? (
                <span className="ln" aria-hidden="true">
                  {row.kind === "add" ? "" : (row.oldNo ?? "")}
                </span>
              ) : null}
              {newSide ? (
                <span className="ln" aria-hidden="true">
                  {row.kind === "del" ? "" : (row.newNo ?? "")}
                </span>
              ) : null}
              <span className="sign" aria-hidden="true">
                {SIGN[row.kind]}
              </span>
              {SPOKEN[row.kind] ? <span className="sr-only">{SPOKEN[row.kind]}: </span> : null}
              {/* biome-ignore lint/security/noDangerouslySetInnerHtml: highlight.js output (escaped text in spans) */}
              <code className="hljs" dangerouslySetInnerHTML={{ __html: html[i] ?? "" }} />
            </span>
          ),
        )}
      </pre>
      {rows.length > SHOWN_ROWS ? (
        <button
          type="button"
          className="btn-link tool-more"
          aria-expanded={all}
          onClick={() => setAll(!all)}
        >
          {all ? "Show less" : `Show all ${rows.length} lines`}
        </button>
      ) : null}
    </div>
  );
});
