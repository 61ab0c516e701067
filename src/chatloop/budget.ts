/**
 * What a turn may spend (DESIGN.md §8): asked before every model step — a summary step included —
 * and told what each finished step cost. The turn knows nothing of limits, users or periods:
 * chatd gives it a budget over the store's spend limits (`chatd/spend-check.ts`).
 */
import type { ChatErrorRecord } from "../store/types.ts";

export interface TurnBudget {
  /**
   * Why no further model step may run (the error the turn ends with, never retried), or
   * undefined when one may. Cheap: called before every step.
   */
  refusal(): Promise<ChatErrorRecord | undefined>;
  /** A finished step cost `usd` (its message is saved with that cost). */
  spent(usd: number): void;
}
