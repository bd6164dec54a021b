/**
 * Reconciliation on memory:// with Petal's own workers (the demo's chaos path): a worker that
 * crashes under a running task, with and without a stored result, and a live worker whose task
 * stays STARTED.
 */
import { afterEach, describe, expect, it } from "vitest";
import { emptyTaskRecord } from "../../lib/protocol/api";
import { TaskRegistry, Worker } from "../../lib/engine";
import { compose, type Composition } from "../compose";
import { TEST_CONFIG } from "../http/test-context";
import { silentLogger } from "../log";

const until = async (cond: () => boolean, what: string, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe("reconciliation on memory://", () => {
  let c: Composition | null = null;
  const workers: Worker[] = [];
  const release: (() => void)[] = [];

  afterEach(async () => {
    for (const r of release.splice(0)) r();
    for (const w of workers.splice(0)) await w.stop({ graceful: false }).catch(() => undefined);
    await c?.close();
    c = null;
  });

  async function setup(before?: (c: Composition) => void | Promise<void>) {
    c = await compose(
      { ...TEST_CONFIG, demo: false },
      { log: silentLogger, env: {}, ingest: { flushMs: 5, tickMs: 50 }, reconcile: { startDelayMs: before ? 0 : -1, everyMs: 0, watchMs: 50, inspectTimeoutMs: 200 } },
    );
    await before?.(c);
    await c.start();
    const registry = new TaskRegistry();
    // Runs until released (or the worker dies under it).
    registry.register("t.block", () => new Promise<string>((resolve) => release.push(() => resolve("done"))));
    const { broker, results, client } = c.ctx;
    const worker = async (hostname: string, queue: string) => {
      const w = new Worker({ broker, results, registry, hostname, queues: [queue], heartbeatInterval: 0.1, concurrency: 1 });
      await w.start();
      workers.push(w);
      return w;
    };
    const state = c.ctx.state;
    const started = async (id: string) => until(() => state.getTask(id)?.state === "STARTED", `${id} STARTED`);
    return { c, worker, client, results, state, started };
  }

  it("a task STARTED on a crashed worker with no result fails with WorkerLostError once the worker is offline", async () => {
    const { worker, client, state, started } = await setup();
    const a = await worker("crashy@test", "q.crash");
    const r = await client.sendTask("t.block", [], {}, { queue: "q.crash" });
    await started(r.id);
    await a.stop({ graceful: false }); // no worker-offline: heartbeats just stop
    await until(() => state.getTask(r.id)?.state === "FAILURE", "FAILURE", 5000);
    const t = state.getTask(r.id)!;
    expect(t.exception).toMatch(/^WorkerLostError\('Worker crashy@test is offline and no worker reports task/);
    expect(t.worker).toBe("crashy@test");
    expect(state.getWorker("crashy@test")?.online).toBe(false);
    expect(state.overview().totals.failed).toBe(1);
    expect(c!.reconciler!.stats()).toMatchObject({ lost: 1, resolved: 0 });
  });

  it("takes the final state from the result backend when the dead worker stored one", async () => {
    const { worker, client, results, state, started } = await setup();
    const a = await worker("stored@test", "q.stored");
    const r = await client.sendTask("t.block", [], {}, { queue: "q.stored" });
    await started(r.id);
    await a.stop({ graceful: false });
    // As if the worker stored its result and died before its task-succeeded left.
    await results.store({ status: "SUCCESS", result: { rows: 3 }, traceback: null, children: [], date_done: new Date().toISOString().slice(0, 23), task_id: r.id });
    await until(() => state.getTask(r.id)?.state === "SUCCESS", "SUCCESS");
    expect(state.getTask(r.id)).toMatchObject({ result: "{'rows': 3}", worker: "stored@test" });
    expect(c!.reconciler!.stats()).toMatchObject({ lost: 0, resolved: 1 });
  });

  it("a task a live worker still runs stays STARTED", async () => {
    const { worker, client, state, started } = await setup();
    await worker("alive@test", "q.alive");
    const r = await client.sendTask("t.block", [], {}, { queue: "q.alive" });
    await started(r.id);
    const report = await c!.reconciler!.run({ reason: "manual" });
    expect(report).toMatchObject({ checked: 1, kept: 1, resolved: 0, lost: 0 });
    expect(report!.answered).toBeGreaterThanOrEqual(1);
    expect(state.getTask(r.id)?.state).toBe("STARTED");
  });

  it("a live worker's task whose events were missed: kept without evidence, resolved once the backend has its result", async () => {
    const { worker, results, state } = await setup();
    await worker("alive2@test", "q.alive2");
    const src = { hostname: "alive2@test", utcoffset: 0, pid: 1, timestamp: Date.now() / 1000 };
    c!.ingest.inject([
      { ...src, clock: 1, uuid: "ghost", name: "t.block", args: "()", kwargs: "{}", root_id: "ghost", parent_id: null, retries: 0, eta: null, expires: null, type: "task-received" },
      { ...src, clock: 2, uuid: "ghost", type: "task-started" },
    ]);
    await until(() => state.getTask("ghost")?.state === "STARTED", "ghost STARTED");
    expect(await c!.reconciler!.run({ reason: "manual" })).toMatchObject({ checked: 1, kept: 1, lost: 0 });
    expect(state.getTask("ghost")?.state).toBe("STARTED");

    await results.store({ status: "FAILURE", result: { exc_type: "KeyError", exc_message: ["k"], exc_module: "builtins" }, traceback: "Traceback (most recent call last):\nKeyError: 'k'", children: [], date_done: null, task_id: "ghost" });
    expect(await c!.reconciler!.run({ reason: "manual" })).toMatchObject({ checked: 1, resolved: 1 });
    expect(state.getTask("ghost")).toMatchObject({ state: "FAILURE", exception: "KeyError('k')", traceback: "Traceback (most recent call last):\nKeyError: 'k'" });
    expect(state.getWorker("alive2@test")?.online).toBe(true);
  });

  it("at start, tasks restored from history as STARTED on a worker nobody knows are reconciled", async () => {
    const old = Date.now() / 1000 - 3600;
    const restored = (id: string) => ({ ...emptyTaskRecord(id), name: "t.block", state: "STARTED" as const, worker: "gone@yesterday", received: old, started: old, timestamp: old, clock: 5 });
    const { state } = await setup(async (comp) => {
      comp.ctx.state.restoreTasks([restored("r-lost"), restored("r-done")]);
      await comp.ctx.results.store({ status: "SUCCESS", result: 7, traceback: null, children: [], date_done: null, task_id: "r-done" });
    });
    await until(() => state.getTask("r-lost")?.state === "FAILURE" && state.getTask("r-done")?.state === "SUCCESS", "start-up reconciliation");
    expect(state.getTask("r-lost")!.exception).toMatch(/^WorkerLostError\('Worker gone@yesterday is unknown to this dashboard/);
    expect(state.getTask("r-done")).toMatchObject({ result: "7", runtime: 0 });
    expect(c!.reconciler!.stats().lastRun).toMatchObject({ reason: "startup", checked: 2, lost: 1, resolved: 1 });
  });

  it("at start, tasks still PENDING from before the restart fail with MessageLost: memory:// queues died with that process", async () => {
    const old = Date.now() / 1000 - 3600;
    const pending = (id: string, at: number) => ({ ...emptyTaskRecord(id), name: "t.block", state: "PENDING" as const, sent: at, timestamp: at, clock: 1 });
    const { state } = await setup(async (comp) => {
      // p-new stands for a task this process sent (stamped after it composed): still in its queue.
      comp.ctx.state.restoreTasks([pending("p-old", old), pending("p-new", Date.now() / 1000)]);
    });
    await until(() => state.getTask("p-old")?.state === "FAILURE", "start-up reconciliation");
    expect(state.getTask("p-old")!.exception).toMatch(/^MessageLost\('Task p-old was still queued when Petal restarted; the memory:\/\/ broker/);
    expect(state.getTask("p-new")?.state).toBe("PENDING");
    expect(c!.reconciler!.stats().lastRun).toMatchObject({ reason: "startup", lost: 1 });
  });

  it("the periodic sweep only looks at tasks unchanged for staleAfterS", async () => {
    const now = Date.now() / 1000;
    const rec = (id: string, at: number) => ({ ...emptyTaskRecord(id), name: "t.block", state: "RECEIVED" as const, worker: "gone@old", received: at, timestamp: at, clock: 1 });
    const { state } = await setup();
    state.restoreTasks([rec("stale", now - 600), rec("fresh", now - 5)]);
    expect(await c!.reconciler!.run({ reason: "sweep", staleAfterS: 60 })).toMatchObject({ checked: 1, lost: 1 });
    expect(state.getTask("stale")?.state).toBe("FAILURE");
    expect(state.getTask("fresh")?.state).toBe("RECEIVED");
  });
});
