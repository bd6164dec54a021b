/**
 * Test helper (node only): a private redis-server for the test file, with a raw ioredis client
 * for reading and writing keys behind the code under test. Call useRedisServer() inside the
 * (skipIf'd) describe, before the file's own hooks: Vitest runs afterAll hooks in reverse, so
 * the file closes its brokers and servers before this stops Redis. Broker tests use
 * lib/broker/redis/test-helpers.ts (useRedis), which also makes brokers.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { startRedisServer, type RedisServerHandle } from "./redis-server";

export interface RedisServerFixture {
  /** set by beforeAll */
  readonly server: RedisServerHandle;
  /** server.url */
  readonly url: string;
  /**
   * A plain client, connected on first use and closed after the file. Connection errors are
   * ignored: a test may stop and restart the server under it (ioredis reconnects).
   */
  readonly raw: Redis;
}

/** Start a redis-server for the file (beforeAll) and stop it, and the raw client, after it. */
export function useRedisServer(): RedisServerFixture {
  let server: RedisServerHandle | undefined;
  let raw: Redis | undefined;
  const started = () => {
    if (server === undefined) throw new Error("useRedisServer: the server starts in beforeAll; use it inside hooks and tests");
    return server;
  };
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    if (raw !== undefined) {
      if (raw.status === "ready") await raw.quit();
      else raw.disconnect();
    }
    await server?.stop();
  });
  return {
    get server() {
      return started();
    },
    get url() {
      return started().url;
    },
    get raw() {
      if (raw === undefined) {
        raw = new Redis(started().url);
        raw.on("error", () => undefined);
      }
      return raw;
    },
  };
}
