import { describe, expect, it } from "vitest";
import { authenticate, checkBasicAuth } from "./auth";
import { HttpError } from "./errors";
import { exceptionRepr, resultBody } from "./format";
import { filterValues, parseBodyDate, parseBool, parseFloatArg, parseIntArg, parseLocalDate } from "./params";
import { parseSignal } from "./task-control";

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HttpError);
    expect((e as HttpError).status).toBe(400);
    return (e as HttpError).message;
  }
  throw new Error("did not throw");
}

describe("params", () => {
  it("parses booleans like Flower's strtobool", () => {
    for (const v of ["y", "YES", "t", "true", "On", "1"]) expect(parseBool(v)).toBe(true);
    for (const v of ["n", "no", "F", "false", "off", "0"]) expect(parseBool(v)).toBe(false);
    expect(parseBool(null)).toBe(false);
    expect(parseBool(null, true)).toBe(true);
    expect(messageOf(() => parseBool("maybe"))).toBe("Invalid argument 'maybe' of type 'bool'");
  });

  it("parses ints and floats with Flower's messages", () => {
    expect(parseIntArg("42")).toBe(42);
    expect(parseIntArg(null, 1)).toBe(1);
    expect(messageOf(() => parseIntArg("abc"))).toBe("Invalid argument 'abc' of type 'int'");
    expect(messageOf(() => parseIntArg("1.5"))).toBe("Invalid argument '1.5' of type 'int'");
    expect(messageOf(() => parseIntArg(null))).toBe("Invalid argument '[]' of type 'int'");
    expect(parseFloatArg("2.5")).toBe(2.5);
    expect(messageOf(() => parseFloatArg("abc"))).toBe("Invalid argument 'abc' of type 'float'");
  });

  it("reads Flower's local minute format, ISO with zone and unix seconds", () => {
    expect(parseLocalDate("2026-11-22 02:50", "x")).toBe(new Date(2026, 10, 22, 2, 50).getTime() / 1000);
    expect(parseLocalDate("2026-11-22T02:50:00Z", "x")).toBe(Date.UTC(2026, 10, 22, 2, 50) / 1000);
    expect(parseLocalDate("1795315847.5", "x")).toBe(1795315847.5);
    expect(parseLocalDate(null, "x")).toBeNull();
    expect(messageOf(() => parseLocalDate("yesterday", "received_start"))).toContain("'yesterday'");
    expect(messageOf(() => parseLocalDate("2026-13-40 02:50", "received_start"))).toContain("received_start");
  });

  it("reads body dates as UTC when naive", () => {
    expect(parseBodyDate("2030-01-01 00:00:00.000000", "eta").toISOString()).toBe("2030-01-01T00:00:00.000Z");
    expect(parseBodyDate("2030-01-01T01:00:00+01:00", "eta").toISOString()).toBe("2030-01-01T00:00:00.000Z");
    expect(messageOf(() => parseBodyDate("next week", "eta"))).toContain("'eta'");
  });

  it("treats All as no filter and splits lists", () => {
    expect(filterValues(new URLSearchParams("state=All"), "state")).toBeNull();
    expect(filterValues(new URLSearchParams("state=SUCCESS,failure&state=RETRY"), "state")).toEqual(["SUCCESS", "failure", "RETRY"]);
    expect(filterValues(new URLSearchParams(""), "state")).toBeNull();
  });

  it("validates revoke signals", () => {
    expect(parseSignal(null)).toBe("SIGTERM");
    expect(parseSignal("kill")).toBe("SIGKILL");
    expect(parseSignal("SIGUSR1")).toBe("SIGUSR1");
    expect(messageOf(() => parseSignal("SIGSEGV"))).toContain("'SIGSEGV'");
  });
});

describe("basic auth", () => {
  const config = { basicAuth: "alice:s3cret,bob:pa:ss" };
  const header = (s: string) => ({ headers: { authorization: "Basic " + Buffer.from(s).toString("base64") } });

  it("accepts every configured pair (passwords may hold ':') and names the user", () => {
    expect(authenticate(header("alice:s3cret"), config)).toEqual({ ok: true, user: "alice" });
    expect(authenticate(header("bob:pa:ss"), config)).toEqual({ ok: true, user: "bob" });
  });

  it("refuses wrong, missing and malformed credentials", () => {
    expect(checkBasicAuth(header("alice:wrong"), config)).toBe(false);
    expect(checkBasicAuth(header("alice:s3cret,bob:pa:ss"), config)).toBe(false);
    expect(checkBasicAuth({ headers: {} }, config)).toBe(false);
    expect(checkBasicAuth({ headers: { authorization: "Bearer x" } }, config)).toBe(false);
  });

  it("lets everything through when auth is off", () => {
    expect(authenticate({ headers: {} }, { basicAuth: null })).toEqual({ ok: true, user: null });
  });
});

describe("result formatting", () => {
  it("prints exceptions as Python reprs", () => {
    expect(exceptionRepr({ exc_type: "ValueError", exc_message: ["boom: it's bad"] })).toBe(`ValueError("boom: it's bad")`);
    expect(exceptionRepr({ exc_type: "TaskRevokedError", exc_message: ["terminated"] })).toBe("TaskRevokedError('terminated')");
    expect(exceptionRepr({ exc_type: "KeyError", exc_message: [] })).toBe("KeyError()");
  });

  it("shapes backend results like Flower", () => {
    const base = { traceback: null, children: [], date_done: null, task_id: "t" };
    expect(resultBody("t", null)).toEqual({ "task-id": "t", state: "PENDING" });
    expect(resultBody("t", { ...base, status: "RETRY", result: null })).toEqual({ "task-id": "t", state: "RETRY" });
    expect(Object.keys(resultBody("t", { ...base, status: "SUCCESS", result: 3 }, true))).toEqual(["task-id", "result", "state"]);
    const failed = resultBody("t", {
      ...base,
      status: "FAILURE",
      result: { exc_type: "ValueError", exc_message: ["x"], exc_module: "builtins" },
      traceback: "Traceback...",
    });
    expect(failed).toEqual({ "task-id": "t", state: "FAILURE", result: "ValueError('x')", traceback: "Traceback..." });
  });
});
