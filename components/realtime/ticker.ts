/**
 * One shared interval per period for the whole tab, so a table with a thousand ticking ages
 * costs one timer, not a thousand.
 */

type Listener = (nowMs: number) => void;

interface Tick {
  timer: ReturnType<typeof setInterval>;
  listeners: Set<Listener>;
  last: number;
}

const ticks = new Map<number, Tick>();

/** Call `fn` every `intervalMs`; returns the unsubscribe function. */
export function subscribeTick(intervalMs: number, fn: Listener): () => void {
  let t = ticks.get(intervalMs);
  if (!t) {
    const listeners = new Set<Listener>();
    const tick: Tick = {
      listeners,
      last: Date.now(),
      timer: setInterval(() => {
        tick.last = Date.now();
        for (const l of listeners) l(tick.last);
      }, intervalMs),
    };
    t = tick;
    ticks.set(intervalMs, t);
  }
  t.listeners.add(fn);
  const owner = t;
  return () => {
    owner.listeners.delete(fn);
    if (owner.listeners.size === 0) {
      clearInterval(owner.timer);
      if (ticks.get(intervalMs) === owner) ticks.delete(intervalMs);
    }
  };
}

/** Number of live timers (tests check that unsubscribing releases them). */
export function activeTimers(): number {
  return ticks.size;
}
