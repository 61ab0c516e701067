/**
 * Open event streams re-check their reader's access every few seconds (a logout, a deactivation
 * or a lost admin role ends a stream within seconds). A thousand open streams would be a thousand
 * token and chat reads per round; the checks that come due within `windowMs` of each other are
 * asked of the store together, in one statement (`mayStillRead`).
 */
import type { Store } from "../store/contract.ts";

interface Waiting {
  readonly token: string;
  readonly chatId: string;
  readonly resolve: (allowed: boolean) => void;
  readonly reject: (error: unknown) => void;
}

export class StreamAccessChecks {
  readonly #store: Pick<Store, "mayStillRead">;
  readonly #windowMs: number;
  #waiting: Waiting[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(store: Pick<Store, "mayStillRead">, windowMs = 200) {
    this.#store = store;
    this.#windowMs = windowMs;
  }

  /** Whether the holder of `token` may still read the chat. */
  mayStillRead(token: string, chatId: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ token, chatId, resolve, reject });
      this.#timer ??= setTimeout(() => void this.#run(), this.#windowMs);
    });
  }

  async #run(): Promise<void> {
    this.#timer = undefined;
    const batch = this.#waiting;
    this.#waiting = [];
    try {
      const allowed = await this.#store.mayStillRead(batch.map((w) => [w.token, w.chatId]));
      for (const [index, waiting] of batch.entries()) waiting.resolve(allowed[index] === true);
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
    }
  }
}
