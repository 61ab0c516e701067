/**
 * The workspace tools as the model sees them: names, descriptions and input schemas (sent to the
 * provider as JSON Schemas). The same schemas validate the input on the server and again in the
 * agent. The limits quoted in the descriptions are the ones the tools enforce.
 */
import { z } from "zod";

export const LIMITS = {
  /** read_file: lines returned when no `limit` is given. */
  readDefaultLines: 2000,
  /** read_file: bytes of file text returned per call, whatever the `limit`. */
  readMaxBytes: 256 * 1024,
  /** read_file and search_files: longer lines are cut. */
  maxLineChars: 2000,
  /** list_files: entries returned, and bytes of output (for very long paths). */
  listMaxEntries: 1000,
  listMaxBytes: 128 * 1024,
  /** search_files: matching lines returned. */
  searchMaxMatches: 500,
  /** search_files: bytes of output. */
  searchMaxBytes: 64 * 1024,
  /** search_files: a matching line is shown up to this many characters. */
  searchMaxLineChars: 500,
  /** search_files and edit_file: larger files are skipped or refused. */
  maxFileBytes: 10 * 1024 * 1024,
  /** execute. */
  executeDefaultTimeoutMs: 120_000,
  executeMaxTimeoutMs: 600_000,
  /** execute: the result keeps this many bytes from the start and as many from the end. */
  executeHeadBytes: 32 * 1024,
  executeTailBytes: 32 * 1024,
  /** execute: output streamed as it comes; the rest is only in the (head + tail) result. */
  executeMaxStreamBytes: 1024 * 1024,
} as const;

const path = z.string().min(1);

export const ReadFileInput = z.strictObject({
  path: path.describe("The file to read: relative to the workspace directory, or absolute."),
  offset: z.int().min(1).optional().describe("The line number to start at (1-based). Default 1."),
  limit: z
    .int()
    .min(1)
    .optional()
    .describe(`The number of lines to return. Default ${LIMITS.readDefaultLines}.`),
});

export const WriteFileInput = z.strictObject({
  path: path.describe("The file to write: relative to the workspace directory, or absolute."),
  content: z.string().describe("The complete new content of the file."),
});

export const EditFileInput = z.strictObject({
  path: path.describe("The file to edit: relative to the workspace directory, or absolute."),
  old_string: z
    .string()
    .min(1)
    .describe(
      "The exact text to replace, including whitespace and indentation, copied from the file " +
        "(without the line-number prefix read_file shows). It must occur exactly once unless " +
        "replace_all is true: include enough surrounding lines to make it unique.",
    ),
  new_string: z.string().describe("The text to put in its place (must differ from old_string)."),
  replace_all: z
    .boolean()
    .optional()
    .describe("Replace every occurrence of old_string instead of exactly one. Default false."),
});

export const ListFilesInput = z.strictObject({
  path: z
    .string()
    .optional()
    .describe(
      "The directory to list: relative to the workspace directory, or absolute. Default: the workspace directory.",
    ),
  pattern: z
    .string()
    .min(1)
    .optional()
    .describe(
      'A glob matched against paths relative to `path`, e.g. "**/*.ts", "src/*", "*.{js,json}". ' +
        '"*" stays within one directory, "**" spans any number. Default "**/*" (everything).',
    ),
});

export const SearchFilesInput = z.strictObject({
  pattern: z
    .string()
    .min(1)
    .describe(
      'A regular expression matched against each line, case-sensitive, e.g. "function\\s+load" ' +
        'or "TODO|FIXME". Escape regex characters to find literal text ("\\(" for "(").',
    ),
  path: z
    .string()
    .optional()
    .describe(
      "The directory or file to search: relative to the workspace directory, or absolute. Default: the workspace directory.",
    ),
  glob: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Only search files matching this glob, e.g. "*.ts" (any depth) or "src/**/*.py" ' +
        '(relative to `path`); "!*.test.ts" excludes instead.',
    ),
});

export const ExecuteInput = z.strictObject({
  command: z
    .string()
    .min(1)
    .describe(
      'The shell command to run (bash if available, else sh), e.g. "npm test 2>&1 | tail -50".',
    ),
  timeout_ms: z
    .int()
    .min(1)
    .max(LIMITS.executeMaxTimeoutMs)
    .optional()
    .describe(
      `Kill the command after this many milliseconds. Default ${LIMITS.executeDefaultTimeoutMs}, ` +
        `maximum ${LIMITS.executeMaxTimeoutMs}.`,
    ),
  cwd: z
    .string()
    .optional()
    .describe(
      "The directory to run in: relative to the workspace directory, or absolute. Default: the workspace directory.",
    ),
});

export type ReadFileInput = z.infer<typeof ReadFileInput>;
export type WriteFileInput = z.infer<typeof WriteFileInput>;
export type EditFileInput = z.infer<typeof EditFileInput>;
export type ListFilesInput = z.infer<typeof ListFilesInput>;
export type SearchFilesInput = z.infer<typeof SearchFilesInput>;
export type ExecuteInput = z.infer<typeof ExecuteInput>;

export const WORKSPACE_TOOL_SCHEMAS = {
  read_file: ReadFileInput,
  write_file: WriteFileInput,
  edit_file: EditFileInput,
  list_files: ListFilesInput,
  search_files: SearchFilesInput,
  execute: ExecuteInput,
} as const;

export type WorkspaceToolName = keyof typeof WORKSPACE_TOOL_SCHEMAS;

export interface WorkspaceToolInputs {
  read_file: ReadFileInput;
  write_file: WriteFileInput;
  edit_file: EditFileInput;
  list_files: ListFilesInput;
  search_files: SearchFilesInput;
  execute: ExecuteInput;
}

export function isWorkspaceToolName(name: string): name is WorkspaceToolName {
  return Object.hasOwn(WORKSPACE_TOOL_SCHEMAS, name);
}

const KB = 1024;

export const WORKSPACE_TOOL_DESCRIPTIONS: Record<WorkspaceToolName, string> = {
  read_file:
    "Read a text file. Lines come numbered like `cat -n` (line number, tab, text); the numbers " +
    "are not part of the file. Returns up to " +
    `${LIMITS.readDefaultLines} lines or ${LIMITS.readMaxBytes / KB} KB per call; use offset and ` +
    "limit to read further or to read a known range. Binary files are refused; for a directory " +
    "use list_files.",
  write_file:
    "Write a file, replacing it entirely if it exists; missing parent directories are created. " +
    "For a change to part of an existing file, prefer edit_file.",
  edit_file:
    "Replace exact text in a file: old_string must match the file exactly (whitespace and " +
    "indentation included) and occur exactly once, unless replace_all is true. Read the file " +
    "first so you copy the text exactly. To create a file or rewrite it whole, use write_file.",
  list_files:
    'List files and directories (directories end with "/") under a directory, matching a ' +
    "glob, depth first and sorted by name. Skips what .gitignore excludes and .git itself. " +
    `Returns at most ${LIMITS.listMaxEntries} entries; narrow path or pattern for more.`,
  search_files:
    "Search file contents for a regular expression. Returns matching lines as " +
    "`path:line: text`, in file order. Skips what .gitignore excludes, .git and binary files. " +
    `Returns at most ${LIMITS.searchMaxMatches} matches; narrow pattern, path or glob for more.`,
  execute:
    "Run a shell command in the workspace and return its combined stdout and stderr, then the " +
    "exit code. A non-zero exit code is reported, not treated as a tool failure. Stdin is " +
    "closed, so interactive commands fail: pass flags such as --yes. Long output keeps its first " +
    `and last ${LIMITS.executeHeadBytes / KB} KB. The command and everything it started are ` +
    "killed at the timeout or when the user stops the chat. For a server or other long-running " +
    "process, start it in the background with its output redirected to a file " +
    '(e.g. "nohup cmd > log.txt 2>&1 &").',
};
