import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { encodeEnvelope } from "../protocol/envelope";
import { buildTaskMessage } from "../protocol/task-message";
import type { TaskFailedError } from "./client";
import { Reject, SoftTimeLimitExceeded, TerminatedError } from "./errors";
import { harness, sleep, until, type Harness } from "./test-harness";
import type { DeadLetter } from "./worker-options";

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.close();
});

/** A handler that waits for `ms` or its signal, whichever comes first, and reports which. */
const sleepy = (ms: number) => (ctx: { signal: AbortSignal }) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(() => resolve(`slept ${ms}`), ms);
    ctx.signal.addEventListener("abort", () => {
      clearTimeout(t);
      reject(ctx.signal.reason);
    });
  });

describe("revoke and terminate", () => {
  it("revokes a task waiting on its ETA at once: it never runs and is REVOKED", async () => {
    let ran = false;
    h.registry.register("demo.later", () => {
      ran = true;
    });
    const w = await h.worker();
    const r = await h.client.sendTask("demo.later", [], {}, { countdown: 5 });
    await until(() => w.stats().scheduled === 1, 2000, "scheduled");
    await h.client.revoke(r.id);
    const err = (await r.get({ timeout: 1000 }).catch((e: unknown) => e)) as TaskFailedError;
    expect(err.state).toBe("REVOKED");
    expect(err.exc?.exc_message).toEqual(["revoked"]);
    await until(() => h.eventsOf("task-revoked", r.id).length === 1);
    expect(h.eventsOf("task-revoked", r.id)[0]).toMatchObject({ terminated: false, signum: null, expired: false });
    expect(w.stats()).toMatchObject({ scheduled: 0, prefetch: 16 });
    expect(ran).toBe(false);
    // A later delivery of the same id is skipped on receipt as well.
    await h.client.sendTask("demo.later", [], {}, { taskId: r.id });
    await until(() => h.eventsOf("task-revoked", r.id).length === 2);
    expect(ran).toBe(false);
  });

  it("terminates a running task: task-revoked with signum, REVOKED terminated, slot freed, result ignored", async () => {
    let aborted: unknown = null;
    h.registry.register("demo.stubborn", async (ctx) => {
      ctx.signal.addEventListener("abort", () => (aborted = ctx.signal.reason));
      await sleep(600); // ignores the signal on purpose
      return "late";
    });
    h.registry.register("demo.quick", () => "quick");
    await h.worker({ concurrency: 1 });
    const slow = await h.client.sendTask("demo.stubborn");
    await until(() => h.eventsOf("task-started", slow.id).length === 1);
    const quick = await h.client.sendTask("demo.quick");
    await sleep(20);
    expect(await quick.ready()).toBe(false);
    const t0 = Date.now();
    await h.client.revoke(slow.id, { terminate: true, signal: "SIGKILL" });
    expect(await quick.get({ timeout: 1000 })).toBe("quick");
    expect(Date.now() - t0).toBeLessThan(450); // the slot did not wait for the handler
    expect(aborted).toBeInstanceOf(TerminatedError);
    await until(() => h.eventsOf("task-revoked", slow.id).length === 1);
    expect(h.eventsOf("task-revoked", slow.id)[0]).toMatchObject({ terminated: true, signum: 9, expired: false });
    expect((await slow.meta())?.result).toMatchObject({ exc_type: "TaskRevokedError", exc_message: ["terminated"] });
    await sleep(650);
    expect(h.workerTypes(slow.id)).toEqual(["task-received", "task-started", "task-revoked"]);
    expect((await slow.meta())?.status).toBe("REVOKED");
  });
});

describe("time limits", () => {
  it("soft limit aborts the signal; the handler may catch it and finish", async () => {
    h.registry.register(
      "demo.soft",
      async (ctx) => {
        try {
          return await sleepy(1000)(ctx);
        } catch (e) {
          return e instanceof SoftTimeLimitExceeded ? "cleaned up" : "other";
        }
      },
      { softTimeLimit: 0.05 },
    );
    h.registry.register("demo.soft2", sleepy(1000), { softTimeLimit: 0.05 });
    await h.worker();
    const a = await h.client.sendTask("demo.soft");
    const b = await h.client.sendTask("demo.soft2");
    expect(await a.get({ timeout: 1000 })).toBe("cleaned up");
    const err = (await b.get({ timeout: 1000 }).catch((e: unknown) => e)) as TaskFailedError;
    expect(err.exc).toEqual({ exc_type: "SoftTimeLimitExceeded", exc_message: [0.05], exc_module: "billiard.exceptions" });
  });

  it("hard limit fails the task even if the handler ignores the signal, and frees the slot", async () => {
    h.registry.register("demo.hang", () => sleep(2000), { timeLimit: 0.08 });
    h.registry.register("demo.quick", () => 1);
    await h.worker({ concurrency: 1 });
    const t0 = Date.now();
    const r = await h.client.sendTask("demo.hang");
    const q = await h.client.sendTask("demo.quick");
    const err = (await r.get({ timeout: 1000 }).catch((e: unknown) => e)) as TaskFailedError;
    expect(err.exc?.exc_type).toBe("TimeLimitExceeded");
    expect(Date.now() - t0).toBeLessThan(600);
    expect(await q.get({ timeout: 500 })).toBe(1);
    await until(() => h.eventsOf("task-failed", r.id).length === 1);
    expect(h.eventsOf("task-failed", r.id)[0].exception).toBe("TimeLimitExceeded(0.08)");
  });

  it("per-message timelimit overrides the task's options", async () => {
    h.registry.register("demo.hang", () => sleep(2000), { timeLimit: 60 });
    await h.worker();
    const r = await h.client.sendTask("demo.hang", [], {}, { timelimit: [null, 0.05] });
    const err = (await r.get({ timeout: 1000 }).catch((e: unknown) => e)) as TaskFailedError;
    expect(err.exc?.exc_type).toBe("TimeLimitExceeded");
  });
});

describe("rate limits and prefetch", () => {
  it("spaces task starts by the rate limit (token bucket)", async () => {
    const starts: number[] = [];
    h.registry.register("demo.limited", () => void starts.push(Date.now()), { rateLimit: "20/s" });
    await h.worker({ concurrency: 4 });
    const rs = [];
    for (let i = 0; i < 4; i++) rs.push(await h.client.sendTask("demo.limited"));
    await Promise.all(rs.map((r) => r.get({ timeout: 2000 })));
    for (let i = 1; i < starts.length; i++) expect(starts[i] - starts[i - 1]).toBeGreaterThanOrEqual(40);
  });

  it("reserves at most concurrency × prefetchMultiplier messages", async () => {
    h.registry.register("demo.slow", sleepy(300));
    const w = await h.worker({ concurrency: 1, prefetchMultiplier: 2 });
    for (let i = 0; i < 8; i++) await h.client.sendTask("demo.slow");
    await until(() => w.stats().active === 1 && w.stats().reserved === 2, 2000, "prefetch");
    await sleep(30);
    expect(w.stats()).toMatchObject({ active: 1, reserved: 2, prefetch: 2 });
    const [len] = await h.broker.queueLengths(["celery"]);
    expect(len.messages).toBe(5); // 8 - 1 running (acked) - 2 prefetched
  });
});

describe("worker events and shutdown", () => {
  it("sends worker-online, heartbeats every interval, worker-offline on graceful stop", async () => {
    const w = await h.worker({ heartbeatInterval: 0.1 });
    await sleep(550);
    const mine = h.events.filter((e) => e.hostname === w.hostname);
    expect(mine[0].type).toBe("worker-online");
    expect(Object.keys(mine[0])).toEqual([
      "hostname", "utcoffset", "pid", "clock", "freq", "active", "processed", "loadavg", "sw_ident", "sw_ver", "sw_sys", "timestamp", "type",
    ]);
    expect(mine[0]).toMatchObject({ freq: 0.1, active: 0, processed: 0, sw_ident: "petal" });
    const beats = mine.filter((e) => e.type === "worker-heartbeat");
    expect(beats.length).toBeGreaterThanOrEqual(3);
    expect(beats.length).toBeLessThanOrEqual(6);
    const gaps = beats.slice(1).map((b, i) => (b.timestamp as number) - (beats[i].timestamp as number));
    for (const g of gaps) expect(g).toBeGreaterThan(0.07);
    await w.stop();
    await until(() => h.events.filter((e) => e.hostname === w.hostname).at(-1)?.type === "worker-offline", 1000, "offline");
    expect(w.state).toBe("stopped");
  });

  it("a crash stop sends no worker-offline, stops heartbeats and requeues prefetched messages", async () => {
    h.registry.register("demo.slow", sleepy(1000));
    const w = await h.worker({ concurrency: 1, prefetchMultiplier: 2 });
    for (let i = 0; i < 3; i++) await h.client.sendTask("demo.slow");
    await until(() => w.stats().active === 1 && w.stats().reserved === 2);
    await w.stop({ graceful: false });
    await sleep(20); // let events published before the crash arrive
    const count = h.events.length;
    await sleep(250);
    expect(h.events.length).toBe(count);
    expect(h.events.some((e) => e.type === "worker-offline")).toBe(false);
    const [len] = await h.broker.queueLengths(["celery"]);
    expect(len.messages).toBe(2); // the running one was acked early and is lost, as on Celery
  });

  it("graceful stop requeues prefetched messages, finishes the running task, and another worker takes over", async () => {
    const done: string[] = [];
    h.registry.register("demo.job", async (ctx) => {
      await sleep(80);
      done.push(ctx.args[0] as string);
    });
    const w1 = await h.worker({ concurrency: 1 });
    const rs = [];
    for (const x of ["a", "b", "c", "d"]) rs.push(await h.client.sendTask("demo.job", [x]));
    await until(() => w1.stats().active === 1 && w1.stats().reserved === 3);
    await w1.stop();
    expect(done).toEqual(["a"]);
    const [len] = await h.broker.queueLengths(["celery"]);
    expect(len.messages).toBe(3);
    await h.worker({ concurrency: 1 });
    await Promise.all(rs.map((r) => r.get({ timeout: 2000 })));
    expect(done).toEqual(["a", "b", "c", "d"]); // order kept through the requeue
  });

  it("acks late when asked: a crash mid-task puts the message back", async () => {
    h.registry.register("demo.late", sleepy(1000), { acksLate: true });
    const w = await h.worker();
    await h.client.sendTask("demo.late");
    await until(() => w.stats().active === 1);
    await w.stop({ graceful: false });
    const [len] = await h.broker.queueLengths(["celery"]);
    expect(len.messages).toBe(1);
  });
});

describe("bad input", () => {
  it("dead-letters a malformed message, emits task-rejected, and keeps working", async () => {
    const letters: DeadLetter[] = [];
    h.registry.register("demo.add", (ctx) => (ctx.args[0] as number) + 1);
    await h.worker({ onDeadLetter: (d) => letters.push(d) });
    const bad = encodeEnvelope([[1], {}], { id: "bad-1", task: "demo.add" }, { deliveryInfo: { exchange: "", routing_key: "celery" } });
    await h.broker.publish("celery", bad);
    const noCt = buildTaskMessage("demo.add", { id: "bad-2", args: [1] });
    await h.broker.publish("celery", { ...noCt, "content-type": "" });
    const good = await h.client.sendTask("demo.add", [41]);
    expect(await good.get({ timeout: 1000 })).toBe(42);
    await until(() => letters.length === 2);
    expect(letters.map((l) => [l.taskId, l.code, l.queue])).toEqual([
      ["bad-1", "bad_body", "celery"],
      ["bad-2", "no_content_type", "celery"],
    ]);
    expect(letters[0].envelope.headers.id).toBe("bad-1");
    await until(() => h.eventsOf("task-rejected").length === 2);
    expect(h.eventsOf("task-rejected", "bad-1")[0].requeue).toBe(false);
  });

  it("Reject(requeue=false) emits task-rejected and stores nothing", async () => {
    h.registry.register("demo.rejectme", () => {
      throw new Reject("no", false);
    });
    await h.worker();
    const r = await h.client.sendTask("demo.rejectme");
    await until(() => h.eventsOf("task-rejected", r.id).length === 1);
    expect(h.workerTypes(r.id)).toEqual(["task-received", "task-started", "task-rejected"]);
    expect(await r.state()).toBe("PENDING");
  });
});
