/**
 * The off-thread ingest (event-thread.ts) over rediss:// and sentinel:// against real servers:
 * a TLS-only redis-server with a throwaway CA, and a real Sentinel in front of a private master
 * (lib/testing/redis-extra.ts). Events come from a real RedisBroker, as a worker sends them.
 */
import { Redis, type RedisOptions } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisBroker, type RedisBrokerOptions } from "../../lib/broker/redis/index";
import { ClusterState } from "../../lib/state";
import { requireOpenssl, startSentinel, startTlsRedisServer, type SentinelHandle, type TlsRedisHandle } from "../../lib/testing/redis-extra";
import { requireRedis } from "../../lib/testing/redis-server";
import { lifecycle, taskId } from "../../scripts/bench/celery-events";
import { waitFor as poll } from "../../lib/testing/wait";
import { silentLogger } from "../log";
import { ThreadedEventSource } from "./event-thread";
import { Ingest } from "./index";
import { RespSubscriber } from "./resp-subscriber";

const skipTls = requireRedis() || requireOpenssl();
const skipSentinel = requireRedis();

/** lib/testing/wait's poll, with this file's longer default wait. */
const waitFor = (cond: () => boolean, what: string, timeoutMs = 10_000) => poll(cond, what, timeoutMs);

/**
 * A RedisBroker on `brokerUrl` sends `tasks` lifecycles as a worker would; Ingest with a
 * ThreadedEventSource on `ingestUrl` must apply every event, all of them through the thread.
 * `server` inspects the Redis both talk to.
 */
async function ingestThroughThread(brokerUrl: string, brokerOpts: RedisBrokerOptions, ingestUrl: string, server: Redis, run: number): Promise<void> {
  const broker = new RedisBroker(brokerUrl, { onError: () => undefined, ...brokerOpts });
  await broker.connect();
  const state = new ClusterState({ maxTasks: 1000 });
  const statuses: string[] = [];
  const src = new ThreadedEventSource(ingestUrl, { connectionName: `petal-ingest-${run}`, onStatus: (s) => statuses.push(s.error ?? s.status) });
  const ingest = new Ingest(broker, state, silentLogger, { source: src, requestHeartbeat: false });
  try {
    await ingest.start();
    // The thread's own subscriber is on this server (CLIENT SETNAME), not a fallback to the broker's.
    expect(String(await server.client("LIST"))).toContain(`name=petal-ingest-${run} `);
    const tasks = 50;
    for (let i = 0; i < tasks; i++) {
      const l = lifecycle(run, i, 1_800_000_000 + i, 4 * i);
      await broker.publishEvent(String(l.sent.hostname), l.sent);
      await broker.publishEvent(l.hostname, l.worker);
    }
    await waitFor(() => state.eventsTotal >= tasks * 4, `${tasks * 4} events applied`);
    expect(state.eventsTotal).toBe(tasks * 4);
    expect(src.events).toBe(tasks * 4);
    expect(src.rejected).toBe(0);
    expect(state.getTask(taskId(run, 0))?.state).toBe("SUCCESS");
    expect(state.getTask(taskId(run, 7))?.state).toBe("FAILURE"); // 1 in 20 fails (celery-events.ts)
    expect(statuses).toEqual([]);
  } finally {
    await ingest.stop();
    await broker.close();
  }
}

describe.skipIf(skipTls)("event thread over rediss:// (TLS-only redis-server)", () => {
  let server: TlsRedisHandle;
  let admin: Redis;
  beforeAll(async () => {
    server = await startTlsRedisServer();
    const tls: RedisOptions["tls"] = { ca: server.ca };
    admin = new Redis({ host: "127.0.0.1", port: server.port, tls });
  });
  afterAll(async () => {
    await admin?.quit();
    await server?.stop();
  });

  it("subscribes over TLS with the CA from ?ssl_cert_reqs/ssl_ca_certs and applies every event", async () => {
    await ingestThroughThread(server.url, { redis: { tls: { ca: server.ca } } }, server.urlWithCa, admin, 1);
    await ingestThroughThread(server.urlWithCa, {}, `${server.url}?ssl_cert_reqs=none`, admin, 2);
  });

  it("the subscriber checks the server certificate: without the CA it is refused", async () => {
    const errors: string[] = [];
    const sub = new RespSubscriber({
      host: "127.0.0.1",
      port: server.port,
      tls: {},
      pattern: "/0.celeryev/*",
      onMessage: () => undefined,
      onStatus: (s, e) => {
        if (s === "error" && e) errors.push(e);
      },
    });
    void sub.start();
    await waitFor(() => errors.length > 0, "a TLS error");
    await sub.close();
    expect(errors[0]).toMatch(/self[- ]signed|certificate/i);
  });
});

describe.skipIf(skipSentinel)("event thread over sentinel:// (real Sentinel)", () => {
  let sentinel: SentinelHandle;
  let master: Redis;
  beforeAll(async () => {
    sentinel = await startSentinel();
    master = new Redis(sentinel.master.url);
  });
  afterAll(async () => {
    await master?.quit();
    await sentinel?.stop();
  });

  it("finds the master through the sentinel, subscribes there and applies every event", async () => {
    await ingestThroughThread(sentinel.url, {}, sentinel.url, master, 3);
  });
});
