/**
 * The audit log (admins): who did what, to what, from where, and whether it worked — newest
 * first, filtered by actor, action, target and time, each row opening on what it changed. The
 * filters live in the address, so a filtered view can be shared; the export links carry the same
 * filters and download the whole result (CSV or JSON Lines), however long.
 */
import { useEffect, useMemo, useRef, useState } from "react";
import { ErrorBox } from "../ui/ErrorBox.tsx";
import { AuditFilterBar } from "./audit/AuditFilterBar.tsx";
import { AuditTable } from "./audit/AuditTable.tsx";
import { exportUrl } from "./audit/api.ts";
import {
  apiQuery,
  filtersFromSearch,
  hasFilters,
  NO_FILTERS,
  searchFromFilters,
} from "./audit/filters.ts";
import { RetentionNote } from "./audit/RetentionNote.tsx";
import { useAuditLog } from "./audit/useAuditLog.ts";
import { setSearch, useSearch } from "./audit/useSearch.ts";
import "./audit/audit.css";

/** Relative times ("5 min. ago") are redrawn this often. */
const CLOCK_MS = 30_000;

export function AuditPage() {
  const search = useSearch();
  const filters = useMemo(() => filtersFromSearch(search), [search]);
  const [refresh, setRefresh] = useState(0);
  // A preset range ("last 24 hours") is resolved when the filters are applied or refreshed: the
  // table and the export links then describe the same events.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `refresh` moves "now" on purpose
  const query = useMemo(() => apiQuery(filters, Date.now()), [filters, refresh]);
  const log = useAuditLog(query, refresh);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), CLOCK_MS);
    return () => clearInterval(timer);
  }, []);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new load is a new "now"
  useEffect(() => setNow(Date.now()), [log.events]);

  // After "Load more", the keyboard's focus moves to the first row it brought (the button may
  // be gone: the last page has none).
  const focusRow = useRef<number | null>(null);
  const loadMore = () => {
    focusRow.current = log.events.length;
    log.loadMore();
  };
  useEffect(() => {
    const index = focusRow.current;
    if (index === null || log.events.length <= index) return;
    focusRow.current = null;
    document.querySelectorAll<HTMLElement>(".audit-row .audit-toggle")[index]?.focus();
  }, [log.events]);

  const filtered = hasFilters(filters);
  const count = log.events.length;
  return (
    <div className="page audit-page">
      <header className="audit-head">
        <div>
          <h1>Audit log</h1>
          <p className="muted audit-intro">
            Every change made in Keel and every sign-in: who, what, from where, and whether it
            worked.
          </p>
          <RetentionNote />
        </div>
        <div className="audit-head-actions">
          <a className="btn btn-small" href={exportUrl(query, "csv")} download>
            Export CSV
          </a>
          <a className="btn btn-small" href={exportUrl(query, "jsonl")} download>
            Export JSON Lines
          </a>
          <button type="button" className="btn-small" onClick={() => setRefresh((r) => r + 1)}>
            Refresh
          </button>
        </div>
      </header>
      <AuditFilterBar
        key={search}
        filters={filters}
        onApply={(next) => setSearch(searchFromFilters(next))}
      />
      <ErrorBox error={log.error} title="The audit log could not be read." />
      <div
        className={log.loading ? "audit-results audit-stale" : "audit-results"}
        aria-busy={log.loading}
      >
        {log.loading && count === 0 ? (
          <p className="muted" role="status">
            Loading events…
          </p>
        ) : count === 0 && log.error === null ? (
          <div className="audit-empty">
            {filtered ? (
              <>
                <p>No event matches these filters.</p>
                <button
                  type="button"
                  className="btn-small"
                  onClick={() => setSearch(searchFromFilters(NO_FILTERS))}
                >
                  Clear filters
                </button>
              </>
            ) : (
              <p>Nothing has been recorded yet.</p>
            )}
          </div>
        ) : count > 0 ? (
          <>
            <p className="muted audit-count" role="status">
              {count} {count === 1 ? "event" : "events"}
              {log.hasMore ? " so far" : ""}, newest first
            </p>
            <AuditTable events={log.events} now={now} />
            {log.hasMore ? (
              <div className="audit-more">
                <button type="button" onClick={loadMore} disabled={log.loadingMore || log.loading}>
                  {log.loadingMore ? "Loading…" : "Load more"}
                </button>
              </div>
            ) : null}
          </>
        ) : null}
      </div>
    </div>
  );
}
