"use client";

import Link from "next/link";
import { useMemo, useState } from "react";
import type { WorkerRecord } from "@/lib/protocol/api";
import { formatCount, formatPercent } from "../ui/format";
import { RateLimitDialog } from "./RateLimitDialog";

const TH = "px-3 text-[11px] font-medium uppercase tracking-wider text-muted whitespace-nowrap";

/** What this worker ran, per task name, most-run first. */
export function ByTaskTable({ worker, readOnly }: { worker: WorkerRecord; readOnly: boolean }) {
  const [limitFor, setLimitFor] = useState<string | null>(null);
  const rows = useMemo(
    () =>
      Object.entries(worker.by_task)
        .map(([name, c]) => ({ name, ...c, total: c.succeeded + c.failed }))
        .sort((a, b) => b.total - a.total || a.name.localeCompare(b.name)),
    [worker.by_task],
  );
  if (rows.length === 0) return <div className="px-3 py-4 text-[12.5px] text-muted">No finished tasks from this worker yet.</div>;
  return (
    <>
      <table className="w-full text-[13px]" data-testid="by-task-table">
        <thead>
          <tr className="h-8 border-b border-line text-left">
            <th className={TH}>Task name</th>
            <th className={`${TH} text-right`}>Succeeded</th>
            <th className={`${TH} text-right`}>Failed</th>
            <th className={`${TH} text-right`}>Retried</th>
            <th className={`${TH} text-right`}>Failure rate</th>
            <th className={TH}>
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.name} className="h-8 border-t border-line first:border-t-0 hover:bg-row-hover">
              <td className="max-w-[320px] truncate px-3 font-mono text-[12px]">
                <Link
                  href={`/tasks?name=${encodeURIComponent(r.name)}&worker=${encodeURIComponent(worker.hostname)}`}
                  className="hover:text-accent-fg hover:underline"
                  title={`Tasks ${r.name} on ${worker.hostname}`}
                >
                  {r.name}
                </Link>
              </td>
              <td className="num px-3 text-right">{formatCount(r.succeeded)}</td>
              <td className={`num px-3 text-right ${r.failed ? "text-st-failure-fg" : ""}`}>{formatCount(r.failed)}</td>
              <td className={`num px-3 text-right ${r.retried ? "text-st-retry-fg" : ""}`}>{formatCount(r.retried)}</td>
              <td className="num px-3 text-right text-muted">{r.total ? formatPercent(r.failed / r.total) : "—"}</td>
              <td className="px-3 text-right">
                <button
                  type="button"
                  disabled={readOnly || !worker.online}
                  title={readOnly ? "Read-only mode" : !worker.online ? "The worker is offline" : `Set the rate limit of ${r.name}`}
                  onClick={() => setLimitFor(r.name)}
                  className="rounded px-1.5 text-[11.5px] text-muted hover:bg-surface-2 hover:text-fg disabled:opacity-40"
                >
                  Rate limit…
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <RateLimitDialog worker={worker.hostname} taskName={limitFor} onClose={() => setLimitFor(null)} />
    </>
  );
}
