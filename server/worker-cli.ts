/**
 * `petal worker`: a Petal worker process with Celery's flags, running the tasks of a TypeScript
 * module against a shared broker, so Petal (or Flower) sees it next to Python Celery workers.
 *
 *   petal worker --broker redis://127.0.0.1:6379/0 --app ./tasks.ts -c 4 -Q celery,images -n w1@%h -P threads
 *
 * The task module's default export registers its tasks (lib/engine/pool/app-module.ts).
 * SIGTERM/SIGINT = warm shutdown (running tasks finish); a second signal = cold (exit now).
 */
import os from "node:os";
import { format } from "node:util";
import { Command, CommanderError, Option } from "commander";
import { untilConnected } from "../lib/broker/connect-retry";
import { createBroker } from "../lib/broker/index";
import { MemoryResultBackend } from "../lib/broker/memory/results";
import { RedisBroker } from "../lib/broker/redis/index";
import { RedisResultBackend } from "../lib/broker/redis/results";
import type { Broker, ResultBackend } from "../lib/broker/types";
import { AsyncPool, loadApp, resolveAppUrl, ThreadPool, type ExecutionPool, type PoolKind } from "../lib/engine/pool/index";
import { TaskRegistry } from "../lib/engine/registry";
import { Worker } from "../lib/engine/worker";
import type { WorkerLogger } from "../lib/engine/worker-options";
import { createLogger, LOG_LEVELS, redactUrl, type LogLevel } from "./log";

/** copies of one signal closer than this are one signal (npm and the terminal both forward Ctrl-C) (default: 500 ms) */
const DUPLICATE_SIGNAL_MS = 500;
/**
 * A stop that needs the broker (requeues, the offline event) waits for as long as the broker is
 * away: past these, the process exits anyway. Nothing is lost: unacked messages come back after
 * the visibility timeout. Cold: ms (default: 5000); warm: ms beyond --shutdown-timeout (default: 10000).
 */
const COLD_STOP_DEADLINE_MS = 5000;
const WARM_STOP_GRACE_MS = 10_000;

export interface WorkerCliConfig {
  broker: string;
  /** result backend URL (default: the broker URL) */
  results: string;
  /** file: URL of the task module */
  app: string;
  /** (default: the number of CPUs, as Celery) */
  concurrency: number;
  /** (default: ["celery"]) */
  queues: string[];
  /** (default: "celery@%h") */
  hostname: string;
  /** (default: "async") */
  pool: PoolKind;
  /** (default: "info") */
  logLevel: LogLevel;
  /** seconds between worker-heartbeat events (default: 2) */
  heartbeatInterval: number;
  /** (default: 4) */
  prefetchMultiplier: number;
  /** task events (Celery's -E); on unless --no-task-events (default: true) */
  taskEvents: boolean;
  /** how long a warm shutdown waits for running tasks, s (default: 30) */
  shutdownTimeout: number;
  /** Celery's broker global_keyprefix, before every broker key and channel; not results (default: none) */
  globalKeyprefix?: string;
}

export type WorkerCliResult =
  | { kind: "run"; config: WorkerCliConfig; warnings: string[] }
  | { kind: "exit"; code: number; output: string; stream: "stdout" | "stderr" };

type Env = Record<string, string | undefined>;

class UsageError extends Error {}

const POOLS: readonly PoolKind[] = ["async", "threads"];
/** Celery's pool names mapped to ours: solo/gevent/eventlet run on one loop, prefork/processes in parallel */
const POOL_ALIASES: Record<string, PoolKind> = { solo: "async", gevent: "async", eventlet: "async", prefork: "threads", processes: "threads" };
/** Celery's log level names → ours */
const LEVEL_ALIASES: Record<string, LogLevel> = { warning: "warn", critical: "error", fatal: "error" };
/** Celery flags accepted for copy-paste compatibility that change nothing here */
const IGNORED_FLAGS = ["without-heartbeat", "without-gossip", "without-mingle", "beat", "optimization", "pidfile", "logfile"];

function positiveInt(raw: string, what: string): number {
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1) throw new UsageError(`invalid ${what} ${JSON.stringify(raw)}: expected a positive integer`);
  return Number(raw);
}

function positiveNumber(raw: string, what: string): number {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || n <= 0) throw new UsageError(`invalid ${what} ${JSON.stringify(raw)}: expected a positive number`);
  return n;
}

function parsePool(raw: string): PoolKind {
  const p = raw.trim().toLowerCase();
  const kind = (POOLS as readonly string[]).includes(p) ? (p as PoolKind) : POOL_ALIASES[p];
  if (!kind) throw new UsageError(`invalid pool ${JSON.stringify(raw)}: expected ${POOLS.join(" or ")}`);
  return kind;
}

function parseLevel(raw: string): LogLevel {
  const l = raw.trim().toLowerCase();
  const level = (LOG_LEVELS as readonly string[]).includes(l) ? (l as LogLevel) : LEVEL_ALIASES[l];
  if (!level) throw new UsageError(`invalid log level ${JSON.stringify(raw)}: expected ${LOG_LEVELS.join(", ")}`);
  return level;
}

function parseQueues(raw: string[]): string[] {
  const queues = raw.flatMap((r) => r.split(",")).map((q) => q.trim()).filter((q) => q !== "");
  if (queues.length === 0) throw new UsageError("no queue named: -Q expects e.g. celery,images");
  return [...new Set(queues)];
}

interface RawFlags {
  broker?: string;
  resultBackend?: string;
  app?: string;
  concurrency?: string;
  queues?: string[];
  hostname?: string;
  pool?: string;
  loglevel?: string;
  heartbeatInterval?: string;
  prefetchMultiplier?: string;
  taskEvents?: boolean;
  shutdownTimeout?: string;
  globalKeyprefix?: string;
  [ignored: string]: unknown;
}

/** Parse `petal worker` argv (after "worker") and env. Never exits: tests call it. */
export function parseWorkerCli(argv: string[], env: Env, cwd: string = process.cwd()): WorkerCliResult {
  let out = "";
  let err = "";
  let result: WorkerCliResult | null = null;
  const program = new Command("petal worker")
    .description("run TypeScript tasks as a Celery-compatible worker")
    .configureOutput({ writeOut: (s) => void (out += s), writeErr: (s) => void (err += s) })
    .exitOverride()
    .option("-b, --broker <url>", "broker URL (env PETAL_BROKER, CELERY_BROKER_URL, BROKER_URL; default: redis://127.0.0.1:6379/0)")
    .option("--result-backend <url>", "result backend URL (env CELERY_RESULT_BACKEND; default: the broker URL)")
    .option("-A, --app <module>", "task module whose default export registers the tasks (env PETAL_APP)")
    .option("-c, --concurrency <n>", `tasks run at once (default: the number of CPUs, ${os.availableParallelism()})`)
    .option("-Q, --queues <names...>", "queues to consume, comma-separated (default: celery)")
    .option("-n, --hostname <name>", "node name; %h = host, %n = short host, %d = domain (default: celery@%h)")
    .option("-P, --pool <kind>", "async: handlers share the worker's event loop; threads: each slot is a worker thread (default: async)")
    .option("-l, --loglevel <level>", "debug, info, warn(ing) or error (default: info)")
    .option("--heartbeat-interval <s>", "seconds between worker-heartbeat events (default: 2)")
    .option("--prefetch-multiplier <n>", "messages prefetched per slot (default: 4)")
    .option("-E, --task-events", "send task events (on by default: Petal needs them)")
    .option("--no-task-events", "send worker events only")
    .option("--shutdown-timeout <s>", "how long a warm shutdown waits for running tasks (default: 30)")
    .option("--global-keyprefix <prefix>", "Celery's broker_transport_options global_keyprefix, put before every broker key and channel; result keys stay as they are (env PETAL_GLOBAL_KEYPREFIX)");
  for (const name of IGNORED_FLAGS) program.addOption(new Option(`--${name} [value]`).hideHelp());
  program.action((flags: RawFlags) => {
    const warnings = IGNORED_FLAGS.filter((n) => flags[n.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())] !== undefined).map(
      (n) => `ignoring Celery option --${n}: no effect on a Petal worker`,
    );
    const broker = (flags.broker ?? env.PETAL_BROKER ?? env.CELERY_BROKER_URL ?? env.BROKER_URL ?? "redis://127.0.0.1:6379/0").trim();
    if (!/^(memory|redis|rediss|sentinel):\/\//i.test(broker)) throw new UsageError("invalid broker URL: expected redis://host:port/db (or memory:// for tests)");
    const results = (flags.resultBackend ?? env.CELERY_RESULT_BACKEND ?? broker).trim();
    if (!/^(memory|redis|rediss):\/\//i.test(results)) throw new UsageError("invalid result backend URL: expected redis://host:port/db");
    if (broker.startsWith("memory://")) warnings.push("memory:// lives inside this process: no other process sees this worker (tests only)");
    const app = flags.app ?? env.PETAL_APP;
    if (!app) throw new UsageError("missing --app <module>: the task module to run, e.g. --app examples/tasks.ts");
    result = {
      kind: "run",
      warnings,
      config: {
        broker,
        results,
        app: resolveAppUrl(app, cwd),
        concurrency: flags.concurrency !== undefined ? positiveInt(flags.concurrency, "concurrency") : os.availableParallelism(),
        queues: flags.queues ? parseQueues(flags.queues) : ["celery"],
        hostname: flags.hostname ?? "celery@%h",
        pool: flags.pool !== undefined ? parsePool(flags.pool) : "async",
        logLevel: flags.loglevel !== undefined ? parseLevel(flags.loglevel) : "info",
        heartbeatInterval: flags.heartbeatInterval !== undefined ? positiveNumber(flags.heartbeatInterval, "heartbeat interval") : 2,
        prefetchMultiplier: flags.prefetchMultiplier !== undefined ? positiveInt(flags.prefetchMultiplier, "prefetch multiplier") : 4,
        taskEvents: flags.taskEvents !== false,
        shutdownTimeout: flags.shutdownTimeout !== undefined ? positiveNumber(flags.shutdownTimeout, "shutdown timeout") : 30,
        globalKeyprefix: flags.globalKeyprefix ?? env.PETAL_GLOBAL_KEYPREFIX,
      },
    };
  });
  try {
    program.parse(argv, { from: "user" });
  } catch (e) {
    if (e instanceof UsageError) return { kind: "exit", code: 2, output: `petal worker: ${e.message}\n`, stream: "stderr" };
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return { kind: "exit", code: 0, output: out, stream: "stdout" };
      const line = (err.trim().split("\n")[0] || e.message).replace(/^error: /, "");
      return { kind: "exit", code: 2, output: `petal worker: ${line}\n`, stream: "stderr" };
    }
    throw e;
  }
  return result ?? { kind: "exit", code: 2, output: "petal worker: nothing to do\n", stream: "stderr" };
}

export interface RunningWorker {
  worker: Worker;
  registry: TaskRegistry;
  /** warm (graceful) by default; cold stops at once and requeues unfinished messages */
  stop(opts?: { graceful?: boolean }): Promise<void>;
}

function createResults(url: string, broker: Broker, brokerUrl: string): ResultBackend {
  if (url.startsWith("memory://")) return new MemoryResultBackend();
  // Results on the broker's own Redis share its command connection: a loop turn's acks, events
  // and result stores then leave in one socket write. Result keys stay unprefixed under
  // --global-keyprefix, as Celery's backend keeps them (its own transport options, 5.3+).
  if (broker instanceof RedisBroker && url === brokerUrl) return new RedisResultBackend(url, { shareConnection: broker });
  return new RedisResultBackend(url);
}

/**
 * Load the app, connect, start the worker. `broker`/`results` may be given (tests on one
 * MemoryBroker); otherwise they come from the config's URLs and are closed by stop().
 */
export async function startWorker(
  config: WorkerCliConfig,
  deps: { broker?: Broker; results?: ResultBackend; logger?: WorkerLogger; onShutdown?: () => void } = {},
): Promise<RunningWorker> {
  const registry = await loadApp(config.app);
  if (registry.names().length === 0) throw new Error(`${config.app} registered no tasks`);
  const logger = deps.logger ?? workerLogger(config.logLevel);
  const ownBroker = !deps.broker;
  const broker = deps.broker ?? createBroker(config.broker, { redis: { globalKeyprefix: config.globalKeyprefix } });
  const results = deps.results ?? createResults(config.results, broker, config.broker);
  const pool: ExecutionPool =
    config.pool === "threads" ? new ThreadPool({ app: config.app, onError: (m, e) => logger.error(m, e) }) : new AsyncPool();
  const worker = new Worker({
    broker,
    results,
    registry,
    pool,
    hostname: config.hostname,
    concurrency: config.concurrency,
    queues: config.queues,
    heartbeatInterval: config.heartbeatInterval,
    prefetchMultiplier: config.prefetchMultiplier,
    sendEvents: config.taskEvents,
    shutdownTimeoutMs: config.shutdownTimeout * 1000,
    logger,
    onShutdown: deps.onShutdown,
  });
  const release = async () => {
    if (!ownBroker) return;
    await Promise.allSettled([results.close(), broker.close()]);
  };
  try {
    // Like Celery's worker (broker_connection_retry_on_startup): wait for a broker that is not up yet.
    if (ownBroker)
      await untilConnected(() => broker.connect(), {
        onRetry: (err, attempt, delayMs) => logger.error(`${err.message}. Trying again in ${delayMs / 1000} s (attempt ${attempt})`),
      });
    await worker.start();
  } catch (err) {
    await worker.stop({ graceful: false }).catch(() => {});
    await release();
    throw err;
  }
  return {
    worker,
    registry,
    stop: async ({ graceful = true } = {}) => {
      await worker.stop({ graceful });
      await release();
    },
  };
}

function workerLogger(level: LogLevel): WorkerLogger {
  const log = createLogger({ level });
  return {
    info: (m, ...rest) => log.info(rest.length ? format(m, ...rest) : m),
    warn: (m, ...rest) => log.warn(rest.length ? format(m, ...rest) : m),
    error: (m, ...rest) => log.error(rest.length ? format(m, ...rest) : m),
  };
}

/** Process entry of `petal worker`: parse, start, print a banner, wire signals. */
export async function runWorkerCli(argv: string[], env: Env = process.env): Promise<void> {
  const cli = parseWorkerCli(argv, env);
  if (cli.kind === "exit") {
    (cli.stream === "stdout" ? process.stdout : process.stderr).write(cli.output);
    process.exit(cli.code);
  }
  const { config } = cli;
  for (const w of cli.warnings) process.stderr.write(`petal worker: warning: ${w}\n`);
  const log = createLogger({ level: config.logLevel });
  let running: RunningWorker;
  try {
    running = await startWorker(config, {
      // the remote `shutdown` command: the worker stopped warm already, release and leave
      onShutdown: () => void running.stop().finally(() => process.exit(0)),
    });
  } catch (err) {
    process.stderr.write(`petal worker: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  const w = running.worker;
  process.stdout.write(
    `petal worker ${w.hostname} ready: broker ${redactUrl(config.broker)}, pool ${config.pool} × ${config.concurrency}, ` +
      `queues ${config.queues.join(",")}, tasks ${running.registry.names().join(", ")}\n`,
  );
  let first: { sig: NodeJS.Signals; at: number } | null = null;
  const exitAfter = (ms: number) => {
    setTimeout(() => {
      log.error(`shutdown did not finish within ${ms / 1000} s (is the broker reachable?); exiting. Unacked messages come back after the visibility timeout`);
      process.exit(1);
    }, ms).unref();
  };
  const onSignal = (sig: NodeJS.Signals) => {
    if (first) {
      if (sig === first.sig && performance.now() - first.at < DUPLICATE_SIGNAL_MS) return;
      log.warn("cold shutdown: running tasks are abandoned, prefetched messages go back to the broker", { signal: sig });
      exitAfter(COLD_STOP_DEADLINE_MS);
      running.stop({ graceful: false }).finally(() => process.exit(1));
      return;
    }
    first = { sig, at: performance.now() };
    log.info("warm shutdown: waiting for running tasks (press again for cold shutdown)", { signal: sig, active: w.stats().active });
    exitAfter(config.shutdownTimeout * 1000 + WARM_STOP_GRACE_MS);
    running.stop({ graceful: true }).then(
      () => process.exit(0),
      (err: unknown) => {
        log.error("shutdown failed", { err });
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}
