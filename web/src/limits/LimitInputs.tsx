/**
 * A limit's two controls: the period (or none: no limit, or the default for a user) and the
 * amount in USD, which only a chosen period asks for. The server validates again.
 */
import { useId } from "react";
import { Field } from "../ui/Field.tsx";
import type { LimitPeriod, SpendLimit } from "./api.ts";
import "./limits.css";
import { PERIODS } from "./format.ts";

export interface LimitDraft {
  period: LimitPeriod | "";
  usd: string;
}

export function draftOf(limit: SpendLimit | null | undefined): LimitDraft {
  return limit ? { period: limit.period, usd: String(limit.usd) } : { period: "", usd: "" };
}

/** The limit a draft says, or null for none. */
export function limitOf(draft: LimitDraft): SpendLimit | null {
  return draft.period === "" ? null : { period: draft.period, usd: Number(draft.usd) };
}

const PER = { day: "Per day", week: "Per week (from Monday)", month: "Per month" } as const;

export function LimitInputs({
  draft,
  onChange,
  label,
  noneLabel,
  hint,
}: {
  draft: LimitDraft;
  onChange(draft: LimitDraft): void;
  label: string;
  noneLabel: string;
  hint?: string;
}) {
  const amountId = useId();
  return (
    <div className="form-row">
      <Field label={label} {...(hint ? { hint } : {})}>
        <select
          name="period"
          value={draft.period}
          onChange={(e) => onChange({ ...draft, period: e.target.value as LimitDraft["period"] })}
        >
          <option value="">{noneLabel}</option>
          {PERIODS.map((period) => (
            <option key={period} value={period}>
              {PER[period]}
            </option>
          ))}
        </select>
      </Field>
      {draft.period !== "" ? (
        // Not a `Field`: the "$" wraps the input, and the label must name the input itself.
        <div className="field">
          <label htmlFor={amountId}>Amount (USD)</label>
          <span className="limit-amount">
            <input
              id={amountId}
              name="usd"
              type="number"
              inputMode="decimal"
              min="0.01"
              step="0.01"
              required
              value={draft.usd}
              onChange={(e) => onChange({ ...draft, usd: e.target.value })}
            />
          </span>
        </div>
      ) : null}
    </div>
  );
}
