"use client";

import Link from "next/link";
import type { TaskRecord } from "@/lib/protocol/api";
import { workerHref } from "../workers/WorkersTable";
import { taskHref } from "../tasks/links";
import { SkeletonRows } from "../ui/Skeleton";
import { Age } from "../ui/Time";

/** The last few failures: what broke, where, when; one click to the traceback. */
export function RecentFailures({ rows }: { rows: TaskRecord[] | undefined }) {
  if (!rows) return <SkeletonRows rows={4} cols={4} />;
  if (rows.length === 0) {
    return (
      <div className="flex items-center gap-2 px-3 py-4 text-[12.5px] text-muted">
        <span aria-hidden className="text-st-success-fg">✓</span> No failures retained.
      </div>
    );
  }
  return (
    <ul className="divide-y divide-line" data-testid="recent-failures">
      {rows.map((t) => (
        <li
          key={t.uuid}
          className="grid h-8 grid-cols-[minmax(180px,260px)_minmax(0,1fr)_minmax(0,160px)_80px] items-center gap-x-4 px-3 text-[13px] hover:bg-row-hover"
        >
          <Link href={taskHref(t.uuid)} className="min-w-0 truncate hover:text-accent-fg" data-testid="failure-link">
            <span aria-hidden className="mr-1.5 text-st-failure-fg">
              ✕
            </span>
            <span className="font-medium">{t.name ?? "unknown task"}</span>
            <span className="ml-2 font-mono text-[11.5px] text-muted">{t.uuid.slice(0, 8)}</span>
          </Link>
          <span className="min-w-0 truncate font-mono text-[12px] text-st-failure-fg" title={t.exception ?? undefined}>
            {t.exception ?? "—"}
          </span>
          <span className="min-w-0 truncate text-[12px] text-muted">
            {t.worker ? (
              <Link href={workerHref(t.worker)} className="hover:text-fg hover:underline">
                {t.worker}
              </Link>
            ) : null}
          </span>
          <Age t={t.failed ?? t.timestamp} intervalMs={1000} className="text-right text-[12px] text-muted" />
        </li>
      ))}
    </ul>
  );
}
