/**
 * Asks for the agent token in a terminal, without echoing it: the one-liner the Workspaces page
 * shows then holds no secret, so the token ends up in no shell history and in no `ps` listing,
 * whatever the shell (bash, zsh and fish differ on `read -s`; this does not).
 *
 * Raw mode, so each key arrives as typed: Enter ends, Backspace deletes, Ctrl-C and Ctrl-D on an
 * empty line give up; other control characters and a terminal's bracketed-paste markers are
 * dropped (a pasted token arrives whole, between them).
 */

/** The terminal side of standard input: Node's `process.stdin` when it is a TTY. */
export interface TerminalInput {
  readonly isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  setEncoding(encoding: BufferEncoding): unknown;
  on(event: "data", listener: (chunk: string) => void): unknown;
  off(event: "data", listener: (chunk: string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

export interface PromptOutput {
  write(text: string): unknown;
}

const PASTE_MARKERS = ["\u001b[200~", "\u001b[201~"];

/**
 * The line typed (trimmed), or null when input is not a terminal or the person gave up.
 * Nothing typed is ever written to `output`.
 */
export function askHidden(
  prompt: string,
  input: TerminalInput,
  output: PromptOutput,
): Promise<string | null> {
  if (!input.isTTY || !input.setRawMode) return Promise.resolve(null);
  const setRawMode = input.setRawMode.bind(input);
  return new Promise((resolve) => {
    let typed = "";
    const finish = (value: string | null) => {
      input.off("data", onData);
      setRawMode(false);
      input.pause();
      output.write("\n");
      resolve(value);
    };
    const onData = (chunk: string) => {
      for (const char of PASTE_MARKERS.reduce(
        (text, marker) => text.replaceAll(marker, ""),
        chunk,
      )) {
        if (char === "\r" || char === "\n") return finish(typed.trim());
        if (char === "\u0003" || (char === "\u0004" && typed === "")) return finish(null);
        if (char === "\u007f" || char === "\b") typed = typed.slice(0, -1);
        else if (char >= " ") typed += char;
      }
    };
    output.write(prompt);
    input.setEncoding("utf8");
    setRawMode(true);
    input.on("data", onData);
    input.resume();
  });
}
