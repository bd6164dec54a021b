/**
 * Synthetic Celery event traffic for the scale benchmarks (bench:ingest, bench:ui): the bytes a
 * Celery 5 client and prefork worker publish on `/{db}.celeryev/*`, built with the same encoder
 * the protocol tests check byte for byte against the captured vectors.
 *
 * One task's lifecycle is 4 events (task-sent from the client; task-received, task-started and
 * task-succeeded / task-failed from the worker). Worker-side events leave in `task.multi` batches,
 * as a prefork worker's buffered dispatcher sends them; task-sent leaves one event per message.
 * Reprs are "typical" (issue #4: args, kwargs and result under 100 bytes).
 */
import { serializeEnvelope } from "../../lib/protocol/envelope";
import { EVENT_EXCHANGE, TASK_MULTI_ROUTING_KEY, encodeEventEnvelope, eventRoutingKey } from "../../lib/protocol/events";

export const TASK_NAMES = Array.from({ length: 20 }, (_, i) => `proj.tasks.job_${i}`);
export const HOSTS = Array.from({ length: 8 }, (_, i) => `celery@bench-${i}`);

/**
 * Deterministic uuid4-shaped id for task number `i` of run `run` (so benches can look tasks up).
 * The counter leads, as random uuids differ in their first characters: short ids on screen and
 * uuid-prefix searches behave as they would with real ids.
 */
export function taskId(run: number, i: number): string {
  const head = (i >>> 0).toString(16).padStart(8, "0");
  const r = (run & 0xffff).toString(16).padStart(4, "0");
  // a cheap integer hash, so the tail is not all zeros
  let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  const tail = (h.toString(16).padStart(8, "0") + ((i / 2 ** 32) >>> 0).toString(16).padStart(4, "0")).slice(0, 12);
  return `${head}-${r}-4${head.slice(1, 4)}-8${r.slice(1)}-${tail}`;
}

export interface Lifecycle {
  /** the client's single task-sent event */
  sent: Record<string, unknown>;
  /** the worker's events, in order */
  worker: Record<string, unknown>[];
  hostname: string;
}

/** The 4 events of task `i`, timestamped from `t0` (unix seconds). 1 in 20 fails. */
export function lifecycle(run: number, i: number, t0: number, clock: number): Lifecycle {
  const uuid = taskId(run, i);
  const name = TASK_NAMES[i % TASK_NAMES.length];
  const hostname = HOSTS[i % HOSTS.length];
  const fails = i % 20 === 7;
  const base = { utcoffset: 0, pid: 4242 };
  const sent = {
    hostname: "client@bench", utcoffset: 0, pid: 100, clock, uuid, root_id: uuid, parent_id: null, name,
    args: `(${i}, 'file-${i % 1000}.mp4')`, kwargs: `{'quality': ${i % 5}, 'user': 'u${i % 997}'}`,
    retries: 0, eta: null, expires: null, queue: "celery", exchange: "", routing_key: "celery",
    timestamp: t0, type: "task-sent",
  };
  const received = {
    hostname, ...base, clock: clock + 1, uuid, name, args: sent.args, kwargs: sent.kwargs, root_id: uuid, parent_id: null,
    retries: 0, eta: null, expires: null, timestamp: t0 + 0.001, type: "task-received",
  };
  const started = { hostname, ...base, clock: clock + 2, uuid, timestamp: t0 + 0.002, type: "task-started" };
  const runtime = 0.01 + (i % 50) / 100;
  const done = fails
    ? {
        hostname, ...base, clock: clock + 3, uuid, exception: `ValueError('bad input ${i % 100}')`,
        traceback: 'Traceback (most recent call last):\n  File "proj/tasks.py", line 12, in job\nValueError: bad input\n',
        timestamp: t0 + 0.002 + runtime, type: "task-failed",
      }
    : { hostname, ...base, clock: clock + 3, uuid, result: `{'ok': True, 'frames': ${i % 3000}}`, runtime, timestamp: t0 + 0.002 + runtime, type: "task-succeeded" };
  return { sent, worker: [received, started, done], hostname };
}

export interface Wire {
  /** channel suffix after `/{db}.celeryev/` */
  routingKey: string;
  payload: string;
}

/** One event on its own channel (routing key from its type). */
export function single(hostname: string, ev: Record<string, unknown>): Wire {
  return { routingKey: eventRoutingKey(String(ev.type)), payload: serializeEnvelope(encodeEventEnvelope(hostname, ev)) };
}

/** A prefork worker's buffered batch on `task.multi`. */
export function multi(hostname: string, evs: Record<string, unknown>[]): Wire {
  return { routingKey: TASK_MULTI_ROUTING_KEY, payload: serializeEnvelope(encodeEventEnvelope(hostname, evs)) };
}

export function channel(db: number, w: Wire): string {
  return `/${db}.${EVENT_EXCHANGE}/${w.routingKey}`;
}

/** A worker-heartbeat, so the synthetic hosts show online. */
export function heartbeat(hostname: string, clock: number, now: number): Record<string, unknown> {
  return {
    hostname, utcoffset: 0, pid: 4242, clock, freq: 2.0, active: 1, processed: 0, loadavg: [0.5, 0.4, 0.3],
    sw_ident: "py-celery", sw_ver: "5.2.6", sw_sys: "Linux", timestamp: now, type: "worker-heartbeat",
  };
}
