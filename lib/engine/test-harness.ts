/**
 * Test harness for the engine's own tests: a memory broker + result backend, a client, workers,
 * and every event published, with helpers to wait for what a test expects. Not exported from
 * the engine's index.
 */
import type { Broker, Subscription } from "../broker/types";
import { MemoryBroker } from "../broker/memory/index";
import { MemoryResultBackend } from "../broker/memory/results";
import { Client } from "./client";
import { TaskRegistry } from "./registry";
import { Worker } from "./worker";
import type { WorkerOptions } from "./worker-options";

export type Ev = Record<string, unknown> & { type: string; uuid?: string; hostname: string; clock: number };

export interface Harness {
  broker: Broker;
  results: MemoryResultBackend;
  registry: TaskRegistry;
  client: Client;
  events: Ev[];
  workers: Worker[];
  worker(opts?: Partial<WorkerOptions>): Promise<Worker>;
  /** event types for one task id, in publish order */
  typesFor(id: string): string[];
  /**
   * The same without task-sent: a client publishes the message before its task-sent event (as
   * Celery does), so an in-process worker may well be first to speak.
   */
  workerTypes(id: string): string[];
  eventsOf(type: string, id?: string): Ev[];
  close(): Promise<void>;
}

export function makeBroker(): Broker {
  return new MemoryBroker();
}

export async function harness(): Promise<Harness> {
  const broker = makeBroker();
  await broker.connect();
  const results = new MemoryResultBackend();
  const registry = new TaskRegistry();
  const events: Ev[] = [];
  const sub: Subscription = await broker.subscribeEvents((batch) => {
    for (const e of batch.events) events.push(e as Ev);
  });
  const client = new Client({ broker, results, hostname: "gen1@test" });
  const workers: Worker[] = [];
  let n = 0;
  const h: Harness = {
    broker,
    results,
    registry,
    client,
    events,
    workers,
    async worker(opts = {}) {
      const w = new Worker({
        broker,
        results,
        registry,
        hostname: `w${++n}@test`,
        heartbeatInterval: 0.1,
        shutdownTimeoutMs: 2000,
        ...opts,
      });
      workers.push(w);
      await w.start();
      return w;
    },
    typesFor: (id) => events.filter((e) => e.uuid === id).map((e) => e.type),
    workerTypes: (id) => events.filter((e) => e.uuid === id && e.type !== "task-sent").map((e) => e.type),
    eventsOf: (type, id) => events.filter((e) => e.type === type && (id === undefined || e.uuid === id)),
    async close() {
      await Promise.allSettled(workers.map((w) => w.stop({ graceful: false })));
      await sub.close();
      await results.close();
      await broker.close();
    },
  };
  return h;
}

/** Poll until `fn` returns a truthy value (default: up to 3 s). */
export async function until<T>(fn: () => T | Promise<T>, timeoutMs = 3000, what = "condition"): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
