/**
 * The period of the usage page: the last 7, 30 or 90 days (UTC, today included), or a custom
 * range of days. Presets are toggle buttons; a custom range applies when submitted.
 */
import { type FormEvent, useState } from "react";
import { lastDays, type Period } from "./api.ts";

export const PRESETS = [7, 30, 90] as const;
export type Preset = (typeof PRESETS)[number] | "custom";

export function PeriodPicker({
  preset,
  period,
  onChange,
}: {
  preset: Preset;
  period: Period;
  onChange(preset: Preset, period: Period): void;
}) {
  const [custom, setCustom] = useState(preset === "custom");
  const [error, setError] = useState<string | null>(null);

  function apply(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const since = String(form.get("since"));
    const until = String(form.get("until"));
    if (!since || !until) return setError("Choose both days.");
    if (since > until) return setError("The first day comes after the last.");
    setError(null);
    onChange("custom", { since, until });
  }

  return (
    <div className="usage-period">
      <fieldset className="segmented">
        <legend className="sr-only">Period</legend>
        {PRESETS.map((days) => (
          <button
            key={days}
            type="button"
            aria-pressed={!custom && preset === days}
            onClick={() => {
              setCustom(false);
              setError(null);
              onChange(days, lastDays(days));
            }}
          >
            {days} days
          </button>
        ))}
        <button type="button" aria-pressed={custom} onClick={() => setCustom(true)}>
          Custom
        </button>
      </fieldset>
      {custom ? (
        <form className="usage-custom" onSubmit={apply} aria-label="Custom period">
          <label>
            <span>From</span>
            <input type="date" name="since" defaultValue={period.since} required />
          </label>
          <label>
            <span>To</span>
            <input type="date" name="until" defaultValue={period.until} required />
          </label>
          <button type="submit" className="btn-small">
            Apply
          </button>
          {error ? (
            <span className="usage-custom-error" role="alert">
              {error}
            </span>
          ) : null}
        </form>
      ) : null}
    </div>
  );
}
