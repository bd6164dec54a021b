import { describe, expect, it } from "vitest";
import { untilConnected } from "./connect-retry";
import { BrokerConnectError } from "./errors";

const refused = () => new BrokerConnectError("redis://h:1/0", "connect ECONNREFUSED h:1");

describe("untilConnected", () => {
  it("retries connection failures with Celery's growing delays, then resolves true", async () => {
    let calls = 0;
    const retries: [number, number][] = [];
    const ok = await untilConnected(
      async () => {
        if (++calls < 4) throw refused();
      },
      { stepMs: 5, maxDelayMs: 12, onRetry: (err, attempt, delay) => void (retries.push([attempt, delay]), expect(err.message).toMatch(/ECONNREFUSED/)) },
    );
    expect(ok).toBe(true);
    expect(calls).toBe(4);
    expect(retries).toEqual([
      [1, 5],
      [2, 10],
      [3, 12],
    ]);
  });

  it("throws any other error at once (a broker that answered will not get better)", async () => {
    let calls = 0;
    const wrongPass = Object.assign(new Error("WRONGPASS invalid username-password pair"), { name: "ReplyError" });
    await expect(
      untilConnected(
        async () => {
          calls++;
          throw wrongPass;
        },
        { stepMs: 1, onRetry: () => undefined },
      ),
    ).rejects.toBe(wrongPass);
    expect(calls).toBe(1);
  });

  it("resolves false when aborted while waiting, without another try", async () => {
    const stop = new AbortController();
    let calls = 0;
    const done = untilConnected(
      async () => {
        calls++;
        throw refused();
      },
      { stepMs: 60_000, signal: stop.signal, onRetry: () => setTimeout(() => stop.abort(), 5) },
    );
    expect(await done).toBe(false);
    expect(calls).toBe(1);
  });
});
