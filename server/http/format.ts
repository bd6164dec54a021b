/**
 * Flower's response shapes: task objects with Flower's key order, and backend results the way
 * Flower's `safe_result` prints them (exceptions as their Python repr).
 */
import type { TaskRecord } from "../../lib/protocol/api";
import { pythonRepr } from "../../lib/protocol/repr";
import { READY_STATES, type ResultMeta } from "../../lib/protocol/types";

/**
 * One task as Flower writes it. `/api/tasks` puts `worker` last; `/api/task/info` puts it right
 * after `retries` (Flower replaced the worker object in place there). Petal's extras follow.
 */
export function flowerTask(t: TaskRecord, workerAfterRetries: boolean): Record<string, unknown> {
  const o: Record<string, unknown> = {
    uuid: t.uuid,
    name: t.name,
    state: t.state,
    received: t.received,
    sent: t.sent,
    started: t.started,
    rejected: t.rejected,
    succeeded: t.succeeded,
    failed: t.failed,
    retried: t.retried,
    revoked: t.revoked,
    args: t.args,
    kwargs: t.kwargs,
    eta: t.eta,
    expires: t.expires,
    retries: t.retries,
  };
  if (workerAfterRetries) o.worker = t.worker;
  o.result = t.result;
  o.exception = t.exception;
  o.timestamp = t.timestamp;
  o.runtime = t.runtime;
  o.traceback = t.traceback;
  o.exchange = t.exchange;
  o.routing_key = t.routing_key;
  o.clock = t.clock;
  o.client = t.client;
  o.root = t.root_id;
  o.root_id = t.root_id;
  o.parent = t.parent_id;
  o.parent_id = t.parent_id;
  o.children = t.children;
  if (!workerAfterRetries) o.worker = t.worker;
  // Petal's extras, after every Flower key so positional readers of Flower's output still work.
  if (t.queue !== undefined) o.queue = t.queue;
  if (t.retry_of !== undefined) o.retry_of = t.retry_of;
  if (t.retried_as !== undefined) o.retried_as = t.retried_as;
  if (t.terminated !== undefined) o.terminated = t.terminated;
  if (t.expired !== undefined) o.expired = t.expired;
  if (t.signum !== undefined) o.signum = t.signum;
  return o;
}

interface ExceptionDict {
  exc_type: string;
  exc_message: unknown;
  exc_module?: unknown;
}

function isExceptionDict(v: unknown): v is ExceptionDict {
  return v !== null && typeof v === "object" && !Array.isArray(v) && typeof (v as { exc_type?: unknown }).exc_type === "string" && "exc_message" in v;
}

/** `ValueError('boom')`, `TaskRevokedError('terminated')`: Python's repr of the rebuilt exception. */
export function exceptionRepr(e: ExceptionDict): string {
  const args = Array.isArray(e.exc_message) ? e.exc_message : e.exc_message == null ? [] : [e.exc_message];
  return `${e.exc_type}(${args.map((a) => pythonRepr(a)).join(", ")})`;
}

/** A backend result as Flower's API shows it: native JSON, except exceptions become their repr. */
export function resultValue(meta: ResultMeta): unknown {
  return isExceptionDict(meta.result) ? exceptionRepr(meta.result) : meta.result;
}

/**
 * `/api/task/result` body. `{task-id, state}` while not ready; then `result` (and `traceback` for
 * FAILURE). With `applyOrder` the keys come as /api/task/apply writes them (state last).
 */
export function resultBody(taskId: string, meta: ResultMeta | null, applyOrder = false): Record<string, unknown> {
  const state = meta?.status ?? "PENDING";
  // Celery's ready(): RETRY and STARTED carry no final result yet.
  const ready = meta !== null && READY_STATES.has(state);
  const out: Record<string, unknown> = { "task-id": taskId };
  if (!applyOrder) out.state = state;
  if (ready && meta) {
    out.result = resultValue(meta);
    if (state === "FAILURE") out.traceback = meta.traceback;
  }
  if (applyOrder) out.state = state;
  return out;
}
