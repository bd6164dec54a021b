import { describe, expect, it } from "vitest";
import { serializeEnvelope } from "../../protocol/envelope";
import { encodeEventEnvelope } from "../../protocol/events";
import { serializeWithBody } from "./pubsub";

describe("serializeWithBody", () => {
  it("writes exactly what serializeEnvelope writes, for single events and task.multi batches", () => {
    const one = encodeEventEnvelope("w@h", { type: "task-succeeded", uuid: "ü-1", result: "'é'", clock: 3 });
    const many = encodeEventEnvelope("wörker@h", [{ type: "task-received", uuid: "a" }, { type: "task-started", uuid: "b", x: "\u2028" }]);
    for (const env of [one, many]) expect(serializeWithBody(env)).toBe(serializeEnvelope(env));
  });

  it("falls back to the full serializer for a body that is not base64", () => {
    const env = { ...encodeEventEnvelope("w@h", { type: "worker-heartbeat" }), body: 'not "base64" ü' };
    expect(serializeWithBody(env)).toBe(serializeEnvelope(env));
  });
});
