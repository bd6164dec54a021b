/**
 * Events per second over a short sliding window, in O(1) per add: counts sit in one slot per
 * second of a small ring, so a burst of thousands of events costs one addition each.
 */
export class RateMeter {
  private readonly slots: Float64Array;
  private slotSecond: number[];

  /** @param windowSeconds averaging window (default: 5) */
  constructor(
    private readonly windowSeconds = 5,
    private readonly now: () => number = Date.now,
  ) {
    this.slots = new Float64Array(windowSeconds + 1);
    this.slotSecond = new Array<number>(windowSeconds + 1).fill(-1);
  }

  add(n: number): void {
    const sec = Math.floor(this.now() / 1000);
    const i = sec % this.slots.length;
    if (this.slotSecond[i] !== sec) {
      this.slotSecond[i] = sec;
      this.slots[i] = 0;
    }
    this.slots[i] += n;
  }

  /** Average over the last `windowSeconds` complete seconds (the current one is still filling). */
  perSecond(): number {
    const sec = Math.floor(this.now() / 1000);
    let sum = 0;
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slotSecond[i];
      if (s < sec && s >= sec - this.windowSeconds) sum += this.slots[i];
    }
    return sum / this.windowSeconds;
  }
}
