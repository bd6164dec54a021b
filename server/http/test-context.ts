/**
 * A real ServerContext for tests (http, realtime, e2e): memory:// broker and result backend,
 * ClusterState fed by the real Ingest, an engine Client, and embedded engine Workers running a
 * few test tasks. Nothing is faked, so tests exercise the same paths as production.
 *
 *   const t = await createTestContext();
 *   … t.ctx …
 *   await t.close();
 */
import { createBroker } from "../../lib/broker/index";
import { MemoryResultBackend } from "../../lib/broker/memory/results";
import type { Broker } from "../../lib/broker/types";
import { Client } from "../../lib/engine/client";
import { TaskRegistry, type TaskHandler, type TaskOptions } from "../../lib/engine/registry";
import { Worker } from "../../lib/engine/worker";
import type { DeadLetter as EngineDeadLetter } from "../../lib/engine/worker-options";
import { ClusterState } from "../../lib/state";
import type { DeadLetter, Logger, PetalConfig, ServerContext } from "../context";
import { Ingest, type IngestOptions } from "../ingest";

/** A ValueError as Celery reports it (exc_type "ValueError", module builtins). */
export class ValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ValueError";
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
      },
      { once: true },
    );
  });

/** The test tasks every test context registers (names mirror FLOWER-API.md's `proj` app). */
export const TEST_TASKS: Record<string, TaskHandler> = {
  "test.add": (c) => (c.args[0] as number) + (c.args[1] as number) + ((c.kwargs.z as number | undefined) ?? 0),
  "test.fail": () => {
    throw new ValueError("boom: intentional failure");
  },
  /** sleeps `args[0]` seconds; stops early on revoke/terminate/shutdown */
  "test.slow": async (c) => {
    await sleep(Number(c.args[0] ?? 1) * 1000, c.signal);
    return c.args[0] ?? 1;
  },
  "test.echo": (c) => ({ args: c.args, kwargs: c.kwargs }),
};

export interface TestWorkerSpec {
  hostname: string;
  /** (default: 2) */
  concurrency?: number;
  /** (default: ["celery"]) */
  queues?: string[];
  autoscale?: { max: number; min: number } | null;
}

export interface TestContextOptions {
  /** overrides of the server config (default: Petal's defaults, demo off) */
  config?: Partial<PetalConfig>;
  /** embedded workers (default: one, "w1@test") */
  workers?: TestWorkerSpec[];
  /** extra tasks, added to TEST_TASKS */
  tasks?: Record<string, TaskHandler | { handler: TaskHandler; options: TaskOptions }>;
  /** worker heartbeat period, seconds (default: 0.2) */
  heartbeatInterval?: number;
  /** (default: flushMs 5, tickMs 200) */
  ingest?: IngestOptions;
}

export interface TestContext {
  ctx: ServerContext;
  broker: Broker;
  registry: TaskRegistry;
  workers: Worker[];
  ingest: Ingest;
  /** every ctx.log.error / warn line, so tests can assert nothing unexpected was logged */
  logged: { level: string; msg: string; extra?: Record<string, unknown> }[];
  /** resolve once `check` returns a truthy value (polled every 10 ms); reject after timeoutMs (default: 5000) */
  waitFor<T>(check: () => T | Promise<T>, timeoutMs?: number, what?: string): Promise<NonNullable<T>>;
  /** stop workers (crash-fast), ingest, broker and backend; idempotent */
  close(): Promise<void>;
}

export const TEST_CONFIG: PetalConfig = {
  port: 0,
  address: "127.0.0.1",
  broker: "memory://",
  demo: false,
  basicAuth: null,
  readOnly: false,
  maxTasks: 100_000,
  urlPrefix: "",
  dev: false,
  logLevel: "error",
};

export async function createTestContext(opts: TestContextOptions = {}): Promise<TestContext> {
  const logged: TestContext["logged"] = [];
  const log: Logger = {
    debug() {},
    info() {},
    warn: (msg, extra) => void logged.push({ level: "warn", msg, extra }),
    error: (msg, extra) => void logged.push({ level: "error", msg, extra }),
  };
  const config: PetalConfig = { ...TEST_CONFIG, ...opts.config };
  const broker = createBroker("memory://");
  const results = new MemoryResultBackend();
  const state = new ClusterState({ maxTasks: config.maxTasks });
  const registry = new TaskRegistry();
  for (const [name, h] of Object.entries({ ...TEST_TASKS, ...opts.tasks })) {
    if (typeof h === "function") registry.register(name, h);
    else registry.register(name, h.handler, h.options);
  }
  const client = new Client({ broker, results, registry });
  const deadLetters: DeadLetter[] = [];
  const onDeadLetter = (d: EngineDeadLetter) => {
    deadLetters.push({ at: Date.now() / 1000, queue: d.queue, reason: `${d.code}: ${d.reason}`, raw: JSON.stringify(d.envelope) });
  };
  const specs = opts.workers ?? [{ hostname: "w1@test" }];
  const workers = specs.map(
    (s) =>
      new Worker({
        broker,
        results,
        registry,
        hostname: s.hostname,
        concurrency: s.concurrency ?? 2,
        queues: s.queues ?? ["celery"],
        autoscale: s.autoscale ?? null,
        heartbeatInterval: opts.heartbeatInterval ?? 0.2,
        shutdownTimeoutMs: 2000,
        logger: { info() {}, warn() {}, error: (m: string) => void logged.push({ level: "error", msg: `worker: ${m}` }) },
        onDeadLetter,
      }),
  );
  const ingest = new Ingest(broker, state, log, { flushMs: 5, tickMs: 200, ...opts.ingest });

  const ctx: ServerContext = {
    config,
    broker,
    results,
    state,
    client,
    version: "0.0.0-test",
    deadLetters,
    queueConsumers: () => {
      const out: Record<string, string[]> = {};
      for (const w of workers) {
        if (w.state !== "running") continue;
        for (const q of w.stats().queues) (out[q] ??= []).push(w.hostname);
      }
      return out;
    },
    knownTaskNames: () => [...new Set([...registry.names(), ...state.taskTypes()])].sort(),
    log,
  };

  const waitFor = async <T>(check: () => T | Promise<T>, timeoutMs = 5000, what = "condition"): Promise<NonNullable<T>> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await check();
      if (v) return v as NonNullable<T>;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(10);
    }
  };

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      await Promise.all(workers.map((w) => w.stop({ graceful: false }).catch(() => undefined)));
      await ingest.stop().catch(() => undefined);
      await broker.close().catch(() => undefined);
      await results.close().catch(() => undefined);
    })());

  try {
    await broker.connect();
    await ingest.start();
    for (const w of workers) await w.start();
    await waitFor(() => specs.every((s) => ctx.state.getWorker(s.hostname)?.online), 5000, "workers online");
  } catch (err) {
    await close();
    throw err;
  }
  return { ctx, broker, registry, workers, ingest, logged, waitFor, close };
}
