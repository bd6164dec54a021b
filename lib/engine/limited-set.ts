/**
 * Celery's LimitedSet for revoked task ids: bounded (oldest dropped first) and with an expiry,
 * so a worker that sees millions of revokes keeps a fixed amount of memory.
 */
export class LimitedSet {
  // Insertion order is time order (re-adding moves a key to the end), so the oldest entry is
  // always first: eviction and purging are O(1) per dropped entry.
  private readonly items = new Map<string, number>();

  constructor(
    /** most entries kept (default: 50000, Celery's REVOKES_MAX) */
    readonly maxSize = 50_000,
    /** seconds an entry lives (default: 10800 = 3 h, Celery's REVOKE_EXPIRES) */
    readonly expiresSeconds = 10_800,
    private readonly now: () => number = Date.now,
  ) {}

  add(id: string): void {
    this.items.delete(id);
    this.items.set(id, this.now() + this.expiresSeconds * 1000);
    if (this.items.size > this.maxSize) {
      const oldest = this.items.keys().next();
      if (!oldest.done) this.items.delete(oldest.value);
    }
  }

  has(id: string): boolean {
    const exp = this.items.get(id);
    if (exp === undefined) return false;
    if (exp <= this.now()) {
      this.items.delete(id);
      return false;
    }
    return true;
  }

  /** Drop expired entries (from the oldest, stopping at the first live one). */
  purge(): void {
    const t = this.now();
    for (const [id, exp] of this.items) {
      if (exp > t) break;
      this.items.delete(id);
    }
  }

  /** Live ids, oldest first. */
  ids(): string[] {
    this.purge();
    return [...this.items.keys()];
  }

  get size(): number {
    return this.items.size;
  }
}
