/**
 * One received task message inside a worker (Celery's `Request`): the parsed message, its
 * delivery (settled exactly once), where it waits, and the Celery dict shapes that `inspect`
 * and the result backend need.
 */
import { pyRepr, pyReprArgs } from "../protocol/repr";
import type { Delivery } from "../broker/types";
import type { ResultMeta, TaskMessage, TaskState } from "../protocol/types";
import { naiveUtcIso, parseIsoMs } from "./time";

/** eta: timer running; rate: held by a rate limit; ready: waiting for a slot; active: running; done */
export type RequestState = "eta" | "rate" | "ready" | "active" | "done";

/** What stops a running task from the outside. */
export type Interrupt =
  | { kind: "hard"; seconds: number }
  | { kind: "terminated"; signum: number }
  | { kind: "shutdown" };

export class Request {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly retries: number;
  readonly argsrepr: string;
  readonly kwargsrepr: string;
  readonly eta: string | null;
  readonly etaMs: number | null;
  readonly expires: string | null;
  readonly expiresMs: number | null;
  state: RequestState = "ready";
  /** unix seconds the task started (null until then) */
  timeStart: number | null = null;
  acknowledged = false;
  private settled = false;
  timer: ReturnType<typeof setTimeout> | null = null;
  /** made on demand (ctx.signal, a time limit, an interrupt) */
  controller: AbortController | null = null;
  softTimer: ReturnType<typeof setTimeout> | null = null;
  hardTimer: ReturnType<typeof setTimeout> | null = null;
  /** set while active: stops the run (hard limit, terminate, shutdown) */
  interrupt: ((i: Interrupt) => void) | null = null;
  /** resolves when the run is over (active requests only) */
  finished: Promise<void> | null = null;

  constructor(
    readonly msg: TaskMessage,
    readonly delivery: Delivery,
  ) {
    const h = msg.headers;
    this.id = h.id;
    this.name = h.task;
    this.queue = delivery.queue || msg.properties.delivery_info.routing_key || "celery";
    this.retries = h.retries ?? 0;
    this.argsrepr = typeof h.argsrepr === "string" ? h.argsrepr : pyReprArgs(msg.args);
    this.kwargsrepr = typeof h.kwargsrepr === "string" ? h.kwargsrepr : pyRepr(msg.kwargs);
    this.etaMs = parseIsoMs(h.eta);
    this.eta = this.etaMs === null ? null : (h.eta as string);
    this.expiresMs = parseIsoMs(h.expires);
    this.expires = this.expiresMs === null ? null : (h.expires as string);
  }

  get rootId(): string | null {
    return typeof this.msg.headers.root_id === "string" ? this.msg.headers.root_id : null;
  }

  get parentId(): string | null {
    return typeof this.msg.headers.parent_id === "string" ? this.msg.headers.parent_id : null;
  }

  get retryOf(): string | null {
    return typeof this.msg.headers.retry_of === "string" ? this.msg.headers.retry_of : null;
  }

  get priority(): number {
    const p = this.msg.properties.priority ?? this.msg.properties.delivery_info.priority;
    return typeof p === "number" ? p : 0;
  }

  get isSettled(): boolean {
    return this.settled;
  }

  isExpired(nowMs: number): boolean {
    return this.expiresMs !== null && this.expiresMs <= nowMs;
  }

  /** Settle once; a transport error is reported but the request still counts as settled. */
  private settle(op: "ack" | "reject" | "requeue"): Promise<void> {
    if (this.settled) return Promise.resolve();
    this.settled = true;
    if (op === "ack") this.acknowledged = true;
    return this.delivery[op]();
  }

  ack(): Promise<void> {
    return this.settle("ack");
  }

  reject(): Promise<void> {
    return this.settle("reject");
  }

  requeue(): Promise<void> {
    return this.settle("requeue");
  }

  /** Celery's request dict (`inspect active/reserved/scheduled`); `safe` gives repr strings. */
  info(hostname: string, pid: number, safe = false): Record<string, unknown> {
    const di = this.msg.properties.delivery_info;
    return {
      id: this.id,
      name: this.name,
      args: safe ? this.argsrepr : this.msg.args,
      kwargs: safe ? this.kwargsrepr : this.msg.kwargs,
      type: this.name,
      hostname,
      time_start: this.timeStart,
      acknowledged: this.acknowledged,
      delivery_info: {
        exchange: di.exchange ?? "",
        routing_key: di.routing_key ?? this.queue,
        priority: this.priority,
        redelivered: this.delivery.redelivered ? true : (di.redelivered ?? null),
      },
      worker_pid: this.timeStart === null ? null : pid,
    };
  }

  /** The `result_extended` ResultMeta of §4, in Celery's key order. */
  resultMeta(
    status: TaskState,
    result: unknown,
    traceback: string | null,
    hostname: string,
    children: unknown[] = [],
  ): ResultMeta {
    const dateDone = status === "RETRY" ? null : naiveUtcIso(Date.now());
    // parent_id sits between date_done and name when set (seen after a retry), as Celery writes it.
    // Two literals rather than spreads: one object per result on the hot path.
    if (this.parentId !== null) {
      return {
        status,
        result,
        traceback,
        children,
        date_done: dateDone,
        parent_id: this.parentId,
        name: this.name,
        args: this.msg.args,
        kwargs: this.msg.kwargs,
        worker: hostname,
        retries: this.retries,
        queue: this.queue,
        task_id: this.id,
      };
    }
    return {
      status,
      result,
      traceback,
      children,
      date_done: dateDone,
      name: this.name,
      args: this.msg.args,
      kwargs: this.msg.kwargs,
      worker: hostname,
      retries: this.retries,
      queue: this.queue,
      task_id: this.id,
    };
  }
}
