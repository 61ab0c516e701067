/**
 * Above the composer when the user's spend reached their limit: the server's own sentence (what
 * was spent of which limit, when it resets, whom to ask), so nobody types a message that would
 * be refused. The composer's Send is off meanwhile.
 */
import type { Spend } from "./api.ts";
import "./limits.css";
import { localTime, untilText } from "./format.ts";

export function LimitNotice({ spend }: { spend: Spend | undefined }) {
  if (!spend?.over || !spend.message) return null;
  return (
    <div className="limit-notice" role="status" data-testid="limit-notice">
      <svg className="limit-notice-icon" viewBox="0 0 20 20" aria-hidden="true" focusable="false">
        <circle cx="10" cy="10" r="8.25" fill="none" stroke="currentColor" strokeWidth="1.5" />
        <path d="M10 5.5v5.5" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
        <circle cx="10" cy="14.2" r="1.1" fill="currentColor" />
      </svg>
      <div>
        <strong>
          Spend limit reached · resets{" "}
          <time dateTime={spend.resets_at} title={localTime(spend.resets_at)}>
            {untilText(spend.resets_at)}
          </time>
        </strong>
        {spend.message}
      </div>
    </div>
  );
}
