/**
 * Time series for the charts: counts per bucket at three resolutions (1 s kept 10 min, 10 s kept
 * 2 h, 1 min kept 24 h), for the whole cluster, per task name and per worker, plus runtime
 * percentiles and failures per task name. Ring buffers of typed arrays: O(1) per event, no
 * allocation per event (a runtime histogram is allocated once per task name per bucket that
 * receives runtimes).
 *
 * Buckets use the receiver's clock (`local_received`), so worker clock skew cannot scatter one
 * second of work across the chart, and "now" on the chart is the server's now.
 */
import type { ChartsPayload, CountersSnapshot, RuntimePoint, SeriesPoint, SeriesResolution } from "../protocol/api";
import { HIST_BINS, histBin, histPercentile } from "./histogram";

export const RESOLUTIONS: Readonly<Record<SeriesResolution, { step: number; size: number }>> = {
  "1s": { step: 1, size: 600 },
  "10s": { step: 10, size: 720 },
  "1m": { step: 60, size: 1440 },
};
const RES_LIST: readonly SeriesResolution[] = ["1s", "10s", "1m"];

export type SeriesField = "received" | "succeeded" | "failed" | "retried" | "revoked" | "rejected";
const FIELD: Readonly<Record<SeriesField, number>> = { received: 0, succeeded: 1, failed: 2, retried: 3, revoked: 4, rejected: 5 };
/** per-name and per-worker series keep only the chart fields */
const KEYED_STRIDE = 4;
const TOTAL_STRIDE = 6;

/** Distinct task names and workers that get their own series (default: 256 each); more are only in the totals. */
export const DEFAULT_MAX_SERIES_KEYS = 256;

/** A ring of `size` buckets of `stride` counters; bucket b (= floor(t/step)) lives in slot b mod size. */
class CounterRing {
  private head = -Infinity;
  readonly data: Uint32Array;

  constructor(
    readonly size: number,
    readonly stride: number,
  ) {
    this.data = new Uint32Array(size * stride);
  }

  advance(b: number): void {
    if (b <= this.head) return;
    const from = b - this.head >= this.size ? b - this.size + 1 : this.head + 1;
    for (let x = from; x <= b; x++) {
      const o = mod(x, this.size) * this.stride;
      this.data.fill(0, o, o + this.stride);
    }
    this.head = b;
  }

  add(b: number, field: number, n: number): void {
    if (b > this.head) this.advance(b);
    else if (b <= this.head - this.size) return;
    this.data[mod(b, this.size) * this.stride + field] += n;
  }

  get(b: number, field: number): number {
    if (b > this.head || b <= this.head - this.size) return 0;
    return this.data[mod(b, this.size) * this.stride + field];
  }
}

/** A ring of runtime histograms, allocated per bucket on first use and freed when it rolls out. */
class HistRing {
  private head = -Infinity;
  private readonly slots: (Uint32Array | null)[];
  private readonly counts: Uint32Array;

  constructor(readonly size: number) {
    this.slots = new Array<Uint32Array | null>(size).fill(null);
    this.counts = new Uint32Array(size);
  }

  advance(b: number): void {
    if (b <= this.head) return;
    const from = b - this.head >= this.size ? b - this.size + 1 : this.head + 1;
    for (let x = from; x <= b; x++) {
      const s = mod(x, this.size);
      this.slots[s] = null;
      this.counts[s] = 0;
    }
    this.head = b;
  }

  add(b: number, seconds: number): void {
    if (b > this.head) this.advance(b);
    else if (b <= this.head - this.size) return;
    const s = mod(b, this.size);
    const bins = (this.slots[s] ??= new Uint32Array(HIST_BINS));
    bins[histBin(seconds)]++;
    this.counts[s]++;
  }

  point(b: number, t: number): RuntimePoint {
    const valid = b <= this.head && b > this.head - this.size;
    const s = mod(b, this.size);
    const bins = valid ? this.slots[s] : null;
    if (bins === null) return { t, p50: null, p95: null, p99: null, count: 0 };
    const count = this.counts[s];
    return {
      t,
      p50: histPercentile(bins, count, 0.5),
      p95: histPercentile(bins, count, 0.95),
      p99: histPercentile(bins, count, 0.99),
      count,
    };
  }
}

interface KeyedSeries {
  counts: Record<SeriesResolution, CounterRing>;
}
interface NameSeries extends KeyedSeries {
  runtime: Record<SeriesResolution, HistRing>;
}

function counterRings(stride: number): Record<SeriesResolution, CounterRing> {
  return {
    "1s": new CounterRing(RESOLUTIONS["1s"].size, stride),
    "10s": new CounterRing(RESOLUTIONS["10s"].size, stride),
    "1m": new CounterRing(RESOLUTIONS["1m"].size, stride),
  };
}

export interface ChartsOptions {
  /** throughput of this worker instead of the whole cluster */
  worker?: string;
  /** runtime/failures for these names (default: every name with data in the range) */
  taskNames?: string[];
  /** seconds back from now (default: everything the resolution keeps) */
  range?: number;
}

export class Series {
  private readonly total = counterRings(TOTAL_STRIDE);
  private readonly names = new Map<string, NameSeries>();
  private readonly workers = new Map<string, KeyedSeries>();
  private readonly maxKeys: number;

  constructor(opts: { maxKeys?: number } = {}) {
    this.maxKeys = opts.maxKeys ?? DEFAULT_MAX_SERIES_KEYS;
  }

  /** Count one event at receiver time `t` (unix s). */
  record(field: SeriesField, t: number, taskName: string | null, worker: string | null): void {
    const f = FIELD[field];
    const keyed = f < KEYED_STRIDE;
    const name = keyed && taskName !== null ? this.nameSeries(taskName) : undefined;
    const wk = keyed && worker !== null ? this.workerSeries(worker) : undefined;
    for (let i = 0; i < RES_LIST.length; i++) {
      const res = RES_LIST[i];
      const b = Math.floor(t / RESOLUTIONS[res].step);
      this.total[res].add(b, f, 1);
      name?.counts[res].add(b, f, 1);
      wk?.counts[res].add(b, f, 1);
    }
  }

  /** Add one runtime sample (seconds) for a task name at receiver time `t`. */
  recordRuntime(t: number, taskName: string, seconds: number): void {
    const name = this.nameSeries(taskName);
    if (name === undefined) return;
    for (let i = 0; i < RES_LIST.length; i++) {
      const res = RES_LIST[i];
      name.runtime[res].add(Math.floor(t / RESOLUTIONS[res].step), seconds);
    }
  }

  /** Move every ring to `now` so old buckets are cleared and their histograms freed. */
  roll(now: number): void {
    for (const res of RES_LIST) {
      const b = Math.floor(now / RESOLUTIONS[res].step);
      this.total[res].advance(b);
      for (const s of this.names.values()) {
        s.counts[res].advance(b);
        s.runtime[res].advance(b);
      }
      for (const s of this.workers.values()) s.counts[res].advance(b);
    }
  }

  /** Totals over the last `seconds` (≤ 600) of 1 s buckets, current bucket included. */
  window(now: number, seconds: number): CountersSnapshot {
    const ring = this.total["1s"];
    const last = Math.floor(now);
    const n = Math.min(seconds, RESOLUTIONS["1s"].size);
    const out: CountersSnapshot = { received: 0, succeeded: 0, failed: 0, retried: 0, revoked: 0, rejected: 0 };
    for (let b = last - n + 1; b <= last; b++) {
      out.received += ring.get(b, 0);
      out.succeeded += ring.get(b, 1);
      out.failed += ring.get(b, 2);
      out.retried += ring.get(b, 3);
      out.revoked += ring.get(b, 4);
      out.rejected += ring.get(b, 5);
    }
    return out;
  }

  /** Task names that have their own series. */
  seriesNames(): string[] {
    return [...this.names.keys()];
  }

  charts(resolution: SeriesResolution, now: number, opts: ChartsOptions = {}): ChartsPayload {
    const { step, size } = RESOLUTIONS[resolution];
    const last = Math.floor(now / step);
    const range = opts.range ?? size * step;
    const n = Math.max(1, Math.min(size, Math.ceil(range / step)));
    const first = last - n + 1;

    let ring: CounterRing | undefined = this.total[resolution];
    if (opts.worker != null) ring = this.workers.get(opts.worker)?.counts[resolution];
    const throughput: SeriesPoint[] = new Array(n);
    for (let b = first, i = 0; b <= last; b++, i++) {
      throughput[i] = {
        t: b * step,
        received: ring?.get(b, 0) ?? 0,
        succeeded: ring?.get(b, 1) ?? 0,
        failed: ring?.get(b, 2) ?? 0,
        retried: ring?.get(b, 3) ?? 0,
      };
    }

    const runtime: Record<string, RuntimePoint[]> = {};
    const failures: Record<string, { t: number; failed: number }[]> = {};
    const explicit = opts.taskNames != null;
    const names = opts.taskNames ?? [...this.names.keys()].sort();
    for (const name of names) {
      const s = this.names.get(name);
      const rt: RuntimePoint[] = new Array(n);
      const fl: { t: number; failed: number }[] = new Array(n);
      let any = false;
      for (let b = first, i = 0; b <= last; b++, i++) {
        const t = b * step;
        rt[i] = s ? s.runtime[resolution].point(b, t) : { t, p50: null, p95: null, p99: null, count: 0 };
        const failed = s ? s.counts[resolution].get(b, 2) : 0;
        fl[i] = { t, failed };
        if (rt[i].count > 0 || failed > 0) any = true;
      }
      if (!any && !explicit) continue;
      runtime[name] = rt;
      failures[name] = fl;
    }
    return { resolution, throughput, runtime, failures };
  }

  private nameSeries(name: string): NameSeries | undefined {
    let s = this.names.get(name);
    if (s === undefined && this.names.size < this.maxKeys) {
      s = {
        counts: counterRings(KEYED_STRIDE),
        runtime: {
          "1s": new HistRing(RESOLUTIONS["1s"].size),
          "10s": new HistRing(RESOLUTIONS["10s"].size),
          "1m": new HistRing(RESOLUTIONS["1m"].size),
        },
      };
      this.names.set(name, s);
    }
    return s;
  }

  private workerSeries(worker: string): KeyedSeries | undefined {
    let s = this.workers.get(worker);
    if (s === undefined && this.workers.size < this.maxKeys) {
      s = { counts: counterRings(KEYED_STRIDE) };
      this.workers.set(worker, s);
    }
    return s;
  }
}

function mod(a: number, m: number): number {
  const r = a % m;
  return r < 0 ? r + m : r;
}
