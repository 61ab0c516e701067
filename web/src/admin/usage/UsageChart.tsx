/**
 * The usage page's chart (recharts): cost or tokens per UTC day, stacked per user or model. It is
 * the page's one heavy dependency, so this module is only ever imported lazily (UsagePage.tsx):
 * the chart library stays out of the initial bundle. Colours are the theme's chart tokens
 * (tokens.css), read from CSS and read again when the system switches light and dark.
 */
import { useEffect, useState } from "react";
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { formatCompact, formatCount, formatUsd, longDay, shortDay } from "./format.ts";
import { type ChartData, type Metric, OTHERS } from "./pivot.ts";

const SERIES_TOKENS = [
  "--chart-1",
  "--chart-2",
  "--chart-3",
  "--chart-4",
  "--chart-5",
  "--chart-6",
];

interface Palette {
  series: string[];
  other: string;
  fg: string;
  fgSoft: string;
  border: string;
  bg: string;
  sunk: string;
}

function readPalette(): Palette {
  const style = getComputedStyle(document.documentElement);
  const v = (name: string) => style.getPropertyValue(name).trim();
  return {
    series: SERIES_TOKENS.map(v),
    other: v("--chart-other"),
    fg: v("--fg"),
    fgSoft: v("--fg-soft"),
    border: v("--border"),
    bg: v("--bg"),
    sunk: v("--bg-sunk"),
  };
}

function usePalette(): Palette {
  const [palette, setPalette] = useState(readPalette);
  useEffect(() => {
    const query = window.matchMedia("(prefers-color-scheme: dark)");
    const onChange = () => setPalette(readPalette());
    query.addEventListener("change", onChange);
    return () => query.removeEventListener("change", onChange);
  }, []);
  return palette;
}

export default function UsageChart({
  data,
  metric,
  label,
}: {
  data: ChartData;
  metric: Metric;
  /** What the chart shows, for assistive technology. */
  label: string;
}) {
  const palette = usePalette();
  const exact = (value: number) => (metric === "cost" ? formatUsd(value) : formatCount(value));
  // Cents on a small cost axis: "$0.15", never a rounded "$0.2" beside a bar of $0.15.
  const axis = (value: number) =>
    metric === "tokens"
      ? formatCompact(value)
      : value < 10
        ? `$${value.toFixed(2)}`
        : `$${formatCompact(value)}`;
  const tick = { fill: palette.fgSoft, fontSize: 12 };
  return (
    <figure className="usage-chart" aria-label={label}>
      <ResponsiveContainer width="100%" height={300}>
        <BarChart data={data.points} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid vertical={false} stroke={palette.border} strokeDasharray="3 3" />
          <XAxis
            dataKey="day"
            tickFormatter={shortDay}
            tick={tick}
            stroke={palette.border}
            minTickGap={20}
            tickLine={false}
          />
          <YAxis
            tickFormatter={axis}
            tick={tick}
            stroke={palette.border}
            width={56}
            axisLine={false}
            tickLine={false}
            allowDecimals={metric === "cost"}
          />
          <Tooltip
            cursor={{ fill: palette.sunk }}
            labelFormatter={(day) => longDay(String(day))}
            formatter={(value) => exact(Number(value))}
            contentStyle={{
              background: palette.bg,
              border: `1px solid ${palette.border}`,
              borderRadius: 8,
              color: palette.fg,
              fontSize: 13,
            }}
            labelStyle={{ color: palette.fg, fontWeight: 600 }}
          />
          <Legend wrapperStyle={{ fontSize: 13, color: palette.fgSoft }} />
          {data.series.map((series, i) => (
            <Bar
              key={series.key}
              dataKey={series.key}
              name={series.name}
              stackId="usage"
              fill={
                series.name === OTHERS && i === data.series.length - 1
                  ? palette.other
                  : (palette.series[i % palette.series.length] ?? palette.other)
              }
              isAnimationActive={false}
            />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}
