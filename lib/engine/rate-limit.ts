/**
 * Celery's per-task-name rate limits: "10/s", "100/m", "1000/h" or a number (per second), run
 * through a token bucket per worker (kombu's TokenBucket, capacity 1), so a limit spaces the
 * starts of one task name evenly instead of letting a burst through.
 */

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600 };

/**
 * Tokens per second for a Celery rate string; 0 means "no limit" (null, "", 0, "0/s").
 * Throws RangeError for anything else, with Celery's wording.
 */
export function parseRateLimit(rate: string | number | null | undefined): number {
  if (rate === null || rate === undefined || rate === "") return 0;
  if (typeof rate === "number") {
    if (!Number.isFinite(rate) || rate < 0) throw new RangeError(`Invalid rate limit string: ${String(rate)}`);
    return rate;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*([smh]))?\s*$/i.exec(rate);
  if (!m) throw new RangeError(`Invalid rate limit string: '${rate}'`);
  const n = Number(m[1]);
  const unit = (m[2] ?? "s").toLowerCase();
  return n / UNIT_SECONDS[unit];
}

/** A token bucket refilled continuously at `rate` tokens/s, holding at most `capacity`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private rate: number,
    /** burst size (default: 1, as Celery) */
    private readonly capacity = 1,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = capacity;
    this.last = now();
  }

  setRate(rate: number): void {
    this.refill();
    this.rate = rate;
  }

  private refill(): void {
    const t = this.now();
    if (this.tokens < this.capacity) this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
  }

  /** Take one token if there is one. */
  tryTake(): boolean {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /** Milliseconds until a token is available (0 when one is). */
  waitMs(): number {
    this.refill();
    if (this.tokens >= 1) return 0;
    return Math.ceil(((1 - this.tokens) / this.rate) * 1000);
  }
}
