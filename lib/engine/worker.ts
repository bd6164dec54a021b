/**
 * A Celery 5 compatible worker running TypeScript handlers in this process: it consumes Celery
 * task messages, emits Celery's events, stores Celery's results and answers Celery's remote
 * control, so a dashboard (or Flower) cannot tell it from a Python worker.
 *
 * Handlers are async and share the event loop: a handler that blocks the loop (CPU-bound sync
 * code) blocks the worker too, and time limits can only abandon, not kill, a running promise.
 */
import { WorkerCore, type WorkerRunState } from "./worker-core";
import { resolveWorkerOptions, type WorkerOptions } from "./worker-options";

export interface StopOptions {
  /**
   * true: stop consuming, requeue prefetched and ETA-waiting messages, wait for running tasks,
   * then send worker-offline. false ("crash"): stop at once without worker-offline; unsettled
   * messages are requeued (default: true)
   */
  graceful?: boolean;
  /** how long a graceful stop waits for running tasks before abandoning them, ms (default: the worker's shutdownTimeoutMs, 30000) */
  timeoutMs?: number;
}

export interface WorkerStats {
  hostname: string;
  state: WorkerRunState;
  concurrency: number;
  prefetch: number;
  /** running tasks */
  active: number;
  /** prefetched, waiting for a slot or a rate-limit token */
  reserved: number;
  /** waiting for their ETA */
  scheduled: number;
  /** tasks finished since start */
  processed: number;
  /** finished tasks by name */
  total: Record<string, number>;
  queues: string[];
  /** seconds since start */
  uptime: number;
  clock: number;
  taskEvents: boolean;
}

export class Worker {
  readonly #core: WorkerCore;

  constructor(options: WorkerOptions) {
    this.#core = new WorkerCore(resolveWorkerOptions(options));
  }

  /** The node name (`name@host`) after `%h`/`%n`/`%d` expansion. */
  get hostname(): string {
    return this.#core.hostname;
  }

  get state(): WorkerRunState {
    return this.#core.runState;
  }

  /** Listen to control, send worker-online, start heartbeats and consuming. Throws if started twice. */
  start(): Promise<void> {
    return this.#core.start();
  }

  /** See StopOptions; calling it again returns the same stop (a crash may follow a graceful stop). */
  stop(opts: StopOptions = {}): Promise<void> {
    return this.#core.stop(opts.graceful ?? true, opts.timeoutMs ?? this.#core.opts.shutdownTimeoutMs);
  }

  stats(): WorkerStats {
    const c = this.#core;
    return {
      hostname: c.hostname,
      state: c.runState,
      concurrency: c.concurrency,
      prefetch: c.prefetch,
      active: c.active.size,
      reserved: c.reservedCount,
      scheduled: c.scheduledCount,
      processed: c.processed,
      total: Object.fromEntries(c.totals),
      queues: [...c.queues],
      uptime: c.startedAt ? (Date.now() - c.startedAt) / 1000 : 0,
      clock: c.clock.value,
      taskEvents: c.taskEvents,
    };
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop({ graceful: true });
  }
}
