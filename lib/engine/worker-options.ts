/**
 * Worker configuration: Celery's worker settings under TS names, with their defaults, plus the
 * node-name expansion (`%h`, `%n`, `%d`) Celery's `-n` flag understands.
 */
import { readFileSync } from "node:fs";
import os from "node:os";
import type { Broker, ResultBackend } from "../broker/types";
import type { Envelope } from "../protocol/types";
import type { TaskRegistry } from "./registry";
import { AsyncPool } from "./pool/async-pool";
import type { ExecutionPool } from "./pool/types";

/** A message the worker could not accept; handed to `onDeadLetter` so it is never silently lost. */
export interface DeadLetter {
  /** the raw envelope as delivered */
  envelope: Envelope;
  /** why it was refused */
  reason: string;
  /** ProtocolError code ("bad_body", "no_task_name", …) or "internal" */
  code: string;
  queue: string;
  /** headers.id when the message had one */
  taskId: string | null;
}

export interface WorkerLogger {
  info(message: string, ...rest: unknown[]): void;
  warn(message: string, ...rest: unknown[]): void;
  error(message: string, ...rest: unknown[]): void;
}

export interface WorkerOptions {
  broker: Broker;
  results: ResultBackend;
  registry: TaskRegistry;
  /** node name; `%h` = host name, `%n` = its first label, `%d` = its domain (default: "celery@%h") */
  hostname?: string;
  /** tasks running at once (default: 4) */
  concurrency?: number;
  /**
   * where handlers run (`-P`): an AsyncPool on this event loop, or a ThreadPool of worker_threads
   * for CPU-bound tasks; the worker starts, resizes and closes it (default: new AsyncPool())
   */
  pool?: ExecutionPool;
  /** prefetch = concurrency × this (default: 4) */
  prefetchMultiplier?: number;
  /** queues consumed (default: ["celery"]) */
  queues?: string[];
  /** seconds between worker-heartbeat events, also sent as `freq` (default: 2) */
  heartbeatInterval?: number;
  /** send task events (`-E`); worker-* events are always sent (default: true) */
  sendEvents?: boolean;
  /** `sw_ident` of worker events (default: "petal") */
  swIdent?: string;
  /** `sw_ver` of worker events (default: package.json's version, else "0.1.0") */
  swVer?: string;
  /** allow the `autoscale` control command within these bounds; concurrency starts at max (default: off) */
  autoscale?: { max: number; min: number } | null;
  /**
   * Sync revoked ids and the clock from running workers at start (Celery's mingle), waiting
   * this many ms for `hello` replies; false = skip (default: false, so starts are instant)
   */
  mingle?: false | { timeoutMs: number };
  /** how long a graceful stop waits for running tasks, ms (default: 30000) */
  shutdownTimeoutMs?: number;
  /** revoked ids kept in memory (default: 50000, Celery's) */
  revokedMax?: number;
  /** seconds a revoked id is kept (default: 10800 = 3 h, Celery's) */
  revokedExpires?: number;
  /** default: warnings and errors on console.error, info dropped */
  logger?: WorkerLogger;
  /** a malformed message was rejected (default: logged) */
  onDeadLetter?: (d: DeadLetter) => void;
  /** called after a remote `shutdown` command finished the graceful stop */
  onShutdown?: () => void;
}

export interface ResolvedWorkerOptions {
  broker: Broker;
  results: ResultBackend;
  registry: TaskRegistry;
  hostname: string;
  concurrency: number;
  pool: ExecutionPool;
  prefetchMultiplier: number;
  queues: string[];
  heartbeatInterval: number;
  sendEvents: boolean;
  swIdent: string;
  swVer: string;
  autoscale: { max: number; min: number } | null;
  mingle: false | { timeoutMs: number };
  shutdownTimeoutMs: number;
  revokedMax: number;
  revokedExpires: number;
  logger: WorkerLogger;
  onDeadLetter: ((d: DeadLetter) => void) | null;
  onShutdown: (() => void) | null;
}

const quietLogger: WorkerLogger = {
  info() {},
  warn: (m, ...r) => console.error(m, ...r),
  error: (m, ...r) => console.error(m, ...r),
};

let packageVersion: string | null = null;

/** Petal's version from package.json, read once; "0.1.0" when it cannot be found. */
export function petalVersion(): string {
  if (packageVersion !== null) return packageVersion;
  packageVersion = "0.1.0";
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    const v = (pkg as { version?: unknown }).version;
    if (typeof v === "string" && v !== "") packageVersion = v;
  } catch {
    // bundled or installed elsewhere: keep the fallback
  }
  return packageVersion;
}

/** Celery's node-name expansion: `%h` full host, `%n` first label, `%d` domain, `%%` a percent. */
export function expandHostname(template: string, host: string = os.hostname()): string {
  const dot = host.indexOf(".");
  const name = dot === -1 ? host : host.slice(0, dot);
  const domain = dot === -1 ? "" : host.slice(dot + 1);
  const out = template.replace(/%([hnd%])/g, (_, c: string) => (c === "h" ? host : c === "n" ? name : c === "d" ? domain : "%"));
  // Celery turns a bare name into name@host.
  return out.includes("@") ? out : `${out}@${host}`;
}

function positiveInt(v: number | undefined, dflt: number, what: string): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${what} must be a positive integer`);
  return v;
}

export function resolveWorkerOptions(o: WorkerOptions): ResolvedWorkerOptions {
  if (!o.broker || !o.results || !o.registry) throw new TypeError("Worker needs broker, results and registry");
  const heartbeatInterval = o.heartbeatInterval ?? 2;
  if (!(heartbeatInterval > 0)) throw new RangeError("heartbeatInterval must be > 0 seconds");
  const queues = o.queues ?? ["celery"];
  if (queues.length === 0 || queues.some((q) => typeof q !== "string" || q === "")) throw new RangeError("queues must be non-empty names");
  const autoscale = o.autoscale ?? null;
  if (autoscale && !(autoscale.max >= autoscale.min && autoscale.min >= 1)) throw new RangeError("autoscale needs max >= min >= 1");
  return {
    broker: o.broker,
    results: o.results,
    registry: o.registry,
    hostname: expandHostname(o.hostname ?? "celery@%h"),
    concurrency: autoscale ? autoscale.max : positiveInt(o.concurrency, 4, "concurrency"),
    pool: o.pool ?? new AsyncPool(),
    prefetchMultiplier: positiveInt(o.prefetchMultiplier, 4, "prefetchMultiplier"),
    queues: [...new Set(queues)],
    heartbeatInterval,
    sendEvents: o.sendEvents ?? true,
    swIdent: o.swIdent ?? "petal",
    swVer: o.swVer ?? petalVersion(),
    autoscale: autoscale ? { ...autoscale } : null,
    mingle: o.mingle ?? false,
    shutdownTimeoutMs: o.shutdownTimeoutMs ?? 30_000,
    revokedMax: o.revokedMax ?? 50_000,
    revokedExpires: o.revokedExpires ?? 10_800,
    logger: o.logger ?? quietLogger,
    onDeadLetter: o.onDeadLetter ?? null,
    onShutdown: o.onShutdown ?? null,
  };
}
