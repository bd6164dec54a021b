import { describe, expect, it } from "vitest";
import type { TaskPage } from "@/lib/protocol/api";
import { BLOCK, MAX_WINDOW, anchorShift, pageWindow, rowAt } from "./window";

function page(offset: number, ids: string[], total = 1000): TaskPage {
  return { total, offset, rows: ids.map((uuid) => ({ uuid }) as TaskPage["rows"][number]) };
}

describe("pageWindow", () => {
  it("snaps to blocks with a block of margin above and the next block edge below", () => {
    expect(pageWindow(0, 30)).toEqual({ offset: 0, limit: 2 * BLOCK });
    expect(pageWindow(0, 20)).toEqual({ offset: 0, limit: BLOCK });
    expect(pageWindow(120, 160)).toEqual({ offset: 75, limit: 100 });
    // small scrolls inside a block keep the same window
    expect(pageWindow(121, 161)).toEqual(pageWindow(120, 160));
  });
  it("never exceeds the cap", () => {
    expect(pageWindow(0, 5000).limit).toBe(MAX_WINDOW);
  });
});

describe("rowAt and anchorShift", () => {
  const p = page(100, ["a", "b", "c"]);
  it("maps absolute indexes into the page", () => {
    expect(rowAt(p, 101)?.uuid).toBe("b");
    expect(rowAt(p, 99)).toBeUndefined();
    expect(rowAt(p, 103)).toBeUndefined();
    expect(rowAt(undefined, 0)).toBeUndefined();
  });
  it("measures how far the top visible row moved", () => {
    expect(anchorShift({ id: "b", index: 101 }, p)).toBe(0);
    expect(anchorShift({ id: "c", index: 100 }, p)).toBe(2);
    expect(anchorShift({ id: "zzz", index: 100 }, p)).toBeNull();
    expect(anchorShift(null, p)).toBeNull();
  });
});
