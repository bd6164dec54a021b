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
            if (r.status === "reconnecting") {
              // ioredis never reports "end" for a disconnect() between reconnect attempts (its
              // timer is cleared, no socket is left to close) and its queued commands hang. So let
              // the pending attempt run and refuse the next one: it ends the connection and fails
              // the queued commands. If the server is back by then, drop the fresh connection.
              r.options.retryStrategy = () => null;
              r.once("ready", () => r.disconnect());
            } else {
              r.disconnect();
            }
          });
    ending.set(r, p);
  }
  return p;
}

/** How long a polite QUIT may take before the socket is just dropped, ms (default: 1000). */
export const QUIT_TIMEOUT_MS = 1000;

/**
 * QUIT when the server is reachable, else (or when QUIT takes too long) drop the socket: a
 * QUIT sent while Redis is down waits in ioredis' offline queue through every retry (~40 s).
 */
export async function quitConnection(r: Redis): Promise<void> {
  if (r.status === "ready") {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, QUIT_TIMEOUT_MS)));
    await Promise.race([r.quit().catch(() => undefined), late]);
    clearTimeout(timer);
  }
  await endConnection(r);
}
