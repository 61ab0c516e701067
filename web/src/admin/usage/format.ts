/** Figures as the usage page shows them. */
import { formatUsd } from "../../chat/ChatCost.tsx";

export { formatUsd };

/** A count in full, grouped: 1,234,567. */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** A count in short, for axes and cards: 1.2M, 340k. */
export function formatCompact(n: number): string {
  return n.toLocaleString("en-US", { notation: "compact", maximumFractionDigits: 1 });
}

/** "Nov 3" from 2026-11-03 (UTC). */
export function shortDay(day: string): string {
  return new Date(`${day}T00:00:00Z`).toLocaleDateString("en-US", {
    month: "short",
    day: "numeric",
    timeZone: "UTC",
  });
}

/** "Tue, Nov 3, 2026" from 2026-11-03 (UTC). */
export function longDay(day: string): string {
  return new Date(`${day}T00:00:00Z`).toLocaleDateString("en-US", {
    weekday: "short",
    month: "short",
    day: "numeric",
    year: "numeric",
    timeZone: "UTC",
  });
}
