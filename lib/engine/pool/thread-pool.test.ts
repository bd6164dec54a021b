import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { TaskFailedError } from "../client";
import { harness, sleep, until, type Harness } from "../test-harness";
import { loadApp } from "./app-module";
import { ThreadPool } from "./thread-pool";

const APP = new URL("./fixtures/tasks.ts", import.meta.url).href;

let h: Harness;
beforeEach(async () => {
  h = await harness();
  await loadApp(APP, h.registry); // names and options on the worker's side, as the CLI does
});
afterEach(async () => {
  await h.close();
});

async function threadsWorker(concurrency: number, extra: { heartbeatInterval?: number } = {}) {
  const pool = new ThreadPool({ app: APP });
  const w = await h.worker({ concurrency, pool, heartbeatInterval: extra.heartbeatInterval ?? 0.1 });
  return { w, pool };
}

describe("threads pool", () => {
  it("keeps heartbeats, ping and other tasks going during a CPU-bound task, and terminates it", async () => {
    const { w, pool } = await threadsWorker(2, { heartbeatInterval: 0.2 });
    const before = pool.stats().processes;
    expect(before).toHaveLength(2);
    const busy = await h.client.sendTask("pool.busy", [5000]);
    await until(() => h.eventsOf("task-started", busy.id).length === 1, 3000, "busy started");
    const beats0 = h.eventsOf("worker-heartbeat").filter((e) => e.hostname === w.hostname).length;
    const t0 = Date.now();

    const add = await h.client.sendTask("pool.add", [2, 3]);
    expect(await add.get({ timeout: 3000 })).toBe(5);
    expect(await h.client.inspect.ping({ destination: [w.hostname], timeout: 500 })).toEqual({ [w.hostname]: { ok: "pong" } });
    await sleep(1000);
    const beats = h.eventsOf("worker-heartbeat").filter((e) => e.hostname === w.hostname).length - beats0;
    // 0.2 s interval over > 1 s of a spinning thread: ~5 due; a blocked loop would send none
    expect(beats).toBeGreaterThanOrEqual(3);
    expect(Date.now() - t0).toBeLessThan(4000); // all of it happened while the busy loop still ran
    expect(h.eventsOf("task-succeeded", busy.id)).toHaveLength(0);

    await h.client.revoke(busy.id, { terminate: true, signal: "SIGKILL" });
    await until(() => h.eventsOf("task-revoked", busy.id).length === 1, 2000, "task-revoked");
    expect(h.eventsOf("task-revoked", busy.id)[0]).toMatchObject({ terminated: true, signum: 9 });
    const err = (await busy.get({ timeout: 1000 }).catch((e: unknown) => e)) as TaskFailedError;
    expect(err.state).toBe("REVOKED");

    // The killed thread was replaced: two threads again, one of them new, and both run tasks.
    await until(() => pool.stats().processes.length === 2, 2000, "replacement thread");
    const after = pool.stats().processes;
    expect(after.filter((id) => !before.includes(id))).toHaveLength(1);
    const [a, b] = await Promise.all([h.client.sendTask("pool.busy", [300]), h.client.sendTask("pool.busy", [300])]);
    const t1 = Date.now();
    expect(await a.get({ timeout: 5000 })).toBe("done");
    expect(await b.get({ timeout: 5000 })).toBe("done");
    expect(Date.now() - t1).toBeLessThan(3000);
    expect(after).toContain(await (await h.client.sendTask("pool.thread")).get({ timeout: 3000 }));
  });

  it("fails a task past its hard time limit by killing its thread, then runs the next one", async () => {
    const { pool } = await threadsWorker(1);
    const hard = await h.client.sendTask("pool.hard");
    const err = (await hard.get({ timeout: 5000 }).catch((e: unknown) => e)) as TaskFailedError;
    expect(err.state).toBe("FAILURE");
    expect(err.exc).toMatchObject({ exc_type: "TimeLimitExceeded", exc_module: "billiard.exceptions" });
    const next = await h.client.sendTask("pool.add", [1, 1]);
    expect(await next.get({ timeout: 5000 })).toBe(2);
    expect(pool.stats().processes).toHaveLength(1);
    // soft limit first (the spinning handler never sees it), then the hard one still kills
    const both = await h.client.sendTask("pool.busy", [5000], {}, { timelimit: [0.1, 0.4] });
    const err2 = (await both.get({ timeout: 5000 }).catch((e: unknown) => e)) as TaskFailedError;
    expect(err2.exc).toMatchObject({ exc_type: "TimeLimitExceeded", exc_message: [0.4] });
    expect(await (await h.client.sendTask("pool.add", [2, 2])).get({ timeout: 5000 })).toBe(4);
  });

  it("reports a thread's error as the in-process worker would: same repr, result and traceback shape", async () => {
    await threadsWorker(1);
    const r = await h.client.sendTask("pool.boom");
    const err = (await r.get({ timeout: 5000 }).catch((e: unknown) => e)) as TaskFailedError;
    expect(err.exc).toEqual({ exc_type: "ValueError", exc_message: ["boom"], exc_module: "builtins" });
    const failed = await until(() => h.eventsOf("task-failed", r.id)[0], 2000, "task-failed");
    expect(failed.exception).toBe("ValueError('boom')");
    expect(String(failed.traceback)).toMatch(/^Traceback \(most recent call last\):\n[\s\S]*fixtures\/tasks\.ts", line \d+[\s\S]*\nValueError: boom\n$/);
  });

  it("retries from a thread (ctx.retry) and forwards the soft time limit to the handler's signal", async () => {
    await threadsWorker(2);
    const r = await h.client.sendTask("pool.retry");
    expect(await r.get({ timeout: 5000 })).toBe(1);
    expect(await until(() => h.eventsOf("task-retried", r.id)[0])).toMatchObject({ exception: "ValueError('again')" });
    const s = await h.client.sendTask("pool.soft");
    expect(await s.get({ timeout: 5000 })).toBe("aborted: SoftTimeLimitExceeded");
  });

  it("answers ctx.isAborted() in a thread from the result backend (Flower's abort)", async () => {
    await threadsWorker(1);
    const r = await h.client.sendTask("pool.abortable");
    await until(() => h.eventsOf("task-started", r.id).length === 1, 3000, "abortable started");
    await sleep(50);
    await h.results.store({ status: "ABORTED", result: null, traceback: null, children: [], date_done: null, task_id: r.id });
    expect(await r.get({ timeout: 5000 })).toMatch(/^aborted after [1-9]\d* checks$/);
  });

  it("grows and shrinks with pool_grow / pool_shrink", async () => {
    const { w, pool } = await threadsWorker(1);
    await h.client.control("pool_grow", { n: 2 }, { destination: [w.hostname], timeout: 500 });
    await until(() => pool.stats().processes.length === 3, 2000, "grow");
    await h.client.control("pool_shrink", { n: 1 }, { destination: [w.hostname], timeout: 500 });
    await until(() => pool.stats().processes.length === 2, 2000, "shrink");
    expect(w.stats().concurrency).toBe(2);
  });

  it("fails start when the task module has no default export", async () => {
    const pool = new ThreadPool({ app: new URL("./fixtures/broken.ts", import.meta.url).href, onError: () => {} });
    await expect(pool.start(1)).rejects.toThrow(/no default export function/);
    expect(pool.stats().processes).toHaveLength(0);
  });
});
