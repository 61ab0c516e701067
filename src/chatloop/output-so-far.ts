/**
 * What a tool streamed before it was interrupted, kept for its result: a Stop ends the turn
 * without waiting for the tool's own result, so the output the user watched would otherwise be
 * lost from the transcript (and from what the model reads next). Bounded like `execute`'s result:
 * the first and the last `keep` characters, with a note of how many were left out between.
 */
export class OutputSoFar {
  readonly #keep: number;
  #head = "";
  #tail = "";
  #omitted = 0;

  constructor(keep = 32 * 1024) {
    this.#keep = keep;
  }

  push(delta: string): void {
    const room = Math.max(0, this.#keep - this.#head.length);
    this.#head += delta.slice(0, room);
    const rest = delta.slice(room);
    if (rest === "") return;
    this.#tail += rest;
    // Trimmed only once it is twice the kept size: a chatty tool's many small deltas cost
    // amortised O(1) each, not a 32 K copy each.
    if (this.#tail.length > 2 * this.#keep) this.#trim();
  }

  text(): string {
    this.#trim();
    if (this.#omitted === 0) return this.#head + this.#tail;
    return `${this.#head}\n… ${this.#omitted} characters omitted …\n${this.#tail}`;
  }

  #trim(): void {
    const cut = Math.max(0, this.#tail.length - this.#keep);
    this.#omitted += cut;
    this.#tail = this.#tail.slice(cut);
  }
}

/** The result of a call the turn stopped waiting for: its output so far, then why it ended. */
export function interruptedOutput(soFar: string, reason: string): string {
  const note = `The tool call was interrupted: ${reason}`;
  if (soFar === "") return note;
  return `${soFar}${soFar.endsWith("\n") ? "" : "\n"}[${note}]`;
}
