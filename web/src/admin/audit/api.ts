/**
 * The audit log as the page reads it: one page of events (`GET /audit`) and the export links
 * (`GET /audit/export`), both with the filters' query. A failure throws the UI's `ApiError`, so
 * the page shows the server's own message (a member's 403, a bad filter's 400).
 */
import { API_BASE, ApiError } from "../../api/client.ts";
import type { ApiErrorBody } from "../../api/types.ts";

export interface AuditActor {
  type: "user" | "system" | "agent";
  id: string | null;
  name: string | null;
}

export interface AuditTarget {
  type: string;
  id: string | null;
  name: string | null;
}

/** One field's change; `"[changed]"` for a secret, whose values are never recorded. */
export type AuditChange = { from?: unknown; to?: unknown } | "[changed]";

export interface AuditEvent {
  id: string;
  time: string;
  actor: AuditActor;
  action: string;
  target: AuditTarget | null;
  source: { address: string | null; user_agent: string | null };
  outcome: "success" | "failure";
  error: string | null;
  changes: Record<string, AuditChange> | null;
}

export interface AuditPage {
  events: AuditEvent[];
  next_cursor: string | null;
}

/** How many events a page asks for: a screenful and a bit, cheap for the server. */
export const PAGE_SIZE = 100;

function withQuery(path: string, query: Record<string, string>): string {
  const search = new URLSearchParams(query).toString();
  return `${API_BASE}${path}${search ? `?${search}` : ""}`;
}

export async function listAudit(
  query: Record<string, string>,
  cursor: string | null,
  signal?: AbortSignal,
): Promise<AuditPage> {
  const url = withQuery("/audit", {
    ...query,
    limit: String(PAGE_SIZE),
    ...(cursor ? { cursor } : {}),
  });
  const response = await fetch(url, { credentials: "same-origin", signal });
  if (!response.ok) {
    let body: ApiErrorBody = { message: `The server answered ${response.status}.` };
    try {
      const parsed = (await response.json()) as Partial<ApiErrorBody>;
      if (typeof parsed.message === "string") body = parsed as ApiErrorBody;
    } catch {
      // Not JSON (a proxy's page): keep the status line.
    }
    throw new ApiError(response.status, body);
  }
  return (await response.json()) as AuditPage;
}

/** The export's address: the same filters, the whole result streamed as a download. */
export function exportUrl(query: Record<string, string>, format: "csv" | "jsonl"): string {
  return withQuery("/audit/export", { ...query, format });
}
