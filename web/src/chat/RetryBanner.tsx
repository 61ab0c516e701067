/** The calm retry notice: what happened, when the next attempt starts, and which one it is. */
import { useEffect, useState } from "react";
import type { RetryNotice } from "./reducer.ts";

function secondsUntil(iso: string): number {
  return Math.max(0, Math.ceil((Date.parse(iso) - Date.now()) / 1000));
}

export function retryText(retry: RetryNotice, seconds: number): string {
  const what = retry.message.replace(/[.;:]\s*retrying\.?$/i, "").replace(/\.$/, "");
  const when = seconds > 0 ? `retrying in ${seconds} s` : "retrying now";
  // `attempt` is the one that failed; the banner names the one about to start.
  return `${what} — ${when}, attempt ${retry.attempt + 1}`;
}

export function RetryBanner({ retry }: { retry: RetryNotice }) {
  const [seconds, setSeconds] = useState(() => secondsUntil(retry.retrying_at));
  useEffect(() => {
    setSeconds(secondsUntil(retry.retrying_at));
    const timer = setInterval(() => setSeconds(secondsUntil(retry.retrying_at)), 250);
    return () => clearInterval(timer);
  }, [retry.retrying_at]);
  return (
    <div className="retry-banner" role="status" data-kind={retry.kind}>
      <span aria-hidden="true">↻</span>
      <span>{retryText(retry, seconds)}</span>
    </div>
  );
}
