/** When a message was written, as a chat shows it: relative beside it, in full on hover. Pure. */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "just now", "5 min ago", "3 h ago", "yesterday", then the date ("Jun 1", "Jun 1, 2024"). */
export function relativeTime(iso: string, now: Date = new Date()): string {
  const then = new Date(iso);
  const ago = now.getTime() - then.getTime();
  if (Number.isNaN(ago)) return "";
  if (ago < MINUTE) return "just now";
  if (ago < HOUR) return `${Math.floor(ago / MINUTE)} min ago`;
  const startOfToday = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
  if (then.getTime() >= startOfToday) return `${Math.floor(ago / HOUR)} h ago`;
  if (then.getTime() >= startOfToday - DAY) return "yesterday";
  const sameYear = then.getFullYear() === now.getFullYear();
  return then.toLocaleDateString("en-US", {
    month: "short",
    day: "numeric",
    ...(sameYear ? {} : { year: "numeric" }),
  });
}

/** The full date and time, in the reader's locale and time zone (the hover title). */
export function fullTime(iso: string): string {
  const then = new Date(iso);
  return Number.isNaN(then.getTime())
    ? ""
    : then.toLocaleString(undefined, { dateStyle: "full", timeStyle: "medium" });
}
