/**
 * Running one request as Celery's trace does: task-started, ack (early or late), the handler
 * raced against time limits / terminate / shutdown, then exactly one outcome with its event and
 * result: SUCCESS, FAILURE, RETRY (re-publish with retries + 1), REVOKED or rejected.
 */
import os from "node:os";
import { uuid4 } from "../protocol/envelope";
import { pyRepr, pythonRepr } from "../protocol/repr";
import type { Envelope } from "../protocol/types";
import {
  EncodeError,
  excRepr,
  formatTraceback,
  MaxRetriesExceededError,
  Reject,
  Retry,
  SoftTimeLimitExceeded,
  TerminatedError,
  TimeLimitExceeded,
  toExceptionInfo,
  WorkerLostError,
} from "./errors";
import { autoretryCountdown, type RegisteredTask, type TaskContext } from "./registry";
import type { Outcome } from "./pool/types";
import type { Interrupt, Request } from "./request";
import { isoUtc, naiveUtcIso, toEpochMs } from "./time";
import type { WorkerCore } from "./worker-core";

/** Where a pool child would publish from (PROTOCOL.md §3.2: retries come from `gen<pid>@host`). */
const CHILD_HOSTNAME = `gen${process.pid}@${os.hostname()}`;

function ignoresResult(req: Request, task: RegisteredTask | undefined): boolean {
  return req.msg.headers.ignore_result === true || (task?.options.ignoreResult ?? false);
}

function limit(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? v : null;
}

/** [soft, hard] seconds: message headers win, then the live `time_limit` setting, then the task's options. */
function timeLimitsFor(w: WorkerCore, req: Request, task: RegisteredTask): [number | null, number | null] {
  const h = Array.isArray(req.msg.headers.timelimit) ? req.msg.headers.timelimit : [];
  const live = w.timeLimits.get(req.name);
  const soft = limit(h[0]) ?? (live ? live.soft : task.options.softTimeLimit);
  const hard = limit(h[1]) ?? (live ? live.hard : task.options.timeLimit);
  return [soft, hard];
}

/** The AbortController behind ctx.signal, made only when someone asks for the signal or aborts it. */
function controllerOf(req: Request): AbortController {
  return (req.controller ??= new AbortController());
}

/**
 * A task's context. A class, not a literal: a literal with a getter and two closures per task
 * was ~2 µs of the no-op task path. retry and log are getters handing out closures, so a
 * handler may still destructure them (`async ({ retry, log }) => …`).
 */
class Context implements TaskContext {
  readonly id: string;
  readonly name: string;
  readonly args: unknown[];
  readonly kwargs: Record<string, unknown>;
  readonly retries: number;
  readonly hostname: string;
  readonly eta: string | null;
  readonly expires: string | null;
  readonly parentId: string | null;
  readonly rootId: string | null;

  constructor(
    private readonly w: WorkerCore,
    private readonly req: Request,
    private readonly task: RegisteredTask,
  ) {
    this.id = req.id;
    this.name = req.name;
    this.args = req.msg.args;
    this.kwargs = req.msg.kwargs;
    this.retries = req.retries;
    this.hostname = w.hostname;
    this.eta = req.eta;
    this.expires = req.expires;
    this.parentId = req.parentId;
    this.rootId = req.rootId;
  }

  // A getter: most handlers never look, and a controller per task was a large share of GC.
  get signal(): AbortSignal {
    return controllerOf(this.req).signal;
  }

  get retry(): TaskContext["retry"] {
    const { req, task } = this;
    return (opts = {}): never => {
      const max = opts.maxRetries !== undefined ? opts.maxRetries : task.options.maxRetries;
      if (max !== null && req.retries >= max) {
        if (opts.exc !== undefined) throw opts.exc;
        throw new MaxRetriesExceededError(`Can't retry ${req.name}[${req.id}] args:${req.argsrepr} kwargs:${req.kwargsrepr}`);
      }
      const eta = opts.eta !== undefined ? new Date(toEpochMs(opts.eta, "eta")) : undefined;
      throw new Retry({ countdown: eta ? undefined : (opts.countdown ?? task.options.defaultRetryDelay), eta, exc: opts.exc });
    };
  }

  get isAborted(): TaskContext["isAborted"] {
    const { w, req } = this;
    return async () => (await w.opts.results.get(req.id))?.status === "ABORTED";
  }

  get log(): TaskContext["log"] {
    const { w, req } = this;
    return (message, ...rest) => w.opts.logger.info(`${req.name}[${req.id}] ${message}`, ...rest);
  }
}

function makeContext(w: WorkerCore, req: Request, task: RegisteredTask): TaskContext {
  return new Context(w, req, task);
}

function abortReason(i: Interrupt): Error {
  if (i.kind === "hard") return new TimeLimitExceeded(i.seconds);
  if (i.kind === "terminated") return new TerminatedError(i.signum);
  return new WorkerLostError("worker shutting down");
}

export async function runRequest(w: WorkerCore, req: Request): Promise<void> {
  const task = w.opts.registry.get(req.name);
  if (!task) {
    w.release(req, false);
    return notRegistered(w, req);
  }
  if (w.revoked.has(req.id)) {
    w.release(req, false);
    return announceRevoked(w, req, "revoked");
  }
  if (req.isExpired(Date.now())) {
    w.release(req, false);
    return announceRevoked(w, req, "expired");
  }
  const acksLate = task.options.acksLate;
  const [soft, hard] = timeLimitsFor(w, req, task);
  req.timeStart = Date.now() / 1000;
  const ctx = makeContext(w, req, task);
  const t0 = performance.now();
  void w.sendTaskEvent("task-started", { uuid: req.id });
  if (!acksLate) req.ack().catch((err) => w.reportError("ack", err));

  // The handler's outcome or an interrupt, whichever comes first (one promise, not a race of two).
  const result = await new Promise<Outcome | Interrupt>((resolve) => {
    req.interrupt = resolve;
    w.opts.pool.apply(task, ctx).then(resolve, (error: unknown) => resolve({ ok: false, error }));
    if (soft !== null) req.softTimer = setTimeout(() => controllerOf(req).abort(new SoftTimeLimitExceeded(soft)), soft * 1000);
    if (hard !== null) req.hardTimer = setTimeout(() => resolve({ kind: "hard", seconds: hard }), hard * 1000);
  });
  if (req.softTimer) clearTimeout(req.softTimer);
  if (req.hardTimer) clearTimeout(req.hardTimer);
  req.softTimer = req.hardTimer = null;
  req.interrupt = null;
  const runtime = (performance.now() - t0) / 1000;

  if ("kind" in result) {
    // The handler's promise is abandoned; whatever it settles with later is ignored.
    const reason = abortReason(result);
    const controller = controllerOf(req);
    if (!controller.signal.aborted) controller.abort(reason);
    w.opts.pool.abandon(ctx, reason); // a threads pool kills the thread: the handler may never yield
    if (w.dead) return;
    if (result.kind === "shutdown") {
      w.release(req, false);
      if (!req.isSettled) await req.requeue().catch((err) => w.reportError("requeue", err));
      return;
    }
    w.release(req);
    if (result.kind === "terminated") await announceRevoked(w, req, "terminated", result.signum);
    else await fail(w, req, task, new TimeLimitExceeded(result.seconds));
  } else if (w.dead) {
    return;
  } else if (result.ok) {
    await succeed(w, req, task, result.value, runtime);
  } else {
    await handleError(w, req, task, result.error);
  }
  if (acksLate && !req.isSettled) await req.ack().catch((err) => w.reportError("ack", err));
}

async function succeed(w: WorkerCore, req: Request, task: RegisteredTask, value: unknown, runtime: number): Promise<void> {
  const stored = value === undefined ? null : value;
  try {
    JSON.stringify(stored); // what the backend will need; a BigInt or a cycle fails the task like kombu's EncodeError
  } catch (err) {
    return fail(w, req, task, new EncodeError(err instanceof Error ? err.message : String(err)));
  }
  w.release(req);
  const firstRun = !req.delivery.redelivered;
  const storing = w.storeResult(req.resultMeta("SUCCESS", stored, null, w.hostname), ignoresResult(req, task), firstRun);
  // Celery stores the result, then sends task-succeeded, so whoever sees the event can read the
  // result. When the store is already on its way ahead of the event on one ordered connection
  // (a first run issues it at once), the event need not wait for its reply: both leave in this
  // turn's write instead of the event waiting a turn.
  if (!(w.resultsOrdered && firstRun)) await storing;
  // Neither promise rejects (both report their own failures): two awaits, no Promise.all per task.
  const sent = w.sendTaskEvent("task-succeeded", { uuid: req.id, result: pyRepr(stored), runtime });
  await storing;
  await sent;
}

async function fail(w: WorkerCore, req: Request, task: RegisteredTask | undefined, err: unknown): Promise<void> {
  w.release(req);
  const traceback = formatTraceback(err);
  await w.storeResult(req.resultMeta("FAILURE", toExceptionInfo(err), traceback, w.hostname), ignoresResult(req, task));
  await w.sendTaskEvent("task-failed", { uuid: req.id, exception: excRepr(err), traceback });
}

async function handleError(w: WorkerCore, req: Request, task: RegisteredTask, err: unknown): Promise<void> {
  if (err instanceof Retry) return retry(w, req, task, err);
  if (err instanceof Reject) return reject(w, req, err);
  const auto = task.options.autoretryFor;
  let wanted = false;
  if (auto && !(err instanceof SoftTimeLimitExceeded) && !(err instanceof MaxRetriesExceededError)) {
    try {
      wanted = auto(err);
    } catch (predicateErr) {
      w.reportError(`autoretryFor of ${task.name}`, predicateErr);
    }
  }
  if (!wanted) return fail(w, req, task, err);
  const max = task.options.maxRetries;
  // Celery's autoretry calls retry(exc=err): past the limit the original error is the failure.
  if (max !== null && req.retries >= max) return fail(w, req, task, err);
  return retry(w, req, task, new Retry({ countdown: autoretryCountdown(task.options, req.retries), exc: err }));
}

/** RETRY result, task-retried, then the same message again: same id, retries + 1, an eta, parent_id = own id. */
async function retry(w: WorkerCore, req: Request, task: RegisteredTask, r: Retry): Promise<void> {
  const etaMs = r.eta ? r.eta.getTime() : Date.now() + (r.countdown ?? task.options.defaultRetryDelay) * 1000;
  const traceback = formatTraceback(r);
  const env = retryEnvelope(req, isoUtc(etaMs));
  w.release(req);
  const result = r.exc === undefined ? null : toExceptionInfo(r.exc);
  await w.storeResult(req.resultMeta("RETRY", result, traceback, w.hostname, [[[req.id, null], null]]), ignoresResult(req, task));
  await w.sendTaskEvent("task-retried", { uuid: req.id, exception: excRepr(r.exc), traceback });
  try {
    await w.opts.broker.publish(req.queue, env, { priority: req.priority });
  } catch (err) {
    return fail(w, req, task, err);
  }
  const h = env.headers;
  await w.sendTaskEvent(
    "task-sent",
    {
      uuid: req.id,
      root_id: req.rootId,
      parent_id: req.id,
      name: req.name,
      args: req.argsrepr,
      kwargs: req.kwargsrepr,
      retries: req.retries + 1,
      eta: h.eta as string,
      expires: req.expires,
      queue: req.queue,
      exchange: "",
      routing_key: req.queue,
      retry_of: req.retryOf ?? undefined,
    },
    CHILD_HOSTNAME,
  );
}

/** The re-published message: a copy with new retries/eta/parent_id/origin and a fresh delivery tag. */
function retryEnvelope(req: Request, eta: string): Envelope {
  const env = req.delivery.envelope;
  const headers: Record<string, unknown> = { ...env.headers, retries: req.retries + 1, eta, parent_id: req.id, origin: CHILD_HOSTNAME };
  delete headers.redelivered;
  const { redelivered: _r, ...deliveryInfo } = env.properties.delivery_info;
  return {
    ...env,
    headers,
    properties: { ...env.properties, delivery_info: { ...deliveryInfo, exchange: "", routing_key: req.queue }, delivery_tag: uuid4() },
  };
}

async function reject(w: WorkerCore, req: Request, r: Reject): Promise<void> {
  w.release(req);
  await w.sendTaskEvent("task-rejected", { uuid: req.id, requeue: r.requeue });
  if (!r.requeue) return req.reject().catch((err) => w.reportError("reject", err));
  if (!req.isSettled) return req.requeue().catch((err) => w.reportError("requeue", err));
  // Acked early already: put a copy back so the requeue the task asked for still happens.
  const env = req.delivery.envelope;
  const copy: Envelope = { ...env, properties: { ...env.properties, delivery_tag: uuid4() } };
  await w.opts.broker.publish(req.queue, copy, { priority: req.priority }).catch((err) => w.reportError("requeue", err));
}

export type RevokeReason = "revoked" | "expired" | "terminated";

/** REVOKED result with TaskRevokedError([reason]), task-revoked, ack; the id joins the revoked set. */
export async function announceRevoked(w: WorkerCore, req: Request, reason: RevokeReason, signum = 15): Promise<void> {
  w.revoked.add(req.id);
  if (w.dead) return;
  const result = { exc_type: "TaskRevokedError", exc_message: [reason], exc_module: "celery.exceptions" };
  await w.storeResult(req.resultMeta("REVOKED", result, null, w.hostname), ignoresResult(req, w.opts.registry.get(req.name)));
  await w.sendTaskEvent("task-revoked", {
    uuid: req.id,
    terminated: reason === "terminated",
    signum: reason === "terminated" ? signum : null,
    expired: reason === "expired",
  });
  if (!req.isSettled) await req.ack().catch((err) => w.reportError("ack", err));
}

/** Unknown task name: task-failed without traceback, FAILURE with null request fields, ack (as Celery). */
export async function notRegistered(w: WorkerCore, req: Request): Promise<void> {
  if (w.dead) return;
  await w.storeResult(
    {
      status: "FAILURE",
      result: { exc_type: "NotRegistered", exc_message: [req.name], exc_module: "celery.exceptions" },
      traceback: null,
      children: [],
      date_done: naiveUtcIso(Date.now()),
      name: null,
      args: null,
      kwargs: null,
      worker: null,
      retries: null,
      queue: null,
      task_id: req.id,
    },
    false,
  );
  await w.sendTaskEvent("task-failed", { uuid: req.id, exception: `NotRegistered(${pythonRepr(req.name)})` });
  if (!req.isSettled) await req.ack().catch((err) => w.reportError("ack", err));
}
