/**
 * edit_file: exact string replacement. The model copies `old_string` from what read_file showed;
 * when it is missing or ambiguous the edit is refused with what the model needs to fix the call
 * (the count and line numbers of the matches). Files with "\r\n" line endings accept an
 * `old_string` written with "\n" (models rarely reproduce the "\r"), and keep their endings.
 * `edits` applies several replacements in order, each to the text the ones before it left, and
 * writes the file once only when every one succeeded (all or none).
 */
import { readFile, stat, writeFile } from "node:fs/promises";
import { displayPath, fsErrorText, resolvePath } from "./paths.ts";
import { type EditFileInput, type FileEdit, LIMITS } from "./schemas.ts";
import { fail, ok, type WorkspaceToolContext, type WorkspaceToolResult } from "./types.ts";

/** Line numbers listed in a message, at most. */
const MAX_LINES_LISTED = 20;
/** Edits whose line numbers a result lists, at most (the rest are counted). */
const MAX_EDITS_LISTED = 20;

/** What one replacement did to the text. */
interface Applied {
  content: string;
  count: number;
  lines: number[];
}

export async function editFileTool(
  input: EditFileInput,
  ctx: WorkspaceToolContext,
): Promise<WorkspaceToolResult> {
  const absolute = resolvePath(ctx.root, input.path);
  const shown = displayPath(ctx.root, absolute);
  const edits = editsOf(input);
  if (typeof edits === "string") return fail(edits);
  // With `edits`, a refusal names the edit (1-based) and says that nothing was written.
  const several = input.edits !== undefined;
  const refuse = (index: number, reason: string) =>
    fail(
      several
        ? `Edit ${index + 1} of ${edits.length} failed: ${reason} Nothing was written: ` +
            `${shown} is unchanged (the edits apply all or none).`
        : reason,
    );

  const identical = edits.findIndex((edit) => edit.old_string === edit.new_string);
  if (identical !== -1) {
    return refuse(
      identical,
      "old_string and new_string are identical: there is nothing to change.",
    );
  }
  let content: string;
  try {
    const loaded = await loadText(absolute, shown);
    if (typeof loaded !== "string") return loaded;
    content = loaded;
  } catch (error) {
    return fail(fsErrorText(error, shown));
  }

  // Each edit applies to the text as the ones before it left it; the file is written once.
  const applied: Applied[] = [];
  for (const [index, edit] of edits.entries()) {
    const outcome = applyEdit(content, edit, shown, index > 0 && several);
    if (typeof outcome === "string") return refuse(index, outcome);
    applied.push(outcome);
    content = outcome.content;
  }
  try {
    await writeFile(absolute, content, "utf8");
  } catch (error) {
    return fail(fsErrorText(error, shown));
  }
  return ok(several ? summary(shown, applied) : single(shown, applied[0] as Applied));
}

/** The replacements asked for, in order, or why there are none (input that skipped validation). */
function editsOf(input: EditFileInput): FileEdit[] | string {
  if (input.edits !== undefined) return input.edits;
  const { old_string, new_string, replace_all } = input;
  if (old_string === undefined || new_string === undefined) {
    return "Give old_string and new_string (one edit), or edits (several).";
  }
  return [{ old_string, new_string, replace_all }];
}

/** One replacement in `content`, or why it is refused. */
function applyEdit(
  content: string,
  edit: FileEdit,
  shown: string,
  afterOthers: boolean,
): Applied | string {
  let { old_string: search, new_string: replacement } = edit;
  let positions = occurrences(content, search);
  if (positions.length === 0 && content.includes("\r\n") && search.includes("\n")) {
    search = toCrlf(search);
    replacement = toCrlf(replacement);
    positions = occurrences(content, search);
  }
  if (positions.length === 0) {
    return (
      `old_string was not found in ${shown}${afterOthers ? " as the edits before it left it" : ""}. ` +
      "It must match the file exactly, including whitespace, indentation and line breaks (and " +
      "without read_file's line-number prefix). Read the file again with read_file and copy the " +
      "exact text."
    );
  }
  const lines = lineNumbers(content, positions);
  if (positions.length > 1 && edit.replace_all !== true) {
    return (
      `old_string occurs ${positions.length} times in ${shown} (${listLines(lines)}` +
      `${afterOthers ? ", counted after the edits before it" : ""}). Include more surrounding ` +
      "lines in old_string to make it unique, or set replace_all to true to replace every " +
      "occurrence."
    );
  }
  // split/join rather than String.replace: "$&" and friends in new_string stay literal.
  return { content: content.split(search).join(replacement), count: positions.length, lines };
}

function single(shown: string, { count, lines }: Applied): string {
  return `Edited ${shown}: replaced ${count} ${plural(count, "occurrence")} (${listLines(lines)}).`;
}

/** `edits`' result: bounded however many edits there were. */
function summary(shown: string, applied: Applied[]): string {
  const total = applied.reduce((sum, { count }) => sum + count, 0);
  const listed = applied
    .slice(0, MAX_EDITS_LISTED)
    .map(({ lines }, index) => `edit ${index + 1}: ${listLines(lines)}`);
  if (applied.length > MAX_EDITS_LISTED) {
    listed.push(`… ${applied.length - MAX_EDITS_LISTED} more edits`);
  }
  return (
    `Edited ${shown} with ${applied.length} ${plural(applied.length, "edit")}: replaced ` +
    `${total} ${plural(total, "occurrence")} (${listed.join("; ")}). Each edit's line numbers ` +
    "are in the text as the edits before it left it."
  );
}

function plural(count: number, word: string): string {
  return count === 1 ? word : `${word}s`;
}

/** The file as text, or the reason it cannot be edited as text. */
async function loadText(absolute: string, shown: string): Promise<string | WorkspaceToolResult> {
  const stats = await stat(absolute);
  if (stats.isDirectory()) return fail(`${shown} is a directory, not a file.`);
  if (stats.size > LIMITS.maxFileBytes) {
    return fail(
      `${shown} is too large to edit (${stats.size} bytes; the limit is ${LIMITS.maxFileBytes}). ` +
        "Use execute with a tool such as sed instead.",
    );
  }
  const bytes = await readFile(absolute);
  if (bytes.subarray(0, 8192).includes(0)) return fail(`${shown} is a binary file.`);
  try {
    // fatal: a file that is not UTF-8 would be corrupted by decoding and writing it back.
    // ignoreBOM: a byte-order mark is kept as the first character, so it is written back too.
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return fail(`${shown} is not valid UTF-8 text; edit it with execute (e.g. sed) instead.`);
  }
}

/** Start indexes of the non-overlapping occurrences of `search`. */
function occurrences(content: string, search: string): number[] {
  const found: number[] = [];
  for (
    let at = content.indexOf(search);
    at !== -1;
    at = content.indexOf(search, at + search.length)
  ) {
    found.push(at);
  }
  return found;
}

/** 1-based line numbers of ascending indexes, counted in one pass. */
function lineNumbers(content: string, indexes: number[]): number[] {
  const lines: number[] = [];
  let line = 1;
  let from = 0;
  for (const index of indexes) {
    for (
      let nl = content.indexOf("\n", from);
      nl !== -1 && nl < index;
      nl = content.indexOf("\n", nl + 1)
    ) {
      line++;
    }
    from = index;
    lines.push(line);
  }
  return lines;
}

function listLines(lines: number[]): string {
  const unique = [...new Set(lines)];
  const shown = unique.slice(0, MAX_LINES_LISTED).join(", ");
  const more =
    unique.length > MAX_LINES_LISTED ? `, … ${unique.length - MAX_LINES_LISTED} more` : "";
  return `${unique.length === 1 ? "line" : "lines"} ${shown}${more}`;
}

function toCrlf(text: string): string {
  return text.replace(/\r?\n/g, "\r\n");
}
