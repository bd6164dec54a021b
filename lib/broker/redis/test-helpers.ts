/** Helpers of the Redis transport's tests (test-only): a private server per file and a raw client. */
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { startRedisServer, type RedisServerHandle } from "../../testing/redis-server";
import { RedisBroker, type RedisBrokerOptions } from "./index";

export interface RedisFixture {
  server: RedisServerHandle;
  /** a plain ioredis client for inspecting raw keys */
  raw: Redis;
  broker(opts?: RedisBrokerOptions, url?: string): Promise<RedisBroker>;
}

/** Starts a redis-server for the file; brokers made through it are closed after the file. */
export function useRedis(): RedisFixture {
  const made: RedisBroker[] = [];
  const fx = {} as RedisFixture;
  beforeAll(async () => {
    fx.server = await startRedisServer();
    fx.raw = new Redis(fx.server.url);
  });
  afterAll(async () => {
    await Promise.allSettled(made.splice(0).map((b) => b.close()));
    await fx.raw?.quit();
    await fx.server?.stop();
  });
  fx.broker = async (opts = {}, url?: string) => {
    const b = new RedisBroker(url ?? fx.server.url, { onError: () => undefined, ...opts });
    made.push(b);
    await b.connect();
    return b;
  };
  return fx;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export { waitFor } from "../../testing/wait";
