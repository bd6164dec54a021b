import type { SeriesResolution } from "@/lib/protocol/api";

/**
 * How many buckets compact charts (dashboard, worker page) show per resolution: few enough to
 * draw as bars (default: 2 min of 1 s, 15 min of 10 s, 2 h of 1 m). The charts page shows all
 * the server keeps.
 */
export const COMPACT_BUCKETS: Record<SeriesResolution, number> = { "1s": 120, "10s": 90, "1m": 120 };

export const WINDOW_LABEL: Record<SeriesResolution, string> = { "1s": "last 2 min", "10s": "last 15 min", "1m": "last 2 hours" };

export function lastBuckets<T>(points: T[] | undefined, r: SeriesResolution): T[] | undefined {
  if (!points) return points;
  const n = COMPACT_BUCKETS[r];
  return points.length > n ? points.slice(points.length - n) : points;
}
