import { describe, expect, it } from "vitest";
import { bucketSeconds, failureRate, firstUsefulT, fromT, niceRateMax, formatTick, isRange, isResolution, isScale, latestPercentile, pivotFailures, rankNames, total } from "./series";

const pts = [
  { t: 10, received: 5, succeeded: 3, failed: 1, retried: 0 },
  { t: 11, received: 0, succeeded: 0, failed: 0, retried: 0 },
  { t: 12, received: 2, succeeded: 0, failed: 2, retried: 1 },
];

describe("series", () => {
  it("computes failure rate per bucket, leaving idle buckets empty", () => {
    expect(failureRate(pts)).toEqual([
      { t: 10, rate: 0.25, finished: 4 },
      { t: 11, rate: null, finished: 0 },
      { t: 12, rate: 1, finished: 2 },
    ]);
  });
  it("smooths over a trailing window", () => {
    const r = failureRate(pts, 2);
    // the last bucket's window holds buckets 11 and 12 only: 2 failed of 2
    expect(r.map((x) => x.rate)).toEqual([0.25, 0.25, 1]);
    const all = failureRate(pts, 3);
    expect(all[2]).toEqual({ t: 12, rate: 0.5, finished: 6 });
  });
  it("skips the empty past but keeps some context", () => {
    const empty = (t: number) => ({ t, received: 0, succeeded: 0, failed: 0, retried: 0 });
    const series = [empty(1), empty(2), empty(3), empty(4), { ...empty(5), succeeded: 1 }, empty(6)];
    expect(firstUsefulT(series, 2)).toBe(5);
    expect(firstUsefulT(series, 4)).toBe(3);
    expect(firstUsefulT(series.slice(0, 4), 2)).toBe(3);
    expect(firstUsefulT([], 2)).toBeNull();
    expect(fromT(series, 5).map((p) => p.t)).toEqual([5, 6]);
    expect(fromT(series, null)).toHaveLength(6);
  });
  it("totals counters", () => {
    expect(total(pts, "failed")).toBe(3);
    expect(total(pts, "received")).toBe(7);
  });
  it("ranks names by weight then name", () => {
    const r = rankNames({ b: [{ n: 1 }], a: [{ n: 1 }], c: [{ n: 5 }] }, (p) => p.n);
    expect(r).toEqual(["c", "a", "b"]);
  });
  it("finds the latest percentile", () => {
    const rp = [
      { t: 1, p50: 0.1, p95: 0.2, p99: 0.3, count: 3 },
      { t: 2, p50: null, p95: null, p99: null, count: 0 },
    ];
    expect(latestPercentile(rp, "p95")).toBe(0.2);
    expect(latestPercentile([], "p50")).toBeNull();
  });
  it("pivots failures by time", () => {
    const rows = pivotFailures({ x: [{ t: 2, failed: 1 }, { t: 1, failed: 2 }], y: [{ t: 2, failed: 3 }] }, ["x", "y"]);
    expect(rows).toEqual([
      { t: 1, x: 2 },
      { t: 2, x: 1, y: 3 },
    ]);
  });
  it("rounds rate axes up to readable bounds", () => {
    expect(niceRateMax(0)).toBe(0.05);
    expect(niceRateMax(0.07)).toBe(0.1);
    expect(niceRateMax(0.15)).toBe(0.2);
    expect(niceRateMax(0.3)).toBe(0.5);
    expect(niceRateMax(0.51)).toBe(1);
  });
  it("knows resolutions and formats ticks", () => {
    expect(isResolution("10s")).toBe(true);
    expect(isResolution("5m")).toBe(false);
    expect(bucketSeconds("1m")).toBe(60);
    expect(formatTick(0, "1m")).toMatch(/^\d\d:\d\d$/);
    expect(formatTick(0, "1s")).toMatch(/^\d\d:\d\d:\d\d$/);
  });
  it("knows the history ranges next to the live resolutions", () => {
    expect(isScale("7d") && isRange("7d") && !isResolution("7d")).toBe(true);
    expect(isScale("1m") && !isRange("1m")).toBe(true);
    expect(isScale("2d")).toBe(false);
    expect([bucketSeconds("1h"), bucketSeconds("24h"), bucketSeconds("7d")]).toEqual([60, 600, 3600]);
    const t = new Date(2026, 0, 5, 14, 30).getTime() / 1000; // a Monday, local time
    expect(formatTick(t, "7d")).toBe("Mon 14:30");
    expect(formatTick(t, "24h")).toBe("14:30");
  });
});
