"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { memo, useMemo } from "react";
import type { WorkerRecord } from "@/lib/protocol/api";
import { useFlashOnChange } from "../ui/Flash";
import { formatCount, formatLoad } from "../ui/format";
import { SkeletonRows } from "../ui/Skeleton";
import { WorkerStatus } from "../ui/StatusDot";
import { Age } from "../ui/Time";
import { useListNav } from "../ui/useListNav";

export function workerHref(hostname: string): string {
  return `/workers/${encodeURIComponent(hostname)}`;
}

/** Online first, then by name: a dead worker sinks but stays visible. */
export function sortWorkers(ws: readonly WorkerRecord[]): WorkerRecord[] {
  return [...ws].sort((a, b) => (a.online !== b.online ? (a.online ? -1 : 1) : a.hostname.localeCompare(b.hostname)));
}

const TH = "px-3 py-0 text-left text-[11px] font-medium uppercase tracking-wider text-muted whitespace-nowrap";
const TD = "px-3 py-0 whitespace-nowrap";

const Row = memo(
  function Row({ w, selected, onOpen }: { w: WorkerRecord; selected: boolean; onOpen: () => void }) {
    // Counters move on every event under load; only a status change is worth a flash.
    const ref = useFlashOnChange<HTMLTableRowElement>(String(w.online));
    return (
      <tr
        ref={ref}
        data-testid="worker-row"
        data-worker={w.hostname}
        data-status={w.online ? "online" : "offline"}
        aria-selected={selected}
        onClick={(e) => {
          if (!(e.target as HTMLElement).closest("a,button")) onOpen();
        }}
        className={`h-8 cursor-pointer border-t border-line first:border-t-0 ${selected ? "bg-row-selected shadow-[inset_2px_0_0_var(--accent)]" : "hover:bg-row-hover"} ${w.online ? "" : "text-muted"}`}
      >
        <td className={TD}>
          <WorkerStatus online={w.online} />
        </td>
        <td className={`${TD} max-w-[280px] truncate`}>
          <Link href={workerHref(w.hostname)} className="font-medium hover:text-accent-fg hover:underline" title={w.hostname}>
            {w.hostname}
          </Link>
        </td>
        <td className={`${TD} text-muted`}>
          <Age t={w.last_heartbeat} testId="heartbeat-age" />
        </td>
        <td className={`${TD} num text-right ${w.active ? "font-medium text-st-started-fg" : ""}`}>{formatCount(w.active)}</td>
        <td className={`${TD} num text-right`}>{formatCount(w.processed)}</td>
        <td className={`${TD} num text-right`}>{formatCount(w.succeeded)}</td>
        <td className={`${TD} num text-right ${w.failed ? "text-st-failure-fg" : ""}`}>{formatCount(w.failed)}</td>
        <td className={`${TD} num text-right ${w.retried ? "text-st-retry-fg" : ""}`}>{formatCount(w.retried)}</td>
        <td className={`${TD} num text-right text-muted`}>{formatLoad(w.loadavg)}</td>
      </tr>
    );
  },
  (a, b) =>
    a.selected === b.selected &&
    a.w.hostname === b.w.hostname &&
    a.w.online === b.w.online &&
    a.w.last_heartbeat === b.w.last_heartbeat &&
    a.w.active === b.w.active &&
    a.w.processed === b.w.processed &&
    a.w.succeeded === b.w.succeeded &&
    a.w.failed === b.w.failed &&
    a.w.retried === b.w.retried &&
    formatLoad(a.w.loadavg) === formatLoad(b.w.loadavg),
);

export function WorkersTable({
  workers,
  filter = "",
  limit,
}: {
  workers: WorkerRecord[] | undefined;
  filter?: string;
  /** show at most this many rows (online first); the rest are counted below (default: all) */
  limit?: number;
}) {
  const router = useRouter();
  const all = useMemo(() => {
    if (!workers) return [];
    const f = filter.trim().toLowerCase();
    return sortWorkers(f ? workers.filter((w) => w.hostname.toLowerCase().includes(f)) : workers);
  }, [workers, filter]);
  const rows = limit != null && all.length > limit ? all.slice(0, limit) : all;
  const open = (i: number) => {
    const w = rows[i];
    if (w) router.push(workerHref(w.hostname));
  };
  const { selected } = useListNav({
    count: rows.length,
    onOpen: open,
    onMove: (i) => document.querySelectorAll('[data-testid="worker-row"]')[i]?.scrollIntoView({ block: "nearest" }),
  });

  if (!workers) return <SkeletonRows rows={3} cols={7} />;
  return (
    <div className="overflow-x-auto">
      <table className="w-full border-collapse text-[13px]" data-testid="workers-table">
        <thead>
          <tr className="h-8 border-b border-line">
            <th className={`${TH} w-[90px]`}>Status</th>
            <th className={TH}>Worker</th>
            <th className={`${TH} w-[130px]`}>Last heartbeat</th>
            <th className={`${TH} text-right`}>Active</th>
            <th className={`${TH} text-right`} title="Tasks this worker process has run since it started (its own heartbeat count, as Flower shows it)">
              Processed
            </th>
            <th className={`${TH} text-right`} title="Counted by Petal from task events, across worker restarts">
              Succeeded
            </th>
            <th className={`${TH} text-right`} title="Counted by Petal from task events, across worker restarts">
              Failed
            </th>
            <th className={`${TH} text-right`} title="Counted by Petal from task events, across worker restarts">
              Retried
            </th>
            <th className={`${TH} text-right`}>Load avg</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((w, i) => (
            <Row key={w.hostname} w={w} selected={i === selected} onOpen={() => open(i)} />
          ))}
        </tbody>
      </table>
      {rows.length === 0 && filter ? <div className="px-3 py-4 text-muted">No worker matches “{filter}”.</div> : null}
      {all.length > rows.length ? (
        <div className="border-t border-line px-3 py-1.5 text-[12px] text-muted">
          {all.length - rows.length} more on the{" "}
          <Link href="/workers" className="text-accent-fg hover:underline">
            Workers
          </Link>{" "}
          page
        </div>
      ) : null}
    </div>
  );
}
