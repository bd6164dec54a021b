/**
 * The two in-memory waiting lines of a worker: the FIFO of requests ready to run, and the
 * per-task-name rate-limit gates in front of it. Removal is lazy (a request leaving early just
 * changes its `state`), so revoking from the middle of a long line costs O(1).
 */
import { TokenBucket } from "./rate-limit";
import type { Request } from "./request";

/** FIFO of `ready` requests; entries whose state changed are skipped when reached. */
export class ReadyQueue {
  private items: Request[] = [];
  private head = 0;
  private live = 0;

  get size(): number {
    return this.live;
  }

  push(req: Request): void {
    req.state = "ready";
    this.items.push(req);
    this.live++;
  }

  /** Call when a queued request left the line early (its state is no longer "ready"). */
  forget(): void {
    this.live--;
  }

  /** The next request still ready, or undefined. */
  shift(): Request | undefined {
    while (this.live > 0 && this.head < this.items.length) {
      const req = this.items[this.head++];
      if (req.state !== "ready") continue;
      this.live--;
      this.compact();
      return req;
    }
    this.compact();
    return undefined;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

interface Gate {
  bucket: TokenBucket;
  line: Request[];
  head: number;
  timer: ReturnType<typeof setTimeout> | null;
}

/**
 * Celery's per-task-name rate limits: a request passes when its name's token bucket has a token
 * and nobody of that name waits before it; else it waits (state "rate") and a timer releases
 * the line in order as tokens come back.
 */
export class RateGates {
  private readonly gates = new Map<string, Gate>();

  constructor(
    /** tokens per second for a task name; 0 = unlimited */
    private readonly rateOf: (name: string) => number,
    /** a request passed its gate */
    private readonly pass: (req: Request) => void,
    /** some requests passed from a timer: time to start them */
    private readonly wake: () => void,
  ) {}

  /** Let it through now (`pass`) or hold it in its name's line. */
  admit(req: Request): void {
    const rate = this.rateOf(req.name);
    if (rate > 0) {
      let g = this.gates.get(req.name);
      if (!g) {
        g = { bucket: new TokenBucket(rate), line: [], head: 0, timer: null };
        this.gates.set(req.name, g);
      }
      if (g.head < g.line.length || !g.bucket.tryTake()) {
        req.state = "rate";
        g.line.push(req);
        this.arm(g);
        return;
      }
    }
    this.pass(req);
  }

  private arm(g: Gate): void {
    if (g.timer) return;
    g.timer = setTimeout(() => {
      g.timer = null;
      while (g.head < g.line.length) {
        const next = g.line[g.head];
        if (next.state !== "rate") {
          g.head++; // left the line early (revoked, requeued)
          continue;
        }
        if (!g.bucket.tryTake()) break;
        g.head++;
        this.pass(next);
      }
      if (g.head > 64 && g.head * 2 > g.line.length) {
        g.line = g.line.slice(g.head);
        g.head = 0;
      }
      if (g.head < g.line.length) this.arm(g);
      this.wake();
    }, Math.max(1, g.bucket.waitMs()));
  }

  /** The limit of `name` changed: retune its bucket, or let its whole line through when unlimited. */
  reset(name: string): void {
    const g = this.gates.get(name);
    if (!g) return;
    if (g.timer) clearTimeout(g.timer);
    g.timer = null;
    const rate = this.rateOf(name);
    if (rate > 0) {
      g.bucket.setRate(rate);
      if (g.head < g.line.length) this.arm(g);
      return;
    }
    this.gates.delete(name);
    for (let i = g.head; i < g.line.length; i++) if (g.line[i].state === "rate") this.pass(g.line[i]);
    this.wake();
  }

  clear(): void {
    for (const g of this.gates.values()) if (g.timer) clearTimeout(g.timer);
    this.gates.clear();
  }
}
