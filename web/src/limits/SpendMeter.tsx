/**
 * "Your spend": what the signed-in user's chats cost this period against the limit that applies
 * to them (their own, or the deployment's default), and when the period resets. With no limit,
 * the month's spend and "No limit".
 */
import type { Spend } from "./api.ts";
import "./limits.css";
import { limitText, localTime, periodNow, untilText, usd } from "./format.ts";

/** The share of the limit at which the bar turns to the warning colour. */
const HIGH = 0.8;

export function SpendMeter({ spend }: { spend: Spend }) {
  const limit = spend.limit;
  const share = limit ? spend.spent_usd / limit.usd : 0;
  const level = spend.over ? "over" : share >= HIGH ? "high" : "ok";
  const resets = (
    <time dateTime={spend.resets_at} title={localTime(spend.resets_at)}>
      {untilText(spend.resets_at)}
    </time>
  );
  return (
    <div className="spend-meter" data-level={limit ? level : "none"}>
      <div className="spend-meter-figures">
        <span>
          <span className="spend-meter-amount">{usd(spend.spent_usd)}</span>{" "}
          <span className="muted">spent {periodNow(spend.period)}</span>
        </span>
        <span className="muted">
          {limit ? `of ${limitText(limit)}` : "No limit"}
          {limit?.source === "default" ? " (everyone's default)" : ""}
        </span>
      </div>
      {limit ? (
        <meter
          min={0}
          max={limit.usd}
          value={Math.min(spend.spent_usd, limit.usd)}
          aria-label="Spend this period"
          aria-valuetext={`${usd(spend.spent_usd)} of ${usd(limit.usd)}`}
        />
      ) : null}
      <p className="muted">
        {spend.over ? (
          <>
            You can send messages again when it resets {resets}, or ask an administrator to raise
            it.
          </>
        ) : (
          <>The count starts again {resets}.</>
        )}
      </p>
    </div>
  );
}
