/**
 * In-process result backend (the `memory://` counterpart of `celery-task-meta-<id>`): results
 * live for a TTL (Celery's result_expires) in a map capped in size, oldest dropped first, so a
 * long-running server keeps bounded memory. `wait()` resolves when a ready result is stored.
 */
import type { ResultBackend } from "../types";
import { READY_STATES, type ResultMeta } from "../../protocol/types";

export interface MemoryResultBackendOptions {
  /** seconds a result lives unless store() says otherwise (default: 86400, Celery's result_expires) */
  ttlSeconds?: number;
  /** most results kept; the oldest stored is evicted first (default: 100000) */
  maxEntries?: number;
  /** clock in ms, for tests (default: Date.now) */
  now?: () => number;
}

interface Entry {
  /** stored as JSON text, as Redis would: callers never share (or mutate) one object */
  json: string;
  expiresAt: number;
  /** a stored SUCCESS is final: later stores are ignored, as Celery's backends do */
  success: boolean;
}

type Waiter = (meta: ResultMeta | null) => void;

export class MemoryResultBackend implements ResultBackend {
  readonly ttlSeconds: number;
  readonly maxEntries: number;
  private readonly now: () => number;
  // Insertion order = store order (a re-store moves the key to the end): the first key is the oldest.
  private readonly entries = new Map<string, Entry>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private closed = false;

  constructor(opts: MemoryResultBackendOptions = {}) {
    this.ttlSeconds = opts.ttlSeconds ?? 86_400;
    this.maxEntries = opts.maxEntries ?? 100_000;
    this.now = opts.now ?? Date.now;
    if (!(this.ttlSeconds > 0)) throw new RangeError("ttlSeconds must be > 0");
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) throw new RangeError("maxEntries must be a positive integer");
  }

  get size(): number {
    return this.entries.size;
  }

  /** store() applies before it returns, ahead of anything published after it. */
  orderedWith(): boolean {
    return true;
  }

  async store(meta: ResultMeta, opts: { ttlSeconds?: number } = {}): Promise<void> {
    if (this.closed) throw new Error("result backend is closed");
    if (!meta || typeof meta.task_id !== "string" || meta.task_id === "") throw new TypeError("result meta needs a task_id");
    const json = JSON.stringify(meta); // throws on values JSON cannot hold, like a real backend
    const now = this.now();
    const prev = this.entries.get(meta.task_id);
    if (prev !== undefined && prev.success && prev.expiresAt > now) return;
    const ttl = opts.ttlSeconds ?? this.ttlSeconds;
    this.entries.delete(meta.task_id);
    this.entries.set(meta.task_id, { json, expiresAt: now + ttl * 1000, success: meta.status === "SUCCESS" });
    this.evict(now);
    if (READY_STATES.has(meta.status)) this.notify(meta.task_id, json);
  }

  /** Drop expired entries at the old end and anything over the cap; amortised O(1) per store. */
  private evict(now: number): void {
    while (this.entries.size > this.maxEntries) {
      const first = this.entries.keys().next();
      if (first.done) break;
      this.entries.delete(first.value);
    }
    // Look at a couple of the oldest entries each time: with one TTL they expire in order.
    for (let i = 0; i < 2; i++) {
      const first = this.entries.entries().next();
      if (first.done || first.value[1].expiresAt > now) break;
      this.entries.delete(first.value[0]);
    }
  }

  private notify(taskId: string, json: string): void {
    const set = this.waiters.get(taskId);
    if (!set) return;
    this.waiters.delete(taskId);
    for (const w of set) w(JSON.parse(json) as ResultMeta);
  }

  async get(taskId: string): Promise<ResultMeta | null> {
    return this.read(taskId);
  }

  private read(taskId: string): ResultMeta | null {
    const e = this.entries.get(taskId);
    if (!e) return null;
    if (e.expiresAt <= this.now()) {
      this.entries.delete(taskId);
      return null;
    }
    return JSON.parse(e.json) as ResultMeta;
  }

  /** Resolves with the stored ready result (now or when it arrives), or null after timeoutMs (Infinity = no limit). */
  wait(taskId: string, timeoutMs: number): Promise<ResultMeta | null> {
    const existing = this.read(taskId);
    if (existing && READY_STATES.has(existing.status)) return Promise.resolve(existing);
    if (this.closed || timeoutMs <= 0) return Promise.resolve(null);
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | null = null;
      const waiter: Waiter = (meta) => {
        if (timer) clearTimeout(timer);
        resolve(meta);
      };
      let set = this.waiters.get(taskId);
      if (!set) this.waiters.set(taskId, (set = new Set()));
      set.add(waiter);
      // Beyond setTimeout's range (~24.8 days) counts as no limit rather than firing at once.
      if (timeoutMs <= 2_147_483_647) {
        timer = setTimeout(() => {
          const s = this.waiters.get(taskId);
          s?.delete(waiter);
          if (s && s.size === 0) this.waiters.delete(taskId);
          resolve(null);
        }, timeoutMs);
      }
    });
  }

  /** Forget one result (Celery's `AsyncResult.forget()`). */
  async forget(taskId: string): Promise<void> {
    this.entries.delete(taskId);
  }

  /** Drops every result; pending waits resolve with null. */
  async close(): Promise<void> {
    this.closed = true;
    this.entries.clear();
    const all = [...this.waiters.values()];
    this.waiters.clear();
    for (const set of all) for (const w of set) w(null);
  }
}
