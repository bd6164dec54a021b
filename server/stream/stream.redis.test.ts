/**
 * No gap while the dashboard was down: a Petal worker keeps publishing on a private
 * redis-server while no dashboard runs; the next dashboard resumes after its saved cursor,
 * applies every missed event once, and never applies the pub/sub copy of a streamed event.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisBroker } from "../../lib/broker/redis/index";
import { useRedisServer } from "../../lib/testing/redis-fixture";
import { requireRedis } from "../../lib/testing/redis-server";
import { waitFor } from "../../lib/testing/wait";
import type { Logger } from "../context";
import { compose, type Composition } from "../compose";
import { TEST_CONFIG } from "../http/test-context";
import { MemoryCursorStore, metaCursorStore, StreamFollower } from "./index";

const skip = requireRedis();

function recordingLogger(): Logger & { lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (msg: string) => void lines.push({ level, msg });
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

const HOST = "petal-w1@test";
let clock = 0;
/** One task's whole life, as a Petal worker publishes it (one task.multi). */
function lifecycle(id: string): object[] {
  const base = () => ({ hostname: HOST, utcoffset: 0, pid: 1, clock: ++clock, timestamp: Date.now() / 1000 });
  return [
    { ...base(), uuid: id, name: "demo.add", args: "(1, 2)", kwargs: "{}", root_id: id, parent_id: null, retries: 0, eta: null, expires: null, type: "task-received" },
    { ...base(), uuid: id, type: "task-started" },
    { ...base(), uuid: id, result: "3", runtime: 0.01, type: "task-succeeded" },
  ];
}

describe("metaCursorStore", () => {
  it("keeps the cursor under one key of history's key/value table", () => {
    const table = new Map<string, string>();
    const store = metaCursorStore({ getMeta: (k) => table.get(k) ?? null, setMeta: (k, v) => void table.set(k, v) });
    expect(store.get()).toBeNull();
    store.set("5-1");
    expect(table.get("event_stream_cursor")).toBe("5-1");
    expect(store.get()).toBe("5-1");
  });
});

describe.skipIf(skip)("event stream resume across dashboard restarts (redis://)", () => {
  const redis = useRedisServer();
  let worker: RedisBroker;
  const open: Composition[] = [];

  beforeAll(async () => {
    worker = new RedisBroker(redis.url);
    await worker.connect();
  }, 30_000);

  afterAll(async () => {
    for (const c of open) await c.close();
    await worker?.close();
  });

  async function dashboard(cursor: MemoryCursorStore, log: Logger = recordingLogger()): Promise<Composition> {
    const c = await compose(
      { ...TEST_CONFIG, broker: redis.url, demo: false },
      { log, env: {}, ingest: { flushMs: 5, requestHeartbeat: false }, cursorStore: cursor, reconcile: false, stream: { saveEveryMs: 50 } },
    );
    open.push(c);
    await c.start();
    return c;
  }

  it("applies what was published while no dashboard ran, none twice, and saves the cursor", async () => {
    const cursor = new MemoryCursorStore(); // stands in for history's meta table
    await worker.publishEvent(HOST, lifecycle("before-any"));

    const a = await dashboard(cursor);
    expect(a.stream).not.toBeNull();
    await worker.publishEvent(HOST, lifecycle("t1"));
    await waitFor(() => a.ctx.state.getTask("t1")?.state === "SUCCESS", "t1 in the first dashboard");
    // A fresh dashboard follows from now on; the pub/sub copies of streamed events are dropped.
    expect(a.ctx.state.getTask("before-any")).toBeUndefined();
    expect(a.ctx.state.eventsTotal).toBe(3);
    await a.close();
    const tail = ((await redis.raw.xrevrange("petal.events", "+", "-", "COUNT", 1)) as [string, string[]][])[0][0];
    expect(cursor.get()).toBe(tail);

    // Dashboard down: the worker keeps going.
    await worker.publishEvent(HOST, lifecycle("t2"));
    await worker.publishEvent(HOST, lifecycle("t3"));

    const b = await dashboard(cursor);
    await waitFor(() => b.ctx.state.getTask("t3")?.state === "SUCCESS", "missed events applied after restart");
    expect(b.ctx.state.getTask("t2")?.state).toBe("SUCCESS");
    expect(b.ctx.state.getTask("t1")).toBeUndefined(); // before the cursor: not read again
    expect(b.ctx.state.eventsTotal).toBe(6);
    expect(b.ctx.state.overview().totals.succeeded).toBe(2);

    // Live again: a streamed event and a Celery worker's (pub/sub only) event, each applied once.
    await worker.publishEvent(HOST, lifecycle("t4"));
    const celery = { hostname: "celery@py", utcoffset: 0, pid: 9, clock: 1, freq: 2, active: 0, processed: 0, loadavg: [0, 0, 0], sw_ident: "py-celery", sw_ver: "5.2.6", sw_sys: "Linux", timestamp: Date.now() / 1000, type: "worker-heartbeat" };
    const body = Buffer.from(JSON.stringify(celery)).toString("base64");
    await redis.raw.publish(
      "/0.celeryev/worker.heartbeat",
      JSON.stringify({ body, "content-encoding": "utf-8", "content-type": "application/json", headers: { hostname: "celery@py" }, properties: { delivery_mode: 1, delivery_info: { exchange: "celeryev", routing_key: "worker.heartbeat" }, priority: 0, body_encoding: "base64", delivery_tag: "x1" } }),
    );
    await waitFor(() => b.ctx.state.getTask("t4")?.state === "SUCCESS" && b.ctx.state.getWorker("celery@py") !== undefined, "live events");
    await new Promise((r) => setTimeout(r, 100));
    expect(b.ctx.state.eventsTotal).toBe(10);
    expect(b.stream!.stats()).toMatchObject({ events: 9, gaps: 0 });
    await b.close();
  });

  it("says so in the log when the cursor fell off the capped stream, then continues from the oldest entry", async () => {
    const cursor = new MemoryCursorStore();
    const a = await dashboard(cursor);
    await worker.publishEvent(HOST, lifecycle("g1"));
    await waitFor(() => a.ctx.state.getTask("g1")?.state === "SUCCESS", "g1");
    await a.close();

    // While down, a publisher with a small cap trims the stream far past the cursor.
    const tiny = new RedisBroker(redis.url, { eventStreamMaxLen: 10 });
    await tiny.connect();
    for (let i = 0; i < 300; i++) await tiny.publishEvent(HOST, { hostname: HOST, utcoffset: 0, pid: 1, clock: ++clock, freq: 2, active: 0, processed: i, timestamp: Date.now() / 1000, type: "worker-heartbeat" });
    await tiny.publishEvent(HOST, lifecycle("g2"));
    await tiny.close();

    const log = recordingLogger();
    const b = await dashboard(cursor, log);
    await waitFor(() => b.ctx.state.getTask("g2")?.state === "SUCCESS", "events after the gap");
    expect(log.lines).toContainEqual({ level: "warn", msg: expect.stringMatching(/fell off the capped stream/) });
    expect(b.stream!.stats().gaps).toBe(1);
    await b.close();
  });

  it("a cursor that is not a stream id is ignored with a warning (follow from now on)", async () => {
    const log = recordingLogger();
    const c = await dashboard(new MemoryCursorStore("garbage"), log);
    await worker.publishEvent(HOST, lifecycle("n1"));
    await waitFor(() => c.ctx.state.getTask("n1")?.state === "SUCCESS", "n1");
    expect(log.lines).toContainEqual({ level: "warn", msg: expect.stringMatching(/not a stream id/) });
    await c.close();
  });

  it("refuses to start, saying why, when the stream key holds something else", async () => {
    await redis.raw.set("other:petal.events", "not a stream");
    const b = new RedisBroker(redis.url, { globalKeyprefix: "other:" });
    await b.connect();
    const f = new StreamFollower(b, { inject: () => undefined, flush: () => undefined, onApplied: () => () => undefined }, new MemoryCursorStore(), recordingLogger());
    await expect(f.prepare()).rejects.toThrow(/event stream unavailable \(WRONGTYPE.*--no-event-stream/);
    await b.close();
  });
});
