"use client";

import { useSearchParams } from "next/navigation";
import { useMemo, useState } from "react";
import type { SeriesResolution } from "@/lib/protocol/api";
import { PETAL_PREFIX } from "../realtime/prefix";
import { useSubscription, useView } from "../realtime/hooks";
import { FilterInput } from "../ui/FilterInput";
import { PageHeader, Panel } from "../ui/Panel";
import { SkeletonBlock } from "../ui/Skeleton";
import { FailureRateChart } from "./FailureRateChart";
import { ResolutionSwitch } from "./ResolutionSwitch";
import { FailuresMini, RuntimeChart } from "./RuntimeChart";
import { ThroughputChart } from "./ThroughputChart";
import { firstUsefulT, fromT, isRange, isScale, rankNames, type ChartScale } from "./series";

/**
 * Show the 1h / 24h / 7d history buttons: on once the server accepts ranges in the charts
 * subscription (lib/protocol ChartsRange); a ?res=24h link works either way once it does.
 */
const RANGES_ON = true;

/** Buckets always drawn, however empty the past (default: 60). */
const MIN_BUCKETS = 60;

/** Small multiples drawn at once; the filter box narrows the rest (default: 12). */
const MAX_MULTIPLES = 12;

const SPAN: Record<ChartScale, string> = {
  "1s": "1 s buckets, up to the last 10 minutes",
  "10s": "10 s buckets, up to the last 2 hours",
  "1m": "1 min buckets, up to the last 24 hours",
  "1h": "History: the last hour in 1 min buckets (kept across restarts)",
  "24h": "History: the last 24 hours in 10 min buckets (kept across restarts)",
  "7d": "History: the last 7 days in 1 h buckets (kept across restarts)",
};

export function ChartsPage() {
  const sp = useSearchParams();
  const resParam = sp.get("res");
  const res: ChartScale = isScale(resParam) && (RANGES_ON || !isRange(resParam)) ? resParam : "10s";
  const setRes = (r: ChartScale) => window.history.replaceState(null, "", `${PETAL_PREFIX}/charts?res=${r}`);
  // Ranges travel in the same field as resolutions (the server answers them from history).
  useSubscription({ charts: { resolution: res } });
  const charts = useView("charts");
  const [filter, setFilter] = useState("");
  const data = charts && charts.resolution === res ? charts : undefined;
  // A history range is drawn whole: its empty past is information (nothing ran), not noise.
  const start = useMemo(() => (data && !isRange(res) ? firstUsefulT(data.throughput, MIN_BUCKETS) : null), [data, res]);
  const throughput = useMemo(() => (data ? fromT(data.throughput, start) : undefined), [data, start]);

  const runtimeNames = useMemo(() => (data ? rankNames(data.runtime, (p) => p.count) : []), [data]);
  const failureNames = useMemo(() => (data ? rankNames(data.failures, (p) => p.failed) : []), [data]);
  const f = filter.trim().toLowerCase();
  const pick = (names: string[]) => (f ? names.filter((n) => n.toLowerCase().includes(f)) : names);
  const shownRuntime = pick(runtimeNames);
  const shownFailures = pick(failureNames).filter((n) => (data?.failures[n] ?? []).some((p) => p.failed > 0));

  return (
    <div className="flex flex-col gap-4" data-testid="charts-page">
      <PageHeader
        title="Charts"
        sub={SPAN[res]}
        actions={
          <>
            <FilterInput value={filter} onChange={setFilter} placeholder="Filter task names" label="Filter task names" width={240} />
            <ResolutionSwitch value={res} onChange={setRes} ranges={RANGES_ON} />
          </>
        }
      />
      <div className="grid grid-cols-1 gap-4 xl:grid-cols-3">
        <Panel title="Throughput" className="xl:col-span-2" bodyClassName="p-3">
          <ThroughputChart points={throughput} resolution={res} height={200} />
        </Panel>
        <Panel title="Failure rate" bodyClassName="p-3">
          <FailureRateChart points={throughput} resolution={res} height={200} />
        </Panel>
      </div>

      <Panel
        title={`Runtime by task name${data ? ` (${shownRuntime.length})` : ""}`}
        bodyClassName="grid grid-cols-1 gap-x-6 gap-y-5 p-3 md:grid-cols-2 2xl:grid-cols-3"
      >
        {!data ? (
          <SkeletonBlock h={150} />
        ) : shownRuntime.length === 0 ? (
          <div className="text-[12.5px] text-muted">{f ? `No task name matches “${filter}”.` : "No finished tasks in this window yet."}</div>
        ) : (
          shownRuntime.slice(0, MAX_MULTIPLES).map((n) => <RuntimeChart key={n} name={n} points={fromT(data.runtime[n] ?? [], start)} resolution={res} />)
        )}
        {shownRuntime.length > MAX_MULTIPLES ? (
          <div className="text-[12px] text-muted">
            {shownRuntime.length - MAX_MULTIPLES} more task names; filter to see them.
          </div>
        ) : null}
      </Panel>

      <Panel title={`Failures by task name${data ? ` (${shownFailures.length})` : ""}`} bodyClassName="grid grid-cols-1 gap-x-6 gap-y-4 p-3 md:grid-cols-2 2xl:grid-cols-4">
        {!data ? (
          <SkeletonBlock h={80} />
        ) : shownFailures.length === 0 ? (
          <div className="flex items-center gap-2 text-[12.5px] text-muted">
            <span aria-hidden className="text-st-success-fg">✓</span> No failures in this window.
          </div>
        ) : (
          shownFailures.slice(0, MAX_MULTIPLES * 2).map((n) => <FailuresMini key={n} name={n} points={fromT(data.failures[n] ?? [], start)} resolution={res} />)
        )}
      </Panel>
    </div>
  );
}
