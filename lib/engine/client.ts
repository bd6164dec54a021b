/**
 * The producer side (Celery's app.send_task / Task.apply_async / control / inspect): builds
 * protocol v2 messages a Celery worker accepts, publishes them with a `task-sent` event, waits
 * for results, and broadcasts remote-control commands.
 */
import os from "node:os";
import type { Broker, ResultBackend } from "../broker/types";
import { controlRequest, type ControlResultMap } from "../protocol/control";
import { uuid4 } from "../protocol/envelope";
import { LamportClock, localUtcOffset } from "../protocol/events";
import { buildTaskMessage } from "../protocol/task-message";
import { READY_STATES, type ExceptionInfo, type ResultMeta, type ResultState, type TaskHeaders, type TaskState } from "../protocol/types";
import type { TaskRegistry } from "./registry";
import { isoUtc, toEpochMs } from "./time";

export interface ClientOptions {
  broker: Broker;
  results: ResultBackend;
  /** node name in task-sent events and the `origin` header (default: "gen<pid>@<os.hostname()>") */
  hostname?: string;
  /** publish a task-sent event per message, like task_send_sent_event (default: true) */
  sendSentEvents?: boolean;
  /** lets sendTask route a task to the queue it was registered with (default: none, queue "celery") */
  registry?: TaskRegistry;
}

export interface ApplyOptions {
  /** run no sooner than this many seconds from now */
  countdown?: number;
  /** run no sooner than this time; wins over countdown */
  eta?: Date | string;
  /** seconds from now, or an absolute time, after which the task is revoked as expired */
  expires?: number | Date | string;
  /** default: the registered task's queue, else "celery" */
  queue?: string;
  /** 0–9, kombu semantics (default: 0) */
  priority?: number;
  /** default: a new uuid4 */
  taskId?: string;
  /** default: 0 */
  retries?: number;
  parentId?: string | null;
  /** default: the task's own id */
  rootId?: string | null;
  /** Petal extension: the id of the task this one re-runs */
  retryOf?: string | null;
  /** [soft, hard] seconds for this message, overriding the task's options */
  timelimit?: [number | null, number | null];
  ignoreResult?: boolean;
}

export interface GetOptions {
  /** ms to wait; rejects with ResultTimeoutError after it (default: wait forever) */
  timeout?: number;
}

/** A task ended in FAILURE or REVOKED; carries the Python-style exception and the traceback. */
export class TaskFailedError extends Error {
  constructor(
    readonly taskId: string,
    readonly state: TaskState,
    readonly exc: ExceptionInfo | null,
    readonly traceback: string | null,
  ) {
    const args = exc && Array.isArray(exc.exc_message) ? exc.exc_message.map(String).join(", ") : "";
    super(exc ? `${exc.exc_type}: ${args}` : `task ${taskId} ${state}`);
    this.name = "TaskFailedError";
  }
}

/** AsyncResult.get() gave up waiting (Celery's TimeoutError). */
export class ResultTimeoutError extends Error {
  constructor(readonly taskId: string) {
    super("The operation timed out.");
    this.name = "ResultTimeoutError";
  }
}

/** Backends may cap a single wait; long or endless gets wait in slices of this size. */
const WAIT_SLICE_MS = 60_000;

export class AsyncResult {
  constructor(
    readonly id: string,
    private readonly results: ResultBackend,
  ) {}

  /** The stored result meta, or null while PENDING. */
  meta(): Promise<ResultMeta | null> {
    return this.results.get(this.id);
  }

  /** Celery's state, or whatever custom state the task stored (update_state, "ABORTED"). */
  async state(): Promise<ResultState> {
    return (await this.meta())?.status ?? "PENDING";
  }

  async ready(): Promise<boolean> {
    const m = await this.meta();
    return m !== null && READY_STATES.has(m.status);
  }

  /** The task's return value; rejects with TaskFailedError (FAILURE, REVOKED) or ResultTimeoutError. */
  async get(opts: GetOptions = {}): Promise<unknown> {
    const deadline = opts.timeout === undefined ? Infinity : Date.now() + Math.max(0, opts.timeout);
    for (;;) {
      const left = deadline - Date.now();
      const meta = await this.results.wait(this.id, Math.max(0, Math.min(left, WAIT_SLICE_MS)));
      if (meta && READY_STATES.has(meta.status)) {
        if (meta.status === "SUCCESS") return meta.result;
        throw new TaskFailedError(this.id, meta.status as TaskState, asExceptionInfo(meta.result), meta.traceback ?? null);
      }
      if (Date.now() >= deadline) throw new ResultTimeoutError(this.id);
    }
  }
}

function asExceptionInfo(v: unknown): ExceptionInfo | null {
  if (!v || typeof v !== "object") return null;
  const e = v as Partial<ExceptionInfo>;
  if (typeof e.exc_type !== "string") return null;
  return { exc_type: e.exc_type, exc_message: Array.isArray(e.exc_message) ? e.exc_message : [], exc_module: e.exc_module ?? null };
}

export interface TaskCaller {
  /** `name(*args)` with default options */
  delay(...args: unknown[]): Promise<AsyncResult>;
  applyAsync(args?: unknown[], kwargs?: Record<string, unknown>, opts?: ApplyOptions): Promise<AsyncResult>;
}

export interface ControlOptions {
  /** node names; default: every worker */
  destination?: string[] | null;
  /** select nodes by name, e.g. "w1@*" */
  pattern?: string | null;
  matcher?: "glob" | "pcre" | null;
  /** ms to wait for replies (default: 1000) */
  timeout?: number;
  /** wait for replies at all (default: true) */
  reply?: boolean;
  /** stop after this many replies (default: destination length, else wait the whole timeout) */
  limit?: number;
}

export interface RevokeOptions {
  /** also stop it if it is running (default: false) */
  terminate?: boolean;
  /** signal name reported in task-revoked's signum (default: "SIGTERM") */
  signal?: string;
  destination?: string[] | null;
}

type InspectOptions = Pick<ControlOptions, "destination" | "pattern" | "matcher" | "timeout" | "limit">;
type PerNode<T> = Record<string, T>;

export interface Inspect {
  ping(o?: InspectOptions): Promise<PerNode<ControlResultMap["ping"]>>;
  stats(o?: InspectOptions): Promise<PerNode<ControlResultMap["stats"]>>;
  active(o?: InspectOptions & { safe?: boolean }): Promise<PerNode<ControlResultMap["active"]>>;
  reserved(o?: InspectOptions): Promise<PerNode<ControlResultMap["reserved"]>>;
  scheduled(o?: InspectOptions): Promise<PerNode<ControlResultMap["scheduled"]>>;
  revoked(o?: InspectOptions): Promise<PerNode<ControlResultMap["revoked"]>>;
  registered(o?: InspectOptions): Promise<PerNode<ControlResultMap["registered"]>>;
  activeQueues(o?: InspectOptions): Promise<PerNode<ControlResultMap["active_queues"]>>;
  conf(o?: InspectOptions): Promise<PerNode<ControlResultMap["conf"]>>;
  queryTask(ids: string | string[], o?: InspectOptions): Promise<PerNode<ControlResultMap["query_task"]>>;
}

export class Client {
  readonly hostname: string;
  readonly clock = new LamportClock();
  readonly inspect: Inspect;
  private readonly broker: Broker;
  private readonly results: ResultBackend;
  private readonly sendSentEvents: boolean;
  private readonly registry: TaskRegistry | null;

  constructor(opts: ClientOptions) {
    this.broker = opts.broker;
    this.results = opts.results;
    this.hostname = opts.hostname ?? `gen${process.pid}@${os.hostname()}`;
    this.sendSentEvents = opts.sendSentEvents ?? true;
    this.registry = opts.registry ?? null;
    const q = <T>(method: string, args: Record<string, unknown>, o: InspectOptions = {}) =>
      this.control(method, args, o) as Promise<PerNode<T>>;
    this.inspect = {
      ping: (o) => q("ping", {}, o),
      stats: (o) => q("stats", {}, o),
      active: (o) => q("active", { safe: o?.safe ?? null }, o),
      reserved: (o) => q("reserved", {}, o),
      scheduled: (o) => q("scheduled", {}, o),
      revoked: (o) => q("revoked", {}, o),
      registered: (o) => q("registered", { taskinfoitems: [] }, o),
      activeQueues: (o) => q("active_queues", {}, o),
      conf: (o) => q("conf", { with_defaults: false }, o),
      queryTask: (ids, o) => q("query_task", { ids: Array.isArray(ids) ? ids : [ids] }, o),
    };
  }

  /** Publish `name(*args, **kwargs)` as a Celery protocol v2 message, then task-sent. */
  async sendTask(
    name: string,
    args: unknown[] = [],
    kwargs: Record<string, unknown> = {},
    opts: ApplyOptions = {},
  ): Promise<AsyncResult> {
    if (typeof name !== "string" || name === "") throw new TypeError("task name must be a non-empty string");
    if (!Array.isArray(args)) throw new TypeError("args must be an array");
    if (!kwargs || typeof kwargs !== "object" || Array.isArray(kwargs)) throw new TypeError("kwargs must be an object");
    const now = Date.now();
    const id = opts.taskId ?? uuid4();
    let eta: string | null = null;
    if (opts.eta !== undefined) eta = isoUtc(toEpochMs(opts.eta, "eta"));
    else if (opts.countdown !== undefined) eta = isoUtc(now + opts.countdown * 1000);
    let expires: string | null = null;
    let expiresInSeconds: number | undefined;
    if (typeof opts.expires === "number") {
      expires = isoUtc(now + opts.expires * 1000);
      expiresInSeconds = opts.expires;
    } else if (opts.expires !== undefined) {
      expires = isoUtc(toEpochMs(opts.expires, "expires"));
    }
    const queue = opts.queue ?? this.registry?.get(name)?.options.queue ?? "celery";
    const env = buildTaskMessage(name, {
      id,
      args,
      kwargs,
      queue,
      eta,
      expires,
      expiresInSeconds,
      retries: opts.retries ?? 0,
      rootId: opts.rootId,
      parentId: opts.parentId ?? null,
      origin: this.hostname,
      priority: opts.priority,
      timelimit: opts.timelimit,
      ignoreResult: opts.ignoreResult,
      retryOf: opts.retryOf ?? null,
    });
    const published = this.broker.publish(queue, env, { priority: opts.priority ?? 0 });
    if (this.sendSentEvents) {
      // task-sent is issued right behind the message instead of after its reply: one connection
      // keeps them in order on the wire, and a send costs one round trip instead of two.
      await Promise.all([published, this.sendSentEvent(env.headers as TaskHeaders, queue)]);
    } else {
      await published;
    }
    return new AsyncResult(id, this.results);
  }

  /** Never throws: a synchronous throw would leave `published` to reject unhandled. */
  private sendSentEvent(h: TaskHeaders, queue: string): Promise<void> {
    try {
      return this.broker.publishEvent(this.hostname, this.sentEvent(h, queue));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * taskEvent("task-sent", …) written as one literal, since it runs per task: Celery's keys in
   * its order (HEAD, the task-sent fields, extensions, timestamp, type). client.test.ts checks
   * it against taskEvent.
   */
  private sentEvent(h: TaskHeaders, queue: string): object {
    const ev: Record<string, unknown> = {
      hostname: this.hostname,
      utcoffset: localUtcOffset(),
      pid: process.pid,
      clock: this.clock.tick(),
      uuid: h.id,
      root_id: h.root_id ?? null,
      parent_id: h.parent_id ?? null,
      name: h.task,
      args: h.argsrepr ?? "",
      kwargs: h.kwargsrepr ?? "",
      retries: h.retries ?? 0,
      eta: h.eta ?? null,
      expires: h.expires ?? null,
      queue,
      exchange: "",
      routing_key: queue,
    };
    if (h.retry_of != null) ev.retry_of = h.retry_of;
    ev.timestamp = Date.now() / 1000;
    ev.type = "task-sent";
    return ev;
  }

  /** `client.task("demo.add").delay(2, 3)`. */
  task(name: string): TaskCaller {
    return {
      delay: (...args) => this.sendTask(name, args),
      applyAsync: (args = [], kwargs = {}, opts = {}) => this.sendTask(name, args, kwargs, opts),
    };
  }

  /** A handle on any task id's result. */
  asyncResult(id: string): AsyncResult {
    return new AsyncResult(id, this.results);
  }

  /** Broadcast `revoke` (fire and forget, as Celery); `terminate` also stops it where it runs. */
  async revoke(taskId: string | string[], opts: RevokeOptions = {}): Promise<void> {
    await this.control(
      "revoke",
      { task_id: taskId, terminate: opts.terminate ?? false, signal: opts.signal ?? "SIGTERM" },
      { destination: opts.destination, reply: false },
    );
  }

  /** Broadcast a control command; the replies merged into `{node: value}`. */
  async control(method: string, args: Record<string, unknown> = {}, opts: ControlOptions = {}): Promise<Record<string, unknown>> {
    const req = controlRequest(method, args, { destination: opts.destination, pattern: opts.pattern, matcher: opts.matcher });
    const replies = await this.broker.broadcast(req, { timeout: opts.timeout ?? 1000, reply: opts.reply ?? true, limit: opts.limit });
    const merged: Record<string, unknown> = {};
    for (const r of replies) if (r && typeof r === "object") Object.assign(merged, r);
    return merged;
  }
}
