import { describe, expect, it } from "vitest";
import { waitFor } from "./wait";

describe("waitFor", () => {
  it("resolves with the first truthy value, sync or async", async () => {
    let n = 0;
    expect(await waitFor(() => ++n >= 3 && n, "three polls", 1000, 1)).toBe(3);
    expect(await waitFor(async () => ({ ok: true }), "an object")).toEqual({ ok: true });
  });

  it("counts a throw as not yet", async () => {
    let n = 0;
    const v = await waitFor(() => {
      if (++n < 3) throw new Error("not up yet");
      return "up";
    }, "a flaky read", 1000, 1);
    expect(v).toBe("up");
  });

  it("times out naming what it waited for, and the last error", async () => {
    await expect(waitFor(() => false, "nothing", 30, 5)).rejects.toThrow(/^timed out after 30 ms waiting for nothing$/);
    await expect(
      waitFor(() => {
        throw new Error("connection refused");
      }, "a dead server", 30, 5),
    ).rejects.toThrow("timed out after 30 ms waiting for a dead server (last error: connection refused)");
  });
});
