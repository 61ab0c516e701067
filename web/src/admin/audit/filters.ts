/**
 * The audit page's filters and the URL that holds them. The query string is the state (so a
 * filtered view can be shared or bookmarked): `actor`, `action`, `target`, `range` (a preset,
 * or `custom` with `since`/`until` as ISO 8601 instants). A preset is relative: it is turned into
 * `since` when the page asks the server, so a shared "last 7 days" link means the last 7 days of
 * whoever opens it.
 */

export const RANGE_PRESETS = [
  { value: "any", label: "Any time", ms: null },
  { value: "24h", label: "Last 24 hours", ms: 24 * 3_600_000 },
  { value: "7d", label: "Last 7 days", ms: 7 * 86_400_000 },
  { value: "30d", label: "Last 30 days", ms: 30 * 86_400_000 },
  { value: "custom", label: "Custom range…", ms: null },
] as const;

export type RangePreset = (typeof RANGE_PRESETS)[number]["value"];

export interface AuditFilters {
  actor: string;
  /** An exact action (`user.login`) or a prefix ending in `.` (`provider.`). */
  action: string;
  /** A target type (`provider`) or `type:id`. */
  target: string;
  range: RangePreset;
  /** With `range: "custom"`: ISO 8601 instants, either may be empty. */
  since: string;
  until: string;
}

export const NO_FILTERS: AuditFilters = {
  actor: "",
  action: "",
  target: "",
  range: "any",
  since: "",
  until: "",
};

/**
 * The action select's choices: each family of actions by its prefix, and the few exact actions
 * an admin looks for on their own (failed sign-ins). Anything else is typed in ("Other…").
 */
export const ACTION_CHOICES: ReadonlyArray<{ value: string; label: string }> = [
  { value: "user.", label: "Users and sign-ins (user.*)" },
  { value: "user.login_failed", label: "Failed sign-ins (user.login_failed)" },
  { value: "token.", label: "Tokens (token.*)" },
  { value: "preferences.", label: "Preferences (preferences.*)" },
  { value: "provider.", label: "Providers (provider.*)" },
  { value: "model.", label: "Models (model.*)" },
  { value: "mcp_server.", label: "MCP servers (mcp_server.*)" },
  { value: "settings.", label: "Settings (settings.*)" },
  { value: "workspace.", label: "Workspaces (workspace.*)" },
  { value: "chat.", label: "Chats (chat.*)" },
  { value: "limit.", label: "Spend limits (limit.*)" },
  { value: "group.", label: "Groups (group.*)" },
  { value: "audit.", label: "Audit log (audit.*)" },
];

const isPreset = (value: string | null): value is RangePreset =>
  RANGE_PRESETS.some((p) => p.value === value);

/** An ISO instant as given, or "" when it is not a date (a hand-edited link). */
function instant(value: string | null): string {
  if (!value) return "";
  return Number.isNaN(Date.parse(value)) ? "" : value;
}

export function filtersFromSearch(search: string): AuditFilters {
  const query = new URLSearchParams(search);
  const text = (name: string) => (query.get(name) ?? "").trim();
  const range = query.get("range");
  const since = instant(query.get("since"));
  const until = instant(query.get("until"));
  return {
    actor: text("actor"),
    action: text("action"),
    target: text("target"),
    // A link with bare since/until (from the CLI's docs, by hand) is a custom range.
    range: isPreset(range) ? range : since || until ? "custom" : "any",
    since,
    until,
  };
}

/** The query string for `filters` (no `?`); the defaults are left out, so no filter is "". */
export function searchFromFilters(filters: AuditFilters): string {
  const query = new URLSearchParams();
  if (filters.actor) query.set("actor", filters.actor);
  if (filters.action) query.set("action", filters.action);
  if (filters.target) query.set("target", filters.target);
  if (filters.range !== "any") query.set("range", filters.range);
  if (filters.range === "custom") {
    if (filters.since) query.set("since", filters.since);
    if (filters.until) query.set("until", filters.until);
  }
  return query.toString();
}

/** The filters as `GET /audit` and its export take them (the API's names). */
export interface AuditQuery {
  actor?: string;
  action?: string;
  target?: string;
  since?: string;
  until?: string;
}

/** What the server is asked: the filters set, with a preset turned into `since` at `now`. */
export function apiQuery(filters: AuditFilters, now: number): AuditQuery {
  const query: AuditQuery = {};
  if (filters.actor) query.actor = filters.actor;
  if (filters.action) query.action = filters.action;
  if (filters.target) query.target = filters.target;
  const preset = RANGE_PRESETS.find((p) => p.value === filters.range);
  if (preset?.ms) query.since = new Date(now - preset.ms).toISOString();
  if (filters.range === "custom") {
    if (filters.since) query.since = filters.since;
    if (filters.until) query.until = filters.until;
  }
  return query;
}

export function hasFilters(filters: AuditFilters): boolean {
  return searchFromFilters(filters) !== "";
}

/** `2026-12-06T15:04:00.000Z` → `2026-12-06T16:04` in the browser's zone, for datetime-local. */
export function toLocalInput(iso: string): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

/** A datetime-local value (the browser's zone) → an ISO instant; "" stays "". */
export function fromLocalInput(value: string): string {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString();
}
