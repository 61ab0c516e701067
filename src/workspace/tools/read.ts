/**
 * read_file: a text file's lines, numbered like `cat -n` (number right-aligned in 6 columns, a
 * tab, the line), from `offset` for up to `limit` lines and at most `LIMITS.readMaxBytes` of text,
 * with a note saying how to read on. The file is read in chunks, so a huge log costs what is
 * shown, not its size. Binary files (a NUL byte in the first 8 KB) are refused.
 */
import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import { displayPath, fsErrorText, resolvePath } from "./paths.ts";
import { LIMITS, type ReadFileInput } from "./schemas.ts";
import { fail, ok, type WorkspaceToolContext, type WorkspaceToolResult } from "./types.ts";

const SNIFF_BYTES = 8192;
const CHUNK_BYTES = 64 * 1024;
/** Past the shown lines, the total line count is reported only when it is this cheap to get. */
const COUNT_REST_MAX_BYTES = 32 * 1024 * 1024;

export async function readFileTool(
  input: ReadFileInput,
  ctx: WorkspaceToolContext,
): Promise<WorkspaceToolResult> {
  const absolute = resolvePath(ctx.root, input.path);
  const shown = displayPath(ctx.root, absolute);
  let handle: FileHandle;
  try {
    handle = await open(absolute, "r");
  } catch (error) {
    return fail(fsErrorText(error, shown));
  }
  try {
    const stats = await handle.stat();
    if (stats.isDirectory()) {
      return fail(`${shown} is a directory, not a file. Use list_files to see what it contains.`);
    }
    if (await looksBinary(handle)) {
      return fail(
        `${shown} is a binary file (${stats.size} bytes); read_file only shows text. ` +
          "To inspect it, use execute with a tool such as `file`, `xxd | head` or `strings`.",
      );
    }
    return await readLines(handle, shown, input, stats.size, ctx.signal);
  } catch (error) {
    return fail(fsErrorText(error, shown));
  } finally {
    await handle.close().catch(() => {});
  }
}

async function looksBinary(handle: FileHandle): Promise<boolean> {
  const buffer = Buffer.alloc(SNIFF_BYTES);
  const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
  return buffer.subarray(0, bytesRead).includes(0);
}

async function readLines(
  handle: FileHandle,
  shown: string,
  input: ReadFileInput,
  size: number,
  signal: AbortSignal,
): Promise<WorkspaceToolResult> {
  const first = input.offset ?? 1;
  const maxLines = input.limit ?? LIMITS.readDefaultLines;
  const out: string[] = [];
  let bytes = 0;
  let lineNumber = 0;
  let cappedByBytes = false;
  // Pulled by hand: a `for await` that breaks would close the generator, and countRest()
  // still reads from it.
  const lines = linesOf(handle, signal);
  for (let next = await lines.next(); !next.done; next = await lines.next()) {
    const line = next.value;
    lineNumber++;
    if (lineNumber < first) continue;
    const text = numbered(lineNumber, line);
    const textBytes = Buffer.byteLength(text) + 1;
    if (out.length > 0 && bytes + textBytes > LIMITS.readMaxBytes) {
      cappedByBytes = true;
      break;
    }
    out.push(text);
    bytes += textBytes;
    if (out.length >= maxLines) break;
  }
  const last = first + out.length - 1;
  // lineNumber counts every line pulled, including one pulled but not shown for the byte cap.
  const rest = await countRest(lines, size);
  const total = rest === null ? null : lineNumber + rest;

  if (out.length === 0) {
    if (lineNumber === 0) return ok(`${shown} is empty.`);
    return fail(
      `offset ${first} is past the end of ${shown}, which has ${lineNumber} lines. ` +
        `Use an offset from 1 to ${lineNumber}.`,
    );
  }
  const body = out.join("\n");
  if (total === last) return ok(body);
  const of = total === null ? "" : ` of ${total}`;
  const why = cappedByBytes ? ` (output is capped at ${LIMITS.readMaxBytes / 1024} KB)` : "";
  return ok(
    `${body}\n\n[Showing lines ${first}–${last}${of} of ${shown}${why}. ` +
      `To read more, call read_file with offset=${last + 1}.]`,
  );
}

/** How many lines `lines` still yields, or null when the file is too large to count cheaply. */
async function countRest(lines: AsyncGenerator<Line>, size: number): Promise<number | null> {
  if (size > COUNT_REST_MAX_BYTES) {
    await lines.return(undefined);
    return null;
  }
  let count = 0;
  for await (const _ of lines) count++;
  return count;
}

function numbered(lineNumber: number, line: Line): string {
  const text =
    line.length > LIMITS.maxLineChars
      ? `${line.text.slice(0, LIMITS.maxLineChars)}… [line cut: ${line.length} characters]`
      : line.text;
  return `${String(lineNumber).padStart(6)}\t${text}`;
}

/** A line without its "\n" or "\r\n", cut to what can be shown, and its full length. */
interface Line {
  text: string;
  length: number;
}

/**
 * The file's lines; a final line without "\n" is still a line. A line is kept only up to what can
 * be shown, so a minified bundle or a log with no newlines costs no more memory than a short one.
 */
async function* linesOf(handle: FileHandle, signal: AbortSignal): AsyncGenerator<Line> {
  const decoder = new StringDecoder("utf8");
  const buffer = Buffer.alloc(CHUNK_BYTES);
  const keep = LIMITS.maxLineChars + 1; // one more than shown, to know it was cut
  let position = 0;
  let partial = "";
  let partialLength = 0;
  for (;;) {
    signal.throwIfAborted();
    const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, position);
    const text = bytesRead === 0 ? decoder.end() : decoder.write(buffer.subarray(0, bytesRead));
    position += bytesRead;
    let start = 0;
    for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", start)) {
      const piece = text.slice(start, end);
      yield finish(partial + piece.slice(0, keep - partial.length), partialLength + piece.length);
      partial = "";
      partialLength = 0;
      start = end + 1;
    }
    const rest = text.slice(start);
    if (partial.length < keep) partial += rest.slice(0, keep - partial.length);
    partialLength += rest.length;
    if (bytesRead === 0) break;
  }
  if (partialLength > 0) yield finish(partial, partialLength);
}

function finish(text: string, length: number): Line {
  // "\r\n" endings: the "\r" is not part of the line (it is there only when the line was not cut).
  if (text.length === length && text.endsWith("\r"))
    return { text: text.slice(0, -1), length: length - 1 };
  return { text, length };
}
