/**
 * Charts on the wire as changed buckets only. A full ChartsPayload at 1 s resolution is 600
 * buckets × (throughput + 2 series per task name): about 1 MB with 20 names, while a second of
 * traffic changes only the newest bucket or two of each series.
 *
 * The browser rebuilds every series over buckets t0, t0+step, … (n of them): each bucket is the
 * point sent now, else the one it holds for that t, else the empty point (zeroPoint). The server
 * sends exactly the points where that guess would be wrong. components/realtime/chart-delta.ts
 * mirrors these types and the empty points: keep the two in step.
 */
import type { ChartsPayload, ChartsRange, RuntimePoint, SeriesPoint, SeriesResolution } from "../../lib/protocol/api";
import type { ChartsDelta } from "../../lib/protocol/wire";

export type { ChartsDelta };


type Kind = "throughput" | "runtime" | "failures";

export function zeroPoint(kind: Kind, t: number): SeriesPoint | RuntimePoint | { t: number; failed: number } {
  if (kind === "throughput") return { t, received: 0, succeeded: 0, failed: 0, retried: 0 };
  if (kind === "runtime") return { t, p50: null, p95: null, p99: null, count: 0 };
  return { t, failed: 0 };
}

/** Same key order as zeroPoint, so an empty bucket from the state compares equal to it. */
function pointKey(kind: Kind, p: object): string {
  if (kind === "throughput") {
    const s = p as SeriesPoint;
    return `${s.received},${s.succeeded},${s.failed},${s.retried}`;
  }
  if (kind === "runtime") {
    const r = p as RuntimePoint;
    return `${r.p50},${r.p95},${r.p99},${r.count}`;
  }
  return String((p as { failed: number }).failed);
}

const ZERO_KEY: Record<Kind, string> = {
  throughput: pointKey("throughput", zeroPoint("throughput", 0)),
  runtime: pointKey("runtime", zeroPoint("runtime", 0)),
  failures: pointKey("failures", zeroPoint("failures", 0)),
};

/** What one socket's browser holds: per series, the key of each bucket from `t0`. */
export class SentCharts {
  private resolution: SeriesResolution | ChartsRange | null = null;
  private t0 = 0;
  private step = 1;
  private series = new Map<string, string[]>();

  reset(): void {
    this.resolution = null;
    this.series.clear();
  }

  /**
   * The delta to send, or null when the payload is not dense (every series one point per
   * bucket from t0): then the caller sends it whole and the browser's copy starts over.
   */
  diff(c: ChartsPayload): ChartsDelta | null {
    const n = c.throughput.length;
    const t0 = n > 0 ? c.throughput[0].t : 0;
    const step = n > 1 ? c.throughput[1].t - c.throughput[0].t : (c.step ?? stepOf(c.resolution));
    if (!dense(c, t0, step, n)) {
      this.reset();
      return null;
    }
    const whole = this.resolution !== c.resolution || this.step !== step;
    const next = new Map<string, string[]>();
    const names = Object.keys(c.runtime);
    const delta: ChartsDelta = { resolution: c.resolution, whole, step, t0, n, names, throughput: [], runtime: {}, failures: {} };
    const { resolution: _r, throughput: _t, runtime: _rt, failures: _f, ...extra } = c;
    if (Object.keys(extra).length > 0) delta.extra = extra;

    const one = <P extends { t: number }>(kind: Kind, id: string, points: P[], out: P[]) => {
      const held = whole ? undefined : this.series.get(id);
      const keys = new Array<string>(points.length);
      for (let i = 0; i < points.length; i++) {
        const p = points[i];
        const k = pointKey(kind, p);
        keys[i] = k;
        const j = (p.t - this.t0) / step;
        const before = held !== undefined && j >= 0 && j < held.length ? held[j] : ZERO_KEY[kind];
        if (k !== before) out.push(p);
      }
      next.set(id, keys);
    };
    one("throughput", "t", c.throughput, delta.throughput);
    for (const name of names) {
      const rt: RuntimePoint[] = [];
      one("runtime", "r\u0000" + name, c.runtime[name], rt);
      if (rt.length) delta.runtime[name] = rt;
      const fl: { t: number; failed: number }[] = [];
      one("failures", "f\u0000" + name, c.failures[name] ?? [], fl);
      if (fl.length) delta.failures[name] = fl;
    }
    this.resolution = c.resolution;
    this.t0 = t0;
    this.step = step;
    this.series = next;
    return delta;
  }
}

function dense(c: ChartsPayload, t0: number, step: number, n: number): boolean {
  if (!(step > 0)) return n <= 1;
  const ok = (pts: { t: number }[] | undefined) => {
    if (!pts || pts.length !== n) return false;
    for (let i = 0; i < n; i++) if (pts[i].t !== t0 + i * step) return false;
    return true;
  };
  if (!ok(c.throughput)) return false;
  for (const name of Object.keys(c.runtime)) if (!ok(c.runtime[name]) || !ok(c.failures[name])) return false;
  return Object.keys(c.failures).every((name) => name in c.runtime);
}

function stepOf(r: SeriesResolution | ChartsRange): number {
  return r === "1s" ? 1 : r === "10s" ? 10 : r === "24h" ? 600 : r === "7d" ? 3600 : 60;
}
