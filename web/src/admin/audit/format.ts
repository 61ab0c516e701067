/** How an audit event's parts read on the page: times, sources, the values in a diff. */

const UNITS: ReadonlyArray<[Intl.RelativeTimeFormatUnit, number]> = [
  ["year", 365 * 86_400_000],
  ["month", 30 * 86_400_000],
  // No weeks: "9 days ago" says more than "last week".
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
];

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "short" });

/** "just now", "5 min. ago", "yesterday", "9 days ago": how long before `now` `iso` was. */
export function relativeTime(iso: string, now: number): string {
  const elapsed = now - Date.parse(iso);
  if (Number.isNaN(elapsed)) return iso;
  if (elapsed < 45_000) return "just now";
  for (const [unit, ms] of UNITS) {
    // Days up to 45 (then months): a month is too rough for an investigation's last weeks.
    if (unit === "month" && elapsed < 45 * 86_400_000) continue;
    if (elapsed >= ms) return relative.format(-Math.floor(elapsed / ms), unit);
  }
  return relative.format(-Math.max(1, Math.round(elapsed / 60_000)), "minute");
}

const exact = new Intl.DateTimeFormat(undefined, {
  dateStyle: "medium",
  timeStyle: "medium",
});

/** The full local date and time, with the zone's offset: what an investigation quotes. */
export function exactTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const offset = -date.getTimezoneOffset();
  const sign = offset < 0 ? "−" : "+";
  const hours = String(Math.floor(Math.abs(offset) / 60)).padStart(2, "0");
  const minutes = String(Math.abs(offset) % 60).padStart(2, "0");
  return `${exact.format(date)} (UTC${sign}${hours}:${minutes})`;
}

/**
 * A user agent as a person names it: `keel CLI` for `keel`, the browser and its major version, the
 * tool (`curl/8.5`), else the first product token. The full string is in the row's details.
 */
export function shortUserAgent(userAgent: string | null): string | null {
  if (!userAgent) return null;
  const keel = /\bkeel-cli\/([\d.]+)/i.exec(userAgent);
  if (keel) return `keel CLI ${keel[1]}`;
  const browsers: ReadonlyArray<[string, RegExp]> = [
    ["Edge", /\bEdg\/(\d+)/],
    ["Firefox", /\bFirefox\/(\d+)/],
    ["Chrome", /\b(?:Chrome|Chromium|HeadlessChrome)\/(\d+)/],
    ["Safari", /\bVersion\/(\d+)[\d.]* .*Safari\//],
  ];
  for (const [name, pattern] of browsers) {
    const match = pattern.exec(userAgent);
    if (match) return `${name} ${match[1]}`;
  }
  const first = /^([\w.-]+)(?:\/([\w.]+))?/.exec(userAgent);
  if (!first) return userAgent.slice(0, 24);
  return first[2] ? `${first[1]} ${first[2]}` : (first[1] ?? null);
}

/** A diff's value on one line: strings as they are, null as "none", the rest as JSON. */
export function formatValue(value: unknown): string {
  if (value === undefined) return "(not set)";
  if (value === null) return "none";
  if (typeof value === "string") return value === "" ? '""' : value;
  return JSON.stringify(value);
}

/** The words for an actor of another kind than a person. */
export function actorLabel(actor: {
  type: "user" | "system" | "agent";
  id: string | null;
  name: string | null;
}): string {
  if (actor.type === "system") return actor.name ?? "Keel";
  return actor.name ?? actor.id ?? (actor.type === "agent" ? "an agent" : "unknown user");
}

/** Whether an action takes something away (delete, revoke, …): its badge says so. */
export function isDestructive(action: string): boolean {
  return /\.(delete|revoke|archive|deactivate)\b/.test(action);
}
