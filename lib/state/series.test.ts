import { describe, expect, it } from "vitest";
import { HIST_BINS, histBin, histPercentile } from "./histogram";
import { Series } from "./series";

describe("log histogram", () => {
  it("puts values in increasing bins and reads percentiles within half a bin", () => {
    expect(histBin(0)).toBe(0);
    expect(histBin(0.00005)).toBe(0);
    expect(histBin(1e9)).toBe(HIST_BINS - 1);
    let last = 0;
    for (let x = 1e-4; x < 1e4; x *= 1.07) {
      const b = histBin(x);
      expect(b).toBeGreaterThanOrEqual(last);
      last = b;
    }
    const bins = new Uint32Array(HIST_BINS);
    const samples: number[] = [];
    for (let i = 1; i <= 1000; i++) samples.push(i / 1000); // 1 ms .. 1 s, uniform
    for (const s of samples) bins[histBin(s)]++;
    for (const [q, exact] of [
      [0.5, 0.5],
      [0.95, 0.95],
      [0.99, 0.99],
    ] as const) {
      const got = histPercentile(bins, samples.length, q)!;
      expect(Math.abs(got - exact) / exact).toBeLessThan(0.13);
    }
    expect(histPercentile(bins, 0, 0.5)).toBeNull();
  });
});

describe("Series", () => {
  it("buckets counts at 1 s, 10 s and 1 min", () => {
    const s = new Series();
    s.record("received", 1000.2, "proj.add", "w1@h");
    s.record("received", 1000.9, "proj.add", "w1@h");
    s.record("succeeded", 1001.5, "proj.add", "w2@h");
    s.record("failed", 1009.0, "proj.fail", "w1@h");
    s.record("failed", 1075.0, "proj.fail", "w1@h");

    const one = s.charts("1s", 1010, { range: 11 });
    expect(one.throughput.length).toBe(11);
    expect(one.throughput[0]).toEqual({ t: 1000, received: 2, succeeded: 0, failed: 0, retried: 0 });
    expect(one.throughput[1]).toEqual({ t: 1001, received: 0, succeeded: 1, failed: 0, retried: 0 });
    expect(one.throughput[9].failed).toBe(1);
    expect(one.throughput[10]).toEqual({ t: 1010, received: 0, succeeded: 0, failed: 0, retried: 0 });

    const ten = s.charts("10s", 1080, { range: 90 });
    const at = (t: number): number => ten.throughput.findIndex((p) => p.t === t);
    expect(ten.throughput[at(1000)]).toEqual({ t: 1000, received: 2, succeeded: 1, failed: 1, retried: 0 });
    expect(ten.throughput[at(1070)].failed).toBe(1);

    const min = s.charts("1m", 1080, { range: 180 });
    expect(min.throughput.map((p) => [p.t, p.received, p.failed])).toEqual([
      [960, 2, 1],
      [1020, 0, 1],
      [1080, 0, 0],
    ]);
  });

  it("keeps each resolution's window only (10 min at 1 s)", () => {
    const s = new Series();
    s.record("received", 100, null, null);
    s.record("received", 700, null, null); // 600 s later: the 100 bucket rolled out
    const c = s.charts("1s", 700);
    expect(c.throughput.length).toBe(600);
    expect(c.throughput.reduce((n, p) => n + p.received, 0)).toBe(1);
    // Old buckets arriving after the ring moved on are dropped, not written into a live slot.
    s.record("received", 50, null, null);
    expect(s.charts("1s", 700).throughput.reduce((n, p) => n + p.received, 0)).toBe(1);
    expect(s.charts("10s", 700).throughput.reduce((n, p) => n + p.received, 0)).toBe(3);
  });

  it("reads stale slots as zero after a long quiet period", () => {
    const s = new Series();
    s.record("succeeded", 10, "a", "w");
    // 1 hour later without any roll: the 1 s ring still holds bucket 10 in slot 10.
    const c = s.charts("1s", 3610);
    expect(c.throughput.every((p) => p.succeeded === 0)).toBe(true);
    expect(c.runtime).toEqual({});
  });

  it("splits by worker and by task name", () => {
    const s = new Series();
    s.record("received", 50, "a", "w1");
    s.record("received", 50, "b", "w2");
    s.record("failed", 51, "b", "w2");
    expect(s.charts("1s", 51, { range: 2, worker: "w2" }).throughput.map((p) => [p.received, p.failed])).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(s.charts("1s", 51, { range: 2, worker: "nobody" }).throughput.map((p) => p.received)).toEqual([0, 0]);
    const c = s.charts("1s", 51, { range: 2 });
    expect(Object.keys(c.failures)).toEqual(["b"]);
    expect(c.failures.b).toEqual([
      { t: 50, failed: 0 },
      { t: 51, failed: 1 },
    ]);
    const asked = s.charts("1s", 51, { range: 2, taskNames: ["a", "zzz"] });
    expect(Object.keys(asked.runtime)).toEqual(["a", "zzz"]);
  });

  it("reports runtime percentiles per task name per bucket", () => {
    const s = new Series();
    for (let i = 1; i <= 100; i++) s.recordRuntime(200.5, "proj.slow", i / 10); // 0.1 .. 10 s
    s.recordRuntime(201.5, "proj.slow", 0.002);
    const c = s.charts("1s", 202, { range: 3 });
    const [p0, p1, p2] = c.runtime["proj.slow"];
    expect(p0.count).toBe(100);
    expect(Math.abs(p0.p50! - 5) / 5).toBeLessThan(0.13);
    expect(Math.abs(p0.p95! - 9.5) / 9.5).toBeLessThan(0.13);
    expect(Math.abs(p0.p99! - 9.9) / 9.9).toBeLessThan(0.13);
    expect(p1).toMatchObject({ t: 201, count: 1 });
    expect(Math.abs(p1.p50! - 0.002) / 0.002).toBeLessThan(0.13);
    expect(p2).toEqual({ t: 202, p50: null, p95: null, p99: null, count: 0 });
    const m = s.charts("1m", 202, { range: 60 }).runtime["proj.slow"];
    expect(m[m.length - 1].count).toBe(101);
  });

  it("sums a recent window for the overview", () => {
    const s = new Series();
    for (let t = 0; t < 120; t++) s.record(t % 2 === 0 ? "succeeded" : "failed", t, "a", "w");
    s.record("revoked", 119, "a", "w");
    expect(s.window(119, 60)).toEqual({ received: 0, succeeded: 30, failed: 30, retried: 0, revoked: 1, rejected: 0 });
  });

  it("caps the number of keyed series", () => {
    const s = new Series({ maxKeys: 2 });
    for (const n of ["a", "b", "c"]) s.record("failed", 5, n, n);
    expect(s.seriesNames()).toEqual(["a", "b"]);
    expect(s.charts("1s", 5, { range: 1 }).throughput[0].failed).toBe(3);
  });
});
