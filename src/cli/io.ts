/** Where the CLI writes and how it learns of Ctrl-C; injectable so tests run it in-process. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Registers the Stop handler (SIGINT in the real CLI); returns its remover. */
  onInterrupt: (handler: () => void) => () => void;
  setExitCode: (code: number) => void;
  /** Reads all of standard input (for --password-stdin). */
  readStdin?: () => Promise<string>;
}

/** Exit codes shared by every command. */
export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;
