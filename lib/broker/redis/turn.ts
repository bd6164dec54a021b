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

const pending = new WeakMap<Redis, (() => void)[]>();

/** Run `fn` at the end of this loop turn, together with every other flush for `cmd`, in call order. */
export function atTurnEnd(cmd: Redis, fn: () => void): void {
  let fns = pending.get(cmd);
  if (!fns) {
    fns = [];
    pending.set(cmd, fns);
    setImmediate(runTurnEnd, cmd);
  }
  fns.push(fn);
}

function runTurnEnd(cmd: Redis): void {
  const fns = pending.get(cmd);
  pending.delete(cmd);
  if (!fns) return;
  for (const fn of fns) {
    try {
      fn();
    } catch {
      // Each flush reports its own failures; one must not stop the others.
    }
  }
}
