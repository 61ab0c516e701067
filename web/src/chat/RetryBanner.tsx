/** The calm retry notice: what happened, when the next attempt starts, and which one it is. */
import { useEffect, useState } from "react";
import type { RetryNotice } from "./reducer.ts";
import { retryText, secondsUntil } from "./retryText.ts";

/**
 * Counts down `delay_ms` from when the notice arrived, not to the server's `retrying_at`: the
 * browser's clock may be off by more than the delay itself.
 */
export function RetryBanner({ retry }: { retry: RetryNotice }) {
  const [seconds, setSeconds] = useState(() => Math.ceil(retry.delay_ms / 1000));
  useEffect(() => {
    const due = Date.now() + retry.delay_ms;
    setSeconds(secondsUntil(due));
    const timer = setInterval(() => setSeconds(secondsUntil(due)), 250);
    return () => clearInterval(timer);
  }, [retry]);
  return (
    <div className="retry-banner" role="status" data-kind={retry.kind}>
      <span aria-hidden="true">↻</span>
      <span>{retryText(retry, seconds)}</span>
    </div>
  );
}
