"use client";

/**
 * The task list: virtualised over the server's whole result (TaskPage.total rows), fetching only
 * the window around the viewport. It never moves under the operator: while scrolled down or
 * hovered, rows arriving above keep the visible ones in place and a "N new" pill offers to jump.
 */
import { useVirtualizer } from "@tanstack/react-virtual";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import type { TaskPage } from "@/lib/protocol/api";
import { useSubscription, useView } from "../realtime/hooks";
import { serverNowSec } from "../realtime/clock";
import { Empty } from "../ui/Empty";
import { useListNav } from "../ui/useListNav";
import { taskHref } from "./links";
import {
  DEFAULT_SORT,
  effectiveSort,
  filtersToQuery,
  hasFilters,
  nextSort,
  sortDirection,
  type SortField,
  type TaskFilters,
} from "./query-string";
import { SkeletonTaskRow, TASK_GRID, TaskRow } from "./TaskRow";
import { ROW_H, anchorShift, pageWindow, rowAt, type Window } from "./window";

const COLUMNS: { label: string; sort?: SortField; align?: "right" }[] = [
  { label: "State", sort: "state" },
  { label: "Name", sort: "name" },
  { label: "UUID" },
  { label: "Args" },
  { label: "Kwargs" },
  { label: "Result" },
  { label: "Received", sort: "received" },
  { label: "Started", sort: "started" },
  { label: "Runtime", sort: "runtime", align: "right" },
  { label: "Worker", sort: "worker" },
];

/** Before the first page: about a screenful and a half (the real window follows the viewport). */
const FIRST_WINDOW: Window = { offset: 0, limit: 50 };

export function TaskTable({
  filters,
  filtersKey,
  onSort,
  onTotal,
}: {
  filters: TaskFilters;
  /** changes when the question changes (not when the window moves) */
  filtersKey: string;
  onSort: (sort: string) => void;
  onTotal?: (total: number | null) => void;
}) {
  const router = useRouter();
  const scrollRef = useRef<HTMLDivElement>(null);
  const [win, setWin] = useState<Window>(FIRST_WINDOW);
  const [newCount, setNewCount] = useState(0);
  const hovering = useRef(false);

  // The time range is anchored when the filters change, not on every scroll.
  const anchorNow = useMemo(() => serverNowSec(), [filtersKey]);
  const query = useMemo(() => filtersToQuery(filters, anchorNow, win.offset, win.limit), [filters, anchorNow, win]);
  useSubscription({ tasks: query });
  const page = useView("tasks");

  useEffect(() => {
    setWin(FIRST_WINDOW);
    setNewCount(0);
    scrollRef.current?.scrollTo({ top: 0 });
  }, [filtersKey]);

  const total = page?.total ?? 0;
  useEffect(() => onTotal?.(page ? page.total : null), [page, onTotal]);

  const virtualizer = useVirtualizer({
    count: page ? total : 0,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_H,
    overscan: 8,
  });
  const items = virtualizer.getVirtualItems();
  const anchor = useRef<{ id: string; index: number } | null>(null);
  const prevPage = useRef<TaskPage | undefined>(undefined);
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? 0;

  useEffect(() => {
    if (!page) return;
    const w = pageWindow(first, last);
    setWin((cur) => (cur.offset === w.offset && cur.limit === w.limit ? cur : w));
  }, [first, last, page]);

  const open = useCallback((id: string) => router.push(taskHref(id)), [router]);
  const { selected, setSelected } = useListNav({
    count: total,
    onOpen: (i) => {
      const r = rowAt(page, i);
      if (r) open(r.uuid);
    },
    onMove: (i) => virtualizer.scrollToIndex(i, { align: "auto" }),
  });

  const selectedRef = useRef(selected);
  selectedRef.current = selected;

  // --- keep the visible rows still when rows arrive above them
  useLayoutEffect(() => {
    const el = scrollRef.current;
    const prev = prevPage.current;
    prevPage.current = page;
    if (!el || !page || !prev) return;
    // Live at the top; held still while scrolled, hovered, or a row is keyboard-selected.
    const paused = el.scrollTop > 0 || hovering.current || selectedRef.current >= 0;
    if (!paused) return;
    let shift = anchorShift(anchor.current, page);
    // Anchor gone (evicted, filtered out): under the default order new rows only arrive on top.
    if (shift === null && effectiveSort(filters) === DEFAULT_SORT) shift = Math.max(0, page.total - prev.total);
    if (shift) {
      el.scrollTop += shift * ROW_H;
      if (shift > 0) setNewCount((n) => n + shift);
      // The keyboard selection follows its row, not its index.
      setSelected((i) => (i >= 0 ? i + shift : i));
    }
  }, [page, filters, setSelected]);

  const rememberAnchor = useCallback(() => {
    const el = scrollRef.current;
    if (!el) return;
    const i = Math.floor(el.scrollTop / ROW_H);
    const row = rowAt(prevPage.current, i);
    anchor.current = row ? { id: row.uuid, index: i } : null;
  }, []);
  // After every render the anchor is whatever is at the top now.
  useEffect(rememberAnchor);

  const jumpToTop = () => {
    setNewCount(0);
    scrollRef.current?.scrollTo({ top: 0 });
  };

  const empty = page && page.total === 0;
  return (
    <div className="relative flex min-h-0 flex-1 flex-col overflow-hidden rounded-lg border border-line bg-surface" role="table" aria-label="Tasks" aria-rowcount={total}>
      <div role="rowgroup" className="border-b border-line">
        <div role="row" className={`${TASK_GRID} h-8 items-center`}>
          {COLUMNS.map((c) => {
            const dir = c.sort ? sortDirection(filters.sort, c.sort) : null;
            const cls = `text-[11px] font-medium uppercase tracking-wider text-muted ${c.align === "right" ? "text-right" : "text-left"}`;
            if (!c.sort) {
              return (
                <span key={c.label} role="columnheader" className={cls}>
                  {c.label}
                </span>
              );
            }
            const field = c.sort;
            return (
              <span key={c.label} role="columnheader" aria-sort={dir === "asc" ? "ascending" : dir === "desc" ? "descending" : "none"} className={cls}>
                <button
                  type="button"
                  onClick={() => onSort(nextSort(filters.sort, field))}
                  className={`inline-flex items-center gap-1 uppercase hover:text-fg ${dir ? "text-fg" : ""}`}
                  title={`Sort by ${c.label.toLowerCase()}`}
                >
                  {c.label}
                  <span aria-hidden className="text-[9px]">
                    {dir === "asc" ? "▲" : dir === "desc" ? "▼" : ""}
                  </span>
                </button>
              </span>
            );
          })}
        </div>
      </div>

      {newCount > 0 ? (
        <button
          type="button"
          onClick={jumpToTop}
          data-testid="new-rows-pill"
          className="absolute left-1/2 top-10 z-10 -translate-x-1/2 rounded-full border border-line bg-surface px-3 py-1 text-[12px] font-medium text-accent-fg shadow-md hover:bg-surface-2"
        >
          ↑ {newCount.toLocaleString("en-US")} new
        </button>
      ) : null}

      <div
        ref={scrollRef}
        role="rowgroup"
        className="relative min-h-0 flex-1 overflow-auto"
        onScroll={() => {
          rememberAnchor();
          if (scrollRef.current?.scrollTop === 0) setNewCount(0);
        }}
        onMouseEnter={() => (hovering.current = true)}
        onMouseLeave={() => {
          hovering.current = false;
        }}
        data-testid="task-table-body"
      >
        {!page ? (
          <div className="relative" style={{ height: 14 * ROW_H }}>
            {Array.from({ length: 14 }, (_, i) => (
              <SkeletonTaskRow key={i} top={i * ROW_H} />
            ))}
          </div>
        ) : empty ? (
          <Empty title={hasFilters(filters) ? "No task matches these filters" : "No tasks yet"}>
            {hasFilters(filters)
              ? "Loosen a filter or clear the search. Tasks appear here as soon as a matching event arrives."
              : "Tasks appear here as workers send events. Send one with the demo running, or from Celery with task events enabled (-E)."}
          </Empty>
        ) : (
          <div className="relative" style={{ height: virtualizer.getTotalSize() }}>
            {items.map((it) => {
              const t = rowAt(page, it.index);
              return t ? (
                <TaskRow key={t.uuid} t={t} top={it.start} selected={it.index === selected} onOpen={open} />
              ) : (
                <SkeletonTaskRow key={`s${it.index}`} top={it.start} />
              );
            })}
          </div>
        )}
      </div>
    </div>
  );
}
