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
  /** edit_file: replacements in one call's `edits`. */
  editMaxEdits: 100,
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
  /** execute with background: how long the call waits for the first output (less if it exits). */
  backgroundFirstOutputMs: 1500,
  /** Background processes running at once, per agent. */
  backgroundMaxRunning: 16,
  /** Finished background processes kept (for their exit code and last output), per agent. */
  backgroundMaxFinished: 16,
  /** A background process's unread output: the newest this many bytes are kept. */
  backgroundBufferBytes: 256 * 1024,
  /** process_output: the longest wait for new output. */
  processMaxWaitMs: 30_000,
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

const oldString = z
  .string()
  .min(1)
  .describe(
    "The exact text to replace, including whitespace and indentation, copied from the file " +
      "(without the line-number prefix read_file shows). It must occur exactly once unless " +
      "replace_all is true: include enough surrounding lines to make it unique.",
  );
const newString = z
  .string()
  .describe("The text to put in its place (must differ from old_string).");
const replaceAll = z
  .boolean()
  .optional()
  .describe("Replace every occurrence of old_string instead of exactly one. Default false.");

/** One replacement of `edits`: the same fields as the single form. */
export const FileEdit = z.strictObject({
  old_string: oldString,
  new_string: newString,
  replace_all: replaceAll,
});

/**
 * One object (not a union): providers want a tool's input schema to be an object. The refinement
 * (not part of the JSON Schema; the descriptions say it) takes exactly one of the two forms.
 */
export const EditFileInput = z
  .strictObject({
    path: path.describe("The file to edit: relative to the workspace directory, or absolute."),
    old_string: oldString
      .optional()
      .describe(
        "For one edit: the exact text to replace, including whitespace and indentation, copied " +
          "from the file (without the line-number prefix read_file shows). It must occur exactly " +
          "once unless replace_all is true: include enough surrounding lines to make it unique. " +
          "Give it with new_string, or use edits instead.",
      ),
    new_string: newString
      .optional()
      .describe(
        "For one edit: the text to put in its place (must differ from old_string). Required " +
          "with old_string.",
      ),
    replace_all: replaceAll,
    edits: z
      .array(FileEdit)
      .min(1, "edits must hold at least one edit")
      .max(LIMITS.editMaxEdits)
      .optional()
      .describe(
        "For several edits to the same file, instead of old_string/new_string/replace_all: " +
          "applied in order, each to the text as changed by the ones before it, and all or none " +
          "— if one fails, the file is left unchanged. " +
          `At most ${LIMITS.editMaxEdits}.`,
      ),
  })
  .superRefine((input, ctx) => {
    const single =
      input.old_string !== undefined ||
      input.new_string !== undefined ||
      input.replace_all !== undefined;
    if (input.edits !== undefined) {
      if (single) {
        ctx.addIssue({
          code: "custom",
          path: ["edits"],
          message:
            "give either old_string/new_string/replace_all (one edit) or edits (several), not both",
        });
      }
      return;
    }
    if (input.old_string === undefined && input.new_string === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["old_string"],
        message: "give old_string and new_string (one edit), or edits (several)",
      });
      return;
    }
    for (const key of ["old_string", "new_string"] as const) {
      if (input[key] === undefined) {
        const other = key === "old_string" ? "new_string" : "old_string";
        ctx.addIssue({ code: "custom", path: [key], message: `${key} is required with ${other}` });
      }
    }
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
  background: z
    .boolean()
    .optional()
    .describe(
      "Run it in the background: the call returns a process_id and what the command printed in " +
        `its first ${LIMITS.backgroundFirstOutputMs / 1000} s (or until it exited), and the ` +
        "command keeps running. Use it for dev servers, watchers and anything else that does not " +
        "end by itself; read its later output with process_output, stop it with process_signal. " +
        "timeout_ms does not apply. Default false.",
    ),
});

const processId = z
  .string()
  .min(1)
  .max(100)
  .describe('The id execute returned for a background process, e.g. "p1" (see process_list).');

export const ProcessOutputInput = z.strictObject({
  process_id: processId,
  wait_ms: z
    .int()
    .min(0)
    .max(LIMITS.processMaxWaitMs)
    .optional()
    .describe(
      "When it has printed nothing new, wait up to this many milliseconds for output or for it " +
        `to exit. Default 0 (answer at once), maximum ${LIMITS.processMaxWaitMs}.`,
    ),
});

export const ProcessListInput = z.strictObject({});

export const PROCESS_SIGNALS = ["TERM", "INT", "KILL", "HUP"] as const;

export const ProcessSignalInput = z.strictObject({
  process_id: processId,
  signal: z
    .enum(PROCESS_SIGNALS)
    .describe(
      "TERM to stop it (programs clean up first), INT as Ctrl-C, KILL when it ignores TERM, " +
        "HUP to make some programs reload.",
    ),
});

export type ReadFileInput = z.infer<typeof ReadFileInput>;
export type WriteFileInput = z.infer<typeof WriteFileInput>;
export type EditFileInput = z.infer<typeof EditFileInput>;
export type FileEdit = z.infer<typeof FileEdit>;
export type ListFilesInput = z.infer<typeof ListFilesInput>;
export type SearchFilesInput = z.infer<typeof SearchFilesInput>;
export type ExecuteInput = z.infer<typeof ExecuteInput>;
export type ProcessOutputInput = z.infer<typeof ProcessOutputInput>;
export type ProcessListInput = z.infer<typeof ProcessListInput>;
export type ProcessSignalInput = z.infer<typeof ProcessSignalInput>;

export const WORKSPACE_TOOL_SCHEMAS = {
  read_file: ReadFileInput,
  write_file: WriteFileInput,
  edit_file: EditFileInput,
  list_files: ListFilesInput,
  search_files: SearchFilesInput,
  execute: ExecuteInput,
  process_output: ProcessOutputInput,
  process_list: ProcessListInput,
  process_signal: ProcessSignalInput,
} as const;

export type WorkspaceToolName = keyof typeof WORKSPACE_TOOL_SCHEMAS;

export interface WorkspaceToolInputs {
  read_file: ReadFileInput;
  write_file: WriteFileInput;
  edit_file: EditFileInput;
  list_files: ListFilesInput;
  search_files: SearchFilesInput;
  execute: ExecuteInput;
  process_output: ProcessOutputInput;
  process_list: ProcessListInput;
  process_signal: ProcessSignalInput;
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
    "first so you copy the text exactly. For several changes to one file, give edits (a list " +
    "of {old_string, new_string, replace_all?}) instead of old_string/new_string: they apply in " +
    "order, each to the result of the ones before, and all or none. To create a file or " +
    "rewrite it whole, use write_file.",
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
    "killed at the timeout or when the user stops the chat. For a dev server, a watcher or " +
    "anything else that keeps running, set background: true: the call returns a process_id and " +
    "the first output, and process_output reads the rest. Do not start those with a trailing " +
    '"&" (their output would be lost).',
  process_output:
    "Read what a background process (started by execute with background: true) printed since " +
    "the last read, and whether it is still running or its exit code. With wait_ms, waits for " +
    "new output or the exit when there is none yet — e.g. until a server says it is listening. " +
    `Keeps the newest ${LIMITS.backgroundBufferBytes / KB} KB of unread output (says how much ` +
    `was dropped); one read returns its first and last ${LIMITS.executeHeadBytes / KB} KB.`,
  process_list:
    "List the background processes of this workspace: process_id, running or exit code, when " +
    "it started, and the command. They keep running until they exit, are signalled with " +
    "process_signal, or the workspace agent stops. At most " +
    `${LIMITS.backgroundMaxRunning} run at once.`,
  process_signal:
    "Send a signal to a background process and everything it started (its whole process " +
    "group): TERM to stop it, INT as Ctrl-C, KILL when it does not stop, HUP to reload. Waits " +
    "briefly and says whether it exited.",
};
