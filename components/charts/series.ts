/** Shaping chart payloads for display; pure so the numbers charts draw are tested. */
import type { RuntimePoint, SeriesPoint, SeriesResolution } from "@/lib/protocol/api";

export const RESOLUTIONS: readonly SeriesResolution[] = ["1s", "10s", "1m"];

/**
 * History ranges (server: lib/history/charts.ts HISTORY_RANGES): per-minute aggregates kept in
 * SQLite, shown as 1 min / 10 min / 1 h buckets; they survive restarts.
 */
export type ChartRange = "1h" | "24h" | "7d";
export const RANGES: readonly ChartRange[] = ["1h", "24h", "7d"];
/** What a chart shows: a live resolution or a history range. */
export type ChartScale = SeriesResolution | ChartRange;

export function isResolution(v: unknown): v is SeriesResolution {
  return v === "1s" || v === "10s" || v === "1m";
}

export function isRange(v: unknown): v is ChartRange {
  return v === "1h" || v === "24h" || v === "7d";
}

export function isScale(v: unknown): v is ChartScale {
  return isResolution(v) || isRange(v);
}

const BUCKET_SECONDS: Record<ChartScale, number> = { "1s": 1, "10s": 10, "1m": 60, "1h": 60, "24h": 600, "7d": 3600 };

/** Bucket length in seconds. */
export function bucketSeconds(r: ChartScale): number {
  return BUCKET_SECONDS[r];
}

export interface RatePoint {
  t: number;
  /** 0..1, null when nothing finished in the bucket (a gap, not a zero) */
  rate: number | null;
  finished: number;
}

/**
 * failed / (succeeded + failed) per bucket, over a trailing window of `window` buckets so that
 * 1 s buckets with two tasks each do not draw a comb of 0% and 50% (default: 1, no smoothing).
 */
export function failureRate(points: readonly SeriesPoint[], window = 1): RatePoint[] {
  const out: RatePoint[] = new Array(points.length);
  let failed = 0;
  let finished = 0;
  for (let i = 0; i < points.length; i++) {
    const p = points[i] as SeriesPoint;
    failed += p.failed;
    finished += p.succeeded + p.failed;
    const old = i - window >= 0 ? points[i - window] : undefined;
    if (old) {
      failed -= old.failed;
      finished -= old.succeeded + old.failed;
    }
    out[i] = { t: p.t, rate: finished ? failed / finished : null, finished };
  }
  return out;
}

/** Trailing window the failure-rate chart smooths over, in buckets (default: 10 s at 1 s). */
export const RATE_WINDOW: Record<ChartScale, number> = { "1s": 10, "10s": 1, "1m": 1, "1h": 1, "24h": 1, "7d": 1 };

/** Names ordered by how much they matter: most samples (or failures) first, then by name. */
export function rankNames<T>(byName: Record<string, readonly T[]>, weight: (p: T) => number): string[] {
  const scored = Object.entries(byName).map(([name, pts]) => {
    let w = 0;
    for (const p of pts) w += weight(p);
    return { name, w };
  });
  scored.sort((a, b) => b.w - a.w || a.name.localeCompare(b.name));
  return scored.map((s) => s.name);
}

const WEEKDAY = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** Time tick for an axis: seconds matter at 1 s/10 s buckets, not at 1 m; the day at 7 d. */
export function formatTick(t: number, r: ChartScale): string {
  const d = new Date(t * 1000);
  const hh = String(d.getHours()).padStart(2, "0");
  const mm = String(d.getMinutes()).padStart(2, "0");
  if (r === "7d") return `${WEEKDAY[d.getDay()]} ${hh}:${mm}`;
  if (r === "1m" || r === "1h" || r === "24h") return `${hh}:${mm}`;
  return `${hh}:${mm}:${String(d.getSeconds()).padStart(2, "0")}`;
}

/** Sum of a counter over the series (the legend's totals). */
export function total(points: readonly SeriesPoint[], key: "received" | "succeeded" | "failed" | "retried"): number {
  let n = 0;
  for (const p of points) n += p[key];
  return n;
}

/** Latest non-null value of a runtime percentile, for a small multiple's headline. */
export function latestPercentile(points: readonly RuntimePoint[], key: "p50" | "p95" | "p99"): number | null {
  for (let i = points.length - 1; i >= 0; i--) {
    const v = points[i]?.[key];
    if (v != null) return v;
  }
  return null;
}

/** Merge per-name failure series into rows keyed by time, for one stacked chart. */
export function pivotFailures(
  byName: Record<string, readonly { t: number; failed: number }[]>,
  names: readonly string[],
): Array<Record<string, number>> {
  const rows = new Map<number, Record<string, number>>();
  for (const name of names) {
    for (const p of byName[name] ?? []) {
      let row = rows.get(p.t);
      if (!row) {
        row = { t: p.t };
        rows.set(p.t, row);
      }
      row[name] = (row[name] ?? 0) + p.failed;
    }
  }
  return [...rows.values()].sort((a, b) => (a.t ?? 0) - (b.t ?? 0));
}

/** Upper bound for a 0..1 axis whose half is readable too: 5%, 10%, 20%, 50% or 100%. */
export function niceRateMax(max: number): number {
  for (const step of [0.05, 0.1, 0.2, 0.5]) if (max <= step) return step;
  return 1;
}

/**
 * Time of the first bucket worth drawing: the server keeps hours of buckets, and on a fresh
 * server all but the last few are empty. Keeps at least `minBuckets` so the axis has context.
 */
export function firstUsefulT(points: readonly SeriesPoint[], minBuckets: number): number | null {
  if (points.length === 0) return null;
  let first = points.length;
  for (let i = 0; i < points.length; i++) {
    const p = points[i] as SeriesPoint;
    if (p.received || p.succeeded || p.failed || p.retried) {
      first = i;
      break;
    }
  }
  const start = Math.max(0, Math.min(first, points.length - minBuckets));
  return (points[start] as SeriesPoint).t;
}

export function fromT<T extends { t: number }>(points: readonly T[], t: number | null): T[] {
  if (t === null) return [...points];
  let i = 0;
  while (i < points.length && (points[i] as T).t < t) i++;
  return points.slice(i);
}
