import { describe, expect, it } from "vitest";
import { CeleryError, excRepr, formatTraceback, MaxRetriesExceededError, Reject, Retry, SoftTimeLimitExceeded, toExceptionInfo } from "../errors";
import { deserializeError, RemoteError, serializeError } from "./serialize";

/** what crosses postMessage */
const roundTrip = (err: unknown) => deserializeError(structuredClone(serializeError(err)));

class ValueError extends Error {
  override name = "ValueError";
}

describe("errors across threads", () => {
  it.each([
    ["a plain Error", new Error("boom")],
    ["a named Error", new ValueError("bad value")],
    ["a Celery error with args", new CeleryError("x", [1, "two"])],
    ["a thrown string", "just text"],
  ])("%s keeps its exception repr, result object and traceback", (_, err) => {
    const back = roundTrip(err);
    expect(excRepr(back)).toBe(excRepr(err));
    expect(formatTraceback(back)).toBe(formatTraceback(err));
    expect(toExceptionInfo(back)).toEqual(toExceptionInfo(err));
  });

  it("sends an exception arg that cannot be cloned as its text", () => {
    const err = Object.assign(new Error("fn"), { excArgs: [1, () => 1] });
    expect(toExceptionInfo(roundTrip(err)).exc_message).toEqual([1, "() => 1"]);
  });

  it("gives Celery's signal errors back as their own classes", () => {
    const eta = new Date(Date.now() + 60_000);
    const r = roundTrip(new Retry({ eta, exc: new ValueError("later") }));
    expect(r).toBeInstanceOf(Retry);
    expect((r as Retry).eta?.getTime()).toBe(eta.getTime());
    expect(excRepr((r as Retry).exc)).toBe("ValueError('later')");
    expect((roundTrip(new Retry({ countdown: 5 })) as Retry).countdown).toBe(5);
    const j = roundTrip(new Reject("no", true));
    expect(j).toBeInstanceOf(Reject);
    expect((j as Reject).requeue).toBe(true);
    expect(roundTrip(new SoftTimeLimitExceeded(2))).toBeInstanceOf(SoftTimeLimitExceeded);
    expect(roundTrip(new MaxRetriesExceededError("max"))).toBeInstanceOf(MaxRetriesExceededError);
    expect(roundTrip(new ValueError("v"))).toBeInstanceOf(RemoteError);
  });
});
