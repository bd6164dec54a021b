/**
 * The worker's state and scheduler (Celery's consumer + pool in one event loop): receive
 * deliveries, hold ETA tasks, pass rate limits, run up to `concurrency` tasks, stop gracefully
 * or "crash". Execution lives in worker-exec.ts, remote control in worker-control.ts.
 */
import os from "node:os";
import type { Consumer, Delivery, Subscription } from "../broker/types";
import { ProtocolError } from "../protocol/envelope";
import { LamportClock, taskEvent, workerEvent, type EventSource, type TaskEventFields } from "../protocol/events";
import { parseTaskMessage } from "../protocol/task-message";
import type { ResultMeta, TaskEventType, WorkerEventType } from "../protocol/types";
import { storeDeadLetter } from "./dead-letter";
import { LimitedSet } from "./limited-set";
import { parseRateLimit } from "./rate-limit";
import { Request } from "./request";
import { RateGates, ReadyQueue } from "./worker-queues";
import { announceRevoked, notRegistered, runRequest } from "./worker-exec";
import { handleControl, mingle } from "./worker-control";
import type { ResolvedWorkerOptions } from "./worker-options";

/** setTimeout's largest delay; longer ETAs re-arm. */
const MAX_TIMER_MS = 2_147_483_647;

/** How long a graceful stop waits for its worker-offline event to be written, ms (default: 2000). */
const OFFLINE_EVENT_WAIT_MS = 2000;

export type WorkerRunState = "new" | "running" | "stopping" | "stopped";

export class WorkerCore {
  readonly hostname: string;
  /** a result stored before an event is seen before it (results.orderedWith): no need to await the store */
  readonly resultsOrdered: boolean;
  readonly pid = process.pid;
  readonly clock = new LamportClock();
  readonly revoked: LimitedSet;
  readonly eventSource: EventSource;
  runState: WorkerRunState = "new";
  /** set by a crash stop: nothing more is published, stored, acked or requeued */
  dead = false;
  taskEvents: boolean;
  concurrency: number;
  autoscale: { max: number; min: number } | null;
  readonly queues: string[];
  processed = 0;
  readonly totals = new Map<string, number>();
  /** live `time_limit` settings by task name (message headers still win) */
  readonly timeLimits = new Map<string, { soft: number | null; hard: number | null }>();
  /** live `rate_limit` settings by task name (win over the task's option) */
  readonly rateLimits = new Map<string, string | number | null>();
  /** running requests */
  readonly active = new Set<Request>();
  /** every request held in memory (waiting or running), in receipt order */
  readonly requests = new Set<Request>();
  /** waiting (eta/rate/ready) requests by task id, for revoke and query_task */
  readonly waitingById = new Map<string, Request>();
  startedAt = 0;

  private readonly ready = new ReadyQueue();
  private readonly gates: RateGates;
  private etaCount = 0;
  private consumer: Consumer | null = null;
  private controlSub: Subscription | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private stopping: Promise<void> | null = null;
  private readonly logged = new Set<string>();

  constructor(readonly opts: ResolvedWorkerOptions) {
    this.hostname = opts.hostname;
    this.resultsOrdered = opts.results.orderedWith?.(opts.broker) ?? false;
    this.revoked = new LimitedSet(opts.revokedMax, opts.revokedExpires);
    this.taskEvents = opts.sendEvents;
    this.concurrency = opts.concurrency;
    this.autoscale = opts.autoscale;
    this.queues = [...opts.queues];
    this.eventSource = { hostname: this.hostname, pid: this.pid, clock: this.clock };
    this.gates = new RateGates(
      (name) => this.rateOf(name),
      (req) => this.ready.push(req),
      () => this.pump(),
    );
  }

  get prefetch(): number {
    return this.concurrency * this.opts.prefetchMultiplier + this.etaCount;
  }

  get reservedCount(): number {
    return this.requests.size - this.active.size - this.etaCount;
  }

  get scheduledCount(): number {
    return this.etaCount;
  }

  // -------------------------------------------------------------------------------------------
  // lifecycle

  async start(): Promise<void> {
    if (this.runState !== "new") throw new Error(`worker ${this.hostname} was already started`);
    this.runState = "running";
    this.startedAt = Date.now();
    const { broker } = this.opts;
    try {
      // The pool first: a task module that fails to load must fail start, before worker-online.
      await this.opts.pool.start(this.concurrency);
      // Listen to control first, so a revoke sent while we start is not missed.
      this.controlSub = await broker.listenControl((c) => {
        handleControl(this, c).catch((err) => this.reportError("control", err));
      });
      if (this.opts.mingle) await mingle(this, this.opts.mingle.timeoutMs);
      await this.sendWorkerEvent("worker-online");
      this.heartbeat = setInterval(() => void this.sendWorkerEvent("worker-heartbeat"), this.opts.heartbeatInterval * 1000);
      this.consumer = broker.consume(this.queues, { prefetch: this.prefetch }, (d) => this.onDelivery(d));
    } catch (err) {
      await this.stop(false, 0); // release whatever was set up; the caller sees the error
      throw err;
    }
  }

  stop(graceful: boolean, timeoutMs: number): Promise<void> {
    if (this.runState === "new") {
      this.runState = "stopped";
      return Promise.resolve();
    }
    if (!this.stopping) this.stopping = graceful ? this.stopGracefully(timeoutMs) : this.crash();
    else if (!graceful && !this.dead) {
      // A crash overtakes a graceful stop in progress; that one then finds nothing left to say.
      const pending = this.stopping;
      this.stopping = Promise.all([pending, this.crash()]).then(() => undefined);
    }
    return this.stopping;
  }

  private async stopGracefully(timeoutMs: number): Promise<void> {
    this.runState = "stopping";
    await this.cancelConsumer();
    await this.requeueWaiting();
    const running = [...this.active].map((r) => r.finished);
    if (running.length > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      await Promise.race([Promise.allSettled(running), timedOut]);
      clearTimeout(timer);
      for (const r of [...this.active]) r.interrupt?.({ kind: "shutdown" });
      await Promise.allSettled([...this.active].map((r) => r.finished));
    }
    this.clearTimers();
    await this.closePool();
    // Best effort: with Redis down the event would wait in ioredis' offline queue for as long as
    // it retries, holding up the exit; monitors see the heartbeats stop anyway.
    let offlineTimer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.sendWorkerEvent("worker-offline"), new Promise<void>((r) => (offlineTimer = setTimeout(r, OFFLINE_EVENT_WAIT_MS)))]);
    clearTimeout(offlineTimer);
    await this.closeControl();
    this.runState = "stopped";
  }

  /** Stop like a killed process: no worker-offline, heartbeats just cease; unsettled messages go back. */
  private async crash(): Promise<void> {
    const requeue = [...this.requests].filter((r) => !r.isSettled);
    this.dead = true;
    this.runState = "stopped";
    this.clearTimers();
    for (const r of [...this.active]) r.interrupt?.({ kind: "shutdown" });
    await Promise.allSettled([this.cancelConsumer(), this.closeControl(), this.closePool()]);
    await this.requeueAll(requeue.reverse());
    this.requests.clear();
    this.waitingById.clear();
  }

  private async cancelConsumer(): Promise<void> {
    const c = this.consumer;
    this.consumer = null;
    if (c) await c.cancel().catch((err) => this.reportError("consumer.cancel", err));
  }

  private async closePool(): Promise<void> {
    await this.opts.pool.close().catch((err) => this.reportError("pool.close", err));
  }

  private async closeControl(): Promise<void> {
    const s = this.controlSub;
    this.controlSub = null;
    if (s) await s.close().catch((err) => this.reportError("control.close", err));
  }

  private clearTimers(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    for (const r of this.requests) {
      if (r.timer) clearTimeout(r.timer);
      r.timer = null;
    }
    this.gates.clear();
  }

  /** Put every waiting (not running) delivery back, newest first so the queue keeps its order. */
  private async requeueWaiting(): Promise<void> {
    const waiting = [...this.requests].filter((r) => r.state !== "active" && r.state !== "done");
    for (const r of waiting) this.drop(r);
    await this.requeueAll(waiting.reverse());
  }

  private async requeueAll(reqs: Request[]): Promise<void> {
    for (const r of reqs) {
      // Sequential: each requeue goes to the head, so order matters.
      await r.requeue().catch((err) => this.reportError("requeue", err));
    }
  }

  // -------------------------------------------------------------------------------------------
  // receiving

  private onDelivery(d: Delivery): void {
    try {
      this.receive(d);
    } catch (err) {
      this.reportError("receive", err);
      this.deadLetter(d, err instanceof Error ? err.message : String(err), "internal", null);
    }
  }

  private receive(d: Delivery): void {
    if (this.runState !== "running") {
      // Arrived while we stop: give it back untouched.
      d.requeue().catch((err) => this.reportError("requeue", err));
      return;
    }
    let req: Request;
    try {
      req = new Request(parseTaskMessage(d.envelope), d);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      const h = d.envelope.headers as Record<string, unknown> | undefined;
      const id = h && typeof h.id === "string" && h.id !== "" ? h.id : null;
      this.deadLetter(d, err.message, err.code, id);
      return;
    }
    if (this.revoked.has(req.id)) {
      void announceRevoked(this, req, "revoked");
      return;
    }
    if (req.isExpired(Date.now())) {
      void announceRevoked(this, req, "expired");
      return;
    }
    if (!this.opts.registry.has(req.name)) {
      void notRegistered(this, req);
      return;
    }
    void this.sendTaskEvent("task-received", {
      uuid: req.id,
      name: req.name,
      args: req.argsrepr,
      kwargs: req.kwargsrepr,
      root_id: req.rootId,
      parent_id: req.parentId,
      retries: req.retries,
      eta: req.eta,
      expires: req.expires,
      retry_of: req.retryOf ?? undefined,
    });
    this.requests.add(req);
    this.waitingById.set(req.id, req);
    if (req.etaMs !== null && req.etaMs > Date.now()) this.scheduleEta(req);
    else this.admit(req);
    this.pump();
  }

  /** Reject a message we cannot run, tell the dashboard (task-rejected if it has an id) and the hook. */
  deadLetter(d: Delivery, reason: string, code: string, taskId: string | null): void {
    d.reject().catch((err) => this.reportError("reject", err));
    if (taskId !== null) void this.sendTaskEvent("task-rejected", { uuid: taskId, requeue: false });
    const letter = { envelope: d.envelope, reason, code, queue: d.queue, taskId };
    storeDeadLetter(this.opts.broker, letter, this.hostname, (err) => this.reportError("broker.deadLetter", err));
    if (this.opts.onDeadLetter) {
      try {
        this.opts.onDeadLetter(letter);
      } catch (err) {
        this.reportError("onDeadLetter", err);
      }
    } else {
      this.opts.logger.warn(`[${this.hostname}] rejected a malformed message from ${d.queue}: ${reason}`);
    }
  }

  private scheduleEta(req: Request): void {
    req.state = "eta";
    this.etaCount++;
    this.consumer?.setPrefetch(this.prefetch); // Celery raises prefetch by one per waiting ETA task
    const arm = (): void => {
      const delay = (req.etaMs ?? 0) - Date.now();
      req.timer = setTimeout(() => {
        req.timer = null;
        if (req.state !== "eta") return;
        if ((req.etaMs ?? 0) > Date.now() + 1) return arm();
        this.leaveEta(req);
        this.admit(req);
        this.pump();
      }, Math.min(Math.max(delay, 0), MAX_TIMER_MS));
    };
    arm();
  }

  private leaveEta(req: Request): void {
    if (req.timer) clearTimeout(req.timer);
    req.timer = null;
    this.etaCount--;
    this.consumer?.setPrefetch(this.prefetch);
  }

  /** Pass the rate limit of its task name (waiting in that name's line if needed), then ready. */
  private admit(req: Request): void {
    this.gates.admit(req);
  }

  rateOf(name: string): number {
    const live = this.rateLimits.get(name);
    const rate = live !== undefined ? live : (this.opts.registry.get(name)?.options.rateLimit ?? null);
    try {
      return parseRateLimit(rate);
    } catch {
      return 0;
    }
  }

  /** A rate limit changed: update the bucket, or release its line when the limit is gone. */
  resetRateLimit(name: string): void {
    this.gates.reset(name);
  }

  /** Start ready requests while slots are free. */
  pump(): void {
    while (this.runState === "running" && this.active.size < this.concurrency) {
      const req = this.ready.shift();
      if (!req) break;
      this.startRequest(req);
    }
  }

  private startRequest(req: Request): void {
    req.state = "active";
    if (this.waitingById.get(req.id) === req) this.waitingById.delete(req.id);
    this.active.add(req);
    req.finished = runRequest(this, req).catch((err) => {
      this.reportError("run", err);
      this.release(req);
    });
  }

  /** A run is over (outcome known): free its slot at once and count it. */
  release(req: Request, counted = true): void {
    if (req.state === "done") return;
    const wasActive = req.state === "active";
    this.drop(req);
    if (wasActive && counted) {
      this.processed++;
      this.totals.set(req.name, (this.totals.get(req.name) ?? 0) + 1);
    }
    this.pump();
  }

  /** Forget a request wherever it waits (lazy removal from the ready/rate queues). */
  drop(req: Request): void {
    if (req.state === "eta") this.leaveEta(req);
    else if (req.state === "ready") this.ready.forget();
    req.state = "done";
    this.active.delete(req);
    this.requests.delete(req);
    if (this.waitingById.get(req.id) === req) this.waitingById.delete(req.id);
  }

  /**
   * Revoke a waiting request right away. Celery only notices at the moment the task would run
   * (at its ETA, or when a slot frees); we announce it now so the dashboard shows REVOKED at
   * once and the prefetch slot is freed. Returns whether one was found.
   */
  revokeWaiting(id: string): boolean {
    const req = this.waitingById.get(id);
    if (!req || req.state === "active" || req.state === "done") return false;
    this.drop(req);
    void announceRevoked(this, req, "revoked");
    this.pump();
    return true;
  }

  setConcurrency(n: number): void {
    this.concurrency = n;
    this.opts.pool.resize(n);
    this.consumer?.setPrefetch(this.prefetch);
    this.pump();
  }

  addQueue(queue: string): void {
    if (this.queues.includes(queue)) return;
    this.queues.push(queue);
    this.consumer?.addQueue(queue);
  }

  removeQueue(queue: string): void {
    const i = this.queues.indexOf(queue);
    if (i === -1) return;
    this.queues.splice(i, 1);
    this.consumer?.removeQueue(queue);
  }

  // -------------------------------------------------------------------------------------------
  // side effects shared by exec and control

  sendTaskEvent<T extends TaskEventType>(type: T, fields: TaskEventFields<T>, hostname?: string): Promise<void> {
    if (!this.taskEvents || this.dead) return Promise.resolve();
    const source = hostname ? { ...this.eventSource, hostname } : this.eventSource;
    const ev = taskEvent(type, fields, source);
    return this.opts.broker.publishEvent(source.hostname, ev).catch((err) => this.reportError("publishEvent", err));
  }

  sendWorkerEvent(type: WorkerEventType): Promise<void> {
    if (this.dead) return Promise.resolve();
    const la = os.loadavg();
    const ev = workerEvent(
      type,
      {
        freq: this.opts.heartbeatInterval,
        active: this.active.size,
        processed: this.processed,
        loadavg: [round2(la[0]), round2(la[1]), round2(la[2])],
        sw_ident: this.opts.swIdent,
        sw_ver: this.opts.swVer,
        sw_sys: os.type(),
      },
      this.eventSource,
    );
    return this.opts.broker.publishEvent(this.hostname, ev).catch((err) => this.reportError("publishEvent", err));
  }

  /**
   * Store a result as Celery does: never over a stored SUCCESS; skipped for ignore_result.
   * `firstRun`: a first delivery cannot have succeeded before, so the read is skipped (one
   * round trip less per task on the hot path; the Redis backend checks again anyway).
   */
  async storeResult(meta: ResultMeta, ignore: boolean, firstRun = false): Promise<void> {
    if (ignore || this.dead) return;
    try {
      const prev = firstRun ? null : await this.opts.results.get(meta.task_id);
      if (prev?.status === "SUCCESS") return;
      await this.opts.results.store(meta);
    } catch (err) {
      this.reportError("results.store", err);
    }
  }

  /** Log an unexpected error once per place and message, then carry on. */
  reportError(where: string, err: unknown): void {
    const msg = err instanceof Error ? err.message : String(err);
    const key = `${where}:${msg}`;
    if (this.logged.has(key)) return;
    if (this.logged.size < 1000) this.logged.add(key);
    this.opts.logger.error(`[${this.hostname}] ${where} failed: ${msg}`, err);
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
