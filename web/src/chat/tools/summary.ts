/**
 * What a tool card's header says, in words, as pure functions of the call's input and of what
 * its result text states (`parse.ts`); anything not recognised falls back to a plainer header,
 * never to a guess.
 */
import { diffLines } from "diff";
import {
  exitOf,
  formatDuration,
  linesRead,
  matchesOf,
  parseInput,
  resultLines,
  type ToolInput,
  type ToolState,
} from "./parse.ts";

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
  // While it runs, a clock in whole seconds (it ticks each second), from the first one on.
  if (state === "running") {
    if (durationMs !== undefined && durationMs >= 1000) {
      const seconds = Math.floor(durationMs / 1000);
      details.push(seconds < 60 ? `${seconds} s` : formatDuration(seconds * 1000));
    }
  } else if (durationMs !== undefined) details.push(formatDuration(durationMs));
  // A command stopped or timed out still ran (for a while); one that never started did not.
  const ran =
    state === "done" || state === "stopped" || (exit !== undefined && exit !== "could not start");
  const title =
    state === "running" ? `Running ${command}` : ran ? `Ran ${command}` : `Run ${command}`;
  return parts(title, details.length === 0 ? undefined : details.join(" · "));
}
