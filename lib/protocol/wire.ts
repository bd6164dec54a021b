/**
 * The socket's compact forms (the contract between server/realtime and the browser), and the
 * browser's decoder that turns them back into the views components read. The server sends the
 * task list and the charts as deltas against what the tab already holds (server/realtime/
 * task-rows.ts and chart-delta.ts build them).
 */
import type { ChartsPayload, ChartsRange, RealtimeUpdate, RuntimePoint, SeriesPoint, SeriesResolution, TaskPage, TaskRecord } from "./api";
import { emptyTaskRecord } from "./api";
import type { TaskState } from "./types";

/** One task-list row: the fields the table and the recent-failures list show. */
export type WireRow = [
  uuid: string,
  name: string | null,
  state: TaskState,
  received: number | null,
  started: number | null,
  failed: number | null,
  timestamp: number | null,
  runtime: number | null,
  retries: number,
  worker: string | null,
  args: string | null,
  kwargs: string | null,
  result: string | null,
  exception: string | null,
];

export interface TaskPageDelta {
  whole: boolean;
  total: number;
  offset: number;
  /** the page's rows as uuids, in order, when the order moved and not every row is sent */
  ids?: string[];
  /** rows the browser lacks or holds at an older version */
  rows: WireRow[];
}

export interface ChartsDelta {
  resolution: SeriesResolution | ChartsRange;
  /** true: build from empty points (the browser's previous charts do not apply) */
  whole: boolean;
  /** bucket width, seconds */
  step: number;
  /** first bucket start, unix seconds */
  t0: number;
  /** buckets per series */
  n: number;
  /** task names with series, in order (always sent: a short list) */
  names: string[];
  throughput: SeriesPoint[];
  runtime: Record<string, RuntimePoint[]>;
  failures: Record<string, { t: number; failed: number }[]>;
  /** the payload's other fields, as they are */
  extra?: Record<string, unknown>;
}

export type WireUpdate = Omit<RealtimeUpdate, "tasks" | "charts"> & {
  taskRows?: TaskPageDelta;
  chartsDelta?: ChartsDelta;
  /** older servers (and tests) may still send whole views */
  tasks?: TaskPage;
  charts?: ChartsPayload;
};

/**
 * A list row as a TaskRecord. Fields the list does not show (traceback, children, …) are left
 * empty: the detail page reads the whole record from the `task` view.
 */
export function fromWireRow(r: WireRow): TaskRecord {
  const t = emptyTaskRecord(r[0]);
  t.name = r[1];
  t.state = r[2];
  t.received = r[3];
  t.started = r[4];
  t.failed = r[5];
  t.timestamp = r[6];
  t.runtime = r[7];
  t.retries = r[8];
  t.worker = r[9];
  t.args = r[10];
  t.kwargs = r[11];
  t.result = r[12];
  t.exception = r[13];
  return t;
}

/** The page after `d`, or null when `d` builds on rows this tab does not have (ask for a resync). */
export function applyTaskDelta(prev: TaskPage | undefined, d: TaskPageDelta): TaskPage | null {
  if (d.whole) return { total: d.total, offset: d.offset, rows: d.rows.map(fromWireRow) };
  if (!prev) return null;
  const byId = new Map<string, TaskRecord>();
  for (const t of prev.rows) byId.set(t.uuid, t);
  // Unchanged rows keep their objects, so memoised table rows skip re-rendering.
  for (const r of d.rows) byId.set(r[0], fromWireRow(r));
  const ids = d.ids ?? prev.rows.map((t) => t.uuid);
  const rows: TaskRecord[] = new Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const t = byId.get(ids[i]);
    if (!t) return null;
    rows[i] = t;
  }
  return { total: d.total, offset: d.offset, rows };
}

export function zeroThroughput(t: number): SeriesPoint {
  return { t, received: 0, succeeded: 0, failed: 0, retried: 0 };
}
export function zeroRuntime(t: number): RuntimePoint {
  return { t, p50: null, p95: null, p99: null, count: 0 };
}
export function zeroFailures(t: number): { t: number; failed: number } {
  return { t, failed: 0 };
}

function series<P extends { t: number }>(held: P[] | undefined, sent: P[] | undefined, d: ChartsDelta, zero: (t: number) => P): P[] {
  const heldT0 = held && held.length ? held[0].t : 0;
  const byT = new Map<number, P>();
  if (sent) for (const p of sent) byT.set(p.t, p);
  const out: P[] = new Array(d.n);
  for (let i = 0; i < d.n; i++) {
    const t = d.t0 + i * d.step;
    let p = byT.get(t);
    if (p === undefined && held) {
      const j = (t - heldT0) / d.step;
      if (j >= 0 && j < held.length) p = held[j];
    }
    out[i] = p ?? zero(t);
  }
  return out;
}

/** The charts after `d`: each bucket is the point sent now, else the one held for that t, else empty. */
export function applyChartsDelta(prev: ChartsPayload | undefined, d: ChartsDelta): ChartsPayload {
  const base = d.whole || !prev || prev.resolution !== d.resolution ? undefined : prev;
  const runtime: Record<string, RuntimePoint[]> = {};
  const failures: Record<string, { t: number; failed: number }[]> = {};
  for (const name of d.names) {
    runtime[name] = series(base?.runtime[name], d.runtime[name], d, zeroRuntime);
    failures[name] = series(base?.failures[name], d.failures[name], d, zeroFailures);
  }
  return { ...d.extra, resolution: d.resolution, throughput: series(base?.throughput, d.throughput, d, zeroThroughput), runtime, failures };
}

/**
 * The update as components read it (whole `tasks` and `charts`), given what the tab holds.
 * `ok: false` = a task delta built on rows this tab lacks: the caller asks for a resync.
 */
export function decodeUpdate(u: WireUpdate, held: { tasks?: TaskPage; charts?: ChartsPayload }): { update: RealtimeUpdate; ok: boolean } {
  const { taskRows, chartsDelta, ...rest } = u;
  const update: RealtimeUpdate = rest;
  let ok = true;
  if (taskRows) {
    const page = applyTaskDelta(u.full ? undefined : held.tasks, taskRows);
    if (page) update.tasks = page;
    else ok = false;
  }
  if (chartsDelta) update.charts = applyChartsDelta(u.full ? undefined : held.charts, chartsDelta);
  return { update, ok };
}
