/**
 * rediss:// and sentinel:// against real servers: a TLS-only redis-server with a throwaway CA,
 * and a real Sentinel in front of a private master (lib/testing/redis-extra.ts).
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uuid4 } from "../../protocol/envelope";
import { buildTaskMessage } from "../../protocol/task-message";
import { requireOpenssl, startSentinel, startTlsRedisServer, type SentinelHandle, type TlsRedisHandle } from "../../testing/redis-extra";
import { requireRedis } from "../../testing/redis-server";
import type { Delivery, RawEventBatch } from "../types";
import { RedisBroker, type RedisBrokerOptions } from "./index";
import { waitFor } from "./test-helpers";

const skipTls = requireRedis() || requireOpenssl();
const skipSentinel = requireRedis();

/** Publish a task on `publisher`, consume it on `consumer`, and pass one event between them. */
async function roundTrip(publisher: RedisBroker, consumer: RedisBroker): Promise<void> {
  const queue = `q.${uuid4().slice(0, 8)}`;
  const got: Delivery[] = [];
  consumer.consume([queue], { prefetch: 4 }, (d) => {
    got.push(d);
    void d.ack();
  });
  const events: RawEventBatch[] = [];
  const sub = await consumer.subscribeEvents((b) => events.push(b));
  await publisher.publish(queue, buildTaskMessage("demo.add", { args: [2, 3], queue }));
  await waitFor(() => got.length === 1, "the task delivered", 10_000);
  expect(got[0].envelope.headers.task).toBe("demo.add");
  expect(got[0].envelope.headers.argsrepr).toBe("(2, 3)");
  const host = `w-${uuid4().slice(0, 8)}@test`;
  await publisher.publishEvent(host, { hostname: host, type: "worker-heartbeat", clock: 1, timestamp: 1 });
  await publisher.publishEvent(host, [{ hostname: host, type: "task-started", uuid: "t1", clock: 2, timestamp: 2 }]);
  await waitFor(() => events.length === 2, "both events", 10_000);
  expect(events.map((e) => e.routingKey)).toEqual(["worker.heartbeat", "task.multi"]);
  expect(events[1].events).toEqual([{ hostname: host, type: "task-started", uuid: "t1", clock: 2, timestamp: 2 }]);
  await sub.close();
}

describe.skipIf(skipTls)("rediss:// on a TLS-only redis-server", () => {
  let server: TlsRedisHandle;
  const made: RedisBroker[] = [];
  const broker = async (url: string, opts: RedisBrokerOptions = {}) => {
    const b = new RedisBroker(url, { onError: () => undefined, ...opts });
    made.push(b);
    await b.connect();
    return b;
  };
  beforeAll(async () => {
    server = await startTlsRedisServer();
  });
  afterAll(async () => {
    await Promise.allSettled(made.splice(0).map((b) => b.close()));
    await server?.stop();
  });

  it("publishes, consumes and passes events, with the CA given as an ioredis option or in the URL", async () => {
    const viaOption = await broker(server.url, { redis: { tls: { ca: server.ca } } });
    const viaUrl = await broker(server.urlWithCa);
    await roundTrip(viaOption, viaUrl);
    await roundTrip(viaUrl, viaOption);
  });

  it("checks the certificate: refused without the CA, accepted with ?ssl_cert_reqs=none", async () => {
    const strict = new RedisBroker(server.url, { onError: () => undefined, redis: { retryStrategy: () => null } });
    const errors: string[] = [];
    strict.cmd.on("error", (e: Error) => errors.push(e.message));
    try {
      await expect(strict.connect()).rejects.toThrow();
      expect(errors.join("; ")).toMatch(/self[- ]signed|certificate/i);
    } finally {
      await strict.close();
    }
    const lax = await broker(`${server.url}?ssl_cert_reqs=none`);
    expect(await lax.cmd.ping()).toBe("PONG");
  });

  it("a plain redis:// client gets nothing from the TLS port", async () => {
    const plain = new Redis(server.port, "127.0.0.1", { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 2000 });
    plain.on("error", () => undefined);
    await expect(plain.connect().then(() => plain.ping())).rejects.toThrow();
    plain.disconnect();
  });
});

describe.skipIf(skipSentinel)("sentinel:// through a real Sentinel", () => {
  let sentinel: SentinelHandle;
  let raw: Redis;
  const made: RedisBroker[] = [];
  beforeAll(async () => {
    sentinel = await startSentinel();
    raw = new Redis(sentinel.master.url);
  });
  afterAll(async () => {
    await Promise.allSettled(made.splice(0).map((b) => b.close()));
    await raw?.quit();
    await sentinel?.stop();
  });

  it("finds the master through the sentinel, then publishes, consumes and passes events on it", async () => {
    const a = new RedisBroker(sentinel.url, { onError: () => undefined });
    const b = new RedisBroker(sentinel.url, { onError: () => undefined });
    made.push(a, b);
    await a.connect();
    await b.connect();
    await roundTrip(a, b);
    // The work went to the master the sentinel named: its event stream holds the two events.
    expect(await raw.xlen("petal.events")).toBe(2);
  });

  it("refuses a master name the sentinel does not know", async () => {
    const url = sentinel.url.replace("master_name=mymaster", "master_name=nosuch");
    const b = new RedisBroker(url, { onError: () => undefined, redis: { sentinelRetryStrategy: () => null } });
    const errors: string[] = [];
    b.cmd.on("error", (e: Error) => errors.push(e.message));
    try {
      await expect(b.connect()).rejects.toThrow();
      expect(errors.join("; ")).toMatch(/nosuch|sentinel/i);
    } finally {
      await b.close();
    }
  });
});
