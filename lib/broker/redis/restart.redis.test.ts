/** Surviving a Redis restart: consumers and subscriptions carry on once the server is back. */
import { afterAll, describe, expect, it } from "vitest";
import { uuid4 } from "../../protocol/envelope";
import { buildTaskMessage } from "../../protocol/task-message";
import { requireRedis, startRedisServer, type RedisServerHandle } from "../../testing/redis-server";
import type { BrokerStatus, Delivery, RawEventBatch } from "../types";
import { RedisBroker } from "./index";
import { sleep, waitFor } from "./test-helpers";

const skip = requireRedis();

describe.skipIf(skip)("redis:// across a Redis restart", () => {
  let server: RedisServerHandle | null = null;
  let broker: RedisBroker | null = null;
  afterAll(async () => {
    await broker?.close();
    await server?.stop();
  });

  it("a consumer and an event subscriber resume after the server restarts on the same port", async () => {
    server = await startRedisServer();
    const port = server.port;
    const errors: string[] = [];
    broker = new RedisBroker(server.url, { onError: (_e, where) => errors.push(where) });
    const b = broker;
    await b.connect();
    const statuses: BrokerStatus[] = [];
    b.onStatus((s) => statuses.push(s));
    const queue = `restart.${uuid4().slice(0, 8)}`;
    const got: Delivery[] = [];
    b.consume([queue], { prefetch: 10 }, (d) => {
      got.push(d);
      void d.ack();
    });
    const events: RawEventBatch[] = [];
    await b.subscribeEvents((x) => events.push(x));
    await b.publish(queue, buildTaskMessage("demo.add", { args: [1], queue }));
    await waitFor(() => got.length === 1, "delivery before the restart");

    await server.stop();
    await waitFor(() => statuses.includes("reconnecting"), "reconnecting status");
    // A control command during the outage fails at once instead of reaching workers whenever
    // Redis comes back.
    await expect(b.broadcast({ method: "shutdown", arguments: {} } as never, { timeout: 500 })).rejects.toThrow(/broker is not connected/);
    await sleep(300);
    server = await startRedisServer({ port });
    await waitFor(() => statuses.lastIndexOf("connected") > statuses.indexOf("reconnecting"), "connected again", 10_000);

    await b.publish(queue, buildTaskMessage("demo.add", { args: [2], queue }));
    await waitFor(() => got.length === 2, "delivery after the restart", 10_000);
    expect(got[1].envelope.headers.argsrepr).toBe("(2,)");
    // The subscriber's PSUBSCRIBE is replayed on its own reconnect; keep publishing until it is.
    const host = "restart@test";
    await waitFor(
      async () => {
        await b.publishEvent(host, { hostname: host, type: "worker-heartbeat", clock: 1 });
        return events.some((e) => (e.events[0] as { hostname?: string }).hostname === host);
      },
      "an event after the restart",
      10_000,
    );
    expect(got).toHaveLength(2);
  });
});
