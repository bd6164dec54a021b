/**
 * Per-socket diffing. Each socket remembers the state versions it last sent for every view it
 * subscribes to; a tick recomputes a view only when its version moved, and sends one message
 * with only the keys that changed. Views many sockets share (overview, workers, charts) are
 * computed once per version through ViewCache, not once per socket.
 */
import type {
  ChartsPayload,
  ClientSubscription,
  Overview,
  SeriesResolution,
  ChartsRange,
  TaskPage,
  TaskQuery,
  TaskRecord,
  WorkerRecord,
} from "../../lib/protocol/api";
import type { BrokerMonitor } from "./broker-monitor";
import { SentCharts } from "./chart-delta";
import { SentPage } from "./task-rows";

/**
 * What goes on the socket: RealtimeUpdate, with the task list and the charts as deltas against
 * what this browser already holds (`taskRows`, `chartsDelta`) instead of whole `tasks`/`charts`
 * (charts go whole only when they are not one point per bucket).
 */
import type { WireUpdate } from "../../lib/protocol/wire";

export type { WireUpdate };

/** The reads realtime makes of ClusterState (narrow, so tests and the adapter stay simple). */
export interface StateReader {
  version(): number;
  tasksVersion(): number;
  workersVersion(): number;
  /** a number that moves whenever that task changes (any value for unknown ids) */
  taskVersion(id: string): number;
  getTask(id: string): TaskRecord | null;
  queryTasks(q: TaskQuery): TaskPage;
  workers(): WorkerRecord[];
  getWorker(name: string): WorkerRecord | null;
  overview(): Overview;
  charts(resolution: SeriesResolution | ChartsRange, opts: { worker?: string | null }): ChartsPayload;
}

export interface ViewConfig {
  readOnly: boolean;
  broker: string;
  version: string;
}

const RESOLUTION_SECONDS: Record<SeriesResolution | ChartsRange, number> = { "1s": 1, "10s": 10, "1m": 60, "1h": 60, "24h": 600, "7d": 3600 };

/**
 * Computes shared views at most once per state version (and, for the time-dependent ones, per
 * second or chart bucket), however many sockets show them.
 */
export class ViewCache {
  private ov: { key: string; value: Overview; json: string } | null = null;
  private wk: { v: number; value: WorkerRecord[] } | null = null;
  private readonly ch = new Map<string, { key: string; value: ChartsPayload }>();

  constructor(private readonly state: StateReader) {}

  /** The overview and its JSON (its "last minute" part moves with time, not only with events). */
  overview(nowMs: number): { value: Overview; json: string } {
    const key = this.state.version() + ":" + Math.floor(nowMs / 1000);
    if (!this.ov || this.ov.key !== key) {
      const value = this.state.overview();
      this.ov = { key, value, json: JSON.stringify(value) };
    }
    return this.ov;
  }

  /**
   * The worker list as the list shows it: per-task counters and heartbeat history stay on the
   * single-worker view (they made the list grow with task names and heartbeats, every tick).
   */
  workers(): WorkerRecord[] {
    const v = this.state.workersVersion();
    if (!this.wk || this.wk.v !== v) this.wk = { v, value: this.state.workers().map((w) => ({ ...w, by_task: {}, heartbeats: [] })) };
    return this.wk.value;
  }

  private tq: { key: string; v: number; at: number; costMs: number; value: TaskPage } | null = null;

  /** What computing the last page tasks() returned cost, ms (a reused page reports its own cost). */
  lastTasksCostMs(): number {
    return this.tq?.costMs ?? 0;
  }

  /**
   * A task page, shared by sockets asking the same question at the same version; timed.
   * `maxAgeMs`: a page of the same question this recent will do even if the version moved
   * (the answer to a subscribe reuses the page its validation just computed).
   */
  tasks(q: TaskQuery, maxAgeMs = 0): TaskPage {
    const key = JSON.stringify(q);
    const v = this.state.tasksVersion();
    const start = performance.now();
    if (this.tq && this.tq.key === key && (this.tq.v === v || start - this.tq.at <= maxAgeMs)) return this.tq.value;
    const value = this.state.queryTasks(q);
    this.tq = { key, v, at: start, costMs: performance.now() - start, value };
    return value;
  }

  /** Charts for a resolution/worker; `key` moves with the state version and the current bucket. */
  charts(resolution: SeriesResolution | ChartsRange, worker: string | null, nowMs: number): { value: ChartsPayload; key: string } {
    const id = resolution + "\u0000" + (worker ?? "");
    const key = this.state.version() + ":" + chartBucket(resolution, nowMs);
    const hit = this.ch.get(id);
    if (hit && hit.key === key) return hit;
    const entry = { key, value: this.state.charts(resolution, { worker }) };
    this.ch.set(id, entry);
    // Ids come from sockets: drop the others when many pile up, so churn cannot grow the map.
    if (this.ch.size > 64) for (const k of this.ch.keys()) if (k !== id) this.ch.delete(k);
    return entry;
  }
}

export function chartBucket(resolution: SeriesResolution | ChartsRange, nowMs: number): number {
  return Math.floor(nowMs / 1000 / RESOLUTION_SECONDS[resolution]);
}

const NEVER = -1;
/** A snapshot may reuse a task page of the same question this recent, ms (default: 100). */
const SNAPSHOT_REUSE_MS = 100;
/**
 * A socket's task list is refreshed at most every (this × what its query costs) ms, capped at
 * 1 s: re-running a slow query (a scan of 1M tasks) every tick would starve ingest, while a cheap
 * one (an index lookup) still refreshes every tick (default: 4, i.e. ≤ 25% of the event loop).
 */
const TASKS_COST_FACTOR = 4;

export class Viewer {
  sub: ClientSubscription;
  seq = 0;
  /** monotonic ms of the last message sent (rate limit) */
  lastSentAt = -Infinity;
  /** the next message must be a full snapshot */
  needsFull = true;
  private s = {
    overview: NEVER,
    overviewSec: NEVER,
    overviewJson: "",
    workers: NEVER,
    tasksVer: NEVER,
    tasksAt: -Infinity,
    taskVer: NEVER,
    workerVer: NEVER,
    chartsKey: "",
    chartsAt: -Infinity,
    broker: NEVER,
    brokerStatus: NEVER,
  };

  private readonly sentPage = new SentPage();
  /** smoothed cost of this socket's task query, ms */
  private tasksCostMs = 0;
  private readonly sentCharts = new SentCharts();

  constructor(sub: ClientSubscription) {
    this.sub = sub;
  }

  subscribe(sub: ClientSubscription): void {
    this.sub = sub;
    this.needsFull = true;
    // A new question has its own cost (a name filter is an index lookup, a search a scan).
    this.tasksCostMs = 0;
  }

  /**
   * The message to send now, or null when nothing this socket sees has changed.
   * `now` is wall-clock ms (goes on the message), `mono` monotonic ms (throttles).
   */
  collect(state: StateReader, cache: ViewCache, broker: BrokerMonitor, config: ViewConfig, now: number, mono: number, chartsEveryMs: number): WireUpdate | null {
    const full = this.needsFull;
    const sub = this.sub;
    const s = this.s;
    const u: WireUpdate = { seq: 0, full, now };
    let changed = full;

    if (sub.overview) {
      const v = state.version();
      const sec = Math.floor(now / 1000);
      if (full || v !== s.overview || sec !== s.overviewSec) {
        const ov = cache.overview(now);
        // Without new events only the clock moved: send it if the last-minute numbers changed.
        if (full || v !== s.overview || ov.json !== s.overviewJson) {
          u.overview = ov.value;
          changed = true;
        }
        s.overview = v;
        s.overviewSec = sec;
        s.overviewJson = ov.json;
      }
    }
    if (sub.workers) {
      const v = state.workersVersion();
      if (full || v !== s.workers) {
        u.workers = cache.workers();
        s.workers = v;
        changed = true;
      }
    }
    if (sub.worker) {
      const v = state.workersVersion();
      if (full || v !== s.workerVer) {
        u.worker = state.getWorker(sub.worker);
        s.workerVer = v;
        changed = true;
      }
    }
    if (sub.tasks) {
      const v = state.tasksVersion();
      if (full || (v !== s.tasksVer && mono - s.tasksAt >= Math.min(1000, this.tasksCostMs * TASKS_COST_FACTOR))) {
        s.tasksVer = v;
        s.tasksAt = mono;
        const page = cache.tasks(sub.tasks, full ? SNAPSHOT_REUSE_MS : 0);
        const cost = cache.lastTasksCostMs();
        // Smoothed, but quick to follow a jump (a search over a million rows).
        this.tasksCostMs = cost > this.tasksCostMs ? cost : this.tasksCostMs * 0.7 + cost * 0.3;
        if (full) this.sentPage.reset();
        const delta = this.sentPage.diff(page, (id) => state.taskVersion(id));
        if (delta) {
          u.taskRows = delta;
          changed = true;
        }
      }
    }
    if (sub.task) {
      const v = state.taskVersion(sub.task);
      if (full || v !== s.taskVer) {
        u.task = state.getTask(sub.task);
        s.taskVer = v;
        changed = true;
      }
    }
    if (sub.charts && (full || mono - s.chartsAt >= chartsEveryMs)) {
      const c = cache.charts(sub.charts.resolution, sub.charts.worker ?? null, now);
      if (full || c.key !== s.chartsKey) {
        if (full) this.sentCharts.reset();
        const delta = this.sentCharts.diff(c.value);
        if (delta) u.chartsDelta = delta;
        else u.charts = c.value;
        s.chartsKey = c.key;
        s.chartsAt = mono;
        changed = true;
      }
    }
    // Status goes to every tab (the connection badge); queue lengths only to subscribers.
    if (full || broker.statusVersion !== s.brokerStatus || (sub.broker && broker.version !== s.broker)) {
      u.broker = broker.current();
      s.broker = broker.version;
      s.brokerStatus = broker.statusVersion;
      changed = true;
    }
    if (full) u.config = config;
    if (!changed) return null;
    this.needsFull = false;
    u.seq = ++this.seq;
    this.lastSentAt = mono;
    return u;
  }
}
