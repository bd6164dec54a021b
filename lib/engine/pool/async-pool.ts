/**
 * The default pool: handlers run as promises on the worker's own event loop. Cheap and fine for
 * I/O-bound work; CPU-bound sync code blocks the worker, and an interrupted run can only be
 * abandoned, not killed (use the threads pool for that).
 */
import type { RegisteredTask, TaskContext } from "../registry";
import type { ExecutionPool, Outcome, PoolStats } from "./types";

export class AsyncPool implements ExecutionPool {
  readonly kind = "async" as const;
  #size = 1;

  start(size: number): Promise<void> {
    this.#size = size;
    return Promise.resolve();
  }

  async apply(task: RegisteredTask, ctx: TaskContext): Promise<Outcome> {
    try {
      return { ok: true, value: await task.handler(ctx) };
    } catch (error) {
      return { ok: false, error };
    }
  }

  /** A promise cannot be killed: the handler sees its aborted signal and whatever it settles with is ignored. */
  abandon(): void {}

  resize(size: number): void {
    this.#size = size;
  }

  stats(): PoolStats {
    return { implementation: "async", size: this.#size, processes: new Array<number>(this.#size).fill(process.pid) };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
