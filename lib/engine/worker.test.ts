import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TaskFailedError } from "./client";
import { Retry } from "./errors";
import { harness, sleep, until, type Harness } from "./test-harness";

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.close();
});

class ValueError extends Error {
  override name = "ValueError";
}

describe("success and failure", () => {
  it("runs a task: sent, received, started, succeeded, and stores a result_extended SUCCESS", async () => {
    h.registry.register("demo.add", (ctx) => (ctx.args[0] as number) + (ctx.args[1] as number));
    await h.worker();
    const r = await h.client.task("demo.add").delay(2, 3);
    expect(await r.get({ timeout: 2000 })).toBe(5);
    await until(() => h.eventsOf("task-succeeded", r.id).length === 1);
    const types = h.typesFor(r.id);
    expect(types).toContain("task-sent");
    expect(types.filter((t) => t !== "task-sent")).toEqual(["task-received", "task-started", "task-succeeded"]);

    const received = h.eventsOf("task-received", r.id)[0];
    expect(Object.keys(received)).toEqual([
      "hostname", "utcoffset", "pid", "clock", "uuid", "name", "args", "kwargs",
      "root_id", "parent_id", "retries", "eta", "expires", "timestamp", "type",
    ]);
    expect(received).toMatchObject({ hostname: "w1@test", name: "demo.add", args: "(2, 3)", kwargs: "{}", root_id: r.id, parent_id: null, retries: 0 });
    const sent = h.eventsOf("task-sent", r.id)[0];
    expect(sent).toMatchObject({ hostname: "gen1@test", queue: "celery", routing_key: "celery", exchange: "", args: "(2, 3)" });
    const ok = h.eventsOf("task-succeeded", r.id)[0];
    expect(ok.result).toBe("5");
    expect(typeof ok.runtime).toBe("number");
    expect(ok.runtime as number).toBeGreaterThanOrEqual(0);
    // Lamport clock ticks once per event of this worker.
    const clocks = h.events.filter((e) => e.hostname === "w1@test").map((e) => e.clock);
    expect(clocks).toEqual([...clocks].sort((a, b) => a - b));
    expect(new Set(clocks).size).toBe(clocks.length);

    const meta = await h.results.get(r.id);
    expect(Object.keys(meta!)).toEqual(["status", "result", "traceback", "children", "date_done", "name", "args", "kwargs", "worker", "retries", "queue", "task_id"]);
    expect(meta).toMatchObject({ status: "SUCCESS", result: 5, traceback: null, name: "demo.add", args: [2, 3], kwargs: {}, worker: "w1@test", retries: 0, queue: "celery" });
    expect(meta!.date_done).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    expect(await r.state()).toBe("SUCCESS");
  });

  it("fails with a Python-style exception and traceback", async () => {
    h.registry.register("demo.fail", () => {
      throw new ValueError("boom: intentional failure");
    });
    await h.worker();
    const r = await h.client.sendTask("demo.fail");
    const err = await r.get({ timeout: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    const f = err as TaskFailedError;
    expect(f.state).toBe("FAILURE");
    expect(f.exc).toEqual({ exc_type: "ValueError", exc_message: ["boom: intentional failure"], exc_module: "builtins" });
    expect(f.traceback).toMatch(/^Traceback \(most recent call last\):\n[\s\S]*ValueError: boom: intentional failure\n$/);
    await until(() => h.eventsOf("task-failed", r.id).length === 1);
    const ev = h.eventsOf("task-failed", r.id)[0];
    expect(ev.exception).toBe("ValueError('boom: intentional failure')");
    expect(ev.traceback).toBe(f.traceback);
  });

  it("fails an unknown task with NotRegistered, no traceback, null request fields", async () => {
    await h.worker();
    const r = await h.client.sendTask("demo.nope", [1]);
    const err = (await r.get({ timeout: 2000 }).catch((e: unknown) => e)) as TaskFailedError;
    expect(err.exc).toEqual({ exc_type: "NotRegistered", exc_message: ["demo.nope"], exc_module: "celery.exceptions" });
    const meta = await h.results.get(r.id);
    expect(meta).toMatchObject({ status: "FAILURE", traceback: null, name: null, args: null, worker: null, queue: null });
    await until(() => h.eventsOf("task-failed", r.id).length === 1);
    expect(h.workerTypes(r.id)).toEqual(["task-failed"]);
    const ev = h.eventsOf("task-failed", r.id)[0];
    expect(ev.exception).toBe("NotRegistered('demo.nope')");
    expect("traceback" in ev).toBe(false);
  });

  it("ctx.isAborted() turns true once the result backend says ABORTED (Flower's abort)", async () => {
    // Destructured, as handlers often take their context.
    h.registry.register("t.abortable", async ({ isAborted }) => {
      for (let i = 0; i < 500; i++) {
        if (await isAborted()) return `aborted after ${i} checks`;
        await sleep(10);
      }
      return "never aborted";
    });
    await h.worker();
    const r = await h.client.sendTask("t.abortable");
    await until(() => h.eventsOf("task-started", r.id).length === 1, 3000, "started");
    await sleep(50);
    await h.results.store({ status: "ABORTED", result: null, traceback: null, children: [], date_done: null, task_id: r.id });
    expect(await r.get({ timeout: 5000 })).toMatch(/^aborted after [1-9]\d* checks$/);
    expect(await r.state()).toBe("SUCCESS");
  });

  it("ignores results when asked, but still emits events", async () => {
    h.registry.register("demo.quiet", () => 1, { ignoreResult: true });
    await h.worker();
    const r = await h.client.sendTask("demo.quiet");
    await until(() => h.eventsOf("task-succeeded", r.id).length === 1);
    expect(await h.results.get(r.id)).toBeNull();
  });
});

describe("retries", () => {
  it("autoretries with exponential backoff, then succeeds", async () => {
    let calls = 0;
    const starts: number[] = [];
    h.registry.register(
      "demo.flaky",
      () => {
        starts.push(Date.now());
        if (++calls < 3) throw new ValueError(`try ${calls}`);
        return "ok";
      },
      { autoretryFor: (e) => e instanceof ValueError, retryBackoff: 0.05, retryJitter: false },
    );
    await h.worker();
    const r = await h.client.sendTask("demo.flaky");
    expect(await r.get({ timeout: 3000 })).toBe("ok");
    expect(calls).toBe(3);
    // countdowns: 0.05 * 2^0, then 0.05 * 2^1
    expect(starts[1] - starts[0]).toBeGreaterThanOrEqual(45);
    expect(starts[2] - starts[1]).toBeGreaterThanOrEqual(95);
    await until(() => h.eventsOf("task-succeeded", r.id).length === 1);
    const retried = h.eventsOf("task-retried", r.id);
    expect(retried.map((e) => e.exception)).toEqual(["ValueError('try 1')", "ValueError('try 2')"]);
    expect(retried[0].traceback).toMatch(/celery\.exceptions\.Retry: Retry in 0\.05s: ValueError\('try 1'\)\n$/);
    const sent = h.eventsOf("task-sent", r.id);
    expect(sent.map((e) => e.retries)).toEqual([0, 1, 2]);
    expect(sent[1]).toMatchObject({ parent_id: r.id, root_id: r.id });
    expect(sent[1].eta).toMatch(/\+00:00$/);
    const received = h.eventsOf("task-received", r.id);
    expect(received.map((e) => e.retries)).toEqual([0, 1, 2]);
    expect(received[1].parent_id).toBe(r.id);
    const meta = await h.results.get(r.id);
    expect(meta).toMatchObject({ status: "SUCCESS", retries: 2, parent_id: r.id });
  });

  it("ctx.retry stores RETRY and past maxRetries fails with MaxRetriesExceededError", async () => {
    let calls = 0;
    h.registry.register(
      "demo.again",
      // Destructured, as handlers may write it: retry and log must not need `this`.
      ({ retry, log }) => {
        calls++;
        log("trying again");
        retry({ countdown: 0.01 });
      },
      { maxRetries: 2 },
    );
    await h.worker();
    const seen: string[] = [];
    const store = h.results.store.bind(h.results);
    h.results.store = (meta, opts) => {
      seen.push(meta.status);
      return store(meta, opts);
    };
    const r = await h.client.sendTask("demo.again");
    const err = (await r.get({ timeout: 3000 }).catch((e: unknown) => e)) as TaskFailedError;
    expect(calls).toBe(3);
    expect(err.exc?.exc_type).toBe("MaxRetriesExceededError");
    expect(err.exc?.exc_message).toEqual([`Can't retry demo.again[${r.id}] args:() kwargs:{}`]);
    expect(seen).toEqual(["RETRY", "RETRY", "FAILURE"]);
    await until(() => h.eventsOf("task-failed", r.id).length === 1);
    expect(h.eventsOf("task-retried", r.id).map((e) => e.exception)).toEqual(["None", "None"]);
  });

  it("a thrown Retry from outside ctx.retry is honoured too", async () => {
    let calls = 0;
    h.registry.register("demo.manual", () => {
      if (calls++ === 0) throw new Retry({ countdown: 0.01 });
      return calls;
    });
    await h.worker();
    const r = await h.client.sendTask("demo.manual");
    expect(await r.get({ timeout: 2000 })).toBe(2);
  });
});

describe("eta, countdown and expiry", () => {
  it("holds countdown tasks until due and runs them in eta order", async () => {
    const order: string[] = [];
    const ranAt = new Map<string, number>();
    h.registry.register("demo.mark", (ctx) => {
      order.push(ctx.args[0] as string);
      ranAt.set(ctx.args[0] as string, Date.now());
    });
    const w = await h.worker({ concurrency: 1 });
    const t0 = Date.now();
    await h.client.sendTask("demo.mark", ["late"], {}, { countdown: 0.2 });
    await h.client.sendTask("demo.mark", ["soon"], {}, { countdown: 0.08 });
    await h.client.sendTask("demo.mark", ["now"]);
    await until(() => w.stats().scheduled === 2 || order.length > 1);
    expect(w.stats().prefetch).toBe(1 * 4 + 2); // raised by one per waiting ETA task
    await until(() => order.length === 3);
    expect(order).toEqual(["now", "soon", "late"]);
    expect(ranAt.get("soon")! - t0).toBeGreaterThanOrEqual(75);
    expect(ranAt.get("late")! - t0).toBeGreaterThanOrEqual(195);
    expect(w.stats().prefetch).toBe(4);
    const received = h.eventsOf("task-received").find((e) => e.args === "('late',)");
    expect(received?.eta).toMatch(/^\d{4}-.*\+00:00$/);
  });

  it("revokes a task that expired before it was received, without task-received", async () => {
    let ran = false;
    h.registry.register("demo.x", () => {
      ran = true;
    });
    await h.worker();
    const r = await h.client.sendTask("demo.x", [], {}, { expires: new Date(Date.now() - 1000) });
    const err = (await r.get({ timeout: 2000 }).catch((e: unknown) => e)) as TaskFailedError;
    expect(err.state).toBe("REVOKED");
    expect(err.exc).toEqual({ exc_type: "TaskRevokedError", exc_message: ["expired"], exc_module: "celery.exceptions" });
    await until(() => h.eventsOf("task-revoked", r.id).length === 1);
    expect(h.workerTypes(r.id)).toEqual(["task-revoked"]);
    expect(h.eventsOf("task-revoked", r.id)[0]).toMatchObject({ terminated: false, signum: null, expired: true });
    expect(ran).toBe(false);
  });

  it("revokes as expired at its eta when it expires while waiting", async () => {
    h.registry.register("demo.x", () => 1);
    await h.worker();
    const r = await h.client.sendTask("demo.x", [], {}, { countdown: 0.1, expires: 0.05 });
    await until(() => h.eventsOf("task-revoked", r.id).length === 1);
    expect(h.workerTypes(r.id)).toEqual(["task-received", "task-revoked"]);
    expect((await h.results.get(r.id))?.result).toMatchObject({ exc_message: ["expired"] });
  });
});
