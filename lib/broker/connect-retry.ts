/**
 * Startup against a broker that may not be up yet (Redis started after Petal in a compose file,
 * or restarting): keep trying, as Celery's worker does with broker_connection_retry_on_startup,
 * and say each time what failed. Only BrokerConnectError is retried: a broker that answered
 * with an error (a wrong password, say) will not get better by waiting.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { BrokerConnectError } from "./errors";

export interface ConnectRetryOptions {
  /** told before each wait */
  onRetry(err: BrokerConnectError, attempt: number, delayMs: number): void;
  /** stops the retries (shutdown): untilConnected then resolves false */
  signal?: AbortSignal;
  /** first delay, and how much each further one adds, ms (default: 2000, Celery's interval_start and interval_step) */
  stepMs?: number;
  /** longest delay, ms (default: 30000, Celery's interval_max) */
  maxDelayMs?: number;
}

/** Run `connect` until it succeeds (true) or the signal aborts (false); other errors are thrown. */
export async function untilConnected(connect: () => Promise<void>, opts: ConnectRetryOptions): Promise<boolean> {
  const step = opts.stepMs ?? 2000;
  const max = opts.maxDelayMs ?? 30_000;
  for (let attempt = 1; ; attempt++) {
    if (opts.signal?.aborted) return false;
    try {
      await connect();
      return true;
    } catch (err) {
      if (opts.signal?.aborted) return false;
      if (!(err instanceof BrokerConnectError)) throw err;
      const delay = Math.min(step * attempt, max);
      opts.onRetry(err, attempt, delay);
      try {
        await sleep(delay, undefined, { signal: opts.signal });
      } catch {
        return false; // aborted while waiting
      }
    }
  }
}
