/**
 * Shapes the server hands out: Flower-compatible task and worker objects (HTTP API) and the
 * socket.io realtime payloads. Browser-safe: the UI imports these.
 */
import type { TaskState } from "./types";

/**
 * One task as Flower's /api/task/info returns it (FLOWER-API.md), plus Petal's own fields
 * (prefixed by nothing, documented here) that Flower clients ignore.
 */
export interface TaskRecord {
  uuid: string;
  name: string | null;
  state: TaskState;
  received: number | null;
  sent: number | null;
  started: number | null;
  rejected: number | null;
  succeeded: number | null;
  failed: number | null;
  retried: number | null;
  revoked: number | null;
  args: string | null;
  kwargs: string | null;
  eta: string | null;
  expires: string | null;
  retries: number;
  worker: string | null;
  result: string | null;
  exception: string | null;
  /** time of the latest event applied */
  timestamp: number | null;
  runtime: number | null;
  traceback: string | null;
  exchange: string | null;
  routing_key: string | null;
  clock: number;
  client: string | null;
  root_id: string | null;
  parent_id: string | null;
  children: string[];
  // --- Petal extensions
  /** queue it was sent to, when known */
  queue?: string | null;
  /** the task this one re-runs (Petal's retry button) */
  retry_of?: string | null;
  /** the tasks that re-ran this one */
  retried_as?: string[];
  /** task-revoked flags */
  terminated?: boolean;
  expired?: boolean;
  signum?: number | null;
}

/** A fresh record with nothing known yet (state PENDING until the first event is applied). */
/**
 * The hostname reconciliation puts on the outcome of a task no worker ever had (or whose worker
 * is unknown): it names no worker, so the registry never makes it one and pages show no link.
 */
export const RECONCILED_HOST = "unknown@petal";

/** The task's worker, or null when it has none (never received, or reconciled without one). */
export function taskWorker(t: Pick<TaskRecord, "worker">): string | null {
  return t.worker && t.worker !== RECONCILED_HOST ? t.worker : null;
}

export function emptyTaskRecord(uuid: string): TaskRecord {
  return {
    uuid,
    name: null,
    state: "PENDING",
    received: null,
    sent: null,
    started: null,
    rejected: null,
    succeeded: null,
    failed: null,
    retried: null,
    revoked: null,
    args: null,
    kwargs: null,
    eta: null,
    expires: null,
    retries: 0,
    worker: null,
    result: null,
    exception: null,
    timestamp: null,
    runtime: null,
    traceback: null,
    exchange: null,
    routing_key: null,
    clock: 0,
    client: null,
    root_id: null,
    parent_id: null,
    children: [],
    // Petal's optional fields exist from the start (undefined is left out of JSON) so every
    // record has one shape: property reads in 100k-task scans stay monomorphic.
    queue: undefined,
    retry_of: undefined,
    retried_as: undefined,
    terminated: undefined,
    expired: undefined,
    signum: undefined,
  };
}

export interface WorkerRecord {
  hostname: string;
  online: boolean;
  /** timestamp of the last event from it (receiver-localized, unix s) */
  last_heartbeat: number | null;
  /** heartbeat period the worker announced, seconds */
  freq: number;
  active: number;
  processed: number;
  loadavg: [number, number, number] | null;
  sw_ident: string | null;
  sw_ver: string | null;
  sw_sys: string | null;
  pid: number | null;
  /** counters derived from task events seen from this worker */
  succeeded: number;
  failed: number;
  retried: number;
  revoked: number;
  received: number;
  /** per task name: how many it finished, by outcome */
  by_task: Record<string, { succeeded: number; failed: number; retried: number }>;
  /** last heartbeat times, newest last (bounded) */
  heartbeats: number[];
  /** engine extras, when the worker reports them in stats */
  concurrency?: number | null;
  queues?: string[] | null;
  first_seen: number | null;
  /** timestamp of its latest worker-online (the worker's clock): when this worker process started */
  online_since?: number | null;
  /**
   * The worker's own inspect replies, only on the single-worker view (never in the list, to keep
   * it light); null or absent until the first reply.
   */
  inspect?: WorkerInspect | null;
}

/** One request as inspect active/reserved report it (Celery's `Request.info()`). */
export interface InspectRequest {
  id: string;
  name: string;
  /** reprs when asked with safe=true (active), else the values */
  args?: unknown;
  kwargs?: unknown;
  type?: string;
  hostname?: string;
  time_start?: number | null;
  acknowledged?: boolean;
  delivery_info?: { exchange?: string; routing_key?: string; priority?: number | null; redelivered?: boolean | null };
  worker_pid?: number | null;
}

/** One entry of inspect scheduled: a request waiting for its eta/countdown. */
export interface InspectScheduled {
  /** ISO 8601 */
  eta: string | null;
  priority?: number | null;
  request: InspectRequest;
}

/** One entry of inspect active_queues (kombu's Queue.as_dict, trimmed to what the UI reads). */
export interface InspectQueue {
  name: string;
  exchange?: { name?: string; type?: string } | null;
  routing_key?: string | null;
  [k: string]: unknown;
}

/**
 * A worker's answers to the 8 inspect calls Flower makes. Each call may be absent when the worker
 * never answered it; `missing` lists the calls that did not answer in time on the last round
 * (a partial answer: older values, if any, stay).
 */
export interface WorkerInspect {
  /** unix seconds of the last reply */
  timestamp: number;
  stats?: Record<string, unknown>;
  active?: InspectRequest[];
  reserved?: InspectRequest[];
  scheduled?: InspectScheduled[];
  registered?: string[];
  revoked?: string[];
  active_queues?: InspectQueue[];
  conf?: Record<string, unknown>;
  missing: string[];
}

/** Filter, sort and page for the task list: HTTP /api/tasks and the socket's task view. */
export interface TaskQuery {
  state?: TaskState[] | null;
  taskname?: string[] | null;
  workername?: string[] | null;
  /** Flower's search syntax (qualifiers, AND/OR) */
  search?: string | null;
  /** unix seconds */
  received_start?: number | null;
  received_end?: number | null;
  /** field name, `-` prefix for descending; default newest timestamp first */
  sort_by?: string | null;
  offset?: number;
  limit?: number;
}

export interface TaskPage {
  total: number;
  offset: number;
  rows: TaskRecord[];
}

export interface CountersSnapshot {
  received: number;
  succeeded: number;
  failed: number;
  retried: number;
  revoked: number;
  rejected: number;
}

/** Cluster totals shown in the top bar. */
export interface Overview {
  workers_online: number;
  workers_total: number;
  active: number;
  /** tasks in RECEIVED/PENDING (waiting on a worker) */
  queued: number;
  totals: CountersSnapshot;
  /** last 60 s */
  last_minute: CountersSnapshot;
  /** failed / (succeeded + failed) over the last minute, 0..1 */
  failure_rate: number;
  tasks_retained: number;
  events_total: number;
  events_rejected: number;
  task_names: string[];
}

export type SeriesResolution = "1s" | "10s" | "1m";
/** History ranges (lib/history/charts.ts): per-minute aggregates kept in SQLite, in 1 min / 10 min / 1 h buckets. */
export type ChartsRange = "1h" | "24h" | "7d";

/** One chart bucket. `t` = bucket start, unix seconds. */
export interface SeriesPoint {
  t: number;
  received: number;
  succeeded: number;
  failed: number;
  retried: number;
}

export interface RuntimePoint {
  t: number;
  /** seconds */
  p50: number | null;
  p95: number | null;
  p99: number | null;
  count: number;
}

export interface ChartsPayload {
  resolution: SeriesResolution | ChartsRange;
  /** bucket width, seconds (ranges only) */
  step?: number;
  throughput: SeriesPoint[];
  /** per task name */
  runtime: Record<string, RuntimePoint[]>;
  /** per task name: failures per bucket */
  failures: Record<string, { t: number; failed: number }[]>;
}

export interface BrokerPayload {
  url: string;
  transport: string;
  status: "connected" | "reconnecting" | "disconnected";
  queues: { name: string; messages: number; unacked?: number; byPriority?: Record<number, number>; consumers: string[] }[];
}

// ---------------------------------------------------------------------------------------------
// socket.io realtime

/** What one browser tab shows; the server sends only these. */
export interface ClientSubscription {
  overview?: boolean;
  workers?: boolean;
  tasks?: TaskQuery | null;
  task?: string | null;
  worker?: string | null;
  broker?: boolean;
  charts?: { resolution: SeriesResolution | ChartsRange; worker?: string | null } | null;
}

/**
 * One server → browser message, as components read it. `full: true` is a snapshot (sent on
 * connect, resubscribe and after a gap); otherwise each present key replaces that part of the
 * view. Absent keys did not change. At most 10 a second per socket. On the socket the task list
 * and the charts travel as deltas instead (lib/protocol/wire.ts: WireUpdate, decodeUpdate).
 */
export interface RealtimeUpdate {
  seq: number;
  full: boolean;
  /** server time, unix ms (the browser uses it to correct heartbeat ages for clock skew) */
  now: number;
  overview?: Overview;
  workers?: WorkerRecord[];
  tasks?: TaskPage;
  task?: TaskRecord | null;
  worker?: WorkerRecord | null;
  broker?: BrokerPayload;
  charts?: ChartsPayload;
  config?: { readOnly: boolean; broker: string; version: string };
}

export const SOCKET_EVENTS = {
  /** browser → server: ClientSubscription */
  subscribe: "subscribe",
  /** server → browser: WireUpdate (lib/protocol/wire.ts), decoded into a RealtimeUpdate */
  update: "update",
  /** browser → server: ask for a fresh snapshot (after a seq gap) */
  resync: "resync",
} as const;

/** One error body for every HTTP error (Petal's own; Flower's were empty or plain text). */
export interface ApiError {
  error: { code: string; message: string };
}
