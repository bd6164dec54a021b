/**
 * Task messages published in one loop turn leave as one multi-value LPUSH per list, instead of
 * one LPUSH each: the same effect on the list (values go in in call order, so the consumer's
 * RPOP end still serves them first-published first), a fraction of the client's and Redis'
 * per-command cost. LPUSH is atomic: a failed call pushed none of its values, so every send in
 * it fails with the error, as it would have alone.
 */
import type { Redis } from "ioredis";
import { atTurnEnd, type BatchOutcome, batchOutcome } from "./turn";

/** Values one LPUSH carries at most; more in one turn start another call (default: 512). */
export const MAX_PUSH_VALUES = 512;

interface Batch extends BatchOutcome {
  values: string[];
}

export class PushBatcher {
  private batches = new Map<string, Batch>();
  private armed = false;
  /** every LPUSH sent and not yet answered, so close() can let them finish first */
  private readonly inflight = new Set<Promise<void>>();

  constructor(private readonly cmd: Redis) {}

  push(key: string, raw: string): Promise<void> {
    let b = this.batches.get(key);
    if (!b) {
      b = { ...batchOutcome(), values: [] };
      this.batches.set(key, b);
      if (!this.armed) {
        this.armed = true;
        atTurnEnd(this.cmd, () => this.flush());
      }
    }
    b.values.push(raw);
    const done = b.done;
    if (b.values.length >= MAX_PUSH_VALUES) this.send(key, b);
    return done;
  }

  /** Send every batch now (end of the loop turn, close). */
  flush(): void {
    this.armed = false;
    for (const [key, b] of this.batches) this.send(key, b);
  }

  /** Resolves once every LPUSH sent so far has been answered (or failed). */
  async drained(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private send(key: string, b: Batch): void {
    this.batches.delete(key);
    const p = this.cmd.lpush(key, ...b.values).then(() => b.resolve(), b.reject);
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }
}
