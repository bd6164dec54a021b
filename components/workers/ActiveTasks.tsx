"use client";

import Link from "next/link";
import type { TaskRecord } from "@/lib/protocol/api";
import { taskHref } from "../tasks/links";
import { CopyId } from "../ui/Copy";
import { SkeletonRows } from "../ui/Skeleton";
import { StateBadge } from "../ui/StateBadge";
import { Age } from "../ui/Time";

/** Tasks running on one worker right now; "running for" ticks. */
export function ActiveTasks({ rows, total }: { rows: TaskRecord[] | undefined; total: number | undefined }) {
  if (!rows) return <SkeletonRows rows={3} cols={4} />;
  if (rows.length === 0) return <div className="px-3 py-4 text-[12.5px] text-muted">Idle: nothing running.</div>;
  return (
    <div>
      <ul className="divide-y divide-line" data-testid="active-tasks">
        {rows.map((t) => (
          <li key={t.uuid} className="grid grid-cols-[96px_minmax(0,1.2fr)_72px_minmax(0,1fr)_130px] items-center gap-3 px-3 py-1.5 text-[13px]" data-testid="task-row" data-task-id={t.uuid}>
            <span>
              <StateBadge state={t.state} />
            </span>
            <Link href={taskHref(t.uuid)} className="truncate font-medium hover:text-accent-fg hover:underline">
              {t.name ?? "unknown"}
            </Link>
            <CopyId value={t.uuid} className="text-muted" />
            <span className="truncate font-mono text-[12px] text-muted" title={t.args ?? undefined}>
              {t.args ?? ""}
            </span>
            <span className="text-right text-[12px] text-muted">
              started <Age t={t.started} intervalMs={500} />
            </span>
          </li>
        ))}
      </ul>
      {total != null && total > rows.length ? (
        <div className="border-t border-line px-3 py-1.5 text-[12px] text-muted">and {total - rows.length} more</div>
      ) : null}
    </div>
  );
}
