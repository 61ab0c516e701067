import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { askHidden, type TerminalInput } from "./token-prompt.ts";

/** A terminal whose keys the test types; it records the raw mode it was put in. */
function terminal(isTTY = true) {
  const events = new EventEmitter();
  const modes: boolean[] = [];
  const input: TerminalInput & { type(text: string): void } = {
    isTTY,
    setRawMode: (mode: boolean) => modes.push(mode),
    setEncoding: () => {},
    on: (event, listener) => events.on(event, listener),
    off: (event, listener) => events.off(event, listener),
    resume: () => {},
    pause: () => {},
    type: (text) => events.emit("data", text),
  };
  let written = "";
  const output = { write: (text: string) => (written += text) };
  return {
    input,
    output,
    modes,
    written: () => written,
    listeners: () => events.listenerCount("data"),
  };
}

describe("askHidden", () => {
  it.each([
    ["a pasted token and Enter", ["keelws_abc123\r"], "keelws_abc123"],
    ["keys one by one, Backspace included", ["k", "x", "\u007f", "e", "y", "\n"], "key"],
    [
      "a bracketed paste, trimmed",
      ["\u001b[200~ keelws_pasted \u001b[201~", "\r"],
      "keelws_pasted",
    ],
    ["Ctrl-C", ["keel", "\u0003"], null],
    ["Ctrl-D on an empty line", ["\u0004"], null],
  ])("%s", async (_what, keys, expected) => {
    const t = terminal();
    const answer = askHidden("Token: ", t.input, t.output);
    for (const key of keys) t.input.type(key);
    expect(await answer).toBe(expected);
    // Nothing typed is echoed; the terminal is back in cooked mode; no listener is left behind.
    expect(t.written()).toBe("Token: \n");
    expect(t.modes).toEqual([true, false]);
    expect(t.listeners()).toBe(0);
  });

  it("does not ask when input is not a terminal", async () => {
    const t = terminal(false);
    expect(await askHidden("Token: ", t.input, t.output)).toBeNull();
    expect(t.written()).toBe("");
    expect(t.modes).toEqual([]);
  });
});
