/**
 * edit_file: exact string replacement. The model copies `old_string` from what read_file showed;
 * when it is missing or ambiguous the edit is refused with what the model needs to fix the call
 * (the count and line numbers of the matches). Files with "\r\n" line endings accept an
 * `old_string` written with "\n" (models rarely reproduce the "\r"), and keep their endings.
 */
import { readFile, stat, writeFile } from "node:fs/promises";
import { displayPath, fsErrorText, resolvePath } from "./paths.ts";
import { type EditFileInput, LIMITS } from "./schemas.ts";
import { fail, ok, type WorkspaceToolContext, type WorkspaceToolResult } from "./types.ts";

/** Line numbers listed in a message, at most. */
const MAX_LINES_LISTED = 20;

export async function editFileTool(
  input: EditFileInput,
  ctx: WorkspaceToolContext,
): Promise<WorkspaceToolResult> {
  const absolute = resolvePath(ctx.root, input.path);
  const shown = displayPath(ctx.root, absolute);
  if (input.old_string === input.new_string) {
    return fail("old_string and new_string are identical: there is nothing to change.");
  }
  let content: string;
  try {
    const loaded = await loadText(absolute, shown);
    if (typeof loaded !== "string") return loaded;
    content = loaded;
  } catch (error) {
    return fail(fsErrorText(error, shown));
  }

  let { old_string: search, new_string: replacement } = input;
  let positions = occurrences(content, search);
  if (positions.length === 0 && content.includes("\r\n") && search.includes("\n")) {
    search = toCrlf(search);
    replacement = toCrlf(replacement);
    positions = occurrences(content, search);
  }
  if (positions.length === 0) {
    return fail(
      `old_string was not found in ${shown}. It must match the file exactly, including ` +
        "whitespace, indentation and line breaks (and without read_file's line-number prefix). " +
        "Read the file again with read_file and copy the exact text.",
    );
  }
  const lines = lineNumbers(content, positions);
  if (positions.length > 1 && input.replace_all !== true) {
    return fail(
      `old_string occurs ${positions.length} times in ${shown} (${listLines(lines)}). ` +
        "Include more surrounding lines in old_string to make it unique, or set replace_all " +
        "to true to replace every occurrence.",
    );
  }

  // split/join rather than String.replace: "$&" and friends in new_string stay literal.
  const updated = content.split(search).join(replacement);
  try {
    await writeFile(absolute, updated, "utf8");
  } catch (error) {
    return fail(fsErrorText(error, shown));
  }
  const count = positions.length;
  return ok(
    `Edited ${shown}: replaced ${count} occurrence${count === 1 ? "" : "s"} (${listLines(lines)}).`,
  );
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
