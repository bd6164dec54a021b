import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildTaskMessage } from "../protocol/task-message";
import { deadLetterEntry } from "./dead-letter";
import { harness, until, type Harness } from "./test-harness";

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.close();
});

describe("dead letters on the broker", () => {
  it("a worker stores what it refuses on the broker by default (no hook needed)", async () => {
    h.registry.register("demo.add", (ctx) => (ctx.args[0] as number) + 1);
    const w = await h.worker();
    const noCt = buildTaskMessage("demo.add", { id: "dl-1", args: [1] });
    await h.broker.publish("celery", { ...noCt, "content-type": "" });
    const good = await h.client.sendTask("demo.add", [1]);
    expect(await good.get({ timeout: 1000 })).toBe(2);
    const list = await until(async () => {
      const r = await h.broker.deadLetters!(10);
      return r.total === 1 ? r : null;
    });
    expect(list.entries[0]).toMatchObject({ queue: "celery", code: "no_content_type", worker: w.hostname, taskId: "dl-1" });
    expect(JSON.parse(list.entries[0].raw).headers.id).toBe("dl-1");
  });

  it("still reaches the onDeadLetter hook as well", async () => {
    const hooked: string[] = [];
    await h.worker({ onDeadLetter: (d) => hooked.push(d.code) });
    await h.broker.publish("celery", { ...buildTaskMessage("demo.x", { id: "dl-2" }), "content-type": "" });
    await until(() => hooked.length === 1);
    expect((await h.broker.deadLetters!(10)).total).toBe(1);
  });

  it("builds an entry even from an envelope JSON cannot encode", () => {
    const env = { headers: {} } as Record<string, unknown>;
    env.self = env;
    const e = deadLetterEntry({ envelope: env as never, reason: "r", code: "internal", queue: "q", taskId: null }, "w@h");
    expect(e).toMatchObject({ queue: "q", code: "internal", worker: "w@h", taskId: null });
    expect(typeof e.raw).toBe("string");
  });
});
