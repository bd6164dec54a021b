/**
 * Reconciliation's decision, pure: what to do with one task the dashboard still shows as
 * RECEIVED or STARTED, given what the workers reported (inspect active/reserved/scheduled) and
 * what the result backend holds. The outcome is a list of Celery-shaped events that ingest
 * applies like any other, so counters, chart series and history see it.
 *
 * Rules, in order:
 * 1. a worker still reports the task → it stays (the events will come);
 * 2. the result backend has a final state → that state (SUCCESS with its result, FAILURE with
 *    exception and traceback, REVOKED);
 * 3. its worker is alive (online, or it answered the inspect) → it stays: there is no evidence
 *    it was lost (it may run on a worker that did not answer in time) — unless that worker
 *    answered, does not hold the task, and has restarted (worker-online) since the task's last
 *    event: the process that had it is gone, so it is lost as in 4 (an acks_late task that is
 *    re-delivered later reports again and its real outcome wins, see below);
 * 4. otherwise (worker offline or unknown, no worker reports it, no result) → FAILURE with
 *    `WorkerLostError(...)`, Celery's name for a worker process lost under a task.
 *
 * Synthetic task events carry the task's worker as hostname (so the record keeps its worker)
 * and Lamport clock 0: between two ready events of one worker the reducer trusts the higher
 * clock, so any real outcome from that worker arriving later (even after a restart reset its
 * clock) wins over the reconciled one. A task event from a worker proves it alive to the worker registry unless it is
 * older than the worker's last worker-offline: for a worker that is not alive, the events are
 * preceded by a worker-offline stamped no earlier than them, so reconciling never revives it.
 */
import type { TaskRecord, WorkerRecord } from "../../lib/protocol/api";
import { pyRepr, pythonRepr } from "../../lib/protocol/repr";
import type { ResultMeta } from "../../lib/protocol/types";
import { RECONCILED_HOST } from "../../lib/state";

/** What the workers told: task ids they hold, and which nodes answered at all. */
export interface InspectView {
  /** ids in any worker's active, reserved or scheduled list */
  held: ReadonlySet<string>;
  /** nodes that answered at least one of the calls */
  answered: ReadonlySet<string>;
}

export type Decision =
  | { action: "keep"; why: "reported" | "worker-alive" | "not-final" }
  | { action: "apply"; state: "SUCCESS" | "FAILURE" | "REVOKED"; events: Record<string, unknown>[]; lost: boolean };

export interface DecideInput {
  task: TaskRecord;
  inspect: InspectView;
  /** the backend's entry (null: none) */
  meta: ResultMeta | null;
  /** the registry's record of task.worker (undefined: unknown) */
  worker: WorkerRecord | undefined;
  /** unix seconds */
  now: number;
}

/** Why the worker is considered lost, in words for the exception message. */
function lostReason(t: TaskRecord, w: WorkerRecord | undefined, restarted: boolean): string {
  const who = t.worker ?? "unknown worker";
  const where = restarted ? "restarted after the task reached it" : w ? "is offline" : "is unknown to this dashboard";
  return `Worker ${who} ${where} and no worker reports task ${t.uuid} (${t.state}); the result backend has no result (reconciled by Petal)`;
}

export function decide(input: DecideInput): Decision {
  const { task, inspect, meta, worker, now } = input;
  if (inspect.held.has(task.uuid)) return { action: "keep", why: "reported" };
  const hostname = task.worker ?? meta?.worker ?? null;
  const alive = hostname !== null && (inspect.answered.has(hostname) || worker?.online === true);
  const final = meta ? finalEvent(task, meta) : null;
  const restarted = alive && restartedSince(task, worker, inspect);
  if (final === null && alive && !restarted) return { action: "keep", why: "worker-alive" };
  // A retry was published as a new message of the same id: it is not lost, its next attempt will report.
  if (final === null && meta?.status === "RETRY") return { action: "keep", why: "not-final" };
  const host = hostname ?? RECONCILED_HOST;
  const eventTime = final ? Math.min(final.timestamp ?? now, now) : now;
  const events: Record<string, unknown>[] = [];
  if (!alive && host !== RECONCILED_HOST) events.push(offlineEvent(host, worker, now));
  const base = { hostname: host, utcoffset: 0, pid: worker?.pid ?? 0, clock: 0 };
  if (final) {
    events.push({ ...base, uuid: task.uuid, ...final.fields, timestamp: eventTime, type: final.type });
    return { action: "apply", state: final.state, events, lost: false };
  }
  const exception = `WorkerLostError(${pythonRepr(lostReason(task, worker, restarted))})`;
  events.push({ ...base, uuid: task.uuid, exception, traceback: "", timestamp: now, type: "task-failed" });
  return { action: "apply", state: "FAILURE", events, lost: true };
}

/**
 * A task still PENDING from before this process started, on a broker whose queues lived in the
 * previous process (memory://): its message went with that process, so no worker will ever
 * receive it. The backend's final state wins if it has one; otherwise FAILURE with a
 * `MessageLost(...)` that says why (the Retry button sends it again). No worker ever had it,
 * so the event names only RECONCILED_HOST, which the registry never makes a worker of.
 */
export function decideLostPending(task: TaskRecord, meta: ResultMeta | null, now: number): Decision {
  const host = RECONCILED_HOST;
  const base = { hostname: host, utcoffset: 0, pid: 0, clock: 0 };
  // No worker-offline: the placeholder never becomes a worker in the registry.
  const events: Record<string, unknown>[] = [];
  const final = meta ? finalEvent(task, meta) : null;
  if (final) {
    events.push({ ...base, uuid: task.uuid, ...final.fields, timestamp: Math.min(final.timestamp ?? now, now), type: final.type });
    return { action: "apply", state: final.state, events, lost: false };
  }
  const why = `Task ${task.uuid} was still queued when Petal restarted; the memory:// broker keeps its queues inside the Petal process, so the message is gone (reconciled by Petal)`;
  events.push({ ...base, uuid: task.uuid, exception: `MessageLost(${pythonRepr(why)})`, traceback: "", timestamp: now, type: "task-failed" });
  return { action: "apply", state: "FAILURE", events, lost: true };
}

/**
 * The task's worker answered inspect without the task and started (worker-online, its own clock)
 * after the task's last event (same clock): the process that held it is gone.
 */
function restartedSince(t: TaskRecord, w: WorkerRecord | undefined, inspect: InspectView): boolean {
  if (!w || t.worker === null || !inspect.answered.has(t.worker)) return false;
  const since = w.online_since;
  const last = t.timestamp ?? t.started ?? t.received;
  return typeof since === "number" && typeof last === "number" && since > last;
}

/** A worker-offline that keeps what the registry knew of the worker (the reducer overwrites these fields). */
function offlineEvent(hostname: string, w: WorkerRecord | undefined, now: number): Record<string, unknown> {
  const ev: Record<string, unknown> = {
    hostname,
    utcoffset: 0,
    pid: w?.pid ?? 0,
    clock: 0,
    freq: w?.freq ?? 2,
    active: 0,
    processed: w?.processed ?? 0,
    sw_ident: w?.sw_ident ?? "",
    sw_ver: w?.sw_ver ?? "",
    sw_sys: w?.sw_sys ?? "",
    timestamp: now,
    type: "worker-offline",
  };
  if (w?.loadavg) ev.loadavg = w.loadavg;
  return ev;
}

interface FinalEvent {
  type: "task-succeeded" | "task-failed" | "task-revoked";
  state: "SUCCESS" | "FAILURE" | "REVOKED";
  fields: Record<string, unknown>;
  /** unix seconds from date_done, null when absent */
  timestamp: number | null;
}

const HAS_OFFSET = /(?:Z|[+-]\d{2}:?\d{2})$/i;

/** `date_done` (naive UTC in Celery 5) as unix seconds. */
export function parseDateDone(v: unknown): number | null {
  if (typeof v !== "string" || v === "") return null;
  const ms = Date.parse(HAS_OFFSET.test(v) ? v : v + "Z");
  return Number.isFinite(ms) ? ms / 1000 : null;
}

interface ExcInfo {
  type: string;
  args: unknown[];
}

function excInfo(result: unknown): ExcInfo | null {
  if (!result || typeof result !== "object" || Array.isArray(result)) return null;
  const r = result as Record<string, unknown>;
  if (typeof r.exc_type !== "string" || r.exc_type === "") return null;
  const msg = r.exc_message;
  return { type: r.exc_type, args: Array.isArray(msg) ? msg : msg === undefined || msg === null ? [] : [msg] };
}

/** Python's repr of the stored exception, as task-failed carries it: `ValueError('boom')`. */
export function exceptionRepr(result: unknown): string {
  const e = excInfo(result);
  if (!e) return result === null || result === undefined ? "Exception()" : `Exception(${pythonRepr(typeof result === "string" ? result : JSON.stringify(result))})`;
  return `${e.type}(${e.args.map((a) => pythonRepr(a)).join(", ")})`;
}

/** The event a backend entry stands for, or null when it holds no final state. */
export function finalEvent(task: TaskRecord, meta: ResultMeta): FinalEvent | null {
  const timestamp = parseDateDone(meta.date_done);
  switch (meta.status) {
    case "SUCCESS": {
      const runtime = timestamp !== null && task.started !== null ? Math.max(0, timestamp - task.started) : 0;
      return { type: "task-succeeded", state: "SUCCESS", timestamp, fields: { result: resultRepr(meta.result), runtime } };
    }
    case "FAILURE":
      return { type: "task-failed", state: "FAILURE", timestamp, fields: { exception: exceptionRepr(meta.result), traceback: meta.traceback ?? "" } };
    case "REVOKED": {
      const args = excInfo(meta.result)?.args.map(String).join(" ") ?? "";
      return {
        type: "task-revoked",
        state: "REVOKED",
        timestamp,
        fields: { terminated: /terminated/i.test(args), signum: null, expired: /expired/i.test(args) },
      };
    }
    default:
      return null;
  }
}

/** Celery's saferepr of the result, as task-succeeded carries it. */
function resultRepr(v: unknown): string {
  return pyRepr(v);
}
