/**
 * Usage and cost (admins): what the deployment's model steps used and cost over a period — the
 * totals, a chart per day split per user or per model (cost or tokens), the top users and the top
 * chats, and CSV exports of the same figures. Costs are the ones recorded with each step, at the
 * pricing in force when it ran. The chart library loads only with this page (a lazy chunk).
 */
import { lazy, Suspense, useMemo, useState } from "react";
import { ErrorBox } from "../ui/ErrorBox.tsx";
import { setSearch, useSearch } from "./audit/useSearch.ts";
import { csvUrl, daysOf, type Period, type UsageRow } from "./usage/api.ts";
import { formatCount, formatUsd, longDay } from "./usage/format.ts";
import { PeriodPicker } from "./usage/PeriodPicker.tsx";
import { type Metric, pivot } from "./usage/pivot.ts";
import { TopChats, TopUsers, TotalsCards } from "./usage/UsageTables.tsx";
import { useUsage } from "./usage/useUsage.ts";
import { searchFromView, type UsageView, viewFromSearch } from "./usage/view.ts";
import "./usage/usage.css";

const UsageChart = lazy(() => import("./usage/UsageChart.tsx"));

export function UsagePage() {
  // The view lives in the address (usage/view.ts): shareable, and Back undoes a change.
  const search = useSearch();
  const [refresh, setRefresh] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `refresh` moves "today" on purpose
  const view = useMemo(() => viewFromSearch(search), [search, refresh]);
  const { preset, period, split, metric } = view;
  const change = (patch: Partial<UsageView>) => setSearch(searchFromView({ ...view, ...patch }));
  const usage = useUsage(period, split, refresh);
  // The chart shows the data it has: while another split or period loads, it (and its label)
  // stay those of the last answer, never a mix of the new choice and the old figures.
  const shown = usage.data?.days;
  const shownPeriod = useMemo<Period | null>(
    () => (shown ? { since: shown.since.slice(0, 10), until: lastDayOf(shown.until) } : null),
    [shown],
  );
  const chart = useMemo(
    () => (shown && shownPeriod ? pivot(shown.rows, daysOf(shownPeriod), metric) : null),
    [shown, shownPeriod, metric],
  );
  const totals = usage.data?.users.totals;
  const what = metric === "cost" ? "Cost" : "Tokens";
  const per = split === "user" ? "user" : "model";
  const shownPer = shown?.split_by === "model" ? "model" : "user";
  const shownDays = shownPeriod
    ? `${longDay(shownPeriod.since)} to ${longDay(shownPeriod.until)}`
    : "";
  const chartLabel = `${what} per day and ${shownPer}, ${shownDays}`;

  return (
    <div className="page usage-page">
      <header className="usage-head">
        <div>
          <h1>Usage and cost</h1>
          <p className="muted usage-intro">
            Tokens and cost of every model step, each priced when it ran. Days are in UTC.
          </p>
        </div>
        <button type="button" className="btn-small" onClick={() => setRefresh((r) => r + 1)}>
          Refresh
        </button>
      </header>
      <PeriodPicker
        key={preset === "custom" ? `${period.since}/${period.until}` : "presets"}
        preset={preset}
        period={period}
        onChange={(next, range) => {
          change({ preset: next, period: range });
        }}
      />
      <ErrorBox error={usage.error} title="Usage could not be read." />
      <div className="usage-body" aria-busy={usage.loading}>
        {usage.loading && !usage.data ? (
          <p className="muted" role="status">
            Loading usage…
          </p>
        ) : null}
        {totals ? <TotalsCards totals={totals} /> : null}
        {chart ? (
          <section className="usage-section" aria-labelledby="usage-over-time">
            <div className="usage-section-head">
              <h2 id="usage-over-time">Over time</h2>
              <div className="usage-toggles">
                <fieldset className="segmented">
                  <legend className="sr-only">Show</legend>
                  <button
                    type="button"
                    aria-pressed={metric === "cost"}
                    onClick={() => change({ metric: "cost" })}
                  >
                    Cost
                  </button>
                  <button
                    type="button"
                    aria-pressed={metric === "tokens"}
                    onClick={() => change({ metric: "tokens" })}
                  >
                    Tokens
                  </button>
                </fieldset>
                <fieldset className="segmented">
                  <legend className="sr-only">Split</legend>
                  <button
                    type="button"
                    aria-pressed={split === "user"}
                    onClick={() => change({ split: "user" })}
                  >
                    Per user
                  </button>
                  <button
                    type="button"
                    aria-pressed={split === "model"}
                    onClick={() => change({ split: "model" })}
                  >
                    Per model
                  </button>
                </fieldset>
              </div>
            </div>
            {totals && totals.messages === 0 ? (
              <p className="usage-empty">No model step in this period.</p>
            ) : (
              <Suspense
                fallback={<div className="usage-chart usage-chart-loading">Loading chart…</div>}
              >
                <UsageChart data={chart} metric={metric} label={chartLabel} />
              </Suspense>
            )}
            <details className="usage-figures">
              <summary>The figures per day</summary>
              <DayTable rows={usage.data?.days.rows ?? []} metric={metric} />
            </details>
          </section>
        ) : null}
        {usage.data ? (
          <div className="usage-tops">
            <TopUsers rows={usage.data.users.rows} />
            <TopChats rows={usage.data.chats.rows} />
          </div>
        ) : null}
        {usage.data ? (
          <section className="usage-section" aria-labelledby="usage-export">
            <h2 id="usage-export">Export</h2>
            <p className="muted usage-export-note">
              CSV files of this period; the top lists as far as {formatCount(1000)} rows.
            </p>
            <div className="usage-exports">
              <a
                className="btn btn-small"
                download
                href={csvUrl(period, { group_by: "day", split_by: split })}
              >
                Per day and {per}
              </a>
              <a className="btn btn-small" download href={csvUrl(period, { group_by: "user" })}>
                Per user
              </a>
              <a className="btn btn-small" download href={csvUrl(period, { group_by: "model" })}>
                Per model
              </a>
              <a className="btn btn-small" download href={csvUrl(period, { group_by: "provider" })}>
                Per provider
              </a>
              <a
                className="btn btn-small"
                download
                href={csvUrl(period, { group_by: "chat", limit: 1000 })}
              >
                Top chats
              </a>
            </div>
          </section>
        ) : null}
      </div>
    </div>
  );
}

/** The last day of a period that ends (exclusive) at `until`, a UTC midnight. */
function lastDayOf(until: string): string {
  return new Date(Date.parse(until) - 1).toISOString().slice(0, 10);
}

/** The chart's figures as a table: a day's rows per user or model, for reading them exactly. */
function DayTable({ rows, metric }: { rows: UsageRow[]; metric: Metric }) {
  if (rows.length === 0) return <p className="muted">No usage in this period.</p>;
  return (
    <div className="table-wrap">
      <table className="usage-table">
        <thead>
          <tr>
            <th scope="col">Day</th>
            <th scope="col">Who or what</th>
            <th scope="col" className="num">
              {metric === "cost" ? "Cost" : "Tokens"}
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={`${row.key}-${row.split_name}`}>
              <td data-label="Day">{row.key}</td>
              <td data-label="Who or what">{row.split_name}</td>
              <td className="num" data-label={metric === "cost" ? "Cost" : "Tokens"}>
                {metric === "cost"
                  ? formatUsd(row.cost_usd)
                  : formatCount(row.input_tokens + row.output_tokens)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
