/**
 * Several components on one page each ask for part of the view (the top bar wants the overview,
 * the dashboard wants workers and charts, ...). The socket carries one ClientSubscription, so
 * they are merged here; the diff says which cached parts no longer answer the new question.
 */
import type { ClientSubscription, TaskQuery } from "@/lib/protocol/api";

/**
 * What every page gets: the top bar's totals. The broker's connection status reaches every tab
 * anyway; queue lengths cost the server a poll, so only the broker page asks for them.
 */
export const BASE_SUBSCRIPTION: ClientSubscription = { overview: true };

/** Booleans are OR-ed; for the single-valued parts the later request wins. */
export function mergeSubscriptions(parts: readonly ClientSubscription[]): ClientSubscription {
  const out: ClientSubscription = {};
  for (const p of parts) {
    if (p.overview) out.overview = true;
    if (p.workers) out.workers = true;
    if (p.broker) out.broker = true;
    if (p.tasks) out.tasks = p.tasks;
    if (p.task) out.task = p.task;
    if (p.worker) out.worker = p.worker;
    if (p.charts) out.charts = p.charts;
  }
  return out;
}

/** Stable text form, to compare subscriptions and to skip re-sending an identical one. */
export function subscriptionKey(sub: ClientSubscription): string {
  return JSON.stringify(normalize(sub));
}

function normalize(sub: ClientSubscription): unknown[] {
  return [
    !!sub.overview,
    !!sub.workers,
    !!sub.broker,
    sub.tasks ? queryKey(sub.tasks, true) : null,
    sub.task ?? null,
    sub.worker ?? null,
    sub.charts ? [sub.charts.resolution, sub.charts.worker ?? null] : null,
  ];
}

/** The task query as text; `withWindow: false` ignores offset/limit (scrolling is not a new question). */
export function queryKey(q: TaskQuery, withWindow: boolean): string {
  return JSON.stringify([
    q.state ?? null,
    q.taskname ?? null,
    q.workername ?? null,
    q.search ?? null,
    q.received_start ?? null,
    q.received_end ?? null,
    q.sort_by ?? null,
    withWindow ? (q.offset ?? 0) : null,
    withWindow ? (q.limit ?? null) : null,
  ]);
}

export type ViewKey = "overview" | "workers" | "tasks" | "task" | "worker" | "broker" | "charts";

/**
 * Parts whose cached data must be dropped when going from `prev` to `next`: the part is no
 * longer asked for, or it is asked with a different question. Moving the task window (offset,
 * limit) keeps the rows, so a scrolled table shows old rows instead of blanking.
 */
export function invalidatedViews(prev: ClientSubscription, next: ClientSubscription): ViewKey[] {
  const out: ViewKey[] = [];
  if (prev.overview && !next.overview) out.push("overview");
  if (prev.workers && !next.workers) out.push("workers");
  // The broker part is kept: its status still feeds the top bar's badge.
  if (prev.tasks && (!next.tasks || queryKey(prev.tasks, false) !== queryKey(next.tasks, false))) out.push("tasks");
  if (prev.task && prev.task !== next.task) out.push("task");
  if (prev.worker && prev.worker !== next.worker) out.push("worker");
  if (
    prev.charts &&
    (!next.charts ||
      prev.charts.resolution !== next.charts.resolution ||
      (prev.charts.worker ?? null) !== (next.charts.worker ?? null))
  ) {
    out.push("charts");
  }
  return out;
}
