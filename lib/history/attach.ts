/**
 * Connects a ClusterState to a HistoryStore: restore on startup (the most recent `maxTasks`
 * tasks and the all-time totals), then every task change is marked dirty and each flush carries
 * the totals and the chart minutes. Call sites that only hold the state (HTTP handlers, the
 * realtime reader) reach the history through `historyOf(state)`.
 */
import type { CountersSnapshot, TaskPage, TaskQuery, TaskRecord } from "../protocol/api";
import type { ClusterState } from "../state";
import { seriesMinuteRows } from "./charts";
import { isRecencySort } from "./sql-query";
import type { HistoryStore } from "./store";

const attached = new WeakMap<ClusterState, Attachment>();

/** how often the chart minutes are copied into the batch (default: 10 s) */
export const SERIES_EVERY_MS = 10_000;

interface Attachment {
  history: HistoryStore;
  /** memory holds every task the history has (nothing was left out at restore or evicted since) */
  complete: () => boolean;
  detach: () => void;
}

export interface RestoreReport {
  restored: number;
  rows: number;
  ms: number;
}

/**
 * Restore, then listen. Returns what was restored. Detach with `detachHistory` (or just close the
 * history after the state stops changing).
 */
export function attachHistory(state: ClusterState, history: HistoryStore, opts: { maxTasks: number }): RestoreReport {
  const t0 = performance.now();
  const records = history.loadRecent(opts.maxTasks);
  const restored = state.restoreTasks(records);
  const totals = history.getMeta("totals");
  if (totals !== null) {
    try {
      state.restoreTotals(JSON.parse(totals) as Partial<CountersSnapshot>);
    } catch {
      // a damaged totals row only loses the counters, never the tasks
    }
  }
  const rows = history.rowsAtOpen;
  const evictedAtStart = state.tasksEvicted.total;
  history.readWith((uuid) => state.getTask(uuid));
  const offChange = state.onTaskChange((uuid) => history.touch(uuid));
  // A task dropped from memory before its flush is written from the record it had.
  const offEvict = state.onTaskEvict((rec) => {
    if (history.isDirty(rec.uuid)) history.record(rec);
  });
  const off = () => {
    offChange();
    offEvict();
  };
  let lastSeries = -Infinity;
  history.onFlush((final) => {
    history.setMeta("totals", JSON.stringify(state.overview().totals));
    const now = performance.now();
    if (final || now - lastSeries >= SERIES_EVERY_MS) {
      lastSeries = now;
      history.addSeriesRows(seriesMinuteRows(state, 3));
    }
  });
  const complete = () => restored >= rows && state.tasksEvicted.total === evictedAtStart && evictedAtStart === 0;
  attached.set(state, { history, complete, detach: off });
  return { restored, rows, ms: performance.now() - t0 };
}

export function detachHistory(state: ClusterState): void {
  attached.get(state)?.detach();
  attached.delete(state);
}

export function historyOf(state: ClusterState): HistoryStore | null {
  return attached.get(state)?.history ?? null;
}

/** A task from memory, else from history (null when neither has it). */
export function getTaskWithHistory(state: ClusterState, id: string): TaskRecord | null {
  return state.getTask(id) ?? historyOf(state)?.getTask(id) ?? null;
}

/**
 * The task list over memory and history. Memory answers while it holds the whole page: always
 * when it has every task the history has; for newest-first sorts when the page lies within the
 * in-memory matches. Otherwise the page comes from SQLite with the same filters, sort and search,
 * each row replaced by its live in-memory record when there is one (fresher than the last flush).
 * `total` is the larger of memory's count and SQLite's (memory may hold tasks not flushed yet);
 * while a slow SQLite count runs on the reader thread, what is known so far (a lower bound).
 * An unlimited query (no `limit`) is the in-memory window, as in Flower.
 */
export function queryTasksWithHistory(state: ClusterState, q: TaskQuery): TaskPage {
  const mem = state.queryTasks(q);
  const a = attached.get(state);
  if (a === undefined || a.complete() || q.limit == null) return mem;
  return merge(state, q, mem, a.history, null);
}

/** queryTasksWithHistory for callers that can wait (HTTP): a slow search is finished, not cut short. */
export async function queryTasksWithHistoryAsync(state: ClusterState, q: TaskQuery): Promise<TaskPage> {
  const mem = state.queryTasks(q);
  const a = attached.get(state);
  if (a === undefined || a.complete() || q.limit == null) return mem;
  if (isRecencySort(q.sort_by) && (q.offset ?? 0) + q.limit <= mem.total) return merge(state, q, mem, a.history, null);
  return merge(state, q, mem, a.history, await a.history.queryPageAsync(q));
}

function merge(state: ClusterState, q: TaskQuery, mem: TaskPage, history: HistoryStore, sqlRows: TaskRecord[] | null): TaskPage {
  const offset = q.offset ?? 0;
  const limit = q.limit ?? 0;
  const counted = history.count(q);
  if (sqlRows === null && isRecencySort(q.sort_by) && offset + limit <= mem.total) {
    return { total: Math.max(mem.total, counted ?? 0), offset, rows: mem.rows };
  }
  const rows = (sqlRows ?? history.queryPage(q)).map((r) => state.getTask(r.uuid) ?? r);
  return { total: Math.max(mem.total, counted ?? offset + rows.length), offset, rows };
}
