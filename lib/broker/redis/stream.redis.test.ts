/** Petal's event stream on a real redis-server: appending, the pub/sub marker, following, gaps. */
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { uuid4 } from "../../protocol/envelope";
import { requireRedis } from "../../testing/redis-server";
import type { EventStreamBatch, RawEventBatch } from "../types";
import { RedisBroker } from "./index";
import { compareStreamIds, eventStreamKey, parseStreamId, STREAM_MARKER } from "./stream";
import { sleep, useRedis, waitFor } from "./test-helpers";

const skip = requireRedis();
const host = () => `w-${uuid4().slice(0, 8)}@test`;
const beat = (h: string, n: number) => ({ hostname: h, type: "worker-heartbeat", clock: n, timestamp: n });

describe("stream ids", () => {
  it("parses and orders ids numerically, not as text", () => {
    expect(parseStreamId("10-2")).toEqual([10n, 2n]);
    expect(parseStreamId("x-1")).toBeNull();
    expect(parseStreamId(5)).toBeNull();
    expect(compareStreamIds("9-0", "10-0")).toBeLessThan(0);
    expect(compareStreamIds("10-10", "10-9")).toBeGreaterThan(0);
    expect(compareStreamIds("3-3", "3-3")).toBe(0);
    expect(() => compareStreamIds("bad", "1-0")).toThrow(/not a stream id/);
  });
});

describe.skipIf(skip)("redis:// event stream", () => {
  const fx = useRedis();

  it("appends every published event body (the JSON pub/sub carries in base64), marks the pub/sub copy in properties, headers untouched", async () => {
    const b = await fx.broker({ globalKeyprefix: "app1:" });
    const sub = new Redis(fx.server.url);
    const seen: string[] = [];
    sub.on("pmessage", (_p: string, _ch: string, msg: string) => seen.push(msg));
    await sub.psubscribe("app1:/0.celeryev/*");
    const h = host();
    await b.publishEvent(h, beat(h, 1));
    await b.publishEvent(h, [{ hostname: h, type: "task-started", uuid: "a" }]);
    await waitFor(() => seen.length === 2, "pub/sub copies");
    const entries = (await fx.raw.xrange("app1:petal.events", "-", "+")) as [string, string[]][];
    const bodies = seen.map((m) => Buffer.from((JSON.parse(m) as { body: string }).body, "base64").toString("utf8"));
    expect(entries.map(([, f]) => f)).toEqual(bodies.map((json) => ["e", json]));
    expect(JSON.parse(bodies[1])).toEqual([{ hostname: h, type: "task-started", uuid: "a" }]);
    const env = JSON.parse(seen[0]) as { headers: unknown; properties: Record<string, unknown> };
    expect(env.headers).toEqual({ hostname: h });
    expect(env.properties[STREAM_MARKER]).toBe("app1:petal.events");
    expect(await fx.raw.exists("petal.events")).toBe(0);
    await sub.quit();
  });

  it("caps the stream near eventStreamMaxLen, and 0 turns appending (and the marker) off", async () => {
    const capped = await fx.broker({ globalKeyprefix: "cap:", eventStreamMaxLen: 50 });
    const h = host();
    for (let i = 0; i < 1000; i++) await capped.publishEvent(h, beat(h, i));
    const len = await fx.raw.xlen("cap:petal.events");
    // MAXLEN ~ trims whole radix-tree nodes (100 entries by default), never below the cap.
    expect(len).toBeGreaterThanOrEqual(50);
    expect(len).toBeLessThanOrEqual(150);

    const off = await fx.broker({ globalKeyprefix: "off:", eventStreamMaxLen: 0 });
    const got: RawEventBatch[] = [];
    const plain = await fx.broker({ globalKeyprefix: "off:" });
    await plain.subscribeEvents((x) => got.push(x), { skipStreamed: true });
    await off.publishEvent(h, beat(h, 1));
    await waitFor(() => got.length === 1, "unmarked event kept by a skipStreamed subscriber");
    expect(await fx.raw.exists("off:petal.events")).toBe(0);
    expect(() => new RedisBroker(fx.server.url, { eventStreamMaxLen: -1 })).toThrow(/non-negative/);
  });

  it("skipStreamed drops only the marked pub/sub copies; plain subscribers still get them", async () => {
    const pfx = "skip:";
    const pub = await fx.broker({ globalKeyprefix: pfx });
    const dash = await fx.broker({ globalKeyprefix: pfx });
    const skipping: RawEventBatch[] = [];
    const plain: RawEventBatch[] = [];
    await dash.subscribeEvents((x) => skipping.push(x), { skipStreamed: true });
    await dash.subscribeEvents((x) => plain.push(x));
    const h = host();
    await pub.publishEvent(h, beat(h, 1));
    // What a Celery worker sends: no marker.
    const celery = JSON.stringify({ body: Buffer.from(JSON.stringify(beat("celery@x", 1))).toString("base64"), "content-encoding": "utf-8", "content-type": "application/json", headers: { hostname: "celery@x" }, properties: { body_encoding: "base64", delivery_tag: "t1", delivery_info: { exchange: "celeryev", routing_key: "worker.heartbeat" }, delivery_mode: 1, priority: 0 } });
    await fx.raw.publish(`${pfx}/0.celeryev/worker.heartbeat`, celery);
    await waitFor(() => plain.length === 2, "both events to the plain subscriber");
    await sleep(50);
    expect(skipping.map((x) => (x.events[0] as { hostname: string }).hostname)).toEqual(["celery@x"]);
  });

  it("follows from the tail (nothing older), in order, and resumes from a cursor with the backlog", async () => {
    const pfx = `follow${uuid4().slice(0, 4)}:`;
    const pub = await fx.broker({ globalKeyprefix: pfx });
    const dash = await fx.broker({ globalKeyprefix: pfx });
    const h = host();
    await pub.publishEvent(h, beat(h, 1));
    const tail = await dash.eventStreamTail();
    expect(parseStreamId(tail)).not.toBeNull();
    const got: EventStreamBatch[] = [];
    const sub = await dash.subscribeEventStream({ after: tail, onBatch: (x) => got.push(x) });
    await pub.publishEvent(h, beat(h, 2));
    await pub.publishEvent(h, [
      { hostname: h, type: "task-received", uuid: "t" },
      { hostname: h, type: "task-started", uuid: "t" },
    ]);
    await waitFor(() => got.flatMap((x) => x.events).length === 3, "three events");
    expect(got.flatMap((x) => x.events).map((e) => (e as { type: string }).type)).toEqual(["worker-heartbeat", "task-received", "task-started"]);
    const cursor = got[got.length - 1].lastId;
    await sub.close();

    // While nobody reads: two more, then resume after the cursor.
    await pub.publishEvent(h, beat(h, 3));
    await pub.publishEvent(h, beat(h, 4));
    const again: EventStreamBatch[] = [];
    const sub2 = await dash.subscribeEventStream({ after: cursor, onBatch: (x) => again.push(x) });
    await waitFor(() => again.flatMap((x) => x.events).length === 2, "the backlog");
    expect(again.flatMap((x) => x.events).map((e) => (e as { clock: number }).clock)).toEqual([3, 4]);
    await sub2.close();
  });

  it("says so when the cursor fell off the capped stream, and when the stream restarted below it", async () => {
    const pfx = `gap${uuid4().slice(0, 4)}:`;
    const key = eventStreamKey(pfx);
    const dash = await fx.broker({ globalKeyprefix: pfx });
    const warnings: string[] = [];
    const got: unknown[] = [];
    for (let i = 1; i <= 5; i++) await fx.raw.xadd(key, `${i}-0`, "e", "x");
    await fx.raw.xtrim(key, "MAXLEN", 2); // 1..3 trimmed
    const sub = await dash.subscribeEventStream({ after: "2-0", onBatch: (x) => got.push(...x.events), onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([expect.stringMatching(/fell off the capped stream/)]);
    await sub.close();

    warnings.length = 0;
    const sub2 = await dash.subscribeEventStream({ after: "4-0", onBatch: () => undefined, onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([]); // the cursor's entry is still there: nothing after it was trimmed
    await sub2.close();

    const sub3 = await dash.subscribeEventStream({ after: "99-0", onBatch: () => undefined, onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([expect.stringMatching(/restarted below the saved cursor/)]);
    await sub3.close();
  });

  it("counts entries that are not event envelopes and keeps reading past them", async () => {
    const pfx = `junk${uuid4().slice(0, 4)}:`;
    const pub = await fx.broker({ globalKeyprefix: pfx });
    const dash = await fx.broker({ globalKeyprefix: pfx });
    const got: EventStreamBatch[] = [];
    const sub = await dash.subscribeEventStream({ after: await dash.eventStreamTail(), onBatch: (x) => got.push(x) });
    await fx.raw.xadd(eventStreamKey(pfx), "*", "e", "{not json");
    await fx.raw.xadd(eventStreamKey(pfx), "*", "other", "field");
    const h = host();
    await pub.publishEvent(h, beat(h, 7));
    await waitFor(() => got.flatMap((x) => x.events).length === 1, "the good event");
    expect(dash.rejectedEvents).toBe(2);
    await sub.close();
    expect(dash.rejectedEvents).toBe(2);
  });
});
