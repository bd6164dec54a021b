import { describe, expect, it } from "vitest";
import { createBroker, MemoryBroker, RedisBroker } from "./index";

describe("createBroker", () => {
  it("makes a memory broker for memory://", async () => {
    const b = createBroker("memory://");
    expect(b).toBeInstanceOf(MemoryBroker);
    expect(b.url).toBe("memory://");
    await b.close();
  });

  it("makes a Redis broker for redis://, rediss://, sentinel:// without echoing credentials", async () => {
    const b = createBroker("redis://user:s3cret@localhost:6379/0");
    expect(b).toBeInstanceOf(RedisBroker);
    expect(b.url).not.toContain("s3cret");
    await b.close();
    for (const url of ["rediss://h:6380/1", "sentinel://h:26379;sentinel://h2:26379/0?master_name=mymaster"]) {
      const r = createBroker(url);
      expect(r).toBeInstanceOf(RedisBroker);
      await r.close();
    }
    expect(() => createBroker("sentinel://h:26379")).toThrow(/master_name/);
  });

  it("rejects unknown schemes and garbage clearly", () => {
    expect(() => createBroker("amqp://guest@h//")).toThrow(/unsupported broker scheme "amqp:\/\/".*memory:\/\//);
    expect(() => createBroker("")).toThrow(/invalid broker URL/);
  });
});
