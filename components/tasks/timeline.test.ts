import { describe, expect, it } from "vitest";
import { emptyTaskRecord, type TaskRecord } from "@/lib/protocol/api";
import { availableActions, timelineSteps } from "./timeline";

function task(p: Partial<TaskRecord>): TaskRecord {
  return { ...emptyTaskRecord("u"), name: "proj.add", ...p };
}

describe("timelineSteps", () => {
  it("orders what happened by time with gaps", () => {
    const s = timelineSteps(task({ state: "SUCCESS", sent: 10, received: 10.5, started: 11, succeeded: 13.5 }));
    expect(s.map((x) => x.key)).toEqual(["sent", "received", "started", "succeeded"]);
    expect(s.map((x) => x.gap)).toEqual([null, 0.5, 0.5, 2.5]);
    expect(s.every((x) => x.t !== null)).toBe(true);
  });
  it("uses event times, not a fixed order (received may precede sent across clocks)", () => {
    const s = timelineSteps(task({ state: "FAILURE", sent: 10.2, received: 10.1, failed: 11 }));
    expect(s.map((x) => x.key)).toEqual(["received", "sent", "failed"]);
  });
  it("shows where an unfinished task waits", () => {
    const s = timelineSteps(task({ state: "RECEIVED", sent: 1, received: 2 }));
    expect(s.map((x) => [x.key, x.t])).toEqual([
      ["sent", 1],
      ["received", 2],
      ["started", null],
      ["succeeded", null],
    ]);
    expect(s[3]?.label).toBe("Finished");
  });
  it("keeps a retry before the final outcome", () => {
    const s = timelineSteps(task({ state: "SUCCESS", received: 1, started: 2, retried: 3, succeeded: 6 }));
    expect(s.map((x) => x.key)).toEqual(["received", "started", "retried", "succeeded"]);
  });
});

describe("availableActions", () => {
  it("offers revoke before the end, terminate while running, retry after", () => {
    expect(availableActions("PENDING")).toEqual({ revoke: true, terminate: false, retry: false });
    expect(availableActions("RECEIVED")).toEqual({ revoke: true, terminate: false, retry: false });
    expect(availableActions("STARTED")).toEqual({ revoke: true, terminate: true, retry: false });
    expect(availableActions("RETRY")).toEqual({ revoke: true, terminate: false, retry: false });
    for (const s of ["SUCCESS", "FAILURE", "REVOKED", "REJECTED"] as const) {
      expect(availableActions(s)).toEqual({ revoke: false, terminate: false, retry: true });
    }
  });
});
