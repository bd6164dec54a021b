"use client";

import Link from "next/link";
import { useMemo, useState } from "react";
import type { SeriesResolution } from "@/lib/protocol/api";
import { ResolutionSwitch } from "../charts/ResolutionSwitch";
import { RuntimeChart } from "../charts/RuntimeChart";
import { ThroughputChart } from "../charts/ThroughputChart";
import { WINDOW_LABEL, lastBuckets } from "../charts/window";
import { useConfig, useSubscription, useView } from "../realtime/hooks";
import { Field } from "../tasks/TaskFields";
import { Empty } from "../ui/Empty";
import { formatCount, formatLoad } from "../ui/format";
import { Panel, Stat } from "../ui/Panel";
import { SkeletonBlock } from "../ui/Skeleton";
import { WorkerStatus } from "../ui/StatusDot";
import { Age, Duration } from "../ui/Time";
import { ByTaskTable } from "./ByTaskTable";
import { HeartbeatStrip } from "./HeartbeatStrip";
import { InspectStatus, QueuesPanel, RegisteredPanel } from "./InspectPanels";
import { InspectRequests, RevokedList } from "./InspectRequests";
import { ConfPanel, StatsPanel } from "./StatsPanel";
import { WorkerActions } from "./WorkerActions";

/** Runtime small multiples shown for the task names this worker runs most (default: 4). */
const RUNTIME_CHARTS = 4;

export function WorkerDetailPage({ name }: { name: string }) {
  const [res, setRes] = useState<SeriesResolution>("1s");
  useSubscription({
    worker: name,
    charts: { resolution: res, worker: name },
  });
  const w = useView("worker");
  const charts = useView("charts");
  const config = useConfig();

  const topNames = useMemo(() => {
    if (!w) return [];
    return Object.entries(w.by_task)
      .sort((a, b) => b[1].succeeded + b[1].failed - (a[1].succeeded + a[1].failed))
      .slice(0, RUNTIME_CHARTS)
      .map(([n]) => n);
  }, [w]);

  if (w === undefined || (w && w.hostname !== name)) {
    return (
      <div className="flex flex-col gap-4" aria-busy="true">
        <SkeletonBlock h={48} />
        <SkeletonBlock h={220} />
      </div>
    );
  }
  if (w === null) {
    return (
      <div className="rounded-lg border border-line bg-surface" data-testid="worker-not-found">
        <Empty title="Worker not known">
          <p>
            No events from <span className="font-mono text-fg">{name}</span> yet. This page keeps listening and shows it when it
            comes online.
          </p>
          <p className="mt-3">
            <Link href="/workers" className="text-accent-fg hover:underline">
              ← All workers
            </Link>
          </p>
        </Empty>
      </div>
    );
  }

  const points = charts && charts.resolution === res ? lastBuckets(charts.throughput, res) : undefined;
  return (
    <div className="flex flex-col gap-4" data-testid="worker-detail" data-worker={w.hostname} data-status={w.online ? "online" : "offline"}>
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0">
          <h1 className="truncate text-[18px] font-semibold tracking-tight">{w.hostname}</h1>
          <div className="mt-1 flex flex-wrap items-center gap-x-4 gap-y-1 text-[12.5px] text-muted">
            <WorkerStatus online={w.online} />
            <span>
              last heartbeat <Age t={w.last_heartbeat} testId="heartbeat-age" className="text-fg" />
            </span>
            {w.sw_ident ? (
              <span>
                {w.sw_ident} {w.sw_ver}
              </span>
            ) : null}
            <InspectStatus worker={w} />
          </div>
        </div>
        <WorkerActions worker={w} />
      </div>

      <div className="grid grid-cols-2 gap-x-6 gap-y-3 rounded-lg border border-line bg-surface px-4 py-3 sm:grid-cols-3 xl:grid-cols-6">
        <Stat label="Active" value={formatCount(w.active)} tone={w.active ? "text-st-started-fg" : ""} />
        <Stat label="Processed" value={formatCount(w.processed)} hint="Tasks this worker process has run since it started (from its heartbeats); the succeeded/failed counts come from task events, across restarts" />
        <Stat label="Succeeded" value={formatCount(w.succeeded)} tone="text-st-success-fg" />
        <Stat label="Failed" value={formatCount(w.failed)} tone={w.failed ? "text-st-failure-fg" : ""} />
        <Stat label="Retried" value={formatCount(w.retried)} tone={w.retried ? "text-st-retry-fg" : ""} />
        <Stat label="Load avg" value={<span className="text-[15px]">{formatLoad(w.loadavg)}</span>} hint="1, 5 and 15 minute load averages" />
      </div>

      <div className="grid grid-cols-1 gap-4 xl:grid-cols-[minmax(0,1fr)_380px]">
        <div className="flex min-w-0 flex-col gap-4">
          <InspectRequests worker={w} />
          <Panel title={`Throughput · ${WINDOW_LABEL[res]}`} actions={<ResolutionSwitch value={res} onChange={setRes} />} bodyClassName="p-3">
            <ThroughputChart points={points} resolution={res} height={160} />
          </Panel>
          {charts && topNames.length ? (
            <Panel title="Runtime of its busiest task names (all workers)" bodyClassName="grid grid-cols-1 gap-4 p-3 lg:grid-cols-2">
              {topNames.map((n) => (
                <RuntimeChart key={n} name={n} points={lastBuckets(charts.runtime[n] ?? [], res) ?? []} resolution={res} height={110} />
              ))}
            </Panel>
          ) : null}
          <Panel title="Tasks by name">
            <ByTaskTable worker={w} readOnly={!!config?.readOnly} />
          </Panel>
        </div>
        <div className="flex min-w-0 flex-col gap-4">
          <Panel title="Heartbeats" bodyClassName="p-3">
            <HeartbeatStrip beats={w.heartbeats} freq={w.freq} />
          </Panel>
          <Panel title="Worker" bodyClassName="px-3 py-1">
            <dl className="divide-y divide-line/60" data-testid="worker-info">
              <Field label="PID">
                <span className="num">{w.pid ?? "—"}</span>
              </Field>
              <Field label="Software">
                {w.sw_ident ? `${w.sw_ident} ${w.sw_ver ?? ""}` : "—"}
              </Field>
              <Field label="System">{w.sw_sys ?? "—"}</Field>
              <Field label="Concurrency">
                <span className="num">{w.concurrency ?? "—"}</span>
              </Field>
              <Field label="Queues">
                {w.queues?.length ? (
                  <span className="flex flex-wrap gap-1">
                    {w.queues.map((q) => (
                      <span key={q} className="rounded border border-line px-1.5 font-mono text-[11.5px]">
                        {q}
                      </span>
                    ))}
                  </span>
                ) : (
                  "—"
                )}
              </Field>
              <Field label="Heartbeat every">
                <Duration s={w.freq} />
              </Field>
              <Field label="First seen">
                <Age t={w.first_seen} intervalMs={1000} />
              </Field>
              <Field label="Received">
                <span className="num">{formatCount(w.received)}</span>
              </Field>
              <Field label="Revoked">
                <span className="num">{formatCount(w.revoked)}</span>
              </Field>
            </dl>
          </Panel>
          <Panel title="Stats">
            <StatsPanel stats={w.inspect?.stats} />
          </Panel>
          <Panel title={`Queues${w.inspect?.active_queues ? ` · ${w.inspect.active_queues.length}` : ""}`}>
            <QueuesPanel worker={w} />
          </Panel>
          <Panel title={`Registered${w.inspect?.registered ? ` · ${w.inspect.registered.length}` : ""}`}>
            <RegisteredPanel worker={w} />
          </Panel>
          <Panel title="Revoked">
            <RevokedList ids={w.inspect?.revoked} />
          </Panel>
          <Panel title="Conf">
            <ConfPanel conf={w.inspect?.conf} />
          </Panel>
        </div>
      </div>
    </div>
  );
}
