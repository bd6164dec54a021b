/**
 * The data behind Flower's Prometheus families (FLOWER-API.md, GET /metrics), kept as plain
 * counters updated per event, and their rendering in Prometheus text format 0.0.4. Same names,
 * label sets and float spelling as Flower's prometheus_client output, so existing dashboards
 * and alerts keep working. The `*_created` gauges and the process/python families are left out.
 */
import type { TaskRecord } from "../protocol/api";
import type { TaskEvent } from "../protocol/types";

/** Flower's runtime histogram buckets, seconds (+Inf implied). */
export const RUNTIME_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];

interface LabeledValue {
  labels: string;
  value: number;
}
interface HistogramValue {
  labels: string;
  buckets: Float64Array;
  count: number;
  sum: number;
}

/** Each series is keyed by its rendered label text, so rendering needs no second pass. */
export class Metrics {
  readonly events = new Map<string, LabeledValue>();
  readonly runtime = new Map<string, HistogramValue>();
  readonly prefetchTime = new Map<string, LabeledValue>();
  readonly prefetched = new Map<string, LabeledValue>();
  readonly workerOnline = new Map<string, LabeledValue>();
  readonly executing = new Map<string, LabeledValue>();
  eventsRejected = 0;
  private readonly pairs = new Map<string, Map<string, Pair>>();

  /**
   * Count one task event (as Flower's EventsState.event does). `task` is the record after the
   * event was applied: its name labels events that carry none, its received/started/eta drive
   * the prefetch gauges.
   */
  onTaskEvent(ev: TaskEvent, task: Pick<TaskRecord, "name" | "eta" | "received" | "started">): void {
    const p = this.pair(task.name ?? "", ev.hostname);
    let c = p.events.get(ev.type);
    if (c === undefined) {
      const key = `{task=${q(p.name)},type=${q(ev.type)},worker=${q(p.worker)}}`;
      c = entry(this.events, key);
      p.events.set(ev.type, c);
    }
    c.value++;

    if (ev.type === "task-succeeded" && ev.runtime > 0) this.observeRuntime(p, ev.runtime);
    if (task.eta !== null) return;
    if (ev.type === "task-received") {
      if (task.received !== null) (p.prefetched ??= entry(this.prefetched, p.tw)).value++;
    } else if (task.started !== null && task.received !== null) {
      if (ev.type === "task-started") {
        (p.prefetchTime ??= entry(this.prefetchTime, p.tw)).value = task.started - task.received;
        (p.prefetched ??= entry(this.prefetched, p.tw)).value--;
      } else if (ev.type === "task-succeeded" || ev.type === "task-failed") {
        (p.prefetchTime ??= entry(this.prefetchTime, p.tw)).value = 0;
      }
    }
  }

  /** Per (task name, worker): the series objects, so an event costs two Map reads, no string building. */
  private pair(name: string, worker: string): Pair {
    let byWorker = this.pairs.get(name);
    if (byWorker === undefined) this.pairs.set(name, (byWorker = new Map()));
    let p = byWorker.get(worker);
    if (p === undefined) {
      p = { name, worker, tw: taskWorkerLabels(name, worker), events: new Map(), runtime: null, prefetched: null, prefetchTime: null };
      byWorker.set(worker, p);
    }
    return p;
  }

  setWorkerOnline(hostname: string, online: boolean): void {
    set(this.workerOnline, `{worker=${q(hostname)}}`, online ? 1 : 0);
  }

  setExecuting(hostname: string, active: number): void {
    set(this.executing, `{worker=${q(hostname)}}`, active);
  }

  private observeRuntime(p: Pair, seconds: number): void {
    let h = p.runtime;
    if (h === null) {
      h = this.runtime.get(p.tw) ?? null;
      if (h === null) {
        h = { labels: p.tw, buckets: new Float64Array(RUNTIME_BUCKETS.length), count: 0, sum: 0 };
        this.runtime.set(p.tw, h);
      }
      p.runtime = h;
    }
    for (let i = 0; i < RUNTIME_BUCKETS.length; i++) if (seconds <= RUNTIME_BUCKETS[i]) h.buckets[i]++;
    h.count++;
    h.sum += seconds;
  }
}

interface Pair {
  name: string;
  worker: string;
  /** rendered `{task=…,worker=…}` */
  tw: string;
  events: Map<string, LabeledValue>;
  runtime: HistogramValue | null;
  prefetched: LabeledValue | null;
  prefetchTime: LabeledValue | null;
}

/** The series for `labels`, created at 0 (in first-use order, which rendering keeps). */
function entry(map: Map<string, LabeledValue>, labels: string): LabeledValue {
  let v = map.get(labels);
  if (v === undefined) map.set(labels, (v = { labels, value: 0 }));
  return v;
}

/** Prometheus text format 0.0.4 of every family, in Flower's order. */
export function renderPrometheus(m: Metrics): string {
  const out: string[] = [];
  family(out, "flower_events_total", "Number of events", "counter", m.events);
  out.push("# HELP flower_task_runtime_seconds Task runtime", "# TYPE flower_task_runtime_seconds histogram");
  for (const h of m.runtime.values()) {
    const inner = h.labels.slice(1, -1);
    for (let i = 0; i < RUNTIME_BUCKETS.length; i++) {
      out.push(`flower_task_runtime_seconds_bucket{le="${goFloat(RUNTIME_BUCKETS[i])}",${inner}} ${goFloat(h.buckets[i])}`);
    }
    out.push(`flower_task_runtime_seconds_bucket{le="+Inf",${inner}} ${goFloat(h.count)}`);
    out.push(`flower_task_runtime_seconds_count${h.labels} ${goFloat(h.count)}`);
    out.push(`flower_task_runtime_seconds_sum${h.labels} ${goFloat(h.sum)}`);
  }
  family(
    out,
    "flower_task_prefetch_time_seconds",
    "The time the task spent waiting at the celery worker to be executed.",
    "gauge",
    m.prefetchTime,
  );
  family(out, "flower_worker_prefetched_tasks", "Number of tasks of given type prefetched at a worker", "gauge", m.prefetched);
  family(out, "flower_worker_online", "Worker online status", "gauge", m.workerOnline);
  family(
    out,
    "flower_worker_number_of_currently_executing_tasks",
    "Number of tasks currently executing at a worker",
    "gauge",
    m.executing,
  );
  out.push(
    "# HELP petal_events_rejected_total Events dropped because they failed validation",
    "# TYPE petal_events_rejected_total counter",
    `petal_events_rejected_total ${goFloat(m.eventsRejected)}`,
  );
  return out.join("\n") + "\n";
}

function family(out: string[], name: string, help: string, type: string, values: Map<string, LabeledValue>): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const v of values.values()) out.push(`${name}${v.labels} ${goFloat(v.value)}`);
}

function taskWorkerLabels(task: string, worker: string): string {
  return `{task=${q(task)},worker=${q(worker)}}`;
}

function set(map: Map<string, LabeledValue>, labels: string, value: number): void {
  const v = map.get(labels);
  if (v === undefined) map.set(labels, { labels, value });
  else v.value = value;
}

/** A quoted label value, escaped as the text format requires (backslash, quote, newline). */
function q(v: string): string {
  let needs = false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 92 || c === 34 || c === 10) {
      needs = true;
      break;
    }
  }
  return needs ? `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"` : `"${v}"`;
}

/**
 * A float the way prometheus_client writes it (Python repr, then Go-style exponent once there
 * are more than 6 integer digits): 5 → "5.0", 1795315847.41 → "1.79531584741e+09".
 */
export function goFloat(d: number): string {
  if (d === Infinity) return "+Inf";
  if (d === -Infinity) return "-Inf";
  if (Number.isNaN(d)) return "NaN";
  const s = pyFloatRepr(d);
  const dot = s.indexOf(".");
  if (d > 0 && dot > 6) {
    const mantissa = `${s[0]}.${s.slice(1, dot)}${s.slice(dot + 1)}`.replace(/[0.]+$/, "");
    return `${mantissa}e+0${dot - 1}`;
  }
  return s;
}

/** Python's repr(float): shortest round-trip digits, exponent form below 1e-4 or from 1e16. */
export function pyFloatRepr(d: number): string {
  if (d === 0) return Object.is(d, -0) ? "-0.0" : "0.0";
  const [mant, expStr] = d.toExponential().split("e");
  const exp = Number(expStr);
  const neg = mant.startsWith("-");
  const digits = mant.replace("-", "").replace(".", "");
  let body: string;
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    body = `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  } else if (exp < 0) {
    body = `0.${"0".repeat(-exp - 1)}${digits}`;
  } else if (digits.length <= exp + 1) {
    body = `${digits}${"0".repeat(exp + 1 - digits.length)}.0`;
  } else {
    body = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  return neg ? `-${body}` : body;
}
