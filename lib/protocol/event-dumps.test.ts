import { describe, expect, it } from "vitest";
import { referencePythonJsonDumps as pythonJsonDumps } from "../../protocol/envelope";
import { fastPythonJsonDumps } from "./fast-dumps";

describe("fastPythonJsonDumps", () => {
  it("writes the same bytes as pythonJsonDumps", () => {
    const values: unknown[] = [
      null,
      "plain",
      'q"uo\\te, with: separators',
      "ünïcödé \u007f \u2028 😀 \u0001\n\t",
      [1, -2.5, 1e21, 0, true, false, null, undefined],
      { type: "task-succeeded", uuid: "a", result: "{'x': [1, 2]}", runtime: 0.0012, nested: { "k:ey, ü": ["a,b", { z: 1 }] }, skip: undefined },
      [{ type: "task-received", args: "()", kwargs: "{}", eta: null, clock: 7 }, { type: "task-started", when: new Date(0) }],
      {},
      [],
    ];
    for (const v of values) expect(fastPythonJsonDumps(v)).toBe(pythonJsonDumps(v));
  });

  it("leaves values JSON cannot spell to pythonJsonDumps", () => {
    for (const v of [{ a: Infinity }, [NaN], { n: 10n }]) expect(fastPythonJsonDumps(v)).toBe(pythonJsonDumps(v));
  });
});
