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
  RealtimeUpdate,
  SeriesResolution,
  TaskPage,
  TaskQuery,
  TaskRecord,
  WorkerRecord,
} from "../../lib/protocol/api";
import type { BrokerMonitor } from "./broker-monitor";

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
  charts(resolution: SeriesResolution, opts: { worker?: string | null }): ChartsPayload;
}

export interface ViewConfig {
  readOnly: boolean;
  broker: string;
  version: string;
}

const RESOLUTION_SECONDS: Record<SeriesResolution, number> = { "1s": 1, "10s": 10, "1m": 60 };

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

  workers(): WorkerRecord[] {
    const v = this.state.workersVersion();
    if (!this.wk || this.wk.v !== v) this.wk = { v, value: this.state.workers() };
    return this.wk.value;
  }

  /** Charts for a resolution/worker; `key` moves with the state version and the current bucket. */
  charts(resolution: SeriesResolution, worker: string | null, nowMs: number): { value: ChartsPayload; key: string } {
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

export function chartBucket(resolution: SeriesResolution, nowMs: number): number {
  return Math.floor(nowMs / 1000 / RESOLUTION_SECONDS[resolution]);
}

const NEVER = -1;

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
    tasksSig: "",
    taskVer: NEVER,
    workerVer: NEVER,
    chartsKey: "",
    chartsAt: -Infinity,
    broker: NEVER,
    brokerStatus: NEVER,
  };

  constructor(sub: ClientSubscription) {
    this.sub = sub;
  }

  subscribe(sub: ClientSubscription): void {
    this.sub = sub;
    this.needsFull = true;
  }

  /**
   * The message to send now, or null when nothing this socket sees has changed.
   * `now` is wall-clock ms (goes on the message), `mono` monotonic ms (throttles).
   */
  collect(state: StateReader, cache: ViewCache, broker: BrokerMonitor, config: ViewConfig, now: number, mono: number, chartsEveryMs: number): RealtimeUpdate | null {
    const full = this.needsFull;
    const sub = this.sub;
    const s = this.s;
    const u: RealtimeUpdate = { seq: 0, full, now };
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
      if (full || v !== s.tasksVer) {
        s.tasksVer = v;
        const page = state.queryTasks(sub.tasks);
        const sig = pageSignature(page, state);
        if (full || sig !== s.tasksSig) {
          u.tasks = page;
          s.tasksSig = sig;
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
        u.charts = c.value;
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

/** Identity of a page as the browser sees it: total, offset, and each row with its version. */
function pageSignature(page: TaskPage, state: StateReader): string {
  let sig = page.total + "|" + page.offset;
  for (const r of page.rows) sig += "|" + r.uuid + ":" + state.taskVersion(r.uuid);
  return sig;
}
