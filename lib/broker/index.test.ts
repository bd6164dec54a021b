import { describe, expect, it } from "vitest";
import { createBroker, MemoryBroker } from "./index";

describe("createBroker", () => {
  it("makes a memory broker for memory://", async () => {
    const b = createBroker("memory://");
    expect(b).toBeInstanceOf(MemoryBroker);
    expect(b.url).toBe("memory://");
    await b.close();
  });

  it("says redis:// comes in the next issue, without echoing credentials", () => {
    expect(() => createBroker("redis://user:s3cret@localhost:6379/0")).toThrow(/not implemented yet.*next issue/);
    try {
      createBroker("redis://user:s3cret@localhost:6379/0");
    } catch (e) {
      expect(String(e)).not.toContain("s3cret");
    }
    expect(() => createBroker("rediss://h")).toThrow(/next issue/);
  });

  it("rejects unknown schemes and garbage clearly", () => {
    expect(() => createBroker("amqp://guest@h//")).toThrow(/unsupported broker scheme "amqp:\/\/".*memory:\/\//);
    expect(() => createBroker("")).toThrow(/invalid broker URL/);
  });
});
