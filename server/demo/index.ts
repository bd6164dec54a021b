/**
 * The embedded demo workload for memory://: three TypeScript workers, a producer of realistic
 * tasks, and now and then a worker that "crashes" (or shuts down cleanly) and comes back, so
 * every page of the dashboard has something true to show on first run.
 *
 * Env knobs (read by compose.ts): PETAL_DEMO_RATE tasks/s (default: 10; 0 = workers only),
 * PETAL_DEMO_CHAOS=0 disables the worker crashes, PETAL_DEMO_SEED makes the workload repeatable.
 */
import os from "node:os";
import type { Broker, ResultBackend } from "../../lib/broker/types";
import { TaskRegistry } from "../../lib/engine/registry";
import { Worker } from "../../lib/engine/worker";
import type { DeadLetter, WorkerLogger } from "../../lib/engine/worker-options";
import type { Logger } from "../context";
import { DEMO_TASK_NAMES } from "./catalog";
import { Producer, type TaskSender } from "./producer";
import { int, seededRng, type Rng } from "./random";
import { registerDemoTasks } from "./tasks";

export interface DemoWorkerSpec {
  /** node name before the `@` */
  name: string;
  queues: string[];
  concurrency: number;
}

/** (default) every worker takes "celery", so tasks sent from the API always find one. */
export const DEMO_WORKERS: readonly DemoWorkerSpec[] = [
  { name: "worker1", queues: ["celery"], concurrency: 8 },
  { name: "worker2", queues: ["celery", "images"], concurrency: 4 },
  { name: "worker3", queues: ["celery", "ml"], concurrency: 6 },
];

export interface DemoOptions {
  /** mean tasks per second (default: 10) */
  rate?: number;
  /** crash/restart workers now and then (default: true) */
  chaos?: boolean;
  /** ms between two crashes, [min, max] (default: [120000, 240000]) */
  crashEveryMs?: [number, number];
  /** ms a crashed worker stays down, [min, max] (default: [20000, 40000]) */
  downForMs?: [number, number];
  /** worker-heartbeat period, seconds (default: 2) */
  heartbeatInterval?: number;
  /** how long stop() lets running tasks finish before aborting them, ms (default: 2000) */
  shutdownTimeoutMs?: number;
  /** seed for a repeatable workload (default: random) */
  seed?: number;
  /** host part of the node names (default: os.hostname()) */
  host?: string;
  workers?: readonly DemoWorkerSpec[];
}

export interface DemoDeps {
  broker: Broker;
  results: ResultBackend;
  /** sends the produced tasks (the same Client the HTTP API uses) */
  client: TaskSender;
  /** where the demo tasks are registered; pass the one the Client routes by (default: a new one) */
  registry?: TaskRegistry;
  log: Logger;
  onDeadLetter?: (d: DeadLetter) => void;
}

interface Slot {
  spec: DemoWorkerSpec;
  hostname: string;
  worker: Worker | null;
  /** pending restart */
  timer: NodeJS.Timeout | null;
}

export class Demo {
  /** the registry every demo worker shares */
  readonly registry: TaskRegistry;
  readonly taskNames: readonly string[] = DEMO_TASK_NAMES;
  private readonly rng: Rng;
  private readonly slots: Slot[];
  private readonly producer: Producer;
  private chaosTimer: NodeJS.Timeout | null = null;
  private running = false;
  private readonly workerLog: WorkerLogger;

  constructor(
    private readonly deps: DemoDeps,
    private readonly opts: DemoOptions = {},
  ) {
    this.registry = deps.registry ?? new TaskRegistry();
    this.rng = seededRng(opts.seed ?? Math.floor(Math.random() * 2 ** 32));
    registerDemoTasks(this.registry, this.rng);
    const host = opts.host ?? os.hostname();
    this.slots = (opts.workers ?? DEMO_WORKERS).map((spec) => ({ spec, hostname: `${spec.name}@${host}`, worker: null, timer: null }));
    this.producer = new Producer(deps.client, this.rng, {
      rate: opts.rate ?? 10,
      onError: (err) => deps.log.warn("demo producer: send failed", { err: String(err) }),
    });
    const log = deps.log;
    this.workerLog = {
      info: (m) => log.debug(m),
      warn: (m, ...r) => log.warn(m, r.length ? { detail: r.map(String).join(" ") } : undefined),
      error: (m, ...r) => log.error(m, r.length ? { detail: r.map(String).join(" ") } : undefined),
    };
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await Promise.all(this.slots.map((s) => this.startSlot(s)));
    this.producer.start();
    if (this.opts.chaos ?? true) this.scheduleCrash();
    this.deps.log.info("demo workload started", { workers: this.slots.length, rate: this.opts.rate ?? 10 });
  }

  /** Stop producing, then stop the workers gracefully (running tasks get shutdownTimeoutMs). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.producer.stop();
    if (this.chaosTimer) clearTimeout(this.chaosTimer);
    this.chaosTimer = null;
    const timeoutMs = this.opts.shutdownTimeoutMs ?? 2000;
    await Promise.all(
      this.slots.map(async (s) => {
        if (s.timer) clearTimeout(s.timer);
        s.timer = null;
        const w = s.worker;
        s.worker = null;
        if (w) await w.stop({ graceful: true, timeoutMs }).catch((err: unknown) => this.deps.log.warn("demo worker stop failed", { worker: s.hostname, err: String(err) }));
      }),
    );
  }

  /** Queues each running demo worker consumes (from the worker itself, so add_consumer shows). */
  queueConsumers(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const s of this.slots) {
      if (!s.worker || s.worker.state !== "running") continue;
      for (const q of s.worker.stats().queues) (out[q] ??= []).push(s.hostname);
    }
    return out;
  }

  /** Node names and whether each is up (tests, logs). */
  workers(): { hostname: string; running: boolean }[] {
    return this.slots.map((s) => ({ hostname: s.hostname, running: s.worker?.state === "running" }));
  }

  /** tasks the producer sent */
  get sent(): number {
    return this.producer.sent;
  }

  /** Take one worker down now (crash = no worker-offline) and bring it back after `downMs`. */
  async crashOne(mode: "crash" | "graceful" = "crash", downMs?: number): Promise<string | null> {
    const up = this.slots.filter((s) => s.worker && s.worker.state === "running");
    if (up.length === 0) return null;
    const slot = up[Math.floor(this.rng() * up.length)]!;
    const w = slot.worker!;
    slot.worker = null;
    this.deps.log.info(mode === "crash" ? "demo: worker crashed" : "demo: worker shutting down", { worker: slot.hostname });
    await w.stop(mode === "crash" ? { graceful: false } : { graceful: true, timeoutMs: 5000 }).catch(() => {});
    const [min, max] = this.opts.downForMs ?? [20_000, 40_000];
    slot.timer = setTimeout(() => {
      slot.timer = null;
      if (this.running) void this.startSlot(slot).then(() => this.deps.log.info("demo: worker back", { worker: slot.hostname }));
    }, downMs ?? int(this.rng, min, max));
    slot.timer.unref();
    return slot.hostname;
  }

  private scheduleCrash(): void {
    const [min, max] = this.opts.crashEveryMs ?? [120_000, 240_000];
    this.chaosTimer = setTimeout(() => {
      this.chaosTimer = null;
      if (!this.running) return;
      void this.crashOne(this.rng() < 0.5 ? "crash" : "graceful").finally(() => {
        if (this.running) this.scheduleCrash();
      });
    }, int(this.rng, min, max));
    this.chaosTimer.unref();
  }

  private async startSlot(slot: Slot): Promise<void> {
    const w = new Worker({
      broker: this.deps.broker,
      results: this.deps.results,
      registry: this.registry,
      hostname: slot.hostname,
      concurrency: slot.spec.concurrency,
      queues: slot.spec.queues,
      heartbeatInterval: this.opts.heartbeatInterval ?? 2,
      logger: this.workerLog,
      onDeadLetter: this.deps.onDeadLetter,
    });
    slot.worker = w;
    try {
      await w.start();
    } catch (err) {
      slot.worker = null;
      this.deps.log.error("demo worker failed to start", { worker: slot.hostname, err: String(err) });
    }
  }
}

export { DEMO_TASKS, DEMO_TASK_NAMES, DEMO_QUEUES } from "./catalog";
export { rateAt } from "./producer";
