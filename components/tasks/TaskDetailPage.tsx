"use client";

import Link from "next/link";
import { useMemo, useState } from "react";
import { useSubscription, useView } from "../realtime/hooks";
import { CopyId } from "../ui/Copy";
import { Empty } from "../ui/Empty";
import { Panel } from "../ui/Panel";
import { SkeletonBlock, SkeletonRows } from "../ui/Skeleton";
import { StateBadge } from "../ui/StateBadge";
import { ValueBlock } from "../ui/ValueBlock";
import { taskHref } from "./links";
import { TaskActions } from "./TaskActions";
import { TaskDetails, TaskRelations, TaskTimes } from "./TaskFields";
import { TaskTimeline } from "./TaskTimeline";

export function TaskDetailPage({ id }: { id: string }) {
  useSubscription({ task: id });
  const task = useView("task");
  // Retries made from this tab show at once, before the server's record lists them.
  const [localRetries, setLocalRetries] = useState<string[]>([]);
  const retriedAs = useMemo(() => {
    const all = [...(task?.retried_as ?? [])];
    for (const r of localRetries) if (!all.includes(r)) all.push(r);
    return all;
  }, [task, localRetries]);

  if (task === undefined || (task && task.uuid !== id)) {
    return (
      <div className="flex flex-col gap-4" aria-busy="true">
        <SkeletonBlock h={56} />
        <SkeletonBlock h={72} />
        <SkeletonRows rows={8} cols={2} />
      </div>
    );
  }
  if (task === null) {
    return (
      <div className="rounded-lg border border-line bg-surface" data-testid="task-not-found">
        <Empty title="Task not found (yet)">
          <p>
            Petal has no events for <span className="font-mono text-fg">{id}</span>. It may not have been sent yet, or it was
            evicted from memory. This page keeps listening and shows the task as soon as an event for it arrives.
          </p>
          <p className="mt-3">
            <Link href="/tasks" className="text-accent-fg hover:underline">
              ← All tasks
            </Link>
          </p>
        </Empty>
      </div>
    );
  }

  const failed = task.state === "FAILURE" || !!task.exception;
  return (
    <div className="flex flex-col gap-4" data-testid="task-detail" data-task-id={task.uuid}>
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0">
          <div className="flex flex-wrap items-center gap-2.5">
            <h1 className="truncate text-[18px] font-semibold tracking-tight" data-testid="task-name">
              {task.name ?? "unknown task"}
            </h1>
            <StateBadge state={task.state} size="md" />
          </div>
          <div className="mt-1 flex flex-wrap items-center gap-x-4 gap-y-1 text-[12px] text-muted">
            <CopyId value={task.uuid} full />
            {task.retry_of ? (
              <span>
                retry of{" "}
                <Link href={taskHref(task.retry_of)} className="font-mono text-accent-fg hover:underline">
                  {task.retry_of.slice(0, 8)}
                </Link>
              </span>
            ) : null}
            {retriedAs.length ? (
              <span data-testid="retried-as">
                {retriedAs.map((r, i) => (
                  <span key={r}>
                    {i ? ", " : ""}
                    <Link href={taskHref(r)} className="text-accent-fg hover:underline">
                      retried as <span className="font-mono">{r.slice(0, 8)}</span>
                    </Link>
                  </span>
                ))}
              </span>
            ) : null}
          </div>
        </div>
        <TaskActions task={task} onRetried={(nid) => setLocalRetries((xs) => (xs.includes(nid) ? xs : [...xs, nid]))} />
      </div>

      <Panel bodyClassName="px-4 pb-3 pt-4">
        <TaskTimeline task={task} />
      </Panel>

      <div className="grid grid-cols-1 gap-4 xl:grid-cols-[minmax(0,1fr)_380px]">
        <div className="flex min-w-0 flex-col gap-4">
          <Panel title="Arguments" bodyClassName="flex flex-col gap-3 p-3">
            <div>
              <div className="mb-1 text-[11.5px] text-muted">args</div>
              <ValueBlock value={task.args} testId="task-args" />
            </div>
            <div>
              <div className="mb-1 text-[11.5px] text-muted">kwargs</div>
              <ValueBlock value={task.kwargs} testId="task-kwargs" />
            </div>
          </Panel>
          <Panel title={failed ? "Exception" : "Result"} bodyClassName="flex flex-col gap-3 p-3">
            {failed ? (
              <>
                <ValueBlock value={task.exception} tone="error" testId="task-exception" />
                <div>
                  <div className="mb-1 text-[11.5px] text-muted">traceback</div>
                  <ValueBlock value={task.traceback} wrap={false} testId="task-traceback" />
                </div>
              </>
            ) : (
              <ValueBlock value={task.result} testId="task-result" />
            )}
          </Panel>
          <Panel title="Related" bodyClassName="px-3 py-1">
            <TaskRelations t={task} retriedAs={retriedAs} />
          </Panel>
        </div>
        <div className="flex min-w-0 flex-col gap-4">
          <Panel title="Details" bodyClassName="px-3 py-1">
            <TaskDetails t={task} />
          </Panel>
          <Panel title="Times" bodyClassName="px-3 py-1">
            <TaskTimes t={task} />
          </Panel>
        </div>
      </div>
    </div>
  );
}
