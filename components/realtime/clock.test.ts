import { afterEach, describe, expect, it, vi } from "vitest";
import { CLOCK_SAMPLES, ClockOffset } from "./clock";
import { activeTimers, subscribeTick } from "./ticker";

describe("ClockOffset", () => {
  it("takes the sample least delayed by the network", () => {
    const c = new ClockOffset();
    expect(c.add(10_000, 7_000)).toBe(3_000);
    expect(c.add(11_000, 8_050)).toBe(3_000); // 50 ms late: underestimates, ignored
    expect(c.add(12_000, 8_990)).toBe(3_010);
  });
  it("forgets old samples so a corrected clock is followed", () => {
    const c = new ClockOffset();
    c.add(100_000, 0);
    for (let i = 0; i < CLOCK_SAMPLES; i++) c.add(1_000 + i, 1_000 + i);
    expect(c.offsetMs).toBe(0);
  });
});

describe("subscribeTick", () => {
  afterEach(() => vi.useRealTimers());
  it("shares one timer per period and releases it", () => {
    vi.useFakeTimers();
    const a = vi.fn();
    const b = vi.fn();
    const offA = subscribeTick(200, a);
    const offB = subscribeTick(200, b);
    expect(activeTimers()).toBe(1);
    vi.advanceTimersByTime(450);
    expect(a).toHaveBeenCalledTimes(2);
    expect(b).toHaveBeenCalledTimes(2);
    offA();
    vi.advanceTimersByTime(200);
    expect(a).toHaveBeenCalledTimes(2);
    expect(b).toHaveBeenCalledTimes(3);
    offB();
    expect(activeTimers()).toBe(0);
  });
});
