import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireRedis, startRedisServer, type RedisServerHandle } from "../../testing/redis-server";
import { runBrokerConformance } from "../conformance";
import { runDeadLetterConformance } from "../conformance-dead-letters";
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
  let prefixes = 0;
  runDeadLetterConformance("redis", async () => new RedisBroker(server.url, { onError: () => undefined, globalKeyprefix: `dl${++prefixes}:` }));

  it("dead letters cross processes: one broker stores, another (same prefix) reads them", async () => {
    const a = new RedisBroker(server.url, { onError: () => undefined, globalKeyprefix: "shared-dl:" });
    const b = new RedisBroker(server.url, { onError: () => undefined, globalKeyprefix: "shared-dl:" });
    try {
      await a.deadLetter({ at: 1, queue: "celery", reason: "no content-type", code: "no_content_type", raw: "{}", worker: "w@x", taskId: "t1" });
      expect(await b.deadLetters(5)).toEqual({ total: 1, entries: [{ at: 1, queue: "celery", reason: "no content-type", code: "no_content_type", raw: "{}", worker: "w@x", taskId: "t1" }] });
      expect(await a.cmd.llen("shared-dl:petal.dead-letters")).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
