import { afterEach, describe, expect, it } from "vitest";
import { MemoryResultBackend } from "../lib/broker/memory/results";
import { TaskRegistry, Worker } from "../lib/engine";
import { compose, type Composition } from "./compose";
import { TEST_CONFIG } from "./http/test-context";
import { refreshWorkers } from "./http/workers";
import { silentLogger } from "./log";

let c: Composition | null = null;
let w: Worker | null = null;
afterEach(async () => {
  await w?.stop({ graceful: false });
  await c?.close();
  c = w = null;
});

describe("compose", () => {
  it("knows task names that workers registered, before any was sent (as Flower knows its app's)", async () => {
    c = await compose({ ...TEST_CONFIG }, { log: silentLogger, env: {} });
    await c.start();
    const registry = new TaskRegistry();
    registry.register("reports.only_registered", () => 1);
    w = new Worker({ broker: c.ctx.broker, results: new MemoryResultBackend(), registry, hostname: "w@compose", heartbeatInterval: 0.2 });
    await w.start();
    expect(c.ctx.knownTaskNames()).not.toContain("reports.only_registered");
    await refreshWorkers(c.ctx, ["w@compose"]);
    expect(c.ctx.knownTaskNames()).toContain("reports.only_registered");
  });
});
