import { describe, expect, it } from "vitest";
import { retryBlockedReason } from "./retry";

const task = (args: string | null, kwargs: string | null, name: string | null = "proj.add") => ({ name, args, kwargs });

describe("retryBlockedReason", () => {
  it("allows tasks whose reprs read back (Celery's and Petal's own)", () => {
    expect(retryBlockedReason(task("(2, 3)", "{}"))).toBeNull();
    expect(retryBlockedReason(task("[1, 'a']", "{'x': {'y': None}}"))).toBeNull();
    expect(retryBlockedReason(task("()", "{'data': {'nested': {'list': [1]}}}"))).toBeNull();
  });

  it("explains why when the arguments cannot be recovered", () => {
    expect(retryBlockedReason(task("('xxx...', ...)", "{}"))).toMatch(/^Cannot retry: the args cannot be recovered \(truncated: .*1024 characters/);
    expect(retryBlockedReason(task("()", "{'data': {'nested': {'list': [...]}}}"))).toMatch(/the kwargs cannot be recovered \(truncated: nested deeper than the 3 levels/);
    expect(retryBlockedReason(task("(<object object at 0x7f>,)", "{}"))).toMatch(/args cannot be recovered \(not a literal/);
    expect(retryBlockedReason(task("", ""))).toBe("Cannot retry: no arguments were recorded for this task");
    expect(retryBlockedReason(task(null, null))).toMatch(/no arguments/);
    expect(retryBlockedReason(task("(1,)", "{}", null))).toMatch(/task name is unknown/);
  });
});
