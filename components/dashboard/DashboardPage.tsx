"use client";

import Link from "next/link";
import { useState } from "react";
import type { SeriesResolution } from "@/lib/protocol/api";
import { FailureRateChart } from "../charts/FailureRateChart";
import { ResolutionSwitch } from "../charts/ResolutionSwitch";
import { ThroughputChart } from "../charts/ThroughputChart";
import { WINDOW_LABEL, lastBuckets } from "../charts/window";
import { useSubscription, useView } from "../realtime/hooks";
import { formatCount, formatPercent } from "../ui/format";
import { Panel, Stat } from "../ui/Panel";
import { WorkersTable } from "../workers/WorkersTable";
import { NoWorkers } from "./NoWorkers";
import { RecentFailures } from "./RecentFailures";

/** Worker rows on the dashboard before "N more" (default: 25). */
const DASHBOARD_WORKERS = 25;

/** How many recent failures the dashboard lists (default: 8). */
const RECENT_FAILURES = 8;

export function DashboardPage() {
  const [res, setRes] = useState<SeriesResolution>("1s");
  useSubscription({ workers: true, charts: { resolution: res }, tasks: { state: ["FAILURE"], limit: RECENT_FAILURES } });
  const ov = useView("overview");
  const workers = useView("workers");
  const charts = useView("charts");
  const failures = useView("tasks");
  const points = charts && charts.resolution === res ? lastBuckets(charts.throughput, res) : undefined;
  const dash = <span className="text-faint">—</span>;

  return (
    <div className="flex flex-col gap-4" data-testid="dashboard">
      <div className="grid grid-cols-2 gap-x-6 gap-y-3 rounded-lg border border-line bg-surface px-4 py-3 sm:grid-cols-4 xl:grid-cols-8">
        <Stat label="Workers online" value={ov ? `${ov.workers_online} / ${ov.workers_total}` : dash} />
        <Stat label="Active" value={ov ? formatCount(ov.active) : dash} tone={ov?.active ? "text-st-started-fg" : ""} />
        <Stat label="Queued" value={ov ? formatCount(ov.queued) : dash} hint="Waiting to start (PENDING or RECEIVED)" />
        <Stat label="Succeeded" value={ov ? formatCount(ov.totals.succeeded) : dash} tone="text-st-success-fg" hint="Since the server started" />
        <Stat
          label="Failed"
          value={ov ? formatCount(ov.totals.failed) : dash}
          tone={ov?.totals.failed ? "text-st-failure-fg" : ""}
          hint="Since the server started"
        />
        <Stat label="Retried" value={ov ? formatCount(ov.totals.retried) : dash} tone={ov?.totals.retried ? "text-st-retry-fg" : ""} />
        <Stat label="Failure rate 1m" value={ov ? formatPercent(ov.failure_rate) : dash} hint="failed / (succeeded + failed), last 60 s" />
        <Stat label="Tasks retained" value={ov ? formatCount(ov.tasks_retained) : dash} hint="Kept in memory for search and detail" />
      </div>

      <Panel
        title={
          <>
            Workers{" "}
            {workers ? <span className="num font-normal normal-case tracking-normal text-faint">({workers.length})</span> : null}
          </>
        }
        actions={
          <Link href="/workers" className="text-[12px] text-muted hover:text-fg">
            All workers →
          </Link>
        }
        testId="workers-panel"
      >
        {workers && workers.length === 0 ? <NoWorkers /> : <WorkersTable workers={workers} limit={DASHBOARD_WORKERS} />}
      </Panel>

      <div className="grid grid-cols-1 gap-4 xl:grid-cols-3">
        <Panel
          title={`Throughput · ${WINDOW_LABEL[res]}`}
          actions={<ResolutionSwitch value={res} onChange={setRes} />}
          className="xl:col-span-2"
          bodyClassName="p-3"
        >
          <ThroughputChart points={points} resolution={res} />
        </Panel>
        <Panel title={`Failure rate · ${WINDOW_LABEL[res]}`} bodyClassName="p-3">
          <FailureRateChart points={points} resolution={res} />
        </Panel>
      </div>

      <Panel
        title="Recent failures"
        actions={
          <Link href="/tasks?state=FAILURE" className="text-[12px] text-muted hover:text-fg">
            All failures →
          </Link>
        }
      >
        <RecentFailures rows={failures?.rows} />
      </Panel>
    </div>
  );
}
