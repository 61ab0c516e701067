/** The retry notice's words (RetryBanner): pure, so they can be tested without a DOM. */
import type { RetryNotice } from "./reducer.ts";

/** Whole seconds left until `deadline` (epoch ms), rounded up: a countdown never shows 0 while
 * time is left. */
export function secondsUntil(deadline: number, now: number = Date.now()): number {
  return Math.max(0, Math.ceil((deadline - now) / 1000));
}

export function retryText(retry: RetryNotice, seconds: number): string {
  const what = retry.message.replace(/[.;:]\s*retrying\.?$/i, "").replace(/\.$/, "");
  const when = seconds > 0 ? `retrying in ${seconds} s` : "retrying now";
  // `attempt` is the one that failed; the banner names the one about to start.
  return `${what} — ${when}, attempt ${retry.attempt + 1}`;
}
