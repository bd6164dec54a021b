import { afterAll, beforeAll, describe } from "vitest";
import { requireRedis, startRedisServer, type RedisServerHandle } from "../../testing/redis-server";
import { runBrokerConformance } from "../conformance";
import { RedisBroker } from "./index";

const skip = requireRedis();

describe.skipIf(skip)(`redis:// conformance${skip ? ` (${skip})` : ""}`, () => {
  let server: RedisServerHandle;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });
  runBrokerConformance("redis", async () => new RedisBroker(server.url, { onError: () => undefined }));
});
