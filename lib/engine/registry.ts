/**
 * Task registry: task names → handlers and their Celery-style options. A worker runs only the
 * names registered here; every other name fails with NotRegistered, as in Celery.
 */
import { parseRateLimit } from "./rate-limit";

export interface TaskOptions {
  /** retries allowed before MaxRetriesExceededError; null = forever (default: 3) */
  maxRetries?: number | null;
  /** countdown of `ctx.retry()` / autoretry without backoff, seconds (default: 180, Celery's) */
  defaultRetryDelay?: number;
  /**
   * Exponential backoff for autoretry: true = base 1 s, a number = base seconds;
   * countdown = min(retryBackoffMax, base * 2^retries) (default: false)
   */
  retryBackoff?: boolean | number;
  /** cap of the backoff countdown, seconds (default: 600) */
  retryBackoffMax?: number;
  /** full jitter: a random countdown in [0, backoff] (default: true) */
  retryJitter?: boolean;
  /** soft time limit, seconds: aborts ctx.signal with SoftTimeLimitExceeded (default: none) */
  softTimeLimit?: number | null;
  /** hard time limit, seconds: the task fails with TimeLimitExceeded (default: none) */
  timeLimit?: number | null;
  /** "10/s", "100/m", "1000/h" or tasks per second; token bucket per worker (default: none) */
  rateLimit?: string | number | null;
  /** queue `sendTask` routes to when the caller names none (default: "celery") */
  queue?: string;
  /** ack after the task finished instead of when it starts (default: false) */
  acksLate?: boolean;
  /** store no result (default: false) */
  ignoreResult?: boolean;
  /** errors for which the worker retries the task by itself (Celery's autoretry_for) */
  autoretryFor?: (err: unknown) => boolean;
}

export interface ResolvedTaskOptions {
  maxRetries: number | null;
  defaultRetryDelay: number;
  retryBackoff: number | false;
  retryBackoffMax: number;
  retryJitter: boolean;
  softTimeLimit: number | null;
  timeLimit: number | null;
  rateLimit: string | number | null;
  queue: string;
  acksLate: boolean;
  ignoreResult: boolean;
  autoretryFor: ((err: unknown) => boolean) | null;
}

export interface RetryOptions {
  /** seconds from now (default: the task's defaultRetryDelay) */
  countdown?: number;
  /** absolute time of the next attempt; wins over countdown */
  eta?: Date | string;
  /** the cause, shown in task-retried; rethrown instead of MaxRetriesExceededError at the limit */
  exc?: unknown;
  /** overrides the task's maxRetries for this call */
  maxRetries?: number | null;
}

/** What a handler gets: the request, its lineage, an AbortSignal, and `retry`. */
export interface TaskContext {
  readonly id: string;
  readonly name: string;
  readonly args: unknown[];
  readonly kwargs: Record<string, unknown>;
  /** how many times this task was retried before this attempt */
  readonly retries: number;
  /** the worker's node name */
  readonly hostname: string;
  /** aborted on soft time limit, hard time limit, terminate and shutdown; `reason` says which */
  readonly signal: AbortSignal;
  readonly eta: string | null;
  readonly expires: string | null;
  readonly parentId: string | null;
  readonly rootId: string | null;
  /** throws Retry (or MaxRetriesExceededError / `exc` past the limit): `throw ctx.retry()` reads well */
  retry(opts?: RetryOptions): never;
  /** log through the worker's logger, prefixed with the task name and id */
  log(message: string, ...rest: unknown[]): void;
  /**
   * Whether someone aborted this task (POST /api/task/abort/:id): its stored state is ABORTED.
   * Celery's AbortableTask.is_aborted(): the handler asks when it can stop cleanly.
   */
  isAborted(): Promise<boolean>;
}

export type TaskHandler = (ctx: TaskContext) => unknown;

export interface RegisteredTask {
  readonly name: string;
  readonly handler: TaskHandler;
  readonly options: ResolvedTaskOptions;
}

function seconds(v: number | null | undefined, what: string): number | null {
  if (v === null || v === undefined) return null;
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${what} must be a positive number of seconds`);
  return v;
}

export function resolveTaskOptions(o: TaskOptions = {}): ResolvedTaskOptions {
  if (o.rateLimit != null) parseRateLimit(o.rateLimit); // fail at registration, not per message
  const maxRetries = o.maxRetries === undefined ? 3 : o.maxRetries;
  if (maxRetries !== null && (!Number.isInteger(maxRetries) || maxRetries < 0))
    throw new RangeError("maxRetries must be a non-negative integer or null");
  const backoff = o.retryBackoff === true ? 1 : typeof o.retryBackoff === "number" && o.retryBackoff > 0 ? o.retryBackoff : false;
  return {
    maxRetries,
    defaultRetryDelay: o.defaultRetryDelay ?? 180,
    retryBackoff: backoff,
    retryBackoffMax: o.retryBackoffMax ?? 600,
    retryJitter: o.retryJitter ?? true,
    softTimeLimit: seconds(o.softTimeLimit, "softTimeLimit"),
    timeLimit: seconds(o.timeLimit, "timeLimit"),
    rateLimit: o.rateLimit ?? null,
    queue: o.queue ?? "celery",
    acksLate: o.acksLate ?? false,
    ignoreResult: o.ignoreResult ?? false,
    autoretryFor: o.autoretryFor ?? null,
  };
}

/**
 * Celery's autoretry countdown: exponential `base * 2^retries` capped at retryBackoffMax, with
 * full jitter when enabled; without backoff the task's defaultRetryDelay. Unlike Celery the base
 * may be fractional (short intervals in tests and demos).
 */
export function autoretryCountdown(o: ResolvedTaskOptions, retries: number, random: () => number = Math.random): number {
  if (o.retryBackoff === false) return o.defaultRetryDelay;
  const countdown = Math.min(o.retryBackoffMax, o.retryBackoff * 2 ** retries);
  return o.retryJitter ? random() * countdown : countdown;
}

export class TaskRegistry {
  private readonly tasks = new Map<string, RegisteredTask>();

  /** Register (or replace) a handler. Throws on an empty name or invalid options. */
  register(name: string, handler: TaskHandler, options?: TaskOptions): RegisteredTask {
    if (typeof name !== "string" || name === "") throw new TypeError("task name must be a non-empty string");
    if (typeof handler !== "function") throw new TypeError(`handler of ${name} is not a function`);
    const task: RegisteredTask = { name, handler, options: resolveTaskOptions(options) };
    this.tasks.set(name, task);
    return task;
  }

  unregister(name: string): boolean {
    return this.tasks.delete(name);
  }

  get(name: string): RegisteredTask | undefined {
    return this.tasks.get(name);
  }

  has(name: string): boolean {
    return this.tasks.has(name);
  }

  /** Registered names, sorted (what `inspect registered` lists). */
  names(): string[] {
    return [...this.tasks.keys()].sort();
  }
}
