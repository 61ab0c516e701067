/**
 * A tool call's input and result as the cards read them: the input (persisted, or JSON still
 * streaming), how the call stands, and the facts its result text states — the workspace tools'
 * own texts (`src/workspace/tools/*.ts`), the turn's after a Stop (`src/chatloop/turn.ts`) and
 * the hub's when no agent came (`src/workspace/hub.ts`). Pure functions: nothing not recognised
 * is guessed at.
 */

/** How a call stands: from its result (or the lack of one). */
export type ToolState = "running" | "done" | "failed" | "stopped" | "offline";

export type ToolInput = Readonly<Record<string, unknown>>;

/**
 * A call's input: the persisted object, or the JSON text still streaming. Of an incomplete text,
 * the string fields already complete are read (a path or a command arrives before the content).
 */
export function parseInput(input: unknown): ToolInput {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch {
      return completeStrings(input);
    }
  }
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as ToolInput)
    : {};
}

const FIELD = /"([a-z_]+)"\s*:\s*("(?:[^"\\]|\\.)*")/g;

function completeStrings(text: string): ToolInput {
  const fields: Record<string, unknown> = {};
  for (const [, key, json] of text.matchAll(FIELD)) {
    if (key === undefined || json === undefined || key in fields) continue;
    try {
      fields[key] = JSON.parse(json);
    } catch {
      // not a complete string after all
    }
  }
  return fields;
}

/** A tool result's output as text (an MCP tool may answer with JSON). */
export function outputText(output: unknown): string {
  if (typeof output === "string") return output;
  if (output === undefined || output === null) return "";
  try {
    return JSON.stringify(output, null, 2);
  } catch {
    return String(output);
  }
}

const INTERRUPTED = "The tool call was interrupted:";
/** `src/workspace/hub.ts`: a Stop that reached the call before (or without) the agent. */
const STOPPED_BY_HUB = ["Stopped before the workspace agent ran it.", "Stopped; the workspace"];

export function stateOf(call: {
  output: string | undefined;
  isError: boolean;
  running: boolean;
}): ToolState {
  const { output, isError, running } = call;
  if (running || output === undefined) return "running";
  if (!isError) return "done";
  if (output.includes(INTERRUPTED) || STOPPED_BY_HUB.some((s) => output.startsWith(s))) {
    return "stopped";
  }
  if (/\[stopped: /.test(output)) return "stopped";
  if (output.startsWith("The workspace agent is not connected")) return "offline";
  return "failed";
}

/** The output a stopped call streamed before it was stopped, without the note saying so. */
export function withoutStopNote(output: string): string {
  const at = output.lastIndexOf(`[${INTERRUPTED}`);
  if (at !== -1) return output.slice(0, at).trimEnd();
  return output.startsWith(INTERRUPTED) ? "" : output;
}

/** The exit as `execute` (and `process_output`) reported it, e.g. "exit 1", "timed out". */
export function exitOf(output: string): string | undefined {
  const tail = output.slice(-400);
  const code = /\[(?:exit code|p\d+: exit code) (-?\d+)\]\s*$/.exec(tail);
  if (code) return `exit ${code[1]}`;
  const signal = /\[(?:p\d+: )?killed by signal (\w+)\]\s*$/.exec(tail);
  if (signal) return `killed by ${signal[1]}`;
  const timeout = /\[timed out after (\d+) ms/.exec(tail);
  if (timeout) return `timed out after ${formatDuration(Number(timeout[1]))}`;
  if (/\[the command could not be started/.test(tail)) return "could not start";
  return undefined;
}

/** Lines of a listing or a search before the tool's closing note (`\n\n[Showing …]`). */
export function resultLines(output: string): string[] {
  const note = output.lastIndexOf("\n\n[");
  const body = note === -1 ? output : output.slice(0, note);
  return body.split("\n").filter((line) => line !== "");
}

export function matchesOf(output: string): string | undefined {
  if (output.startsWith("No matches for ")) return "no matches";
  const note = /\[Showing the first (\d+) matches[^\]]*there are more/.exec(output.slice(-300));
  const count = note ? Number(note[1]) : resultLines(output).length;
  const more = note ? "+" : "";
  return `${count}${more} ${count === 1 && !more ? "match" : "matches"}`;
}

/** "lines 1–120" from read_file's numbered lines (`cat -n`: number, tab, text). */
export function linesRead(output: string): string | undefined {
  if (/ is empty\.$/.test(output)) return "empty";
  const numbers = [...output.matchAll(/^ *(\d+)\t/gm)].map((m) => m[1]);
  const first = numbers[0];
  const last = numbers.at(-1);
  if (first === undefined || last === undefined) return undefined;
  return first === last ? `line ${first}` : `lines ${first}–${last}`;
}

/** <0.1 s, 3.2 s, 42 s, 2 min 5 s. */
export function formatDuration(ms: number): string {
  // Below this, what the page measures is the events' delivery more than the command.
  if (ms < 100) return "<0.1 s";
  if (ms < 10_000) return `${(Math.max(ms, 0) / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
}
