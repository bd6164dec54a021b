/**
 * `-P threads`: every slot is a worker_thread with the task module loaded, so a CPU-bound
 * handler never stalls the worker's heartbeats, control replies or other tasks. Terminate and
 * the hard time limit kill the thread (as prefork signals its child) and a fresh one takes its
 * place; the soft limit aborts the handler's signal inside the thread.
 */
import { Worker as NodeWorker } from "node:worker_threads";
import { SoftTimeLimitExceeded, WorkerLostError } from "../errors";
import type { RegisteredTask, TaskContext } from "../registry";
import type { FromThread, RunRequest, ThreadData, ToThread } from "./messages";
import { deserializeError } from "./serialize";
import type { ExecutionPool, Outcome, PoolStats } from "./types";

/** bootstrap.mjs registers tsx in the thread, then loads thread-entry.ts */
const BOOTSTRAP = new URL("./bootstrap.mjs", import.meta.url);

export interface ThreadPoolOptions {
  /** the task module: a file: URL (see app-module.ts for the convention) */
  app: string;
  /** how long start() waits for a thread to load the app, ms (default: 30000) */
  startTimeoutMs?: number;
  /** where a thread's log/crash lines go (default: console.error) */
  onError?: (message: string, err?: unknown) => void;
}

interface Job {
  task: RegisteredTask;
  ctx: TaskContext;
  resolve: (o: Outcome) => void;
  onAbort: (() => void) | null;
}

interface Slot {
  thread: NodeWorker;
  job: Job | null;
  ready: Promise<void>;
  /** true once we terminated it ourselves: its exit is not a crash */
  killed: boolean;
  /** the app loaded in it */
  loaded: boolean;
}

/** wait before replacing a thread that died before loading the app, so a broken app does not spin (default: 1000 ms) */
const RESPAWN_BACKOFF_MS = 1000;

export class ThreadPool implements ExecutionPool {
  readonly kind = "threads" as const;
  readonly #opts: Required<ThreadPoolOptions>;
  readonly #slots = new Set<Slot>();
  /** tasks waiting for a free thread (only when the pool shrank under the worker's concurrency) */
  readonly #waiting: Job[] = [];
  #size = 0;
  #closed = false;

  constructor(opts: ThreadPoolOptions) {
    this.#opts = {
      app: opts.app,
      startTimeoutMs: opts.startTimeoutMs ?? 30_000,
      onError: opts.onError ?? ((m, e) => console.error(m, e ?? "")),
    };
  }

  async start(size: number): Promise<void> {
    this.#size = size;
    const spawned: Slot[] = [];
    for (let i = 0; i < size; i++) spawned.push(this.#spawn());
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`pool threads did not load ${this.#opts.app} within ${this.#opts.startTimeoutMs} ms`)), this.#opts.startTimeoutMs);
    });
    try {
      await Promise.race([Promise.all(spawned.map((s) => s.ready)), timeout]);
    } catch (err) {
      await this.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  apply(task: RegisteredTask, ctx: TaskContext): Promise<Outcome> {
    if (this.#closed) return Promise.resolve({ ok: false, error: new WorkerLostError("pool closed") });
    return new Promise<Outcome>((resolve) => {
      const job: Job = { task, ctx, resolve, onAbort: null };
      job.onAbort = () => this.#onAbort(job);
      ctx.signal.addEventListener("abort", job.onAbort, { once: true });
      const slot = this.#idleSlot();
      if (slot) this.#dispatch(slot, job);
      else this.#waiting.push(job);
    });
  }

  abandon(ctx: TaskContext, reason: unknown): void {
    const waitingAt = this.#waiting.findIndex((j) => j.ctx === ctx);
    if (waitingAt !== -1) {
      const [job] = this.#waiting.splice(waitingAt, 1);
      return this.#finish(job, { ok: false, error: reason });
    }
    const slot = [...this.#slots].find((s) => s.job?.ctx === ctx);
    if (!slot || !slot.job) return;
    this.#finish(slot.job, { ok: false, error: reason });
    slot.job = null;
    void this.#kill(slot);
    this.#replenish();
  }

  resize(size: number): void {
    this.#size = size;
    if (this.#closed) return;
    while (this.#slots.size < size) this.#dispatchNext(this.#spawn());
    for (const s of [...this.#slots]) {
      if (this.#slots.size <= size) break;
      if (!s.job) this.#kill(s);
    }
  }

  stats(): PoolStats {
    return { implementation: "threads", size: this.#size, processes: [...this.#slots].map((s) => s.thread.threadId) };
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#waiting.splice(0)) this.#finish(job, { ok: false, error: new WorkerLostError("pool closed") });
    const exits = [...this.#slots].map((s) => {
      if (s.job) this.#finish(s.job, { ok: false, error: new WorkerLostError("pool closed") });
      s.job = null;
      return this.#kill(s);
    });
    await Promise.allSettled(exits);
  }

  // -------------------------------------------------------------------------------------------

  #spawn(): Slot {
    const data: ThreadData = { app: this.#opts.app };
    // execArgv [] : the worker's own `--import tsx` (inherited by default) is registered by bootstrap instead.
    const thread = new NodeWorker(BOOTSTRAP, { workerData: data, execArgv: [] });
    let ready!: () => void;
    let failed!: (e: Error) => void;
    const slot: Slot = { thread, job: null, killed: false, loaded: false, ready: new Promise<void>((res, rej) => ((ready = res), (failed = rej))) };
    slot.ready.catch(() => {}); // start() awaits it; a replacement's failure surfaces through its job
    this.#slots.add(slot);
    thread.on("message", (m: FromThread) => {
      if (m.type === "ready") {
        slot.loaded = true;
        ready();
      }
      else if (m.type === "init-error") {
        const err = deserializeError(m.error);
        failed(err);
        this.#opts.onError(`pool thread could not load ${this.#opts.app}: ${err.message}`, err);
        this.#lose(slot, err);
      } else if (m.type === "log") slot.job?.ctx.log(m.message);
      else if (m.type === "is-aborted") {
        // Answered even when the job is gone: the handler must not wait forever.
        const asked = slot.job?.ctx.id === m.id ? slot.job.ctx.isAborted() : Promise.resolve(false);
        void asked.catch(() => false).then((value) => thread.postMessage({ type: "aborted", ask: m.ask, value } satisfies ToThread));
      }
      else if (m.type === "done") this.#done(slot, m.id, m.ok ? { ok: true, value: m.value } : { ok: false, error: deserializeError(m.error) });
    });
    thread.on("error", (err) => {
      // An uncaught exception in the thread (e.g. a stray promise of a handler): the thread is gone.
      failed(err);
      this.#opts.onError(`pool thread ${thread.threadId} crashed: ${err.message}`, err);
      this.#lose(slot, new WorkerLostError(`Worker exited prematurely: ${err.name}: ${err.message}`));
    });
    thread.on("exit", (code) => {
      if (slot.killed) return;
      failed(new Error(`pool thread exited with code ${code}`));
      this.#lose(slot, new WorkerLostError(`Worker exited prematurely: exitcode ${code}.`));
    });
    return slot;
  }

  #idleSlot(): Slot | null {
    for (const s of this.#slots) if (!s.job && !s.killed) return s;
    return null;
  }

  #dispatch(slot: Slot, job: Job): void {
    slot.job = job;
    const c = job.ctx;
    const msg: RunRequest = {
      type: "run",
      id: c.id,
      name: c.name,
      args: c.args,
      kwargs: c.kwargs,
      retries: c.retries,
      hostname: c.hostname,
      eta: c.eta,
      expires: c.expires,
      parentId: c.parentId,
      rootId: c.rootId,
    };
    try {
      this.#post(slot, msg);
      const reason: unknown = c.signal.reason;
      if (reason instanceof SoftTimeLimitExceeded) this.#post(slot, { type: "soft", id: c.id, seconds: reason.seconds });
    } catch (err) {
      // args that cannot be cloned never reach a thread: fail the task, keep the thread
      slot.job = null;
      this.#finish(job, { ok: false, error: err });
      this.#dispatchNext(slot);
    }
  }

  #post(slot: Slot, m: ToThread): void {
    slot.thread.postMessage(m);
  }

  /** A free slot takes the next waiting task, or retires when the pool is over size. */
  #dispatchNext(slot: Slot): void {
    if (slot.killed || slot.job) return;
    if (this.#slots.size > this.#size) return void this.#kill(slot);
    const next = this.#waiting.shift();
    if (next) this.#dispatch(slot, next);
  }

  #done(slot: Slot, id: string, outcome: Outcome): void {
    const job = slot.job;
    if (!job || job.ctx.id !== id) return;
    slot.job = null;
    this.#finish(job, outcome);
    this.#dispatchNext(slot);
  }

  #finish(job: Job, outcome: Outcome): void {
    if (job.onAbort) job.ctx.signal.removeEventListener("abort", job.onAbort);
    job.onAbort = null;
    job.resolve(outcome);
  }

  /** Only the soft time limit comes this way (see ExecutionPool); a waiting task has it delivered when it starts. */
  #onAbort(job: Job): void {
    const reason: unknown = job.ctx.signal.reason;
    if (!(reason instanceof SoftTimeLimitExceeded)) return;
    const slot = [...this.#slots].find((s) => s.job === job);
    if (slot) this.#post(slot, { type: "soft", id: job.ctx.id, seconds: reason.seconds });
  }

  /** A thread died on its own: fail its task, replace it. */
  #lose(slot: Slot, err: Error): void {
    if (slot.killed) return;
    const job = slot.job;
    slot.job = null;
    void this.#kill(slot);
    if (job) this.#finish(job, { ok: false, error: err });
    if (slot.loaded) this.#replenish();
    else setTimeout(() => this.#replenish(), RESPAWN_BACKOFF_MS).unref();
  }

  #replenish(): void {
    if (this.#closed) return;
    while (this.#slots.size < this.#size) this.#dispatchNext(this.#spawn());
  }

  #kill(slot: Slot): Promise<number> {
    slot.killed = true;
    this.#slots.delete(slot);
    return slot.thread.terminate();
  }
}
