/**
 * The audit page's data: the events that match the filters, newest first, a page at a time.
 * New filters start over (an answer for older filters that arrives late is dropped); "Load more"
 * appends the next page from the cursor the last one gave.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { type AuditEvent, listAudit } from "./api.ts";
import type { AuditQuery } from "./filters.ts";

export interface AuditLog {
  events: AuditEvent[];
  /** True while the first page for these filters (or a refresh) is on its way. */
  loading: boolean;
  loadingMore: boolean;
  error: unknown;
  hasMore: boolean;
  loadMore(): void;
}

/** `refresh`: a new value loads the first page again (the same filters, newer events). */
export function useAuditLog(query: AuditQuery, refresh: number): AuditLog {
  const key = JSON.stringify(query);
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<unknown>(null);
  /** The load the answers are for: an answer for an earlier one (aborted) is dropped. */
  const current = useRef(new AbortController());

  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for `query`; `refresh` reloads
  useEffect(() => {
    const controller = new AbortController();
    current.current = controller;
    // The rows shown stay (dimmed) until the answer replaces them: a refresh does not blink.
    setLoading(true);
    setLoadingMore(false);
    setError(null);
    listAudit(JSON.parse(key) as AuditQuery, null).then(
      (page) => {
        if (controller.signal.aborted) return;
        setEvents(page.events);
        setCursor(page.next_cursor);
        setLoading(false);
      },
      (err: unknown) => {
        if (controller.signal.aborted) return;
        setError(err);
        setEvents([]);
        setCursor(null);
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [key, refresh]);

  const loadMore = useCallback(() => {
    if (cursor === null || loadingMore || loading) return;
    const controller = current.current;
    setLoadingMore(true);
    setError(null);
    listAudit(JSON.parse(key) as AuditQuery, cursor)
      .then(
        (page) => {
          if (controller.signal.aborted) return;
          setEvents((before) => {
            // A row recorded between two pages can shift the next one; never show one twice.
            const seen = new Set(before.map((e) => e.id));
            return [...before, ...page.events.filter((e) => !seen.has(e.id))];
          });
          setCursor(page.next_cursor);
        },
        (err: unknown) => {
          if (!controller.signal.aborted) setError(err);
        },
      )
      .finally(() => {
        if (!controller.signal.aborted) setLoadingMore(false);
      });
  }, [cursor, key, loading, loadingMore]);

  return { events, loading, loadingMore, error, hasMore: cursor !== null, loadMore };
}
