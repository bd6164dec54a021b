/**
 * "At the end of this loop turn" for one command connection. ioredis' auto-pipeline writes
 * whatever was queued when its own setImmediate fires, and that immediate is armed by the first
 * command of a turn: a command issued while a reply is being handled arms it in this very check
 * phase, ahead of later-registered flushes (events, acks, results, the next pop), which then
 * need a write (and a round trip) of their own. Deferring every hot-path flush to one shared
 * immediate per connection issues them all inside the check phase, so the auto-pipeline fires on
 * the next loop iteration with the whole turn in one socket write.
 */
import type { Redis } from "ioredis";

interface TurnEnd {
  /** flushes that must reach Redis before the others of the turn (result stores) */
  first: (() => void)[];
  rest: (() => void)[];
}

const pending = new WeakMap<Redis, TurnEnd>();

/**
 * Run `fn` at the end of this loop turn, together with every other flush for `cmd`, in call
 * order. `first`: ahead of the other flushes (a result store goes before the task-succeeded
 * published in the same turn, so whoever sees the event can read the result, as in Celery).
 */
export function atTurnEnd(cmd: Redis, fn: () => void, first = false): void {
  let t = pending.get(cmd);
  if (!t) {
    t = { first: [], rest: [] };
    pending.set(cmd, t);
    setImmediate(runTurnEnd, cmd);
  }
  (first ? t.first : t.rest).push(fn);
}

function runTurnEnd(cmd: Redis): void {
  const t = pending.get(cmd);
  pending.delete(cmd);
  if (!t) return;
  for (const fns of [t.first, t.rest]) {
    for (const fn of fns) {
      try {
        fn();
      } catch {
        // Each flush reports its own failures; one must not stop the others.
      }
    }
  }
}

/** The one promise every caller of a batched call waits on: settled once, with the call. */
export interface BatchOutcome {
  done: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export function batchOutcome(): BatchOutcome {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { done, resolve, reject };
}
