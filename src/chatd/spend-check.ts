/**
 * Spend limits where chats run (DESIGN.md §8): a user over their limit may not start a turn (the
 * api answers 409, `SpendLimitReached`), and a turn that crosses it stops before its next model
 * step with the same sentence (`turnBudget`, an `error` event of kind `spend_limit`, never
 * retried). The sentence is built here, once: what was spent of which limit, when it resets, and
 * whom to ask.
 *
 * The spend and the limit come from the store (`store/spend-limits.ts`), which keeps both in
 * memory between short re-reads, so asking before every step costs a map lookup.
 */
import type { TurnBudget } from "../chatloop/budget.ts";
import type { SpendLimitStore, SpendStatus } from "../store/spend-limits.ts";
import type { ChatErrorRecord } from "../store/types.ts";
import { ChatRequestError } from "./contract.ts";

/** The error's stable code in the api's 409 body (`code`), for clients to recognise it. */
export const SPEND_LIMIT_CODE = "spend_limit_reached";
/** The kind of a turn's terminal error when it stopped at the limit. */
export const SPEND_LIMIT_KIND = "spend_limit";

export type SpendSource = Pick<SpendLimitStore, "status" | "record">;

const ADJECTIVE = { day: "daily", week: "weekly", month: "monthly" } as const;

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** "Monday 7 December 2026" (UTC), spelled out here so every ICU build says the same. */
export function resetDay(at: Date): string {
  return `${WEEKDAYS[at.getUTCDay()]} ${at.getUTCDate()} ${MONTHS[at.getUTCMonth()]} ${at.getUTCFullYear()}`;
}

/** Dollars as people read them: cents, or two significant digits below a cent. */
export function formatUsd(usd: number): string {
  if (usd > 0 && usd < 0.01) return `$${usd.toPrecision(2)}`;
  return `$${usd.toFixed(2)}`;
}

/** "You have spent $10.02 of your $10.00 daily limit. It resets on … at 00:00 UTC. Ask …" */
export function spendLimitMessage(
  status: Pick<SpendStatus, "spent_usd" | "resets_at" | "limit">,
): string {
  const limit = status.limit;
  const of = limit ? ` of your ${formatUsd(limit.usd)} ${ADJECTIVE[limit.period]} limit` : "";
  return (
    `You have spent ${formatUsd(status.spent_usd)}${of}. ` +
    `It resets on ${resetDay(status.resets_at)} at 00:00 UTC. ` +
    "Ask an administrator to raise your limit."
  );
}

/** The 409 of a request that would start a turn for a user over their limit. */
export class SpendLimitReached extends ChatRequestError {
  override readonly code = SPEND_LIMIT_CODE;
  constructor(status: SpendStatus) {
    super(409, spendLimitMessage(status));
  }
}

/** Throws `SpendLimitReached` when `userId` is over their limit. */
export async function refuseOverLimit(limits: SpendSource, userId: string): Promise<void> {
  const status = await limits.status(userId);
  if (status.over) throw new SpendLimitReached(status);
}

/** The turn error of a user over their limit. */
export function spendLimitError(status: SpendStatus): ChatErrorRecord {
  return { kind: SPEND_LIMIT_KIND, message: spendLimitMessage(status) };
}

/** A turn's budget: the chat owner's spend limit, and each step's cost added to their spend. */
export function turnBudget(limits: SpendSource, userId: string): TurnBudget {
  return {
    async refusal() {
      const status = await limits.status(userId);
      return status.over ? spendLimitError(status) : undefined;
    },
    spent(usd) {
      limits.record(userId, usd);
    },
  };
}
