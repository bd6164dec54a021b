import { describe, expect, it } from "vitest";
import {
  excRepr,
  formatTraceback,
  MaxRetriesExceededError,
  NotRegistered,
  Retry,
  signalNumber,
  SoftTimeLimitExceeded,
  TimeLimitExceeded,
  toExceptionInfo,
} from "./errors";

class ValueError extends Error {
  override name = "ValueError";
}

function throwDeep(): never {
  throw new ValueError("boom");
}

describe("toExceptionInfo", () => {
  it("reports plain errors under builtins with their args", () => {
    expect(toExceptionInfo(new ValueError("boom"))).toEqual({ exc_type: "ValueError", exc_message: ["boom"], exc_module: "builtins" });
    expect(toExceptionInfo(new TypeError(""))).toEqual({ exc_type: "TypeError", exc_message: [], exc_module: "builtins" });
  });

  it("reports Celery signal errors under their Python module", () => {
    expect(toExceptionInfo(new NotRegistered("demo.nope"))).toEqual({
      exc_type: "NotRegistered",
      exc_message: ["demo.nope"],
      exc_module: "celery.exceptions",
    });
    expect(toExceptionInfo(new TimeLimitExceeded(5))).toEqual({
      exc_type: "TimeLimitExceeded",
      exc_message: [5],
      exc_module: "billiard.exceptions",
    });
    expect(toExceptionInfo(new MaxRetriesExceededError("Can't retry")).exc_module).toBe("celery.exceptions");
  });

  it("wraps non-Error throws as Exception", () => {
    expect(toExceptionInfo("nope")).toEqual({ exc_type: "Exception", exc_message: ["nope"], exc_module: "builtins" });
    expect(toExceptionInfo(42)).toEqual({ exc_type: "Exception", exc_message: [42], exc_module: "builtins" });
  });
});

describe("excRepr", () => {
  it("prints Python reprs", () => {
    expect(excRepr(new ValueError("boom: intentional failure"))).toBe("ValueError('boom: intentional failure')");
    expect(excRepr(new NotRegistered("demo.nope"))).toBe("NotRegistered('demo.nope')");
    expect(excRepr(new SoftTimeLimitExceeded(1))).toBe("SoftTimeLimitExceeded(1)");
    expect(excRepr(new Error(""))).toBe("Error()");
    expect(excRepr(undefined)).toBe("None");
    expect(excRepr(new ValueError("it's"))).toBe(`ValueError("it's")`);
  });
});

describe("formatTraceback", () => {
  it("builds a Python-looking traceback, most recent call last", () => {
    let err: unknown;
    try {
      throwDeep();
    } catch (e) {
      err = e;
    }
    const tb = formatTraceback(err);
    expect(tb.startsWith("Traceback (most recent call last):\n")).toBe(true);
    expect(tb.endsWith("\nValueError: boom\n")).toBe(true);
    const frames = tb.split("\n").filter((l) => l.startsWith("  File "));
    expect(frames.length).toBeGreaterThan(0);
    // The raising function is the last frame, as Python prints it.
    expect(frames[frames.length - 1]).toMatch(/errors\.test\.ts", line \d+, in throwDeep$/);
    expect(tb).not.toContain("node:internal");
  });

  it("qualifies non-builtin exceptions like Celery's last line", () => {
    const tb = formatTraceback(new Retry({ countdown: 1 }));
    expect(tb.endsWith("\ncelery.exceptions.Retry: Retry in 1s\n")).toBe(true);
  });

  it("copes with throws that are not errors", () => {
    expect(formatTraceback("x")).toBe("Traceback (most recent call last):\nException: x\n");
  });
});

describe("signalNumber", () => {
  it("maps names to Linux numbers, SIGTERM by default", () => {
    expect(signalNumber("SIGTERM")).toBe(15);
    expect(signalNumber("SIGKILL")).toBe(9);
    expect(signalNumber("kill")).toBe(9);
    expect(signalNumber("SIGINT")).toBe(2);
    expect(signalNumber("SIGUSR1")).toBe(10);
    expect(signalNumber(undefined)).toBe(15);
    expect(signalNumber("9")).toBe(9);
    expect(signalNumber("SIGNOPE")).toBe(15);
  });
});
