import { describe, expect, it } from "vitest";
import { BASE_SUBSCRIPTION, invalidatedViews, mergeSubscriptions, subscriptionKey } from "./subscription";

describe("mergeSubscriptions", () => {
  it("ORs booleans and lets the later single-valued part win", () => {
    const m = mergeSubscriptions([
      BASE_SUBSCRIPTION,
      { workers: true, tasks: { state: ["FAILURE"], limit: 5 } },
      { charts: { resolution: "10s" }, task: "abc" },
    ]);
    expect(m).toEqual({
      overview: true,
      workers: true,
      tasks: { state: ["FAILURE"], limit: 5 },
      charts: { resolution: "10s" },
      task: "abc",
    });
  });
  it("gives equal keys for equal questions regardless of property order", () => {
    expect(subscriptionKey({ overview: true, workers: true })).toBe(subscriptionKey({ workers: true, overview: true }));
    expect(subscriptionKey({ tasks: { limit: 5, offset: 0 } })).toBe(subscriptionKey({ tasks: { offset: 0, limit: 5 } }));
    expect(subscriptionKey({ tasks: { offset: 50 } })).not.toBe(subscriptionKey({ tasks: { offset: 0 } }));
  });
});

describe("invalidatedViews", () => {
  it("keeps task rows when only the window moves", () => {
    expect(invalidatedViews({ tasks: { offset: 0, limit: 50 } }, { tasks: { offset: 100, limit: 50 } })).toEqual([]);
  });
  it("drops parts that change question or disappear", () => {
    expect(
      invalidatedViews(
        { overview: true, workers: true, tasks: { state: ["SUCCESS"] }, task: "a", charts: { resolution: "1s" } },
        { overview: true, tasks: { state: ["FAILURE"] }, task: "b", charts: { resolution: "1m" } },
      ),
    ).toEqual(["workers", "tasks", "task", "charts"]);
  });
});
