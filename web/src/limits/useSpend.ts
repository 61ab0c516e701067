/**
 * The signed-in user's spend this period (`GET /users/me/spend`), for the composer's notice and
 * the settings page's meter. Read when the screen opens, whenever `refreshKey` changes (a chat's
 * status: a turn that ended may have crossed the limit), and again when the period resets.
 * A failed read shows nothing: the server still refuses what the limit forbids.
 */
import { useCallback, useEffect, useState } from "react";
import { limitsApi, type Spend } from "./api.ts";

export interface SpendState {
  spend: Spend | undefined;
  reload(): Promise<void>;
}

/** setTimeout's longest delay; a month is longer, so the timer is set again when it fires. */
const MAX_TIMER_MS = 2_147_000_000;

export function useSpend(refreshKey?: unknown): SpendState {
  const [spend, setSpend] = useState<Spend>();
  const reload = useCallback(async () => {
    try {
      setSpend(await limitsApi.mySpend());
    } catch {
      // Nothing to show; a refused send still says why.
    }
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: refreshKey is the reason to read again
  useEffect(() => {
    void reload();
  }, [reload, refreshKey]);

  const resetsAt = spend?.over ? spend.resets_at : undefined;
  useEffect(() => {
    if (!resetsAt) return;
    const wait = Math.min(MAX_TIMER_MS, Math.max(1_000, Date.parse(resetsAt) - Date.now() + 1_000));
    const timer = window.setTimeout(() => void reload(), wait);
    return () => window.clearTimeout(timer);
  }, [resetsAt, reload]);

  return { spend, reload };
}
