"use client";

import Link from "next/link";
import { memo } from "react";
import { type TaskRecord, taskWorker } from "@/lib/protocol/api";
import { CopyId } from "../ui/Copy";
import { useFlashOnChange } from "../ui/Flash";
import { SkeletonLine } from "../ui/Skeleton";
import { StateBadge } from "../ui/StateBadge";
import { Clock, Duration } from "../ui/Time";
import { workerHref } from "../workers/WorkersTable";
import { taskHref } from "./links";
import { ROW_H } from "./window";

/** One grid for header and rows, so columns line up without a <table> (virtualised rows are absolute). */
export const TASK_GRID =
  "grid grid-cols-[96px_minmax(120px,1fr)_76px_minmax(70px,.8fr)_minmax(70px,.8fr)_minmax(90px,1fr)_70px_70px_64px_minmax(100px,.8fr)] gap-x-3 px-3";

function Repr({ v }: { v: string | null }) {
  if (v == null || v === "") return <span className="text-faint">—</span>;
  return (
    <span className="block truncate font-mono text-[12px] text-muted" title={v.length > 60 ? v.slice(0, 2000) : undefined}>
      {v}
    </span>
  );
}

/** What counts as "this row changed" for the soft flash. */
function signature(t: TaskRecord): string {
  return `${t.state}|${t.timestamp ?? ""}|${t.retries}`;
}

export const TaskRow = memo(
  function TaskRow({
    t,
    top,
    selected,
    onOpen,
  }: {
    t: TaskRecord;
    top: number;
    selected: boolean;
    onOpen: (id: string) => void;
  }) {
    const ref = useFlashOnChange<HTMLDivElement>(signature(t));
    const worker = taskWorker(t);
    return (
      <div
        ref={ref}
        role="row"
        data-testid="task-row"
        data-task-id={t.uuid}
        data-state={t.state}
        aria-selected={selected}
        onClick={(e) => {
          if (!(e.target as HTMLElement).closest("a,button")) onOpen(t.uuid);
        }}
        style={{ transform: `translateY(${top}px)`, height: ROW_H }}
        className={`${TASK_GRID} absolute left-0 right-0 top-0 cursor-pointer items-center border-b border-line text-[13px] ${
          selected ? "bg-row-selected shadow-[inset_2px_0_0_var(--accent)]" : "hover:bg-row-hover"
        }`}
      >
        <span role="cell">
          <StateBadge state={t.state} />
        </span>
        <span role="cell" className="min-w-0 truncate">
          <Link href={taskHref(t.uuid)} className="font-medium hover:text-accent-fg hover:underline" title={t.name ?? undefined}>
            {t.name ?? <span className="text-faint">unknown</span>}
          </Link>
        </span>
        <span role="cell">
          <CopyId value={t.uuid} className="text-muted" />
        </span>
        <span role="cell" className="min-w-0">
          <Repr v={t.args} />
        </span>
        <span role="cell" className="min-w-0">
          <Repr v={t.kwargs} />
        </span>
        <span role="cell" className="min-w-0">
          {t.state === "FAILURE" && t.exception ? (
            <span className="block truncate font-mono text-[12px] text-st-failure-fg" title={t.exception}>
              {t.exception}
            </span>
          ) : (
            <Repr v={t.result} />
          )}
        </span>
        <span role="cell" className="text-muted">
          <Clock t={t.received} />
        </span>
        <span role="cell" className="text-muted">
          <Clock t={t.started} />
        </span>
        <span role="cell" className="text-right">
          <Duration s={t.runtime} />
        </span>
        <span role="cell" className="min-w-0 truncate text-muted">
          {worker ? (
            <Link href={workerHref(worker)} className="hover:text-fg hover:underline" title={worker}>
              {worker}
            </Link>
          ) : (
            <span className="text-faint">—</span>
          )}
        </span>
      </div>
    );
  },
  (a, b) => a.top === b.top && a.selected === b.selected && a.onOpen === b.onOpen && sameTask(a.t, b.t),
);

/** Field-wise: every socket message brings fresh objects, but most rows did not change. */
function sameTask(a: TaskRecord, b: TaskRecord): boolean {
  return (
    a.uuid === b.uuid &&
    a.state === b.state &&
    a.timestamp === b.timestamp &&
    a.name === b.name &&
    a.worker === b.worker &&
    a.result === b.result &&
    a.exception === b.exception &&
    a.runtime === b.runtime &&
    a.received === b.received &&
    a.started === b.started &&
    a.args === b.args &&
    a.kwargs === b.kwargs
  );
}

export function SkeletonTaskRow({ top }: { top: number }) {
  return (
    <div
      role="row"
      aria-hidden
      data-testid="task-row-skeleton"
      style={{ transform: `translateY(${top}px)`, height: ROW_H }}
      className={`${TASK_GRID} absolute left-0 right-0 top-0 items-center border-b border-line`}
    >
      <SkeletonLine w={64} />
      <SkeletonLine w="70%" />
      <SkeletonLine w={60} />
      <SkeletonLine w="60%" />
      <SkeletonLine w="40%" />
      <SkeletonLine w="50%" />
      <SkeletonLine w={52} />
      <SkeletonLine w={52} />
      <SkeletonLine w={40} />
      <SkeletonLine w="70%" />
    </div>
  );
}
