/**
 * The sidebar's sections: pinned chats first, then the others by their last activity as people
 * think of it — Today, Yesterday, Previous 7 days, Previous 30 days, then by month ("March 2026")
 * — in the browser's time zone. The list arrives pinned first and newest first; order is kept.
 */
export interface Dated {
  pinned: boolean;
  updated_at: string;
}

export interface ChatGroup<T> {
  label: string;
  chats: T[];
}

const DAY_MS = 86_400_000;

/** Local midnight of `date`'s day. */
function startOfDay(date: Date): number {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

export function groupLabel(updatedAt: Date, now: Date): string {
  const today = startOfDay(now);
  const day = startOfDay(updatedAt);
  // Whole days between the two local dates (a DST change makes a day 23 or 25 hours).
  const days = Math.round((today - day) / DAY_MS);
  if (days <= 0) return "Today";
  if (days === 1) return "Yesterday";
  if (days <= 7) return "Previous 7 days";
  if (days <= 30) return "Previous 30 days";
  return updatedAt.toLocaleDateString(undefined, { month: "long", year: "numeric" });
}

export function groupChats<T extends Dated>(chats: readonly T[], now: Date): ChatGroup<T>[] {
  const groups: ChatGroup<T>[] = [];
  const pinned = chats.filter((c) => c.pinned);
  if (pinned.length > 0) groups.push({ label: "Pinned", chats: pinned });
  for (const chat of chats) {
    if (chat.pinned) continue;
    const label = groupLabel(new Date(chat.updated_at), now);
    const last = groups.at(-1);
    if (last !== undefined && last.label === label) last.chats.push(chat);
    else groups.push({ label, chats: [chat] });
  }
  return groups;
}
