/**
 * Remote control (pidbox) as a Celery 5 worker answers it (PROTOCOL.md §6): filtering by
 * destination/pattern, the commands Flower and `celery inspect/control` use, Celery's reply
 * texts, and `{"error": "<repr>"}` for failures and unknown methods.
 */
import type { IncomingControl } from "../broker/types";
import { err as nok, matchesDestination, ok } from "../protocol/control";
import { pythonRepr } from "../protocol/repr";
import { excRepr, signalNumber } from "./errors";
import { parseRateLimit } from "./rate-limit";
import {
  activeQueue,
  activeRequests,
  celeryConf,
  celeryStats,
  queryTasks,
  reservedRequests,
  scheduledRequests,
} from "./worker-info";
import type { WorkerCore } from "./worker-core";

type Args = Record<string, unknown>;
type Handler = (w: WorkerCore, args: Args) => unknown;

/** An error whose repr reads like the Python exception Celery would raise (`ValueError('…')`). */
class PyError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

function idList(v: unknown): string[] {
  if (typeof v === "string") return v === "" ? [] : [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string" && x !== "");
  return [];
}

function intArg(v: unknown, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  const n = typeof v === "string" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n)) throw new PyError("ValueError", `invalid literal for int(): ${String(v)}`);
  return n;
}

function secondsArg(v: unknown): number | null {
  if (v === undefined || v === null) return null;
  const n = typeof v === "string" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isFinite(n) || n < 0) throw new PyError("ValueError", `could not convert to float: ${String(v)}`);
  return n === 0 ? null : n;
}

function queueArg(v: unknown): string {
  if (typeof v !== "string" || v === "") throw new PyError("TypeError", "queue must be a non-empty string");
  return v;
}

function revoke(w: WorkerCore, args: Args): unknown {
  const ids = idList(args.task_id);
  for (const id of ids) w.revoked.add(id);
  const found: string[] = [];
  if (args.terminate === true) {
    const signum = signalNumber(typeof args.signal === "string" || typeof args.signal === "number" ? args.signal : "SIGTERM");
    const wanted = new Set(ids);
    for (const r of [...w.active]) {
      if (!wanted.has(r.id) || !r.interrupt) continue;
      found.push(r.id);
      r.interrupt({ kind: "terminated", signum });
    }
  }
  for (const id of ids) if (w.revokeWaiting(id) && !found.includes(id)) found.push(id);
  if (args.terminate === true) return ok(found.length ? `terminate: ${found.join(", ")}` : "terminate: tasks unknown");
  return ok(`tasks ${ids.join(", ")} flagged as revoked`);
}

function rateLimit(w: WorkerCore, args: Args): unknown {
  const name = args.task_name;
  const rate = args.rate_limit;
  let perSecond: number;
  try {
    if (rate !== null && rate !== undefined && typeof rate !== "string" && typeof rate !== "number")
      throw new RangeError(`Invalid rate limit string: ${String(rate)}`);
    perSecond = parseRateLimit(rate);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return nok(`Invalid rate limit string: ${excRepr(new PyError("ValueError", message))}`);
  }
  if (typeof name !== "string" || !w.opts.registry.has(name)) return nok("unknown task");
  w.rateLimits.set(name, rate ?? null);
  w.resetRateLimit(name);
  return perSecond > 0
    ? ok("new rate limit set successfully")
    : ok("rate limit disabled successfully");
}

function timeLimit(w: WorkerCore, args: Args): unknown {
  const name = args.task_name;
  if (typeof name !== "string" || !w.opts.registry.has(name)) return nok("unknown task");
  w.timeLimits.set(name, { soft: secondsArg(args.soft), hard: secondsArg(args.hard) });
  return ok("time limits set successfully");
}

function hello(w: WorkerCore, args: Args): unknown {
  if (args.from_node === w.hostname) return null; // our own hello (Celery answers None)
  const theirs = args.revoked;
  const ids = Array.isArray(theirs) ? theirs : theirs && typeof theirs === "object" ? Object.keys(theirs) : [];
  for (const id of ids) if (typeof id === "string") w.revoked.add(id);
  // A list of ids, not Celery's {id: float} dict: Python's mingle rejects JSON ints as timestamps.
  return { revoked: w.revoked.ids(), clock: w.clock.tick() };
}

const HANDLERS = new Map<string, Handler>([
  ["ping", () => ok("pong")],
  ["stats", (w) => celeryStats(w)],
  ["active", (w, a) => activeRequests(w, a.safe === true)],
  ["reserved", (w) => reservedRequests(w)],
  ["scheduled", (w) => scheduledRequests(w)],
  ["revoked", (w) => w.revoked.ids()],
  ["registered", (w) => w.opts.registry.names()],
  ["active_queues", (w) => w.queues.map(activeQueue)],
  ["conf", (w) => celeryConf(w)],
  ["query_task", (w, a) => queryTasks(w, idList(a.ids))],
  ["revoke", revoke],
  ["rate_limit", rateLimit],
  ["time_limit", timeLimit],
  [
    "pool_grow",
    (w, a) => {
      const n = intArg(a.n, 1);
      w.setConcurrency(w.concurrency + Math.max(0, n));
      return ok("pool will grow");
    },
  ],
  [
    "pool_shrink",
    (w, a) => {
      const n = intArg(a.n, 1);
      if (w.concurrency - n < 1) throw new PyError("ValueError", "Can't shrink pool. All processes busy!");
      w.setConcurrency(w.concurrency - Math.max(0, n));
      return ok("pool will shrink");
    },
  ],
  [
    "autoscale",
    (w, a) => {
      if (!w.autoscale) throw new PyError("ValueError", "Autoscale not enabled");
      const max = intArg(a.max, w.autoscale.max);
      const min = intArg(a.min, w.autoscale.min);
      if (min < 1 || max < min) throw new PyError("ValueError", "autoscale needs max >= min >= 1");
      w.autoscale = { max, min };
      w.setConcurrency(max);
      return ok(`autoscale now max=${max} min=${min}`);
    },
  ],
  [
    "add_consumer",
    (w, a) => {
      const q = queueArg(a.queue);
      w.addQueue(q);
      return ok(`add consumer ${q}`);
    },
  ],
  [
    "cancel_consumer",
    (w, a) => {
      const q = queueArg(a.queue);
      w.removeQueue(q);
      return ok(`no longer consuming from ${q}`);
    },
  ],
  [
    "enable_events",
    (w) => {
      if (w.taskEvents) return ok("task events already enabled");
      w.taskEvents = true;
      return ok("task events enabled");
    },
  ],
  [
    "disable_events",
    (w) => {
      if (!w.taskEvents) return ok("task events already disabled");
      w.taskEvents = false;
      return ok("task events disabled");
    },
  ],
  [
    "heartbeat",
    (w) => {
      void w.sendWorkerEvent("worker-heartbeat");
      return null;
    },
  ],
  ["pool_restart", () => ok("reload started")],
  ["hello", hello],
]);

/** Handle one broadcast: filter, dispatch, reply `{node: value}` (shutdown never replies, as Celery). */
export async function handleControl(w: WorkerCore, c: IncomingControl): Promise<void> {
  const req = c.request;
  if (!req || typeof req !== "object" || typeof req.method !== "string") return;
  if (!matchesDestination(req, w.hostname)) return;
  const clock = (c as IncomingControl & { clock?: unknown }).clock;
  if (typeof clock === "number" && Number.isFinite(clock)) w.clock.adjust(clock);
  if (w.runState === "stopped") return;
  const args: Args = req.arguments && typeof req.arguments === "object" && !Array.isArray(req.arguments) ? req.arguments : {};

  if (req.method === "shutdown") {
    w.opts.logger.info(`[${w.hostname}] Got shutdown from remote`);
    await w.stop(true, w.opts.shutdownTimeoutMs);
    try {
      w.opts.onShutdown?.();
    } catch (error) {
      w.reportError("onShutdown", error);
    }
    return;
  }
  const handler = HANDLERS.get(req.method);
  let value: unknown;
  if (!handler) value = nok(`KeyError(${pythonRepr(req.method)})`);
  else {
    try {
      value = await handler(w, args);
    } catch (error) {
      value = nok(excRepr(error));
    }
  }
  await c.reply({ [w.hostname]: value });
}

/** Celery's mingle at start: learn revoked ids and the clock from the workers already running. */
export async function mingle(w: WorkerCore, timeoutMs: number): Promise<void> {
  try {
    const replies = await w.opts.broker.broadcast(
      { method: "hello", arguments: { from_node: w.hostname, revoked: {} }, destination: null, pattern: null, matcher: null },
      { timeout: timeoutMs },
    );
    for (const reply of replies) {
      for (const [node, value] of Object.entries(reply)) {
        if (node === w.hostname || !value || typeof value !== "object") continue;
        const v = value as { revoked?: unknown; clock?: unknown };
        const ids = Array.isArray(v.revoked) ? v.revoked : v.revoked && typeof v.revoked === "object" ? Object.keys(v.revoked) : [];
        for (const id of ids) if (typeof id === "string") w.revoked.add(id);
        if (typeof v.clock === "number" && Number.isFinite(v.clock)) w.clock.adjust(v.clock);
      }
    }
  } catch (error) {
    w.reportError("mingle", error);
  }
}
