"use client";

import { Bar, BarChart, CartesianGrid, Line, LineChart, Tooltip, XAxis, YAxis } from "recharts";
import type { RuntimePoint } from "@/lib/protocol/api";
import { formatCount, formatDuration } from "../ui/format";
import { SERIES_COLOR } from "../ui/state";
import { AXIS, ChartTooltip, GRID, Legend } from "./ChartTooltip";
import { formatTick, latestPercentile, type ChartScale } from "./series";

/**
 * Percentiles are not task states, so they get the neutral accent (p50) and greys with dash
 * patterns (p95, p99) instead of borrowing a state colour.
 */
export const PERCENTILE_STYLE = {
  p50: { color: "var(--accent)", dash: undefined, label: "p50" },
  p95: { color: "var(--muted)", dash: "4 3", label: "p95" },
  p99: { color: "var(--faint)", dash: "1 3", label: "p99" },
} as const;

export function RuntimeChart({
  name,
  points,
  resolution,
  height = 120,
}: {
  name?: string;
  points: RuntimePoint[];
  resolution: ChartScale;
  height?: number;
}) {
  let count = 0;
  for (const p of points) count += p.count;
  return (
    <div data-testid="runtime-chart" data-task-name={name} className="flex min-w-0 flex-col gap-1.5">
      <div className="flex items-baseline justify-between gap-2">
        {name ? (
          <span className="truncate font-mono text-[12px] font-medium" title={name}>
            {name}
          </span>
        ) : null}
        <span className="num shrink-0 text-[11px] text-muted">{formatCount(count)} runs</span>
      </div>
      <Legend
        items={(["p50", "p95", "p99"] as const).map((k) => ({
          label: PERCENTILE_STYLE[k].label,
          color: PERCENTILE_STYLE[k].color,
          value: formatDuration(latestPercentile(points, k)),
        }))}
      />
      <LineChart responsive style={{ width: "100%", height }} data={points} margin={{ top: 4, right: 4, bottom: 0, left: 0 }}>
        <CartesianGrid {...GRID} />
        <XAxis dataKey="t" {...AXIS} tickFormatter={(t: number) => formatTick(t, resolution)} minTickGap={40} />
        <YAxis {...AXIS} axisLine={false} width={58} tickCount={4} tickFormatter={(v: number) => (v === 0 ? "0" : formatDuration(v))} />
        <Tooltip isAnimationActive={false} content={(p) => <ChartTooltip {...p} resolution={resolution} format={formatDuration} />} />
        {(["p99", "p95", "p50"] as const).map((k) => (
          <Line
            key={k}
            dataKey={k}
            name={k}
            stroke={PERCENTILE_STYLE[k].color}
            strokeDasharray={PERCENTILE_STYLE[k].dash}
            strokeWidth={k === "p50" ? 1.75 : 1.25}
            dot={false}
            connectNulls
            isAnimationActive={false}
          />
        ))}
      </LineChart>
    </div>
  );
}

/** Failures of one task name per bucket: a small red bar strip with the total. */
export function FailuresMini({
  name,
  points,
  resolution,
  height = 56,
}: {
  name: string;
  points: { t: number; failed: number }[];
  resolution: ChartScale;
  height?: number;
}) {
  let sum = 0;
  for (const p of points) sum += p.failed;
  return (
    <div className="flex min-w-0 flex-col gap-1" data-testid="failures-mini" data-task-name={name}>
      <div className="flex items-baseline justify-between gap-2">
        <span className="truncate font-mono text-[12px]" title={name}>
          {name}
        </span>
        <span className={`num shrink-0 text-[12px] font-medium ${sum ? "text-st-failure-fg" : "text-muted"}`}>{formatCount(sum)}</span>
      </div>
      <BarChart responsive style={{ width: "100%", height }} data={points} margin={{ top: 2, right: 0, bottom: 0, left: 0 }} barCategoryGap={1}>
        <XAxis dataKey="t" hide />
        <YAxis hide allowDecimals={false} />
        <Tooltip
          cursor={{ fill: "var(--row-hover)" }}
          isAnimationActive={false}
          content={(p) => <ChartTooltip {...p} resolution={resolution} format={formatCount} />}
        />
        <Bar dataKey="failed" name="failed" fill={SERIES_COLOR.failed} isAnimationActive={false} />
      </BarChart>
    </div>
  );
}
