import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisBroker } from "../../lib/broker/redis/index";
import { eventStreamKey, STREAM_MARKER } from "../../lib/broker/redis/stream";
import { serializeEnvelope } from "../../lib/protocol/envelope";
import { encodeEventEnvelope } from "../../lib/protocol/events";
import { ClusterState } from "../../lib/state";
import { requireRedis, startRedisServer, type RedisServerHandle } from "../../lib/testing/redis-server";
import { channel, lifecycle, multi, single, taskId, type Wire } from "../../scripts/bench/celery-events";
import { waitFor as poll } from "../../lib/testing/wait";
import { silentLogger } from "../log";
import { ThreadedEventSource } from "./event-thread";
import { Ingest } from "./index";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** lib/testing/wait's poll, with this file's longer default wait. */
const waitFor = (cond: () => boolean, what: string, timeoutMs = 15_000) => poll(cond, what, timeoutMs);

/** `tasks` lifecycles as a Celery cluster sends them: task-sent alone, worker events in task.multi batches of 24. */
function traffic(run: number, tasks: number): { wires: Wire[]; events: Record<string, unknown>[] } {
  const wires: Wire[] = [];
  const events: Record<string, unknown>[] = [];
  const pending = new Map<string, Record<string, unknown>[]>();
  for (let i = 0; i < tasks; i++) {
    const l = lifecycle(run, i, 1_800_000_000 + i / 1000, 4 * i);
    wires.push(single("client@bench", l.sent));
    events.push(l.sent);
    const p = pending.get(l.hostname) ?? [];
    p.push(...l.worker);
    pending.set(l.hostname, p);
    if (p.length >= 24) {
      wires.push(multi(l.hostname, p));
      events.push(...p);
      pending.delete(l.hostname);
    }
  }
  for (const [host, p] of pending) {
    wires.push(multi(host, p));
    events.push(...p);
  }
  return { wires, events };
}

async function publishAll(raw: Redis, wires: Wire[]): Promise<void> {
  for (let i = 0; i < wires.length; i += 1000) {
    const p = raw.pipeline();
    for (const w of wires.slice(i, i + 1000)) p.publish(channel(0, w), w.payload);
    await p.exec();
  }
}

describe.skipIf(requireRedis())("ThreadedEventSource (events decoded off the main thread) on a private redis-server", () => {
  let server: RedisServerHandle;
  let raw: Redis;
  beforeAll(async () => {
    server = await startRedisServer();
    raw = new Redis(server.url);
    raw.on("error", () => undefined); // refused connections while the restart test has Redis down
  });
  afterAll(async () => {
    await raw?.quit();
    await server?.stop();
  });

  it("delivers a burst of byte-exact Celery events (single and task.multi) in order, none lost", async () => {
    const src = new ThreadedEventSource(server.url, { maxBatchEvents: 500 });
    const got: unknown[] = [];
    const sub = await src.start((evs) => got.push(...evs));
    const { wires, events } = traffic(1, 5000);
    await publishAll(raw, wires);
    await waitFor(() => got.length >= events.length, `${events.length} events`);
    await sub.close();
    expect(got.length).toBe(events.length);
    expect(got).toEqual(events);
    expect(src.rejected).toBe(0);
    expect(src.dropped).toBe(0);
    expect(src.inflight).toBe(0);
  });

  it("batches more per post while the main thread is busy, still in order", async () => {
    const src = new ThreadedEventSource(server.url, { maxInflightBatches: 1 });
    const got: unknown[] = [];
    const sub = await src.start((evs) => got.push(...evs));
    const { wires, events } = traffic(2, 2000);
    await publishAll(raw, wires);
    // Block this thread: the decoding thread keeps reading and holds everything in few batches.
    const until = Date.now() + 300;
    while (Date.now() < until);
    await waitFor(() => got.length >= events.length, `${events.length} events`);
    await sub.close();
    expect(got).toEqual(events);
    expect(src.batches).toBeLessThan(wires.length / 4);
  });

  it("counts malformed payloads, never throws, and keeps delivering the good ones", async () => {
    const src = new ThreadedEventSource(server.url);
    const got: unknown[] = [];
    const sub = await src.start((evs) => got.push(...evs));
    const good = serializeEnvelope(encodeEventEnvelope("w@h", { type: "worker-heartbeat", hostname: "w@h", timestamp: 1, clock: 1 }));
    const bad = ["", "not json", "[]", '{"body": 1}', good.replace("application/json", "application/x-python-serialize"), good.replace(/"body": "[^"]*"/, '"body": "bm90IGpzb24="')];
    const p = raw.pipeline();
    p.publish("/0.celeryev/worker.heartbeat", good);
    for (const b of bad) p.publish("/0.celeryev/worker.heartbeat", b);
    p.publish("/0.celeryev/worker.heartbeat", good);
    await p.exec();
    await waitFor(() => got.length >= 2 && src.rejected >= bad.length, "2 events and the rejects");
    await sub.close();
    expect(got.length).toBe(2);
    expect(src.rejected).toBe(bad.length);
  });

  it("hands over every event published before close(), and skips stream-marked copies when asked", async () => {
    const src = new ThreadedEventSource(server.url);
    const got: unknown[] = [];
    const sub = await src.start((evs) => got.push(...evs), { skipStreamed: true });
    const env = encodeEventEnvelope("w@h", { type: "task-started", uuid: "u1", hostname: "w@h", timestamp: 1, clock: 1 });
    const marked = { ...env, properties: { ...env.properties, [STREAM_MARKER]: eventStreamKey("") } };
    const { wires, events } = traffic(3, 1000);
    await publishAll(raw, wires);
    await raw.publish("/0.celeryev/task.started", serializeEnvelope(marked as typeof env));
    await sub.close();
    expect(got).toEqual(events);
    expect(src.rejected).toBe(0);
  });

  it("subscribes again after Redis restarts and keeps delivering in order", async () => {
    const statuses: string[] = [];
    const src = new ThreadedEventSource(server.url, { onStatus: (s) => statuses.push(s.status) });
    const got: unknown[] = [];
    const sub = await src.start((evs) => got.push(...evs));
    const before = traffic(5, 200);
    await publishAll(raw, before.wires);
    await waitFor(() => got.length >= before.events.length, "events before the restart");
    await server.restart(100);
    await waitFor(() => src.reconnects >= 1, "a reconnect");
    // Redis forgot the subscription with the old connection: wait until it has one again.
    const probe = serializeEnvelope(encodeEventEnvelope("w@h", { type: "worker-heartbeat", hostname: "w@h", timestamp: 2, clock: 2 }));
    const deadline = Date.now() + 10_000;
    while ((await raw.publish("/0.celeryev/worker.heartbeat", probe)) < 1) {
      if (Date.now() > deadline) throw new Error("subscriber never came back");
      await sleep(20);
    }
    const after = traffic(6, 200);
    await publishAll(raw, after.wires);
    await waitFor(() => got.length >= before.events.length + 1 + after.events.length, "events after the restart");
    await sub.close();
    expect(got.slice(0, before.events.length)).toEqual(before.events);
    expect(got.slice(before.events.length + 1)).toEqual(after.events);
    expect(statuses).toContain("reconnecting");
  });

  it("replaces a thread that died, and keeps delivering", async () => {
    const statuses: string[] = [];
    const src = new ThreadedEventSource(server.url, { onStatus: (s) => statuses.push(s.error ?? s.status) });
    const got: unknown[] = [];
    const sub = await src.start((evs) => got.push(...evs));
    const inner = src as unknown as { thread: { worker: { terminate(): Promise<number> } } };
    const first = inner.thread;
    await first.worker.terminate();
    await waitFor(() => inner.thread !== null && inner.thread !== first, "a new thread");
    const probe = serializeEnvelope(encodeEventEnvelope("w@h", { type: "worker-heartbeat", hostname: "w@h", timestamp: 2, clock: 2 }));
    const deadline = Date.now() + 10_000;
    while ((await raw.publish("/0.celeryev/worker.heartbeat", probe)) < 1) {
      if (Date.now() > deadline) throw new Error("no subscriber after the restart");
      await sleep(20);
    }
    const { wires, events } = traffic(7, 300);
    await publishAll(raw, wires);
    await waitFor(() => got.length >= 1 + events.length, "events from the new thread");
    await sub.close();
    expect(got.slice(1)).toEqual(events);
    expect(statuses.some((s) => s.includes("restarting"))).toBe(true);
  });

  it("authenticates with the URL's password and listens on the URL's database channels", async () => {
    const own = await startRedisServer();
    const admin = new Redis(own.url);
    try {
      await admin.config("SET", "requirepass", "s3cret");
      const src = new ThreadedEventSource(`redis://:s3cret@127.0.0.1:${own.port}/3`);
      const got: unknown[] = [];
      const sub = await src.start((evs) => got.push(...evs));
      const ev = { type: "worker-heartbeat", hostname: "w@h", timestamp: 3, clock: 3 };
      await admin.publish("/0.celeryev/worker.heartbeat", serializeEnvelope(encodeEventEnvelope("w@h", { ...ev, clock: 0 })));
      await admin.publish("/3.celeryev/worker.heartbeat", serializeEnvelope(encodeEventEnvelope("w@h", ev)));
      await waitFor(() => got.length >= 1, "the db 3 event");
      await sub.close();
      expect(got).toEqual([ev]);
    } finally {
      admin.disconnect();
      await own.stop();
    }
  });

  it("feeds Ingest + ClusterState through the real RedisBroker: every event applied, zero lost", async () => {
    const broker = new RedisBroker(server.url, { onError: () => undefined });
    await broker.connect();
    const state = new ClusterState({ maxTasks: 10_000 });
    const src = new ThreadedEventSource(server.url);
    const ingest = new Ingest(broker, state, silentLogger, { source: src, requestHeartbeat: false });
    await ingest.start();
    const { wires, events } = traffic(4, 5000);
    await publishAll(raw, wires);
    await raw.publish("/0.celeryev/task.multi", "garbage");
    await waitFor(() => state.eventsTotal + state.eventsRejected >= events.length, "all events applied");
    await ingest.stop();
    ingest.syncTransportRejects();
    await broker.close();
    expect(state.eventsTotal).toBe(events.length);
    expect(state.tasksRetained).toBe(5000);
    expect(state.getTask(taskId(4, 7))?.state).toBe("FAILURE"); // 1 in 20 fails (celery-events.ts)
    expect(state.eventsRejected).toBe(1);
  });
});
