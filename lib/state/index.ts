/**
 * ClusterState: the single entry point server/ingest writes to (ARCHITECTURE habit 5: one
 * writer) and server/http + server/realtime read from. Pure and synchronous: events in, views
 * out; time comes from `now()` so tests drive it.
 *
 * Change tracking for the realtime layer: `version` grows by one per accepted event (and per
 * liveness change found by tick); `tasksVersion` / `workersVersion` remember the last version
 * that touched tasks / workers; `taskVersion(id)` the last one that touched that task. A
 * realtime tick compares these with what it sent last and resends only what moved.
 */
import type {
  ChartsPayload,
  CountersSnapshot,
  Overview,
  SeriesResolution,
  TaskPage,
  TaskQuery,
  TaskRecord,
  WorkerRecord,
} from "../protocol/api";
import { LamportClock, validateEvent } from "../protocol/events";
import type { CeleryEvent, TaskEvent, WorkerEvent } from "../protocol/types";
import { Metrics, renderPrometheus } from "./metrics";
import { queryTasks } from "./query";
import { Series } from "./series";
import type { ChartsOptions, SeriesField } from "./series";
import { TaskStore } from "./store";
import { RECONCILED_HOST, WorkerRegistry } from "./workers";

export { SearchSyntaxError, TaskQueryError } from "./query";
export { applyTaskEvent, TRANSITIONS } from "./transitions";
export { RECONCILED_HOST } from "./workers";
export type { ChartsOptions } from "./series";

/**
 * Marks an event object replayed from a log (the Redis event stream after a restart) rather than
 * received live: set it with markReplayed before handing the event to ingest.
 */
export const REPLAYED = Symbol.for("petal.replayed");
interface Replayable {
  [REPLAYED]?: boolean;
}
/** Replayed events older than this, seconds, count at their own timestamp (default: 10). */
export const REPLAY_LAG_S = 10;

export function markReplayed(events: unknown[]): void {
  for (const e of events) if (e !== null && typeof e === "object") (e as Replayable)[REPLAYED] = true;
}

export interface ClusterStateOptions {
  /** tasks retained (default: 100000) */
  maxTasks?: number;
  /** clock, unix seconds (default: Date.now() / 1000) */
  now?: () => number;
  /** task names / workers with their own chart series (default: 256 each) */
  maxSeriesKeys?: number;
  /** task changes remembered for changedTasksSince (default: 10000) */
  changeLogSize?: number;
}

const SERIES_FIELD: Partial<Record<TaskEvent["type"], SeriesField>> = {
  "task-received": "received",
  "task-succeeded": "succeeded",
  "task-failed": "failed",
  "task-retried": "retried",
  "task-revoked": "revoked",
  "task-rejected": "rejected",
};

/** Time tick() may spend refreshing search masks of changed tasks (ms). */
const TICK_MASK_BUDGET_MS = 40;

export class ClusterState {
  /** last version that changed anything */
  version = 0;
  tasksVersion = 0;
  workersVersion = 0;
  /** events accepted since start */
  eventsTotal = 0;
  /** events dropped by validation since start */
  eventsRejected = 0;

  private readonly now: () => number;
  private readonly store: TaskStore;
  private readonly registry: WorkerRegistry;
  private readonly series: Series;
  private readonly metrics = new Metrics();
  private readonly clock = new LamportClock();
  private readonly totals: CountersSnapshot = { received: 0, succeeded: 0, failed: 0, retried: 0, revoked: 0, rejected: 0 };
  // Change log ring: which task changed at which version.
  private readonly logIds: string[];
  private readonly logVersions: Float64Array;
  private logNext = 0;
  private readonly taskListeners: ((uuid: string) => void)[] = [];
  private readonly evictListeners: ((rec: TaskRecord) => void)[] = [];
  private readonly onEvict = (gone: string): void => {
    this.logChange(gone);
    if (this.evictListeners.length === 0) return;
    const rec = this.store.get(gone);
    if (rec !== undefined) for (const fn of this.evictListeners) fn(rec);
  };
  /** versions up to this one may be missing from the log (overwritten) */
  private logFloor = 0;

  constructor(opts: ClusterStateOptions = {}) {
    this.now = opts.now ?? (() => Date.now() / 1000);
    this.store = new TaskStore({ maxTasks: opts.maxTasks });
    this.series = new Series({ maxKeys: opts.maxSeriesKeys });
    this.registry = new WorkerRegistry((hostname, online) => this.metrics.setWorkerOnline(hostname, online));
    const size = Math.max(1, opts.changeLogSize ?? 10_000);
    this.logIds = new Array<string>(size).fill("");
    this.logVersions = new Float64Array(size);
  }

  /**
   * Take a batch of decoded, untrusted event bodies. Each valid one is stamped like Celery's
   * EventReceiver does (receiver Lamport clock, task-sent's clock overwritten, `local_received`)
   * and applied; the objects are taken over and mutated. Timestamps are trusted as unix epoch
   * floats and not shifted by `utcoffset` (Celery's adjustment is wrong for epoch values).
   */
  ingest(raw: unknown[]): { accepted: number; rejected: number } {
    let accepted = 0;
    let rejected = 0;
    const now = this.now();
    for (let i = 0; i < raw.length; i++) {
      const ev = validateEvent(raw[i]);
      if (ev === null) {
        rejected++;
        continue;
      }
      const extra = ev as { retry_of?: unknown };
      if (extra.retry_of !== undefined && extra.retry_of !== null && typeof extra.retry_of !== "string") delete extra.retry_of;
      this.clock.observe(ev);
      // A replayed event that is clearly old (the dashboard was down) is placed at its own time:
      // live ones at the receiver's clock, so worker clock skew cannot scatter the charts.
      let at = now;
      if ((raw[i] as Replayable)[REPLAYED] === true && ev.timestamp > 0 && now - ev.timestamp > REPLAY_LAG_S) at = ev.timestamp;
      ev.local_received = at;
      this.apply(ev, at);
      accepted++;
    }
    this.eventsTotal += accepted;
    this.eventsRejected += rejected;
    this.metrics.eventsRejected += rejected;
    return { accepted, rejected };
  }

  /** Count events dropped before they reached ingest (undecodable payloads the transport saw). */
  noteRejected(n: number): void {
    if (!(n > 0)) return;
    this.eventsRejected += n;
    this.metrics.eventsRejected += n;
  }

  /** Liveness (workers silent for 3 heartbeat intervals go offline) and chart rolling. */
  tick(nowSec?: number): void {
    const now = nowSec ?? this.now();
    if (this.registry.tick(now).length > 0) {
      this.version++;
      this.workersVersion = this.version;
    }
    this.series.roll(now);
    // Keep search masks current between searches (only once a search has used them).
    this.store.cols.refreshQueued(TICK_MASK_BUDGET_MS);
  }

  /** A detached copy of the task's record (a new object per call). */
  getTask(id: string): TaskRecord | undefined {
    return this.store.get(id);
  }

  /** Throws SearchSyntaxError (HTTP 400) or TaskQueryError (HTTP 500, as Flower). */
  queryTasks(q: TaskQuery): TaskPage {
    return queryTasks(this.store, q);
  }

  /** Sorted names of every task type seen. */
  taskTypes(): string[] {
    return this.store.taskTypes();
  }

  /** Every worker, sorted by hostname (live records: do not mutate). */
  workers(): WorkerRecord[] {
    return this.registry.list();
  }

  getWorker(name: string): WorkerRecord | undefined {
    return this.registry.get(name);
  }

  get tasksRetained(): number {
    return this.store.size;
  }

  /** Tasks dropped to stay under maxTasks, and of those the unfinished ones. */
  get tasksEvicted(): { total: number; unfinished: number } {
    return { total: this.store.evicted, unfinished: this.store.evictedUnfinished };
  }

  overview(): Overview {
    const now = this.now();
    const lastMinute = this.series.window(now, 60);
    const done = lastMinute.succeeded + lastMinute.failed;
    return {
      workers_online: this.registry.onlineCount(),
      workers_total: this.registry.size,
      active: this.store.countByState("STARTED"),
      queued: this.store.countByState("RECEIVED") + this.store.countByState("PENDING"),
      totals: { ...this.totals },
      last_minute: lastMinute,
      failure_rate: done === 0 ? 0 : lastMinute.failed / done,
      tasks_retained: this.store.size,
      events_total: this.eventsTotal,
      events_rejected: this.eventsRejected,
      task_names: this.store.taskTypes().slice(),
    };
  }

  /**
   * Chart data at one resolution. Throughput is dense (one point per bucket, oldest first);
   * runtime and failures are dense too, per task name, for names with data in the range (or
   * exactly `taskNames`). With `worker`, throughput is that worker's; runtime/failures stay
   * cluster-wide.
   */
  charts(resolution: SeriesResolution, opts?: ChartsOptions): ChartsPayload {
    return this.series.charts(resolution, this.now(), opts);
  }

  /** Prometheus text format 0.0.4 (Flower's families plus petal_events_rejected_total). */
  metricsText(): string {
    return renderPrometheus(this.metrics);
  }

  /** Version at which this task last changed (0: unknown or evicted). */
  taskVersion(id: string): number {
    return this.store.taskVersion(id);
  }

  /**
   * Ids of tasks changed (or evicted) after `version`, each once, oldest change first. null when
   * the log no longer reaches back that far: the caller should resend its whole view.
   */
  changedTasksSince(version: number): string[] | null {
    if (version >= this.version) return [];
    if (version < this.logFloor) return null;
    const size = this.logIds.length;
    const seen = new Set<string>();
    for (let k = 0; k < size; k++) {
      const i = (this.logNext + k) % size;
      if (this.logVersions[i] > version) seen.add(this.logIds[i]);
    }
    return [...seen];
  }

  /**
   * Hear every task change (history persistence): called synchronously after each applied task
   * event and retry link, with the task's uuid. Only the uuid, so the hot path builds no record:
   * a listener reads the task later with getTask(), once per batch of changes; a task dropped
   * before that is handed over by onTaskEvict.
   */
  onTaskChange(fn: (uuid: string) => void): () => void {
    return listen(this.taskListeners, fn);
  }

  /** Hear each task just before it is dropped to stay under maxTasks, with its last record. */
  onTaskEvict(fn: (rec: TaskRecord) => void): () => void {
    return listen(this.evictListeners, fn);
  }

  /**
   * Load tasks from history (oldest first) without counting them as new events: totals, series
   * and metrics stay as they are. Tasks already known are left alone.
   */
  restoreTasks(records: Iterable<TaskRecord>): number {
    const version = ++this.version;
    const n = this.store.restore(records, version);
    if (n > 0) {
      this.tasksVersion = version;
      this.logFloor = version; // too many to log one by one: views resend in full
    }
    return n;
  }

  /** Seed the all-time counters (restored from history). */
  restoreTotals(t: Partial<CountersSnapshot>): void {
    for (const k of Object.keys(this.totals) as (keyof CountersSnapshot)[]) if (typeof t[k] === "number") this.totals[k] = t[k] as number;
  }

  /** Petal's retry endpoint: `newId` re-runs `oldId` (either may not have arrived yet). */
  linkRetry(oldId: string, newId: string): void {
    this.version++;
    this.tasksVersion = this.version;
    this.store.linkRetry(oldId, newId, this.version);
    this.logChange(oldId);
    this.logChange(newId);
    for (const fn of this.taskListeners) {
      fn(oldId);
      fn(newId);
    }
  }

  private apply(ev: CeleryEvent, now: number): void {
    const version = ++this.version;
    if (ev.type.startsWith("task-")) this.applyTask(ev as TaskEvent, now, version);
    else this.applyWorker(ev as WorkerEvent, now, version);
  }

  private applyTask(ev: TaskEvent, now: number, version: number): void {
    const retryOf = (ev as { retry_of?: string | null }).retry_of;
    const slot = this.store.apply(ev, version, this.onEvict);
    this.tasksVersion = version;
    this.logChange(ev.uuid);
    if (typeof retryOf === "string" && retryOf !== ev.uuid) this.logChange(retryOf);
    for (let i = 0; i < this.taskListeners.length; i++) this.taskListeners[i](ev.uuid);

    // The live view of the slot: read before any other call into the store moves it.
    const rec = this.store.at(slot);
    const w = this.registry.applyTaskEvent(ev, rec.name, now);
    if (w !== undefined) this.workersVersion = version;
    this.metrics.onTaskEvent(ev, rec);
    const field = SERIES_FIELD[ev.type];
    if (field !== undefined) {
      this.totals[field]++;
      this.series.record(field, now, rec.name, ev.type === "task-sent" ? null : ev.hostname);
    }
    if (ev.type === "task-succeeded" && rec.name !== null && ev.runtime >= 0) this.series.recordRuntime(now, rec.name, ev.runtime);
  }

  private applyWorker(ev: WorkerEvent, now: number, version: number): void {
    if (ev.hostname === RECONCILED_HOST) return;
    const w = this.registry.applyWorkerEvent(ev, now);
    this.workersVersion = version;
    this.metrics.setWorkerOnline(w.hostname, w.online);
    this.metrics.setExecuting(w.hostname, ev.active);
  }

  private logChange(uuid: string): void {
    const i = this.logNext;
    const old = this.logVersions[i];
    if (old > this.logFloor) this.logFloor = old;
    this.logIds[i] = uuid;
    this.logVersions[i] = this.version;
    this.logNext = (i + 1) % this.logIds.length;
  }
}

function listen<F>(list: F[], fn: F): () => void {
  list.push(fn);
  return () => {
    const i = list.indexOf(fn);
    if (i >= 0) list.splice(i, 1);
  };
}
