import { afterEach, describe, expect, it } from "vitest";
import type { TaskRecord } from "../../lib/protocol/api";
import { compose, type Composition } from "../compose";
import { silentLogger } from "../log";
import { TEST_CONFIG } from "../realtime/testing";
import { DEMO_TASKS, pickTask } from "./catalog";
import { rateAt } from "./producer";
import { seededRng, skewedMs } from "./random";

let running: Composition[] = [];
afterEach(async () => {
  await Promise.all(running.map((c) => c.close()));
  running = [];
});

async function startDemo(rate: number): Promise<Composition> {
  const c = await compose({ ...TEST_CONFIG, demo: true }, { log: silentLogger, env: {}, ingest: { flushMs: 5 }, demo: { rate, chaos: false, seed: 7, shutdownTimeoutMs: 200, downForMs: [300, 300] } });
  running.push(c);
  await c.start();
  return c;
}

async function until<T>(fn: () => T | undefined | null | false, timeoutMs = 8000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("demo workload", () => {
  it("runs 3 workers and a steady flow of events", async () => {
    const c = await startDemo(20);
    const { state } = c.ctx;
    await new Promise((r) => setTimeout(r, 5000));
    const online = state.workers().filter((w) => w.online).map((w) => w.hostname.split("@")[0]);
    expect(online.sort()).toEqual(["worker1", "worker2", "worker3"]);
    const ov = state.overview();
    expect(ov.events_total).toBeGreaterThan(100);
    expect(ov.totals.succeeded).toBeGreaterThan(20);
    const names = new Set(state.taskTypes());
    expect(names.size).toBeGreaterThanOrEqual(4);
    expect([...names].every((n) => DEMO_TASKS.some((d) => d.name === n))).toBe(true);
    expect(c.ingest.stats().eventsPerSecond).toBeGreaterThan(10);
    expect(c.ctx.knownTaskNames()).toEqual(expect.arrayContaining(["emails.send", "images.resize", "ml.train"]));
    expect(c.ctx.queueConsumers().images).toEqual([expect.stringMatching(/^worker2@/)]);
    expect(c.ctx.queueConsumers().celery).toHaveLength(3);
  }, 15_000);

  it("honours duration_ms, fail and fail_once_key", async () => {
    const c = await startDemo(0);
    const { client, state } = c.ctx;
    const slow = await client.sendTask("reports.generate", [1], { duration_ms: 400 });
    const bad = await client.sendTask("images.resize", [2], { duration_ms: 10, fail: true });
    const flaky = await client.sendTask("emails.send", [], { to: "a@example.com", duration_ms: 10, fail_once_key: "smtp-1", retry_countdown: 0.2 });
    const flakyPlain = await client.sendTask("images.thumbnail", [3, 64], { duration_ms: 10, fail_once_key: "thumb-1" });

    const task = (id: string) => state.getTask(id) as TaskRecord | undefined;
    const s = await until(() => task(slow.id)?.state === "SUCCESS" && task(slow.id));
    expect(s.runtime).toBeGreaterThanOrEqual(0.39);
    expect(s.runtime).toBeLessThan(1.5);
    const f = await until(() => task(bad.id)?.state === "FAILURE" && task(bad.id));
    expect(f.exception).toMatch(/ValueError/);
    // Self-retrying task: same uuid goes RETRY → SUCCESS.
    const r = await until(() => task(flaky.id)?.state === "SUCCESS" && task(flaky.id));
    expect(r.retries).toBe(1);
    expect(r.retried).not.toBeNull();
    // A task that does not retry itself fails once; a re-run with the same key succeeds.
    await until(() => task(flakyPlain.id)?.state === "FAILURE");
    const again = await client.sendTask("images.thumbnail", [3, 64], { duration_ms: 10, fail_once_key: "thumb-1" });
    await until(() => task(again.id)?.state === "SUCCESS");
  }, 15_000);

  it("terminates a long task through its AbortSignal", async () => {
    const c = await startDemo(0);
    const { client, state } = c.ctx;
    const long = await client.sendTask("ml.train", ["m"], { duration_ms: 60_000 });
    await until(() => state.getTask(long.id)?.state === "STARTED");
    await client.revoke(long.id, { terminate: true });
    const t = await until(() => state.getTask(long.id)?.state === "REVOKED" && state.getTask(long.id));
    expect(t.terminated).toBe(true);
  });

  it("takes a worker down and brings it back", async () => {
    const c = await startDemo(0);
    const demo = c.demo!;
    await until(() => c.ctx.state.workers().filter((w) => w.online).length === 3);
    const gone = await demo.crashOne("graceful", 300);
    expect(gone).toMatch(/^worker\d@/);
    await until(() => c.ctx.state.getWorker(gone!)?.online === false);
    await until(() => demo.workers().every((w) => w.running) && c.ctx.state.getWorker(gone!)?.online === true);
  });
});

describe("demo building blocks", () => {
  it("skews runtimes toward the short end", () => {
    const rng = seededRng(1);
    const xs = Array.from({ length: 2000 }, () => skewedMs(rng, 10, 30_000));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...xs)).toBeLessThanOrEqual(30_000);
    const median = xs.sort((a, b) => a - b)[1000]!;
    expect(median).toBeLessThan(500);
    expect(xs.filter((x) => x > 10_000).length).toBeGreaterThan(0);
  });

  it("varies the rate smoothly around the mean", () => {
    const rs = Array.from({ length: 360 }, (_, t) => rateAt(10, t));
    expect(Math.min(...rs)).toBeGreaterThan(3);
    expect(Math.max(...rs)).toBeLessThan(17);
    for (let i = 1; i < rs.length; i++) expect(Math.abs(rs[i]! - rs[i - 1]!)).toBeLessThan(0.5);
    expect(rateAt(0, 100)).toBe(0);
  });

  it("produces every task name with realistic arguments", () => {
    const rng = seededRng(3);
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const def = pickTask(rng);
      seen.add(def.name);
      const m = def.make(rng);
      expect(Array.isArray(m.args)).toBe(true);
      if (def.name === "emails.send") expect(m.kwargs.to).toMatch(/^[a-z]+\.\d+@[\w.]+$/);
      if (def.name === "search.reindex") expect(m.countdown).toBeGreaterThanOrEqual(5);
    }
    expect(seen.size).toBe(DEMO_TASKS.length);
  });
});
