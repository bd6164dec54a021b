/**
 * The execution pool port (Celery's `-P`): where a worker runs a handler. The worker keeps
 * consuming, events, acks, results and control on its own event loop; a pool only turns
 * (task, context) into an outcome.
 *
 * The soft time limit travels through `ctx.signal` (a pool forwards it to the handler); terminate,
 * the hard time limit and shutdown come as `abandon`: the worker has already moved on, and a
 * pool that can kill the run (threads) does so.
 */
import type { RegisteredTask, TaskContext } from "../registry";

export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Celery's pool names where they fit: "async" runs handlers on the worker's event loop, "threads" in worker_threads. */
export type PoolKind = "async" | "threads";

export interface PoolStats {
  implementation: PoolKind;
  /** slots the pool runs at once */
  size: number;
  /** thread ids (threads) or the process pid repeated per slot (async) */
  processes: number[];
}

export interface ExecutionPool {
  readonly kind: PoolKind;
  /** Ready `size` slots (threads: spawn them and load the app). Rejects when the app cannot load. */
  start(size: number): Promise<void>;
  /** Run one task. Never rejects: failures come back as `{ok: false}`. */
  apply(task: RegisteredTask, ctx: TaskContext): Promise<Outcome>;
  /** The worker gave up on this run (`reason`: TerminatedError, TimeLimitExceeded, WorkerLostError); its outcome is ignored. */
  abandon(ctx: TaskContext, reason: unknown): void;
  /** pool_grow / pool_shrink / autoscale: busy slots beyond `size` retire when their task ends. */
  resize(size: number): void;
  stats(): PoolStats;
  /** Stop every slot at once (running tasks are killed where the pool can). */
  close(): Promise<void>;
}
