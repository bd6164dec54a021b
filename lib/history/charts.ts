/**
 * Chart series that survive restarts: per-minute aggregates (cluster throughput; failures and
 * runtime percentiles per task name) copied from the live 1-minute series into `series_minute`,
 * and read back for the 1h / 24h / 7d ranges, merged with the live minutes not written yet.
 *
 * Percentiles of several minutes are merged as the count-weighted mean of the minutes'
 * percentiles: an approximation (exact merging would need the histograms), close for the steady
 * distributions charts show.
 */
import type { ChartsPayload, RuntimePoint, SeriesPoint } from "../protocol/api";
import type { ClusterState } from "../state";
import type { Row } from "./schema";
import type { HistoryStore } from "./store";

export const HISTORY_RANGES = { "1h": { seconds: 3600, step: 60 }, "24h": { seconds: 86_400, step: 600 }, "7d": { seconds: 604_800, step: 3600 } } as const;
export type HistoryRange = keyof typeof HISTORY_RANGES;

export function isHistoryRange(v: unknown): v is HistoryRange {
  return typeof v === "string" && Object.prototype.hasOwnProperty.call(HISTORY_RANGES, v);
}

/** A ranged chart: ChartsPayload's series with the range in place of a live resolution. */
export interface HistoryChartsPayload extends Omit<ChartsPayload, "resolution"> {
  resolution: HistoryRange;
  /** bucket width, seconds */
  step: number;
}

const NAME_PREFIX = "n:";

/** The last `minutes` one-minute buckets of the live series as series_minute rows. */
export function seriesMinuteRows(state: ClusterState, minutes: number): Row[] {
  const c = state.charts("1m", { range: minutes * 60 });
  const rows: Row[] = [];
  for (const p of c.throughput) {
    if (p.received + p.succeeded + p.failed + p.retried === 0) continue;
    rows.push([p.t, "", p.received, p.succeeded, p.failed, p.retried, 0, null, null, null]);
  }
  for (const [name, points] of Object.entries(c.runtime)) {
    const failures = c.failures[name] ?? [];
    for (let i = 0; i < points.length; i++) {
      const rt = points[i];
      const failed = failures[i]?.failed ?? 0;
      if (rt.count === 0 && failed === 0) continue;
      rows.push([rt.t, NAME_PREFIX + name, 0, 0, failed, 0, rt.count, rt.p50, rt.p95, rt.p99]);
    }
  }
  return rows;
}

interface Minute {
  t: number;
  key: string;
  received: number;
  succeeded: number;
  failed: number;
  retried: number;
  rt_count: number;
  rt_p50: number | null;
  rt_p95: number | null;
  rt_p99: number | null;
}

function toMinute(r: Row): Minute {
  return {
    t: r[0] as number,
    key: r[1] as string,
    received: r[2] as number,
    succeeded: r[3] as number,
    failed: r[4] as number,
    retried: r[5] as number,
    rt_count: r[6] as number,
    rt_p50: r[7] as number | null,
    rt_p95: r[8] as number | null,
    rt_p99: r[9] as number | null,
  };
}

/** Minute at which this process's live series begins: older minutes come only from SQLite. */
const LIVE_FROM = Math.floor(Date.now() / 60_000) * 60;

interface Bucket {
  received: number;
  succeeded: number;
  failed: number;
  retried: number;
  /** runtime sample count and count-weighted percentile sums */
  n: number;
  p50: number;
  p95: number;
  p99: number;
}
const emptyBucket = (): Bucket => ({ received: 0, succeeded: 0, failed: 0, retried: 0, n: 0, p50: 0, p95: 0, p99: 0 });

/**
 * Charts over a range. Minutes before this process started are summed per bucket in SQLite;
 * later minutes are merged one by one (max, as the writer does) from the stored rows and the
 * live series, since this process wrote some of them and the live series has the rest.
 * Per-worker throughput is not stored: ranged charts are cluster-wide.
 */
export function historyCharts(history: HistoryStore | null, state: ClusterState, range: HistoryRange, opts: { taskNames?: string[] } = {}): HistoryChartsPayload {
  const { seconds, step } = HISTORY_RANGES[range];
  const nowSec = Math.floor(Date.now() / 1000);
  const last = Math.floor(nowSec / step);
  const first = last - Math.ceil(seconds / step) + 1;
  const from = first * step;
  const n = last - first + 1;
  const cluster: Bucket[] = Array.from({ length: n }, emptyBucket);
  const names = new Map<string, Bucket[]>();
  const wanted = opts.taskNames ? new Set(opts.taskNames) : null;
  const bucketsOf = (key: string): Bucket[] | null => {
    if (key === "") return cluster;
    const name = key.slice(NAME_PREFIX.length);
    if (wanted !== null && !wanted.has(name)) return null;
    let b = names.get(name);
    if (b === undefined) names.set(name, (b = Array.from({ length: n }, emptyBucket)));
    return b;
  };
  const add = (key: string, t: number, m: Minute | Bucket, weighted: boolean) => {
    const i = Math.floor(t / step) - first;
    const b = i >= 0 && i < n ? bucketsOf(key)?.[i] : undefined;
    if (b === undefined) return;
    b.received += m.received;
    b.succeeded += m.succeeded;
    b.failed += m.failed;
    b.retried += m.retried;
    if ("n" in m) {
      b.n += m.n;
      b.p50 += m.p50;
      b.p95 += m.p95;
      b.p99 += m.p99;
    } else if (m.rt_count > 0 && m.rt_p50 !== null && !weighted) {
      b.n += m.rt_count;
      b.p50 += m.rt_p50 * m.rt_count;
      b.p95 += (m.rt_p95 ?? m.rt_p50) * m.rt_count;
      b.p99 += (m.rt_p99 ?? m.rt_p50) * m.rt_count;
    }
  };

  const merged = new Map<string, Minute>();
  const put = (m: Minute) => {
    const k = `${m.t}\u0000${m.key}`;
    const old = merged.get(k);
    if (old === undefined) return void merged.set(k, m);
    old.received = Math.max(old.received, m.received);
    old.succeeded = Math.max(old.succeeded, m.succeeded);
    old.failed = Math.max(old.failed, m.failed);
    old.retried = Math.max(old.retried, m.retried);
    if (m.rt_count >= old.rt_count) Object.assign(old, { rt_count: m.rt_count, rt_p50: m.rt_p50, rt_p95: m.rt_p95, rt_p99: m.rt_p99 });
  };
  if (history !== null) {
    for (const r of storedBuckets(history, range, from, step)) add(r[1] as string, r[0] as number, bucketOfRow(r), true);
    for (const r of history.db.prepare(`${MINUTE_SELECT} WHERE t >= ?`).raw().all(Math.max(from, LIVE_FROM)) as Row[]) put(toMinute(r));
  }
  const liveMinutes = Math.min(1440, Math.ceil((nowSec - Math.max(from, LIVE_FROM)) / 60) + 1);
  for (const r of seriesMinuteRows(state, liveMinutes)) if ((r[0] as number) >= Math.max(from, LIVE_FROM)) put(toMinute(r));
  for (const m of merged.values()) add(m.key, m.t, m, false);

  for (const name of opts.taskNames ?? []) bucketsOf(NAME_PREFIX + name);
  const tOf = (i: number) => (first + i) * step;
  const throughput: SeriesPoint[] = cluster.map((b, i) => ({ t: tOf(i), received: b.received, succeeded: b.succeeded, failed: b.failed, retried: b.retried }));
  const runtime: Record<string, RuntimePoint[]> = {};
  const failures: Record<string, { t: number; failed: number }[]> = {};
  for (const name of [...names.keys()].sort()) {
    const bs = names.get(name)!;
    runtime[name] = bs.map((b, i) => ({ t: tOf(i), p50: b.n ? b.p50 / b.n : null, p95: b.n ? b.p95 / b.n : null, p99: b.n ? b.p99 / b.n : null, count: b.n }));
    failures[name] = bs.map((b, i) => ({ t: tOf(i), failed: b.failed }));
  }
  return { resolution: range, step, throughput, runtime, failures };
}

const MINUTE_SELECT = "SELECT t, key, received, succeeded, failed, retried, rt_count, rt_p50, rt_p95, rt_p99 FROM series_minute";

function bucketOfRow(r: Row): Bucket {
  return { received: r[2] as number, succeeded: r[3] as number, failed: r[4] as number, retried: r[5] as number, n: r[6] as number, p50: (r[7] as number) ?? 0, p95: (r[8] as number) ?? 0, p99: (r[9] as number) ?? 0 };
}

/** how long the summed past of a ranged chart is reused (default: 60 s: it only grows by the minute) */
export const STORED_CACHE_MS = 60_000;
const storedCache = new WeakMap<HistoryStore, Map<HistoryRange, { at: number; from: number; rows: Row[] }>>();

/**
 * Stored minutes before this process started, summed per (bucket, key) in SQLite: one row per
 * bucket and key instead of one per minute. Cached per store and range.
 */
function storedBuckets(history: HistoryStore, range: HistoryRange, from: number, step: number): Row[] {
  let byRange = storedCache.get(history);
  if (byRange === undefined) storedCache.set(history, (byRange = new Map()));
  const now = performance.now();
  const hit = byRange.get(range);
  if (hit !== undefined && hit.from === from && now - hit.at < STORED_CACHE_MS) return hit.rows;
  const rows = history.db
    .prepare(
      `SELECT (t / ${step}) * ${step} AS b, key, sum(received), sum(succeeded), sum(failed), sum(retried), sum(rt_count), ` +
        "sum(rt_p50 * rt_count), sum(coalesce(rt_p95, rt_p50) * rt_count), sum(coalesce(rt_p99, rt_p50) * rt_count) " +
        "FROM series_minute WHERE t >= ? AND t < ? GROUP BY b, key",
    )
    .raw()
    .all(from, LIVE_FROM) as Row[];
  byRange.set(range, { at: now, from, rows });
  return rows;
}

/** how long a ranged chart is reused by the realtime views (default: 5 s) */
export const RANGED_CACHE_MS = 5_000;
const rangedCache = new WeakMap<ClusterState, Map<HistoryRange, { at: number; value: HistoryChartsPayload }>>();

/**
 * The realtime charts view with ranges: a live resolution ("1s" / "10s" / "1m") from memory as
 * before, a range ("1h" / "24h" / "7d") from the history (plus the live minutes).
 */
export function chartsWithHistory(state: ClusterState, history: HistoryStore | null, scale: string, opts: { worker?: string | null } = {}): ChartsPayload | HistoryChartsPayload {
  if (isHistoryRange(scale)) {
    // Minute-or-coarser buckets: a few seconds' staleness is invisible, and it spares the
    // per-second recompute the realtime views would otherwise ask for.
    let byRange = rangedCache.get(state);
    if (byRange === undefined) rangedCache.set(state, (byRange = new Map()));
    const hit = byRange.get(scale);
    const now = performance.now();
    if (hit !== undefined && now - hit.at < RANGED_CACHE_MS) return hit.value;
    const value = historyCharts(history, state, scale);
    byRange.set(scale, { at: now, value });
    return value;
  }
  if (scale !== "1s" && scale !== "10s" && scale !== "1m") throw new Error(`unknown chart resolution ${scale}`);
  return state.charts(scale, opts.worker ? { worker: opts.worker } : undefined);
}
