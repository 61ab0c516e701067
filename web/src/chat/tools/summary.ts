/**
 * What a tool card's header says, in words, as pure functions of the call's input and result
 * text. The result texts parsed here are the workspace tools' own (`src/workspace/tools/*.ts`),
 * the turn's (`src/chatloop/turn.ts`: a Stop) and the hub's (`src/workspace/hub.ts`: no agent);
 * anything not recognised falls back to a plainer header, never to a guess.
 */
import { diffLines } from "diff";

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

const str = (input: ToolInput, key: string): string | undefined => {
  const value = input[key];
  return typeof value === "string" && value !== "" ? value : undefined;
};
const num = (input: ToolInput, key: string): number | undefined => {
  const value = input[key];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
};

/** One line, at most `max` characters: a command or a pattern as a header shows it. */
export function oneLine(text: string, max = 80): string {
  const lines = text.trim().split("\n");
  const first = lines[0] ?? "";
  const cut = first.length > max ? `${first.slice(0, max - 1)}…` : first;
  return lines.length > 1 && !cut.endsWith("…") ? `${cut} …` : cut;
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

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Lines added and removed by edit_file's edits (either form) or by write_file's content. */
export function lineChanges(name: string, input: ToolInput): { added: number; removed: number } {
  const pairs: Array<[string, string]> = [];
  if (name === "write_file") pairs.push(["", str(input, "content") ?? ""]);
  else if (Array.isArray(input.edits)) {
    for (const edit of input.edits) {
      const e = parseInput(edit);
      pairs.push([
        str(e, "old_string") ?? "",
        typeof e.new_string === "string" ? e.new_string : "",
      ]);
    }
  } else if (typeof input.old_string === "string") {
    pairs.push([input.old_string, typeof input.new_string === "string" ? input.new_string : ""]);
  }
  let added = 0;
  let removed = 0;
  for (const [before, after] of pairs) {
    for (const change of diffLines(before, after)) {
      if (change.added) added += change.count;
      if (change.removed) removed += change.count;
    }
  }
  return { added, removed };
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
function resultLines(output: string): string[] {
  const note = output.lastIndexOf("\n\n[");
  const body = note === -1 ? output : output.slice(0, note);
  return body.split("\n").filter((line) => line !== "");
}

function matchesOf(output: string): string | undefined {
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

const dir = (path: string | undefined) =>
  path === undefined || path === "." || path === "./"
    ? "the workspace"
    : path.endsWith("/")
      ? path
      : `${path}/`;

/** `server__tool` → `server › tool`; a built-in tool name is returned as is. */
export function mcpTitle(name: string): string | undefined {
  const at = name.indexOf("__");
  if (at <= 0 || at + 2 >= name.length) return undefined;
  return `${name.slice(0, at)} › ${name.slice(at + 2)}`;
}

/** An input summarised on one line: its first few fields, strings quoted. */
export function inputSummary(input: ToolInput, max = 60): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined || value === null) continue;
    const shown =
      typeof value === "string"
        ? JSON.stringify(oneLine(value, 40))
        : typeof value === "object"
          ? "…"
          : String(value);
    parts.push(`${key}: ${shown}`);
  }
  return oneLine(parts.join(", "), max);
}

export interface ToolSummaryInput {
  name: string;
  input: ToolInput;
  /** The result's text; undefined while it runs (or the streamed output so far). */
  output: string | undefined;
  state: ToolState;
  /** How long it ran, when that is known (measured live); never guessed. */
  durationMs?: number | undefined;
}

/** A header in two parts: what the call did, then how it came out ("exit 1", "14 matches"). */
export interface SummaryParts {
  title: string;
  detail?: string | undefined;
}

/** The card's header: what the call did (or is doing), in words. */
export function toolSummary(call: ToolSummaryInput): string {
  const { title, detail } = toolSummaryParts(call);
  return detail ? `${title} — ${detail}` : title;
}

const parts = (title: string, detail?: string): SummaryParts => ({ title, detail });

export function toolSummaryParts(call: ToolSummaryInput): SummaryParts {
  const { name, input, state } = call;
  const running = state === "running";
  const done = state === "done";
  const output = call.output ?? "";
  const path = str(input, "path") ?? "a file";
  const pick = (doing: string, did: string, other: string) =>
    running ? doing : done ? did : other;
  switch (name) {
    case "edit_file": {
      const title = pick(`Editing ${path}`, `Edited ${path}`, `Edit ${path}`);
      // A refused or stopped edit changed nothing, one still streaming is not known yet: no
      // counts then.
      const known = Array.isArray(input.edits) || typeof input.new_string === "string";
      if (!known || !(state === "running" || done)) return parts(title);
      const { added, removed } = lineChanges(name, input);
      return parts(`${title} (+${added} −${removed})`);
    }
    case "write_file": {
      const title = pick(`Writing ${path}`, `Wrote ${path}`, `Write ${path}`);
      if (typeof input.content !== "string" || !(state === "running" || done)) return parts(title);
      const content = input.content;
      const lines = content === "" ? 0 : content.replace(/\n$/, "").split("\n").length;
      return parts(`${title} (${plural(lines, "line")})`);
    }
    case "read_file": {
      const offset = num(input, "offset");
      const limit = num(input, "limit");
      const asked =
        offset !== undefined || limit !== undefined
          ? `lines ${offset ?? 1}–${limit === undefined ? "" : (offset ?? 1) + limit - 1}`
          : undefined;
      const range = (done ? linesRead(output) : undefined) ?? asked;
      const title = pick(`Reading ${path}`, `Read ${path}`, `Read ${path}`);
      return parts(range ? `${title} (${range})` : title);
    }
    case "list_files": {
      const where = dir(str(input, "path"));
      const pattern = str(input, "pattern");
      const title = `${pick("Listing", "Listed", "List")} ${where}${pattern ? ` (${pattern})` : ""}`;
      if (!done) return parts(title);
      const count = output.startsWith("No files under ") ? 0 : resultLines(output).length;
      return parts(title, count === 1 ? "1 entry" : `${count} entries`);
    }
    case "search_files": {
      const pattern = JSON.stringify(oneLine(str(input, "pattern") ?? "", 50));
      const where = str(input, "path");
      const title = `${pick("Searching", "Searched", "Search")} ${pattern}${where ? ` in ${where}` : ""}`;
      return parts(title, done ? matchesOf(output) : undefined);
    }
    case "execute":
      return executeSummary(call);
    case "process_output": {
      const id = str(input, "process_id") ?? "a process";
      const title = pick(`Reading output of ${id}`, `Read output of ${id}`, `Read output of ${id}`);
      if (!done) return parts(title);
      if (/\[p\d+: still running\]\s*$/.test(output)) return parts(title, "still running");
      const exit = exitOf(output);
      return parts(title, exit);
    }
    case "process_signal": {
      const id = str(input, "process_id") ?? "a process";
      const signal = str(input, "signal") ?? "a signal";
      return parts(
        pick(`Sending ${signal} to ${id}`, `Sent ${signal} to ${id}`, `Send ${signal} to ${id}`),
      );
    }
    case "process_list":
      return parts(
        pick(
          "Listing background processes",
          "Listed background processes",
          "List background processes",
        ),
      );
    default: {
      const title = mcpTitle(name) ?? name;
      const args = inputSummary(input);
      return parts(args === "" ? title : `${title} (${args})`);
    }
  }
}

function executeSummary({ input, output, state, durationMs }: ToolSummaryInput): SummaryParts {
  const command = oneLine(str(input, "command") ?? "a command", 60);
  const text = output ?? "";
  if (input.background === true) {
    if (state === "running") return parts(`Starting ${command} in the background`);
    const id = /^\[background process (p\d+)/.exec(text)?.[1];
    if (state !== "done") return parts(`Start ${command} in the background`);
    const ended = /\[p\d+ already ended: ([^\]]+)\]\s*$/.exec(text)?.[1];
    return parts(
      `Started ${command} in the background${id ? ` (${id})` : ""}`,
      ended && `ended: ${ended}`,
    );
  }
  const details: string[] = [];
  const exit = state === "done" || state === "failed" ? exitOf(text) : undefined;
  if (exit) details.push(exit);
  if (durationMs !== undefined) details.push(formatDuration(durationMs));
  // A command stopped or timed out still ran (for a while); one that never started did not.
  const ran =
    state === "done" || state === "stopped" || (exit !== undefined && exit !== "could not start");
  const title =
    state === "running" ? `Running ${command}` : ran ? `Ran ${command}` : `Run ${command}`;
  return parts(title, details.length === 0 ? undefined : details.join(" · "));
}
