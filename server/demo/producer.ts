/**
 * The demo producer: sends demo tasks at a rate that drifts smoothly around `rate` (two slow
 * sine waves, so throughput charts move without looking random), through the same Client the
 * HTTP API uses.
 */
import { pickTask } from "./catalog";
import type { Rng } from "./random";

/** What the producer needs of lib/engine's Client. */
export interface TaskSender {
  sendTask(
    name: string,
    args: unknown[],
    kwargs: Record<string, unknown>,
    options: { queue?: string; countdown?: number },
  ): Promise<{ id: string }>;
}

export interface ProducerOptions {
  /** mean tasks per second; 0 sends nothing (default: 10) */
  rate?: number;
  /** send loop period, ms (default: 100) */
  stepMs?: number;
  /** errors are reported here (default: ignored) */
  onError?: (err: unknown) => void;
}

/** Rate at `tSeconds` since start: between ~0.45× and ~1.55× of `mean`, periods of 3 min and 47 s. */
export function rateAt(mean: number, tSeconds: number): number {
  const f = 1 + 0.4 * Math.sin((2 * Math.PI * tSeconds) / 180) + 0.15 * Math.sin((2 * Math.PI * tSeconds) / 47 + 1);
  return Math.max(0, mean * f);
}

export class Producer {
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private last = 0;
  private debt = 0;
  /** tasks sent since start */
  sent = 0;

  constructor(
    private readonly client: TaskSender,
    private readonly rng: Rng,
    private readonly opts: ProducerOptions = {},
  ) {}

  start(): void {
    if (this.timer || (this.opts.rate ?? 10) <= 0) return;
    this.startedAt = this.last = performance.now();
    this.timer = setInterval(() => this.step(), this.opts.stepMs ?? 100);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private step(): void {
    const now = performance.now();
    const dt = (now - this.last) / 1000;
    this.last = now;
    this.debt += rateAt(this.opts.rate ?? 10, (now - this.startedAt) / 1000) * Math.min(dt, 1);
    while (this.debt >= 1) {
      this.debt -= 1;
      this.sendOne();
    }
  }

  sendOne(): void {
    const def = pickTask(this.rng);
    const { args, kwargs, countdown } = def.make(this.rng);
    this.sent++;
    this.client.sendTask(def.name, args, kwargs, countdown ? { queue: def.queue, countdown } : { queue: def.queue }).catch((err: unknown) => this.opts.onError?.(err));
  }
}
