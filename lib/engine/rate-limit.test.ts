import { describe, expect, it } from "vitest";
import { LimitedSet } from "./limited-set";
import { parseRateLimit, TokenBucket } from "./rate-limit";

describe("parseRateLimit", () => {
  it("reads Celery's rate strings as tokens per second", () => {
    expect(parseRateLimit("10/s")).toBe(10);
    expect(parseRateLimit("120/m")).toBe(2);
    expect(parseRateLimit("3600/h")).toBe(1);
    expect(parseRateLimit("5")).toBe(5);
    expect(parseRateLimit(2.5)).toBe(2.5);
    expect(parseRateLimit(null)).toBe(0);
    expect(parseRateLimit("")).toBe(0);
    expect(() => parseRateLimit("fast")).toThrow(/Invalid rate limit/);
    expect(() => parseRateLimit("10/d")).toThrow(RangeError);
    expect(() => parseRateLimit(-1)).toThrow(RangeError);
  });
});

describe("TokenBucket", () => {
  it("lets one through, then refills at the rate", () => {
    let t = 0;
    const b = new TokenBucket(10, 1, () => t);
    expect(b.tryTake()).toBe(true);
    expect(b.tryTake()).toBe(false);
    expect(b.waitMs()).toBe(100);
    t = 50;
    expect(b.tryTake()).toBe(false);
    expect(b.waitMs()).toBe(50);
    t = 100;
    expect(b.tryTake()).toBe(true);
    t = 10_000; // capacity caps the burst
    expect(b.tryTake()).toBe(true);
    expect(b.tryTake()).toBe(false);
  });

  it("applies a new rate", () => {
    let t = 0;
    const b = new TokenBucket(1, 1, () => t);
    b.tryTake();
    b.setRate(100);
    expect(b.waitMs()).toBe(10);
    t = 10;
    expect(b.tryTake()).toBe(true);
  });
});

describe("LimitedSet", () => {
  it("caps size, oldest first, and expires entries", () => {
    let now = 0;
    const s = new LimitedSet(3, 10, () => now);
    for (const id of ["a", "b", "c", "d"]) s.add(id);
    expect(s.has("a")).toBe(false);
    expect(s.ids()).toEqual(["b", "c", "d"]);
    now = 5_000;
    s.add("b"); // re-adding refreshes and moves to the end
    now = 10_500;
    expect(s.ids()).toEqual(["b"]);
    expect(s.has("c")).toBe(false);
    now = 16_000;
    expect(s.has("b")).toBe(false);
    expect(s.size).toBe(0);
  });
});
