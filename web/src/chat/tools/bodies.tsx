/**
 * The body of each kind of tool card: what the call changed, read or printed. Each is given the
 * call's parsed input, its output text so far and its state; none parses the header's words.
 */
import { useMemo } from "react";
import { Link } from "../../router.tsx";
import { type FileChange, FileDiff } from "./FileDiff.tsx";
import { OutputBlock } from "./OutputBlock.tsx";
import { parseInput, type ToolInput, type ToolState, withoutStopNote } from "./parse.ts";
import { ReadPreview } from "./ReadPreview.tsx";

export interface BodyProps {
  name: string;
  input: ToolInput;
  output: string | undefined;
  state: ToolState;
}

const str = (value: unknown) => (typeof value === "string" ? value : "");

/**
 * Where each edit landed, from edit_file's result: "replaced 1 occurrence (line 12)" or
 * "edit 2: line 40". Only an edit replacing one place has a single first line.
 */
export function editLines(output: string | undefined, count: number): Array<number | undefined> {
  const lines: Array<number | undefined> = Array.from({ length: count }, () => undefined);
  if (output === undefined) return lines;
  if (count === 1) {
    const one = /replaced 1 occurrence \(line (\d+)\)/.exec(output);
    if (one) lines[0] = Number(one[1]);
    return lines;
  }
  for (const match of output.matchAll(/edit (\d+): line (\d+)(?=[;)])/g)) {
    lines[Number(match[1]) - 1] = Number(match[2]);
  }
  return lines;
}

function Problem({ state, output }: { state: ToolState; output: string | undefined }) {
  // The hub's text is written for the model ("ask the user…"); the user reads what to do.
  if (state === "offline") {
    return (
      <p className="tool-error">
        The workspace agent was not connected, so this did not run. Start it (see{" "}
        <Link to="/workspaces">Workspaces</Link>), then ask again.
      </p>
    );
  }
  if (state !== "failed") return null;
  return <p className="tool-error">{output}</p>;
}

export function EditBody({ input, output, state }: BodyProps) {
  const changes = useMemo((): FileChange[] => {
    const edits = Array.isArray(input.edits)
      ? input.edits.map((e) => parseInput(e))
      : [{ old_string: input.old_string, new_string: input.new_string }];
    const at = state === "done" ? editLines(output, edits.length) : [];
    return edits.map((e, i) => ({
      before: str(e.old_string),
      after: str(e.new_string),
      firstLine: at[i],
    }));
  }, [input, output, state]);
  // Still streaming from the model: no diff until its strings are whole.
  const known = Array.isArray(input.edits) || typeof input.new_string === "string";
  return (
    <>
      <Problem state={state} output={output} />
      {known ? <FileDiff path={str(input.path) || undefined} changes={changes} /> : null}
    </>
  );
}

export function WriteBody({ input, output, state }: BodyProps) {
  const content = str(input.content);
  const changes = useMemo(
    (): FileChange[] => [{ before: "", after: content, firstLine: 1 }],
    [content],
  );
  return (
    <>
      <Problem state={state} output={output} />
      {typeof input.content === "string" ? (
        <FileDiff path={str(input.path) || undefined} changes={changes} />
      ) : null}
    </>
  );
}

export function ReadBody({ input, output, state }: BodyProps) {
  if (output === undefined || state === "running") return null;
  if (state !== "done") return <Problem state={state} output={output} />;
  return <ReadPreview path={str(input.path) || undefined} output={output} />;
}

/** The trailer `execute` ends its result with ("[exit code 1]"), shown in the header instead. */
const TRAILER = /\n?\[(?:exit code -?\d+|killed by signal \w+)\]\s*$/;

export function ExecuteBody({ output, state }: BodyProps) {
  if (state === "offline") return <Problem state={state} output={output} />;
  const text = output ?? "";
  const shown = state === "stopped" ? withoutStopNote(text) : text.replace(TRAILER, "");
  return (
    <>
      {output === undefined && state === "running" ? null : (
        <OutputBlock text={shown} keep="end" follow={state === "running"} />
      )}
      {state === "stopped" ? (
        <p className="muted tool-note">Stopped. The output up to the stop is kept above.</p>
      ) : null}
    </>
  );
}

/** Listings, search results, process tools, MCP tools: their text as it came. */
export function OutputBody({ output, state }: BodyProps) {
  if (output === undefined) return null;
  if (state === "failed" || state === "offline") return <Problem state={state} output={output} />;
  const text = state === "stopped" ? withoutStopNote(output) : output;
  return <OutputBlock text={text} keep="start" />;
}
