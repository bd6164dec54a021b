import { describe, expect, it } from "vitest";
import { autoretryCountdown, resolveTaskOptions, TaskRegistry } from "./registry";
import { expandHostname } from "./worker-options";
import { isoUtc, naiveUtcIso, parseIsoMs } from "./time";

describe("TaskRegistry", () => {
  it("registers handlers with Celery's defaults and lists names sorted", () => {
    const r = new TaskRegistry();
    r.register("b.two", () => 2);
    const t = r.register("a.one", () => 1, { rateLimit: "10/s", queue: "fast", retryBackoff: true });
    expect(r.names()).toEqual(["a.one", "b.two"]);
    expect(t.options).toMatchObject({ maxRetries: 3, retryBackoff: 1, retryBackoffMax: 600, retryJitter: true, queue: "fast" });
    expect(r.get("b.two")?.options).toMatchObject({ acksLate: false, ignoreResult: false, queue: "celery", softTimeLimit: null });
    expect(r.has("nope")).toBe(false);
  });

  it("refuses bad names and options at registration", () => {
    const r = new TaskRegistry();
    expect(() => r.register("", () => 1)).toThrow(TypeError);
    expect(() => r.register("x", () => 1, { rateLimit: "lots" })).toThrow(RangeError);
    expect(() => r.register("x", () => 1, { timeLimit: -1 })).toThrow(RangeError);
    expect(() => r.register("x", () => 1, { maxRetries: 1.5 })).toThrow(RangeError);
  });
});

describe("autoretryCountdown", () => {
  it("is exponential, capped, with full jitter", () => {
    const o = resolveTaskOptions({ retryBackoff: 2, retryBackoffMax: 10, retryJitter: false });
    expect([0, 1, 2, 3].map((n) => autoretryCountdown(o, n))).toEqual([2, 4, 8, 10]);
    const j = resolveTaskOptions({ retryBackoff: 2, retryJitter: true });
    expect(autoretryCountdown(j, 2, () => 0.5)).toBe(4);
    expect(autoretryCountdown(resolveTaskOptions({ defaultRetryDelay: 7 }), 5)).toBe(7);
  });
});

describe("time and host helpers", () => {
  it("writes Python's ISO spellings and reads naive times as UTC", () => {
    const ms = Date.UTC(2026, 10, 22, 2, 31, 59, 184);
    expect(isoUtc(ms)).toBe("2026-11-22T02:31:59.184000+00:00");
    expect(naiveUtcIso(ms)).toBe("2026-11-22T02:31:59.184000");
    expect(parseIsoMs("2026-11-22T02:31:59.184646+00:00")).toBe(ms);
    expect(parseIsoMs("2026-11-22T02:31:59.184")).toBe(ms);
    expect(parseIsoMs("soon")).toBeNull();
    expect(parseIsoMs(null)).toBeNull();
  });

  it("expands %h/%n/%d like celery -n", () => {
    expect(expandHostname("w1@%h", "box.example.com")).toBe("w1@box.example.com");
    expect(expandHostname("w1@%n", "box.example.com")).toBe("w1@box");
    expect(expandHostname("%n-%d@x", "box.example.com")).toBe("box-example.com@x");
    expect(expandHostname("solo", "box")).toBe("solo@box");
  });
});
