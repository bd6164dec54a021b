"use client";

import { useMemo } from "react";
import { Area, AreaChart, CartesianGrid, Tooltip, XAxis, YAxis } from "recharts";
import type { SeriesPoint } from "@/lib/protocol/api";
import { formatPercent } from "../ui/format";
import { SERIES_COLOR } from "../ui/state";
import { SkeletonBlock } from "../ui/Skeleton";
import { AXIS, ChartTooltip, GRID, Legend } from "./ChartTooltip";
import { RATE_WINDOW, bucketSeconds, failureRate, formatTick, niceRateMax, total, type ChartScale } from "./series";

export function FailureRateChart({
  points,
  resolution,
  height = 180,
}: {
  points: SeriesPoint[] | undefined;
  resolution: ChartScale;
  height?: number;
}) {
  const window = RATE_WINDOW[resolution];
  const data = useMemo(() => (points ? failureRate(points, window) : []), [points, window]);
  const top = useMemo(() => {
    let m = 0;
    for (const p of data) if (p.rate != null && p.rate > m) m = p.rate;
    return niceRateMax(m);
  }, [data]);
  if (!points) return <SkeletonBlock h={height + 22} />;
  const finished = total(points, "succeeded") + total(points, "failed");
  const overall = finished ? total(points, "failed") / finished : 0;
  return (
    <div data-testid="failure-rate-chart" className="flex flex-col gap-2">
      <Legend items={[{ label: "failure rate, whole window", color: SERIES_COLOR.failed, value: formatPercent(overall) }]} />
      <AreaChart responsive style={{ width: "100%", height }} data={data} margin={{ top: 4, right: 4, bottom: 0, left: 0 }}>
        <CartesianGrid {...GRID} />
        <XAxis dataKey="t" {...AXIS} tickFormatter={(t: number) => formatTick(t, resolution)} minTickGap={48} />
        <YAxis
          {...AXIS}
          axisLine={false}
          width={40}
          domain={[0, top]}
          ticks={[0, top / 2, top]}
          tickFormatter={(v: number) => formatPercent(v)}
        />
        <Tooltip
          isAnimationActive={false}
          content={(p) => <ChartTooltip {...p} resolution={resolution} format={formatPercent} />}
        />
        <Area
          type="linear"
          dataKey="rate"
          name={window > 1 ? `failure rate (${window * bucketSeconds(resolution)} s)` : "failure rate"}
          stroke={SERIES_COLOR.failed}
          fill={SERIES_COLOR.failed}
          fillOpacity={0.15}
          strokeWidth={1.5}
          connectNulls
          isAnimationActive={false}
          dot={false}
        />
      </AreaChart>
    </div>
  );
}
