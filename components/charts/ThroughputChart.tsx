"use client";

import { Area, AreaChart, Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from "recharts";
import type { SeriesPoint } from "@/lib/protocol/api";
import { formatCompact, formatCount } from "../ui/format";
import { SERIES_COLOR } from "../ui/state";
import { SkeletonBlock } from "../ui/Skeleton";
import { AXIS, ChartTooltip, GRID, Legend } from "./ChartTooltip";
import { formatTick, total, type ChartScale } from "./series";

/** Above this many buckets bars turn into slivers; stacked areas read better (default: 120). */
const MAX_BARS = 120;

const SERIES = [
  { key: "succeeded", color: SERIES_COLOR.succeeded },
  { key: "failed", color: SERIES_COLOR.failed },
  { key: "retried", color: SERIES_COLOR.retried },
] as const;

/** Finished tasks per bucket, stacked by outcome. Animation off: it redraws on every tick. */
export function ThroughputChart({
  points,
  resolution,
  height = 180,
}: {
  points: SeriesPoint[] | undefined;
  resolution: ChartScale;
  height?: number;
}) {
  if (!points) return <SkeletonBlock h={height + 22} />;
  const common = {
    responsive: true,
    style: { width: "100%", height },
    data: points,
    margin: { top: 4, right: 4, bottom: 0, left: 0 },
  };
  const axes = (
    <>
      <CartesianGrid {...GRID} />
      <XAxis dataKey="t" {...AXIS} tickFormatter={(t: number) => formatTick(t, resolution)} minTickGap={48} />
      <YAxis {...AXIS} axisLine={false} allowDecimals={false} width={40} tickFormatter={(v: number) => formatCompact(v)} />
    </>
  );
  const tooltip = (
    <Tooltip
      cursor={{ fill: "var(--row-hover)", stroke: "var(--line-strong)" }}
      isAnimationActive={false}
      content={(p) => <ChartTooltip {...p} resolution={resolution} format={formatCount} />}
    />
  );
  return (
    <div data-testid="throughput-chart" className="flex flex-col gap-2">
      <Legend items={SERIES.map((s) => ({ label: s.key, color: s.color, value: formatCount(total(points, s.key)) }))} />
      {points.length > MAX_BARS ? (
        <AreaChart {...common}>
          {axes}
          {tooltip}
          {SERIES.map((s) => (
            <Area
              key={s.key}
              type="linear"
              dataKey={s.key}
              name={s.key}
              stackId="s"
              stroke="none"
              fill={s.color}
              fillOpacity={0.75}
              dot={false}
              isAnimationActive={false}
            />
          ))}
        </AreaChart>
      ) : (
        <BarChart {...common} barCategoryGap={1}>
          {axes}
          {tooltip}
          {SERIES.map((s) => (
            <Bar key={s.key} dataKey={s.key} name={s.key} stackId="s" fill={s.color} isAnimationActive={false} />
          ))}
        </BarChart>
      )}
    </div>
  );
}
