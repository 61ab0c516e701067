/**
 * Prints a streamed reply to a terminal or pipe, across retries, without printing any text
 * twice. A retried attempt streams its reply from the start; while it repeats what is already
 * printed nothing is written, and only the text past that point goes out. If the new attempt
 * diverges from what was printed, the printer says so on the side channel and starts a fresh
 * line with the new reply: text already written to a pipe cannot be taken back.
 */
export class ReplyPrinter {
  readonly #out: (text: string) => void;
  readonly #notice: (text: string) => void;
  /** Everything written to `out` for the current reply. */
  #printed = "";
  /** The current attempt's text while it is still catching up with `#printed`. */
  #replay = "";
  /** True while deltas go straight out (first attempt, or a retry that caught up). */
  #live = true;

  constructor(out: (text: string) => void, notice: (text: string) => void) {
    this.#out = out;
    this.#notice = notice;
  }

  /** A new attempt starts: its text is compared against what is already printed. */
  newAttempt(): void {
    this.#replay = "";
    this.#live = this.#printed.length === 0;
  }

  write(delta: string): void {
    if (this.#live) {
      this.#emit(delta);
      return;
    }
    this.#replay += delta;
    const printed = this.#printed;
    if (this.#replay.length <= printed.length && printed.startsWith(this.#replay)) return;
    this.#live = true;
    if (this.#replay.startsWith(printed)) {
      this.#emit(this.#replay.slice(printed.length));
      return;
    }
    this.#notice("(the retried reply differs from the partial one above; it follows in full)\n");
    this.#printed = "";
    this.#out("\n");
    this.#emit(this.#replay);
  }

  #emit(text: string): void {
    if (!text) return;
    this.#printed += text;
    this.#out(text);
  }
}
