/**
 * A call's input as labelled fields (a command as a command, a pattern as a pattern) instead of
 * JSON with `\n`s; what the card shows elsewhere (an edit's strings, a file's content) is left
 * out. The raw JSON of the input and the output stay one "Details" toggle away.
 */
import { memo, useId, useState } from "react";
import type { ToolInput } from "./parse.ts";
import { oneLine } from "./summary.ts";

/** Fields the header or the body already shows whole, by tool: not repeated as fields. */
const SHOWN_ELSEWHERE: Record<string, readonly string[]> = {
  edit_file: ["path", "old_string", "new_string", "edits"],
  write_file: ["path", "content"],
  read_file: ["path", "offset", "limit"],
  list_files: ["path", "pattern"],
  search_files: ["path"],
  process_output: ["process_id"],
  process_signal: ["process_id", "signal"],
};

/** A command or a pattern stays a field only when the header had to cut it. */
function hiddenFields(name: string, input: ToolInput): readonly string[] {
  const hidden = SHOWN_ELSEWHERE[name] ?? [];
  const whole = (key: string, max: number) => {
    const value = input[key];
    return typeof value === "string" && oneLine(value, max) === value.trim();
  };
  if (name === "execute" && whole("command", 60)) return ["command"];
  if (name === "search_files" && whole("pattern", 50)) return [...hidden, "pattern"];
  return hidden;
}

const LABELS: Record<string, string> = {
  timeout_ms: "timeout (ms)",
  wait_ms: "wait (ms)",
  process_id: "process",
  replace_all: "replace all",
};

function FieldValue({ value }: { value: unknown }) {
  if (typeof value === "string") {
    return value.includes("\n") || value.length > 80 ? (
      <pre className="tool-field-text">{value}</pre>
    ) : (
      <code>{value}</code>
    );
  }
  return <code>{JSON.stringify(value)}</code>;
}

export const InputFields = memo(function InputFields({
  name,
  input,
}: {
  name: string;
  input: ToolInput;
}) {
  const hidden = hiddenFields(name, input);
  const fields = Object.entries(input).filter(
    ([key, value]) => value !== undefined && value !== null && !hidden.includes(key),
  );
  if (fields.length === 0) return null;
  return (
    <dl className="tool-fields">
      {fields.map(([key, value]) => (
        <div key={key}>
          <dt>{LABELS[key] ?? key.replace(/_/g, " ")}</dt>
          <dd>
            <FieldValue value={value} />
          </dd>
        </div>
      ))}
    </dl>
  );
});

const pretty = (value: unknown) => {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
};

/** The input and the output exactly as the model sent and read them. */
export function RawDetails({ input, output }: { input: unknown; output: string | undefined }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  return (
    <div className="tool-raw">
      <button
        type="button"
        className="tool-more"
        aria-expanded={open}
        aria-controls={id}
        onClick={() => setOpen(!open)}
      >
        {open ? "Hide details" : "Details"}
      </button>
      {open ? (
        <div id={id}>
          <div className="muted">Input (JSON)</div>
          <pre>{pretty(input)}</pre>
          {output !== undefined ? (
            <>
              <div className="muted">Output</div>
              <pre>{output}</pre>
            </>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
