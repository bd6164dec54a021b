import { describe, expect, it } from "vitest";
import {
  formatAge,
  formatClock,
  formatCompact,
  formatCount,
  formatDuration,
  formatLoad,
  formatLocal,
  formatPercent,
  formatUtc,
  shortId,
  timeTooltip,
} from "./format";

describe("formatDuration", () => {
  it("uses the unit that keeps numbers short", () => {
    expect(formatDuration(0.85)).toBe("850 ms");
    expect(formatDuration(0.0016492909)).toBe("1.6 ms");
    expect(formatDuration(0.00042)).toBe("0.42 ms");
    expect(formatDuration(2.4)).toBe("2.4 s");
    expect(formatDuration(2.0012)).toBe("2 s");
    expect(formatDuration(12.7)).toBe("12 s");
    expect(formatDuration(192)).toBe("3 m 12 s");
    expect(formatDuration(7500)).toBe("2 h 5 m");
    expect(formatDuration(3 * 86400 + 4 * 3600 + 5)).toBe("3 d 4 h");
  });
  it("prints a dash for missing values and clamps negatives", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(Number.NaN)).toBe("—");
    expect(formatDuration(-3)).toBe("0 ms");
  });
});

describe("formatAge", () => {
  it("keeps one decimal under 10 s so it visibly ticks", () => {
    expect(formatAge(100, 100.8)).toBe("0.8 s ago");
    expect(formatAge(100, 109.94)).toBe("9.9 s ago");
    expect(formatAge(100, 112)).toBe("12 s ago");
    expect(formatAge(100, 292)).toBe("3 m 12 s ago");
  });
  it("handles the future, small skew and missing values", () => {
    expect(formatAge(104, 100)).toBe("in 4.0 s");
    expect(formatAge(100.2, 100)).toBe("0.0 s ago");
    expect(formatAge(null, 100)).toBe("never");
  });
});

describe("times", () => {
  it("formats UTC with milliseconds", () => {
    expect(formatUtc(1795315847.4145288)).toBe("2026-11-22 02:50:47.414 UTC");
  });
  it("formats local time in the runtime's zone", () => {
    const d = new Date(1795315847414);
    expect(formatLocal(1795315847.414)).toContain(String(d.getMinutes()).padStart(2, "0") + ":47.414");
  });
  it("formats clock times with optional milliseconds", () => {
    const d = new Date(1795315847414);
    const hh = String(d.getHours()).padStart(2, "0");
    expect(formatClock(1795315847.414)).toBe(`${hh}:50:47`.replace("50", String(d.getMinutes()).padStart(2, "0")));
    expect(formatClock(1795315847.414, true)).toMatch(/:47\.414$/);
    expect(formatClock(null)).toBe("—");
  });
  it("puts local and UTC into one tooltip", () => {
    const t = timeTooltip(1795315847.4145288);
    expect(t).toMatch(/ local\n2026-11-22 02:50:47.414 UTC$/);
    expect(timeTooltip(null)).toBeUndefined();
  });
});

describe("numbers", () => {
  it("groups counts and formats ratios", () => {
    expect(formatCount(1234567)).toBe("1,234,567");
    expect(formatCount(undefined)).toBe("—");
    expect(formatCompact(950)).toBe("950");
    expect(formatCompact(1200)).toBe("1.2k");
    expect(formatCompact(34_000)).toBe("34k");
    expect(formatCompact(1_500_000)).toBe("1.5M");
    expect(formatPercent(0)).toBe("0%");
    expect(formatPercent(0.0234)).toBe("2.3%");
    expect(formatPercent(0.5)).toBe("50%");
    expect(formatPercent(0.0004)).toBe("<0.1%");
    expect(formatLoad([0.5, 1, 1.234])).toBe("0.50  1.00  1.23");
    expect(formatLoad(null)).toBe("—");
  });
  it("shortens ids to 8 characters", () => {
    expect(shortId("8c901ae8-84a0-4a49-8200-9f10475ff1d1")).toBe("8c901ae8");
    expect(shortId("abc")).toBe("abc");
  });
});
