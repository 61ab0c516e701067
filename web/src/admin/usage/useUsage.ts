/**
 * What the usage page shows for a period, in three reads made together: the top users (with the
 * period's totals), the top chats, and the days split per user or model for the chart. A newer
 * period or split makes the older reads' answers moot: they are dropped, never shown late.
 */
import { useEffect, useState } from "react";
import { fetchUsage, type Period, type UsageReport, type UsageSplit } from "./api.ts";

/** Rows of the top users and top chats tables. */
export const TOP_ROWS = 10;

export interface UsageData {
  users: UsageReport;
  chats: UsageReport;
  days: UsageReport;
}

export function useUsage(
  period: Period,
  split: UsageSplit,
  refresh: number,
): { data: UsageData | null; error: unknown; loading: boolean } {
  const [data, setData] = useState<UsageData | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `refresh` reads again on purpose
  useEffect(() => {
    let current = true;
    setLoading(true);
    Promise.all([
      fetchUsage(period, { group_by: "user", limit: TOP_ROWS }),
      fetchUsage(period, { group_by: "chat", limit: TOP_ROWS }),
      fetchUsage(period, { group_by: "day", split_by: split }),
    ])
      .then(([users, chats, days]) => {
        if (!current) return;
        setData({ users, chats, days });
        setError(null);
      })
      .catch((err: unknown) => {
        if (current) setError(err);
      })
      .finally(() => {
        if (current) setLoading(false);
      });
    return () => {
      current = false;
    };
  }, [period.since, period.until, split, refresh]);
  return { data, error, loading };
}
