/**
 * Reconciliation with real Celery 5 workers (Debian's python3-celery) on a private redis-server:
 * a task STARTED on a worker killed with SIGKILL becomes FAILURE (WorkerLostError) when the
 * result backend has nothing, or takes the backend's final state; a task a live worker is still
 * running stays STARTED. Workers use the threads pool so SIGKILL takes the running task with it
 * and heartbeats keep flowing while it runs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useRedisServer } from "../../lib/testing/redis-fixture";
import { requireCelery, requireRedis } from "../../lib/testing/redis-server";
import { startCeleryWorker, until, type CeleryWorker } from "../../interop/celery";
import { compose, type Composition } from "../compose";
import { TEST_CONFIG } from "../http/test-context";
import { silentLogger } from "../log";

const skip = requireRedis() || requireCelery();
if (skip) console.log(`reconciliation with Celery skipped: ${skip}`);

describe.skipIf(!!skip)("reconciliation with Celery workers (redis://)", () => {
  const redis = useRedisServer();
  let c: Composition;
  const workers: CeleryWorker[] = [];

  beforeAll(async () => {
    c = await compose(
      { ...TEST_CONFIG, broker: redis.url, demo: false },
      { log: silentLogger, env: {}, ingest: { flushMs: 5 }, reconcile: { startDelayMs: -1, everyMs: 0, watchMs: 200, inspectTimeoutMs: 1000 } },
    );
    await c.start();
  }, 30_000);

  afterAll(async () => {
    for (const w of workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill("SIGKILL");
    await c?.close();
  }, 30_000);

  const state = () => c.ctx.state;
  const start = async (name: string, queue: string) => {
    const w = await startCeleryWorker(redis.url, { name, queues: [queue], concurrency: 1, extra: ["-P", "threads"] });
    workers.push(w);
    return w;
  };
  const startedOn = async (queue: string) => {
    const r = await c.ctx.client.sendTask("proj.slow", [60], {}, { queue });
    await until(async () => state().getTask(r.id)?.state === "STARTED", 20_000, `${r.id} STARTED`);
    return r.id;
  };

  it("killed workers: no result → WorkerLostError; a stored result → that state", async () => {
    const [lost, stored] = await Promise.all([start("doomed1@interop", "doomed1"), start("doomed2@interop", "doomed2")]);
    const [lostId, storedId] = await Promise.all([startedOn("doomed1"), startedOn("doomed2")]);
    lost.proc.kill("SIGKILL");
    stored.proc.kill("SIGKILL");
    // What a worker writes when the task returns (Celery 5.2, result_extended off).
    const dateDone = new Date().toISOString().slice(0, 23) + "000";
    await redis.raw.set(`celery-task-meta-${storedId}`, JSON.stringify({ status: "SUCCESS", result: 60, traceback: null, children: [], date_done: dateDone, task_id: storedId }));

    // Offline after 3 missed heartbeats (6 s), then the watcher runs reconciliation for them.
    await until(async () => state().getTask(lostId)?.state === "FAILURE" && state().getTask(storedId)?.state === "SUCCESS", 30_000, "both reconciled");
    expect(state().getTask(lostId)!.exception).toMatch(/^WorkerLostError\('Worker doomed1@interop is offline and no worker reports task/);
    expect(state().getTask(lostId)!.worker).toBe("doomed1@interop");
    expect(state().getTask(storedId)).toMatchObject({ result: "60", worker: "doomed2@interop" });
    expect(state().getWorker("doomed1@interop")?.online).toBe(false);
    expect(state().getWorker("doomed2@interop")?.online).toBe(false);
  }, 60_000);

  it("a task a live worker is still running stays STARTED", async () => {
    await start("alive1@interop", "alive1");
    const id = await startedOn("alive1");
    const report = await c.reconciler!.run({ reason: "manual" });
    expect(report).toMatchObject({ resolved: 0, lost: 0 });
    expect(report!.kept).toBeGreaterThanOrEqual(1);
    expect(state().getTask(id)?.state).toBe("STARTED");
  }, 60_000);
});
