/**
 * The audit log as the page reads it: one page of events (`GET /audit`, typed by the server's
 * OpenAPI document through `request`) and the export links (`GET /audit/export`), both with the
 * filters' query. A failure throws the UI's `ApiError`, so the page shows the server's own
 * message (a member's 403, a bad filter's 400).
 */
import { API_BASE, request } from "../../api/client.ts";
import type { components } from "../../api/openapi.gen.ts";
import type { AuditQuery } from "./filters.ts";

export type AuditEvent = components["schemas"]["AuditEvent"];
export type AuditPage = components["schemas"]["AuditPage"];
/** One field's change; `"[changed]"` for a secret, whose values are never recorded. */
export type AuditChange = NonNullable<AuditEvent["changes"]>[string];

/** How many events a page asks for: a screenful and a bit, cheap for the server. */
export const PAGE_SIZE = 100;

export function listAudit(query: AuditQuery, cursor: string | null): Promise<AuditPage> {
  return request("GET", "/audit", {
    query: { ...query, limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) },
  });
}

/** The export's address: the same filters, the whole result streamed as a download. */
export function exportUrl(query: AuditQuery, format: "csv" | "jsonl"): string {
  const search = new URLSearchParams({ ...query, format }).toString();
  return `${API_BASE}/audit/export?${search}`;
}
