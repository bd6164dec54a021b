/**
 * Inside one pool thread: load the task module, then run one task at a time as the worker asks.
 * A running handler sees the same TaskContext as in-process (retry, log, signal); the soft time
 * limit aborts its signal, everything harder is the worker terminating this thread.
 */
import { format } from "node:util";
import { parentPort, workerData } from "node:worker_threads";
import { pyRepr, pyReprArgs } from "../../protocol/repr";
import { MaxRetriesExceededError, NotRegistered, Retry, SoftTimeLimitExceeded } from "../errors";
import type { TaskContext } from "../registry";
import { loadApp } from "./app-module";
import type { FromThread, RunRequest, ThreadData, ToThread } from "./messages";
import { serializeError } from "./serialize";

const port = parentPort;
if (!port) throw new Error("thread-entry runs only as a worker thread");
const data = workerData as ThreadData;
const send = (m: FromThread): void => port.postMessage(m);

const registry = await loadApp(data.app).catch((err: unknown) => {
  send({ type: "init-error", error: serializeError(err) });
  return null;
});

/** the running task's controller (one task per thread) */
let current: { id: string; controller: AbortController } | null = null;

function makeContext(m: RunRequest, signal: AbortSignal): TaskContext {
  const task = registry?.get(m.name);
  return {
    id: m.id,
    name: m.name,
    args: m.args,
    kwargs: m.kwargs,
    retries: m.retries,
    hostname: m.hostname,
    signal,
    eta: m.eta,
    expires: m.expires,
    parentId: m.parentId,
    rootId: m.rootId,
    retry(opts = {}): never {
      const max = opts.maxRetries !== undefined ? opts.maxRetries : (task?.options.maxRetries ?? 3);
      if (max !== null && m.retries >= max) {
        if (opts.exc !== undefined) throw opts.exc;
        throw new MaxRetriesExceededError(`Can't retry ${m.name}[${m.id}] args:${pyReprArgs(m.args)} kwargs:${pyRepr(m.kwargs)}`);
      }
      const eta = opts.eta !== undefined ? new Date(opts.eta) : undefined;
      if (eta && Number.isNaN(eta.getTime())) throw new RangeError("invalid eta");
      throw new Retry({ countdown: eta ? undefined : (opts.countdown ?? task?.options.defaultRetryDelay ?? 180), eta, exc: opts.exc });
    },
    log: (message, ...rest) => send({ type: "log", id: m.id, message: format(message, ...rest) }),
    isAborted: () =>
      new Promise<boolean>((resolve) => {
        const ask = ++asks;
        pendingAsks.set(ask, resolve);
        send({ type: "is-aborted", id: m.id, ask });
      }),
  };
}

/** isAborted() questions waiting for the worker's answer */
let asks = 0;
const pendingAsks = new Map<number, (value: boolean) => void>();

async function run(m: RunRequest): Promise<void> {
  const controller = new AbortController();
  current = { id: m.id, controller };
  try {
    const task = registry?.get(m.name);
    if (!task) throw new NotRegistered(m.name);
    const value: unknown = await task.handler(makeContext(m, controller.signal));
    try {
      send({ type: "done", id: m.id, ok: true, value });
    } catch (err) {
      // Not structured-cloneable (a function, a class instance with one): kombu would fail to encode it too.
      send({ type: "done", id: m.id, ok: false, error: serializeError(err) });
    }
  } catch (err) {
    send({ type: "done", id: m.id, ok: false, error: serializeError(err) });
  } finally {
    if (current?.id === m.id) current = null;
  }
}

if (registry) {
  port.on("message", (m: ToThread) => {
    if (m.type === "run") void run(m);
    else if (m.type === "soft" && current?.id === m.id) current.controller.abort(new SoftTimeLimitExceeded(m.seconds));
    else if (m.type === "aborted") {
      pendingAsks.get(m.ask)?.(m.value);
      pendingAsks.delete(m.ask);
    }
  });
  send({ type: "ready", names: registry.names() });
}
