/**
 * The task state machine, written down as one table (ARCHITECTURE habit 4), and the reducer that
 * applies one Celery task event to one task record.
 *
 * Events arrive out of order: a prefork worker buffers its task events (`task.multi`) while
 * `task-sent` travels alone, batches from several workers interleave, and a retry's next attempt
 * can be received by another worker before the old attempt's `task-retried` lands. The rules below
 * make the outcome independent of arrival order for every pair of events (tested exhaustively in
 * transitions.test.ts), and match what the captured Celery traffic needs.
 *
 * Rules, in the order they are checked:
 * 1. A ready state (SUCCESS, FAILURE, REVOKED, REJECTED) is never left for a non-ready one.
 *    Between two ready events the later one wins: ordered by Lamport clock when both come from
 *    the same worker (its clock is monotonic), else by timestamp, and on an exact tie by
 *    `READY_TIE_ORDER`.
 * 2. A ready event always moves the state (whatever attempt it belongs to: a finished attempt is
 *    the last one, since a retry ends its attempt with RETRY, not with a ready state).
 * 3. Attempts: `retries` on task-sent/task-received numbers the attempt. An event of a newer
 *    attempt (retries > record.retries) moves the state (a retry's next attempt supersedes RETRY
 *    and anything of the old attempt); one of an older attempt only fills missing fields.
 * 4. task-started and task-retried carry no attempt number. While record.retries is 0 they
 *    belong to the only attempt. After a retry they belong to the current attempt only if a
 *    worker has received it and they come from that same worker with a clock not older than the
 *    event that set the state (one worker's Lamport clock is monotonic, and one attempt runs on
 *    one worker); a task-retried also needs the attempt to have started (its own started comes
 *    first, from the same worker, in order). Otherwise (the attempt is only PENDING, another
 *    worker holds it, the clock is older, or a retried meets a RECEIVED attempt) they are late
 *    events of an earlier attempt and only fill fields.
 * 5. Within one attempt, the lifecycle rank decides (PENDING < RECEIVED < STARTED < RETRY): a
 *    late event of a lower rank only fills missing fields. Of two events of equal rank the later
 *    one (same worker: clock, else timestamp) sets timestamp/worker, so a redelivered task that
 *    starts again on another worker shows that worker.
 *
 * Fields are merged, never wiped: event times (`sent`, `received`, ...) keep the latest value;
 * descriptive fields (name, args, queue, worker, ...) are overwritten by a newer attempt (or by
 * the event that moves the state, for worker-side fields) and otherwise only fill gaps.
 * `timestamp` and `clock` are those of the event that last set the state (as Flower reports
 * them), so a late task-sent does not make a task look newer.
 */
import { emptyTaskRecord, type TaskRecord } from "../protocol/api";

export { emptyTaskRecord };
import type { TaskEvent, TaskEventType, TaskState } from "../protocol/types";

/** Where an event type leads. `rank` orders the lifecycle of one attempt; ready states are 4. */
export interface TransitionRule {
  readonly state: TaskState;
  readonly rank: number;
  /** the record field that keeps this event's time */
  readonly timeField: "sent" | "received" | "started" | "succeeded" | "failed" | "retried" | "revoked" | "rejected";
  /** true when the event carries `retries` (its attempt number) */
  readonly numbersAttempt: boolean;
}

/** THE table: event type → target state, lifecycle rank, time field. */
export const TRANSITIONS: Readonly<Record<TaskEventType, TransitionRule>> = {
  "task-sent": { state: "PENDING", rank: 0, timeField: "sent", numbersAttempt: true },
  "task-received": { state: "RECEIVED", rank: 1, timeField: "received", numbersAttempt: true },
  "task-started": { state: "STARTED", rank: 2, timeField: "started", numbersAttempt: false },
  "task-retried": { state: "RETRY", rank: 3, timeField: "retried", numbersAttempt: false },
  "task-succeeded": { state: "SUCCESS", rank: 4, timeField: "succeeded", numbersAttempt: false },
  "task-failed": { state: "FAILURE", rank: 4, timeField: "failed", numbersAttempt: false },
  "task-revoked": { state: "REVOKED", rank: 4, timeField: "revoked", numbersAttempt: false },
  "task-rejected": { state: "REJECTED", rank: 4, timeField: "rejected", numbersAttempt: false },
};

/** Lifecycle rank of each state (the inverse of the table). */
export const STATE_RANK: Readonly<Record<TaskState, number>> = {
  PENDING: 0,
  RECEIVED: 1,
  STARTED: 2,
  RETRY: 3,
  SUCCESS: 4,
  FAILURE: 4,
  REVOKED: 4,
  REJECTED: 4,
};

const READY_RANK = 4;

/** Only for two ready events with the same clock/timestamp: the earlier in this list wins. */
export const READY_TIE_ORDER: readonly TaskState[] = ["FAILURE", "SUCCESS", "REVOKED", "REJECTED"];

/** Decide whether `ev` moves `rec` (already holding at least one event) to its target state. */
export function movesState(rec: TaskRecord, ev: TaskEvent): boolean {
  const rule = TRANSITIONS[ev.type];
  const curRank = STATE_RANK[rec.state];
  if (curRank === READY_RANK) {
    if (rule.rank !== READY_RANK) return false;
    return readyIsLater(rec, ev, rule.state);
  }
  if (rule.rank === READY_RANK) return true;
  if (rule.numbersAttempt) {
    const attempt = (ev as { retries?: number }).retries ?? 0;
    if (attempt > rec.retries) return true;
    if (attempt < rec.retries) return false;
  } else if (isLateForAttempt(rec, ev)) {
    return false;
  }
  return rule.rank > curRank || (rule.rank === curRank && isLater(rec, ev) === 1);
}

/** 1 if `ev` happened after the event that set the state, -1 before, 0 if undecidable. */
function isLater(rec: TaskRecord, ev: TaskEvent): number {
  if (rec.worker !== null && rec.worker === ev.hostname && ev.clock !== rec.clock) return ev.clock > rec.clock ? 1 : -1;
  const ts = rec.timestamp ?? -Infinity;
  if (ev.timestamp !== ts) return ev.timestamp > ts ? 1 : -1;
  return 0;
}

function readyIsLater(rec: TaskRecord, ev: TaskEvent, evState: TaskState): boolean {
  const later = isLater(rec, ev);
  if (later !== 0) return later === 1;
  return READY_TIE_ORDER.indexOf(evState) < READY_TIE_ORDER.indexOf(rec.state);
}

/** Rule 4: a task-started/task-retried that belongs to an earlier attempt (see the header). */
function isLateForAttempt(rec: TaskRecord, ev: TaskEvent): boolean {
  if (rec.retries === 0) return false;
  switch (rec.state) {
    case "PENDING":
      return true;
    case "RECEIVED":
      return ev.type === "task-retried" || rec.worker !== ev.hostname || ev.clock < rec.clock;
    case "STARTED":
      return rec.worker !== ev.hostname || ev.clock < rec.clock;
    default:
      return false;
  }
}

/**
 * Apply one task event. Mutates and returns `prev` when given (the store owns its records and
 * re-indexes after the call, so no copy is made per event); creates a new record otherwise.
 * Callers that need the previous state/name/worker must read them before calling.
 */
export function applyTaskEvent(prev: TaskRecord | undefined, ev: TaskEvent): TaskRecord {
  return applyTaskEventTo(prev ?? emptyTaskRecord(ev.uuid), ev, prev === undefined);
}

/**
 * applyTaskEvent on a given record; `fresh` says it holds no event yet (emptyTaskRecord values).
 * The task store passes a Cursor over its columns here.
 */
export function applyTaskEventTo(rec: TaskRecord, ev: TaskEvent, fresh: boolean): TaskRecord {
  const rule = TRANSITIONS[ev.type];
  const moves = fresh || movesState(rec, ev);
  // Attempt comparison must use the record before this event raises `retries`. Only a newer
  // attempt overwrites descriptive fields; the same attempt fills gaps, so order does not matter.
  const attempt = rule.numbersAttempt ? ((ev as { retries?: number }).retries ?? 0) : rec.retries;
  const newer = fresh || (attempt > rec.retries && STATE_RANK[rec.state] !== READY_RANK);

  const t = rec[rule.timeField];
  if (t === null || ev.timestamp > t) rec[rule.timeField] = ev.timestamp;

  switch (ev.type) {
    case "task-sent":
      mergeDescriptive(rec, ev, newer);
      if (newer || rec.queue == null) rec.queue = ev.queue;
      if (newer || rec.exchange === null) rec.exchange = ev.exchange;
      if (newer || rec.routing_key === null) rec.routing_key = ev.routing_key;
      if (rec.client === null) rec.client = ev.hostname;
      break;
    case "task-received":
      mergeDescriptive(rec, ev, newer);
      if (newer || moves || rec.worker === null) rec.worker = ev.hostname;
      break;
    case "task-started":
      if (moves || rec.worker === null) rec.worker = ev.hostname;
      break;
    case "task-succeeded":
      if (moves || rec.result === null) rec.result = ev.result;
      if (moves || rec.runtime === null) rec.runtime = ev.runtime;
      if (moves || rec.worker === null) rec.worker = ev.hostname;
      break;
    case "task-failed":
      if (moves || rec.exception === null) rec.exception = ev.exception;
      if (moves || rec.traceback === null) rec.traceback = ev.traceback ?? null;
      if (moves || rec.worker === null) rec.worker = ev.hostname;
      break;
    case "task-retried":
      // A failure's own exception outranks the one of an earlier attempt's retry.
      if (rec.state !== "FAILURE" && (moves || rec.exception === null)) {
        rec.exception = ev.exception;
        rec.traceback = ev.traceback ?? null;
      }
      if (moves || rec.worker === null) rec.worker = ev.hostname;
      break;
    case "task-revoked":
      if (moves || rec.terminated === undefined) {
        rec.terminated = ev.terminated;
        rec.expired = ev.expired;
        rec.signum = ev.signum;
      }
      if (moves || rec.worker === null) rec.worker = ev.hostname;
      break;
    case "task-rejected":
      if (moves || rec.worker === null) rec.worker = ev.hostname;
      break;
  }

  if (moves) {
    rec.state = rule.state;
    rec.timestamp = ev.timestamp;
    rec.clock = ev.clock;
  }
  if (attempt > rec.retries) rec.retries = attempt;
  return rec;
}

type Describing = Extract<TaskEvent, { type: "task-sent" | "task-received" }>;

function mergeDescriptive(rec: TaskRecord, ev: Describing, newer: boolean): void {
  if (newer || rec.name === null) rec.name = ev.name;
  if (newer || rec.args === null) rec.args = ev.args;
  if (newer || rec.kwargs === null) rec.kwargs = ev.kwargs;
  if (newer || rec.eta === null) rec.eta = ev.eta;
  if (newer || rec.expires === null) rec.expires = ev.expires;
  if (rec.root_id === null) rec.root_id = ev.root_id;
  // A retry re-publishes with parent_id = its own id (PROTOCOL.md §3.2): not a parent.
  if (rec.parent_id === null && ev.parent_id !== rec.uuid) rec.parent_id = ev.parent_id;
  const retryOf = ev.retry_of;
  if (typeof retryOf === "string" && retryOf !== rec.uuid && rec.retry_of == null) rec.retry_of = retryOf;
}
