/**
 * Server-clock estimate. Heartbeat times come from the server's clock; the browser's may be off
 * by seconds, which would make "0.8 s ago" read "in 3 s". Each update carries the server's
 * `now`; the sample `serverNow - localNow` underestimates the true offset by the network delay,
 * so the largest recent sample is the best estimate.
 */

/** How many recent samples the estimate keeps (default: 20). */
export const CLOCK_SAMPLES = 20;

export class ClockOffset {
  private samples: number[] = [];
  private best = 0;

  /** Record one sample; returns the current estimate in ms (server minus local). */
  add(serverNowMs: number, localNowMs: number): number {
    if (!Number.isFinite(serverNowMs)) return this.best;
    this.samples.push(serverNowMs - localNowMs);
    if (this.samples.length > CLOCK_SAMPLES) this.samples.shift();
    let max = -Infinity;
    for (const s of this.samples) if (s > max) max = s;
    this.best = max;
    return this.best;
  }

  get offsetMs(): number {
    return this.best;
  }

  reset(): void {
    this.samples = [];
    this.best = 0;
  }
}

/** The tab's one clock: the provider feeds it, ticking labels read it. */
export const serverClock = new ClockOffset();

/** Server time now, unix seconds. */
export function serverNowSec(): number {
  return (Date.now() + serverClock.offsetMs) / 1000;
}
