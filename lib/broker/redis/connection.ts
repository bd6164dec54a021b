/** Ending ioredis connections exactly once, so no socket or timer outlives close(). */
import type { Redis } from "ioredis";

const ending = new WeakMap<Redis, Promise<void>>();

/**
 * Disconnect without reconnecting and resolve once ioredis reports "end". Calls after the first
 * share its promise: a second disconnect() on a closing socket would arm a 2 s destroy timer
 * that nothing clears.
 */
export function endConnection(r: Redis): Promise<void> {
  let p = ending.get(r);
  if (!p) {
    p =
      r.status === "end"
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            r.once("end", () => resolve());
            r.disconnect();
          });
    ending.set(r, p);
  }
  return p;
}
