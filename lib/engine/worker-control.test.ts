import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { harness, sleep, until, type Harness } from "./test-harness";

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.close();
});

const hold = (ms: number) => (ctx: { signal: AbortSignal }) =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    ctx.signal.addEventListener("abort", () => clearTimeout(t));
  });

describe("remote control", () => {
  it("answers ping from every worker, and only the addressed one with destination or pattern", async () => {
    await h.worker();
    await h.worker();
    expect(await h.client.inspect.ping({ timeout: 100 })).toEqual({ "w1@test": { ok: "pong" }, "w2@test": { ok: "pong" } });
    expect(await h.client.inspect.ping({ destination: ["w2@test"], timeout: 100 })).toEqual({ "w2@test": { ok: "pong" } });
    expect(await h.client.inspect.ping({ pattern: "w1@*", timeout: 100 })).toEqual({ "w1@test": { ok: "pong" } });
  });

  it("reports stats in Celery's shape", async () => {
    h.registry.register("demo.add", () => 1);
    const w = await h.worker({ concurrency: 3 });
    await (await h.client.sendTask("demo.add")).get({ timeout: 1000 });
    const stats = (await h.client.inspect.stats({ destination: [w.hostname], timeout: 200 }))[w.hostname];
    expect(stats.total).toEqual({ "demo.add": 1 });
    expect(stats.pid).toBe(process.pid);
    expect(typeof stats.clock).toBe("string");
    expect(Number(stats.clock)).toBeGreaterThan(0);
    expect(Number.isInteger(stats.uptime)).toBe(true);
    expect(stats.pool).toMatchObject({ "max-concurrency": 3, "max-tasks-per-child": "N/A" });
    expect((stats.pool as { processes: number[] }).processes).toHaveLength(3);
    expect(stats.broker).toMatchObject({ transport: "memory" });
    expect(stats.prefetch_count).toBe(12);
    expect(stats.rusage).toHaveProperty("utime");
  });

  it("lists active, reserved and scheduled requests, and answers query_task", async () => {
    h.registry.register("demo.slow", hold(3000));
    const w = await h.worker({ concurrency: 1 });
    const running = await h.client.sendTask("demo.slow", [1], { k: "v" });
    const waiting = await h.client.sendTask("demo.slow", [2]);
    const later = await h.client.sendTask("demo.slow", [3], {}, { countdown: 10, priority: 6 });
    await until(() => w.stats().active === 1 && w.stats().reserved === 1 && w.stats().scheduled === 1);
    const o = { destination: [w.hostname], timeout: 200 };
    const active = (await h.client.inspect.active(o))[w.hostname];
    expect(active).toHaveLength(1);
    expect(active[0]).toMatchObject({
      id: running.id,
      name: "demo.slow",
      args: [1],
      kwargs: { k: "v" },
      type: "demo.slow",
      hostname: w.hostname,
      acknowledged: true,
      delivery_info: { exchange: "", routing_key: "celery", priority: 0, redelivered: null },
      worker_pid: process.pid,
    });
    expect(typeof active[0].time_start).toBe("number");
    const safe = (await h.client.inspect.active({ ...o, safe: true }))[w.hostname];
    expect(safe[0]).toMatchObject({ args: "(1,)", kwargs: "{'k': 'v'}" });
    const reserved = (await h.client.inspect.reserved(o))[w.hostname];
    expect(reserved.map((r) => [r.id, r.time_start, r.acknowledged, r.worker_pid])).toEqual([[waiting.id, null, false, null]]);
    const scheduled = (await h.client.inspect.scheduled(o))[w.hostname];
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]).toMatchObject({ priority: 6, request: { id: later.id } });
    expect(scheduled[0].eta).toMatch(/\+00:00$/);
    const q = (await h.client.inspect.queryTask([running.id, later.id, "nope"], o))[w.hostname];
    expect(Object.keys(q).sort()).toEqual([running.id, later.id].sort());
    expect(q[running.id][0]).toBe("active");
    expect(q[later.id][0]).toBe("scheduled");
  });

  it("revoke replies like Celery and feeds the revoked list", async () => {
    h.registry.register("demo.slow", hold(2000));
    const w = await h.worker();
    const o = { destination: [w.hostname], timeout: 200 };
    expect(await h.client.control("revoke", { task_id: "00000000-0000-0000-0000-000000000000" }, o)).toEqual({
      [w.hostname]: { ok: "tasks 00000000-0000-0000-0000-000000000000 flagged as revoked" },
    });
    const r = await h.client.sendTask("demo.slow");
    await until(() => w.stats().active === 1);
    expect(await h.client.control("revoke", { task_id: r.id, terminate: true }, o)).toEqual({
      [w.hostname]: { ok: `terminate: ${r.id}` },
    });
    expect(await h.client.control("revoke", { task_id: "gone", terminate: true }, o)).toEqual({
      [w.hostname]: { ok: "terminate: tasks unknown" },
    });
    expect((await h.client.inspect.revoked(o))[w.hostname]).toEqual(["00000000-0000-0000-0000-000000000000", r.id, "gone"]);
  });

  it("rate_limit and time_limit change task settings live", async () => {
    const starts: number[] = [];
    h.registry.register("demo.add", () => void starts.push(Date.now()));
    h.registry.register("demo.hang", () => sleep(1000));
    const w = await h.worker();
    const o = { destination: [w.hostname], timeout: 200 };
    expect(await h.client.control("rate_limit", { task_name: "demo.add", rate_limit: "10/s" }, o)).toEqual({
      [w.hostname]: { ok: "new rate limit set successfully" },
    });
    expect(await h.client.control("rate_limit", { task_name: "demo.nope", rate_limit: "10/s" }, o)).toEqual({
      [w.hostname]: { error: "unknown task" },
    });
    expect((await h.client.control("rate_limit", { task_name: "demo.add", rate_limit: "lots" }, o))[w.hostname]).toMatchObject({
      error: expect.stringMatching(/^Invalid rate limit string: ValueError\(/),
    });
    const rs = [await h.client.sendTask("demo.add"), await h.client.sendTask("demo.add")];
    await Promise.all(rs.map((r) => r.get({ timeout: 1000 })));
    expect(starts[1] - starts[0]).toBeGreaterThanOrEqual(90);

    expect(await h.client.control("time_limit", { task_name: "demo.hang", soft: null, hard: 0.05 }, o)).toEqual({
      [w.hostname]: { ok: "time limits set successfully" },
    });
    const hang = await h.client.sendTask("demo.hang");
    await expect(hang.get({ timeout: 500 })).rejects.toMatchObject({ exc: { exc_type: "TimeLimitExceeded" } });
  });

  it("pool_grow / pool_shrink change concurrency with Celery's replies", async () => {
    const w = await h.worker({ concurrency: 2 });
    const o = { destination: [w.hostname], timeout: 200 };
    expect(await h.client.control("pool_grow", { n: 2 }, o)).toEqual({ [w.hostname]: { ok: "pool will grow" } });
    expect(w.stats()).toMatchObject({ concurrency: 4, prefetch: 16 });
    expect(await h.client.control("pool_shrink", { n: 1 }, o)).toEqual({ [w.hostname]: { ok: "pool will shrink" } });
    expect(w.stats().concurrency).toBe(3);
    expect(await h.client.control("pool_shrink", { n: 5 }, o)).toEqual({
      [w.hostname]: { error: `ValueError("Can't shrink pool. All processes busy!")` },
    });
    expect(await h.client.control("autoscale", { max: 3, min: 1 }, o)).toEqual({
      [w.hostname]: { error: "ValueError('Autoscale not enabled')" },
    });
  });

  it("registered, active_queues, conf, consumers, events, heartbeat, hello and unknown methods", async () => {
    h.registry.register("demo.b", () => 1);
    h.registry.register("demo.a", () => 1);
    const w = await h.worker();
    const o = { destination: [w.hostname], timeout: 200 };
    expect(await h.client.inspect.registered(o)).toEqual({ [w.hostname]: ["demo.a", "demo.b"] });
    const queues = (await h.client.inspect.activeQueues(o))[w.hostname];
    expect(queues.map((q) => [q.name, q.exchange.type, q.routing_key])).toEqual([["celery", "direct", "celery"]]);
    expect((await h.client.inspect.conf(o))[w.hostname]).toMatchObject({ worker_send_task_events: true, result_extended: true });
    expect(await h.client.control("add_consumer", { queue: "extra" }, o)).toEqual({ [w.hostname]: { ok: "add consumer extra" } });
    expect(w.stats().queues).toEqual(["celery", "extra"]);
    const extra = await h.client.sendTask("demo.a", [], {}, { queue: "extra" });
    expect(await extra.get({ timeout: 1000 })).toBe(1);
    expect(await h.client.control("cancel_consumer", { queue: "extra" }, o)).toEqual({
      [w.hostname]: { ok: "no longer consuming from extra" },
    });
    expect(w.stats().queues).toEqual(["celery"]);
    expect(await h.client.control("enable_events", {}, o)).toEqual({ [w.hostname]: { ok: "task events already enabled" } });
    expect(await h.client.control("disable_events", {}, o)).toEqual({ [w.hostname]: { ok: "task events disabled" } });
    const quiet = await h.client.sendTask("demo.a");
    await quiet.get({ timeout: 1000 });
    await until(() => h.typesFor(quiet.id).length > 0);
    await sleep(20); // events are delivered asynchronously, as on Redis
    expect(h.typesFor(quiet.id)).toEqual(["task-sent"]);
    await h.client.control("enable_events", {}, o);

    const beats = h.eventsOf("worker-heartbeat").length;
    await h.client.control("heartbeat", {}, { ...o, reply: false });
    await until(() => h.eventsOf("worker-heartbeat").length > beats);

    const hello = (await h.client.control("hello", { from_node: "w9@test", revoked: { "r-1": 1.5 } }, o))[w.hostname];
    expect(hello).toMatchObject({ revoked: ["r-1"] });
    expect(typeof (hello as { clock: unknown }).clock).toBe("number");
    expect(await h.client.control("no_such_cmd", {}, o)).toEqual({ [w.hostname]: { error: "KeyError('no_such_cmd')" } });
  });

  it("mingle: a starting worker learns revoked ids from running ones", async () => {
    const w1 = await h.worker();
    await h.client.revoke("r-9");
    await until(async () => (await h.client.inspect.revoked({ destination: [w1.hostname], timeout: 100 }))[w1.hostname]?.length === 1);
    const w2 = await h.worker({ mingle: { timeoutMs: 100 } });
    expect((await h.client.inspect.revoked({ destination: [w2.hostname], timeout: 100 }))[w2.hostname]).toEqual(["r-9"]);
  });

  it("revoking a reserved task (waiting for a slot) skips it at once; removing a rate limit releases its line", async () => {
    const ran: string[] = [];
    h.registry.register("demo.slow", hold(150));
    h.registry.register("demo.mark", (ctx) => void ran.push(ctx.args[0] as string), { rateLimit: "1/m" });
    const w = await h.worker({ concurrency: 1 });
    await h.client.sendTask("demo.slow");
    const waiting = await h.client.sendTask("demo.slow");
    await until(() => w.stats().reserved === 1);
    await h.client.revoke(waiting.id);
    await until(() => h.eventsOf("task-revoked", waiting.id).length === 1);
    expect(w.stats().reserved).toBe(0);
    expect(h.workerTypes(waiting.id)).toEqual(["task-received", "task-revoked"]);

    const marks = [await h.client.sendTask("demo.mark", ["a"]), await h.client.sendTask("demo.mark", ["b"])];
    await until(() => ran.length === 1);
    await sleep(50);
    expect(ran).toEqual(["a"]); // "b" waits a minute for its token
    const o = { destination: [w.hostname], timeout: 200 };
    expect(await h.client.control("rate_limit", { task_name: "demo.mark", rate_limit: null }, o)).toEqual({
      [w.hostname]: { ok: "rate limit disabled successfully" },
    });
    await marks[1].get({ timeout: 1000 });
    expect(ran).toEqual(["a", "b"]);
  });

  it("shutdown stops the worker gracefully and calls onShutdown", async () => {
    let called = false;
    const w = await h.worker({ onShutdown: () => (called = true) });
    await h.client.control("shutdown", {}, { destination: [w.hostname], reply: false });
    await until(() => called);
    expect(w.state).toBe("stopped");
    await until(() => h.eventsOf("worker-offline").length === 1);
    expect(h.eventsOf("worker-offline")[0].hostname).toBe(w.hostname);
    expect(await h.client.inspect.ping({ timeout: 100 })).toEqual({});
  });
});
