import { describe, expect, it } from "vitest";
import { pythonJsonDumps as fastPythonJsonDumps, pythonJsonTextAndBase64, referencePythonJsonDumps as pythonJsonDumps } from "./envelope";

/** the event batch encoder: text for the stream, base64 for pub/sub, from one rewrite */
const viaBoth = (v: unknown) => {
  const { text, base64 } = pythonJsonTextAndBase64(v);
  expect(Buffer.from(base64, "base64").toString("utf8")).toBe(text);
  return text;
};

describe("pythonJsonDumps and pythonJsonTextAndBase64", () => {
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
    for (const v of values) {
      expect(fastPythonJsonDumps(v)).toBe(pythonJsonDumps(v));
      expect(viaBoth(v)).toBe(pythonJsonDumps(v));
    }
  });

  it("leaves values JSON cannot spell to pythonJsonDumps", () => {
    for (const v of [{ a: Infinity }, [NaN], { n: 10n }]) {
      expect(fastPythonJsonDumps(v)).toBe(pythonJsonDumps(v));
      expect(viaBoth(v)).toBe(pythonJsonDumps(v));
    }
  });
});
