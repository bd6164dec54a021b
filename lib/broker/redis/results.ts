/**
 * Celery's Redis result backend (PROTOCOL.md §4): `celery-task-meta-<id>` holds plain JSON
 * (no envelope) for 86400 s, and the same JSON is PUBLISHed on a channel of the same name.
 * store() never overwrites a stored SUCCESS; wait() subscribes before it reads, as Celery's
 * client does, so a result stored in between is not missed.
 */
import { Redis, type RedisOptions } from "ioredis";
import { READY_STATES, type ResultMeta } from "../../protocol/types";
import type { ResultBackend } from "../types";
import { endConnection, QUIT_TIMEOUT_MS, quitConnection } from "./connection";
import { KeyMap } from "./keys";
import { defineScripts, type ScriptCommands } from "./scripts";
import { atTurnEnd, type BatchOutcome, batchOutcome } from "./turn";
import { parseRedisUrl } from "./url";

/** Seconds a result lives unless store() says otherwise (default: 86400, Celery's result_expires). */
export const DEFAULT_RESULT_TTL_S = 86_400;

export interface RedisResultBackendOptions {
  /** seconds a result lives (default: 86400) */
  ttlSeconds?: number;
  /** Celery's global_keyprefix for the result backend (default: "") */
  globalKeyprefix?: string;
  /** extra ioredis options */
  redis?: Partial<RedisOptions>;
  /**
   * A RedisBroker on the same server and db whose command connection should carry the stores
   * too: a worker's acks, pops, events and results of one loop turn then leave in one socket
   * write instead of two (default: a connection of its own). close() leaves it open.
   */
  shareConnection?: { readonly cmd: Redis };
}

/** Validate what another process wrote; null when it is not a result. */
export function parseResultMeta(json: string): ResultMeta | null {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return null;
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) return null;
  const m = v as Record<string, unknown>;
  // Any state a task stored counts (update_state(state="PROGRESS"), AbortableTask's ABORTED).
  if (typeof m.status !== "string" || m.status === "") return null;
  return {
    ...m,
    status: m.status,
    result: m.result ?? null,
    traceback: typeof m.traceback === "string" ? m.traceback : null,
    children: Array.isArray(m.children) ? m.children : [],
    date_done: typeof m.date_done === "string" ? m.date_done : null,
    task_id: typeof m.task_id === "string" ? m.task_id : "",
  } as ResultMeta;
}

const retryStrategy = (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000);

type Waiter = (meta: ResultMeta | null) => void;

interface PendingStores extends BatchOutcome {
  keys: string[];
  args: (string | number)[];
}

function newPendingStores(): PendingStores {
  const b: PendingStores = { ...batchOutcome(), keys: [], args: [] };
  // Nobody may await a batch that fails: that must not become an unhandled rejection.
  b.done.catch(() => undefined);
  return b;
}

export class RedisResultBackend implements ResultBackend {
  readonly ttlSeconds: number;
  private readonly keys: KeyMap;
  private readonly cmd: ScriptCommands;
  private readonly ownsCmd: boolean;
  private readonly options: RedisOptions;
  private sub: Redis | null = null;
  private readonly waiters = new Map<string, Set<Waiter>>();
  private closed = false;
  private pending = newPendingStores();

  constructor(url: string, opts: RedisResultBackendOptions = {}) {
    const parsed = parseRedisUrl(url);
    this.ttlSeconds = opts.ttlSeconds ?? DEFAULT_RESULT_TTL_S;
    if (!(this.ttlSeconds > 0)) throw new RangeError("ttlSeconds must be > 0");
    this.keys = new KeyMap(opts.globalKeyprefix ?? "", parsed.db);
    this.options = { retryStrategy, ...parsed.options, ...opts.redis };
    this.ownsCmd = !opts.shareConnection;
    if (opts.shareConnection) {
      // The broker defined every script when it made the connection.
      this.cmd = opts.shareConnection.cmd as ScriptCommands;
    } else {
      // Stores of one tick leave in one socket write (see RedisBroker's command connection).
      const cmd = new Redis({ ...this.options, enableAutoPipelining: true });
      cmd.on("error", () => undefined);
      this.cmd = defineScripts(cmd);
    }
  }

  async store(meta: ResultMeta, opts: { ttlSeconds?: number } = {}): Promise<void> {
    if (this.closed) throw new Error("result backend is closed");
    if (!meta || typeof meta.task_id !== "string" || meta.task_id === "") throw new TypeError("result meta needs a task_id");
    const key = this.keys.resultKey(meta.task_id);
    const json = JSON.stringify(meta);
    const ttl = Math.max(1, Math.round(opts.ttlSeconds ?? this.ttlSeconds));
    // Stores of one loop turn share one script call (the SUCCESS check runs inside Redis,
    // atomically per result) and one promise.
    const b = this.pending;
    b.keys.push(key);
    b.args.push(ttl, json);
    if (b.keys.length === 1) atTurnEnd(this.cmd, () => this.flushStores(b), true);
    return b.done;
  }

  private flushStores(b: PendingStores): void {
    if (b !== this.pending || b.keys.length === 0) return; // flushed early by close()
    this.pending = newPendingStores();
    this.cmd.petalStoreResults(b.keys.length, ...b.keys, ...b.args).then(() => b.resolve(), b.reject);
  }

  /**
   * Whether a store issued before an event published on `broker` lands first: true when both
   * share one command connection (shareConnection), whose turn-end flushes write the stores ahead
   * of the events. A worker may then publish task-succeeded without waiting for the store.
   */
  orderedWith(broker: unknown): boolean {
    return !this.ownsCmd && (broker as { cmd?: unknown } | null)?.cmd === this.cmd;
  }

  async get(taskId: string): Promise<ResultMeta | null> {
    if (this.closed) return null;
    const v = await this.cmd.get(this.keys.resultKey(taskId));
    return v === null ? null : parseResultMeta(v);
  }

  async wait(taskId: string, timeoutMs: number): Promise<ResultMeta | null> {
    if (this.closed || timeoutMs <= 0) {
      const now = await this.get(taskId);
      return now && READY_STATES.has(now.status) ? now : null;
    }
    const channel = this.keys.resultKey(taskId);
    return new Promise<ResultMeta | null>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | null = null;
      let settled = false;
      const waiter: Waiter = (meta) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        this.unwait(taskId, waiter);
        resolve(meta);
      };
      let set = this.waiters.get(taskId);
      const first = !set;
      if (!set) this.waiters.set(taskId, (set = new Set()));
      set.add(waiter);
      if (timeoutMs <= 2_147_483_647) timer = setTimeout(() => waiter(null), timeoutMs);
      const subscribed = first ? this.subscriber().subscribe(channel) : Promise.resolve();
      // Subscribed first, then read: a result stored in between arrives either way.
      void subscribed
        .then(() => this.get(taskId))
        .then((meta) => {
          if (meta && READY_STATES.has(meta.status)) waiter(meta);
        })
        .catch(() => undefined);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const last = this.pending;
    this.flushStores(last);
    const all = [...this.waiters.values()];
    this.waiters.clear();
    for (const set of all) for (const w of set) w(null);
    // QUIT skips the auto-pipeline: let stores issued just before close() go first (bounded, as QUIT is).
    if (last.keys.length > 0 && this.cmd.status !== "reconnecting" && this.cmd.status !== "end") {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([last.done.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, QUIT_TIMEOUT_MS)))]);
      clearTimeout(timer);
    }
    if (this.ownsCmd) await quitConnection(this.cmd);
    await Promise.all([...(this.ownsCmd ? [this.cmd] : []), ...(this.sub ? [this.sub] : [])].map(endConnection));
  }

  private subscriber(): Redis {
    if (!this.sub) {
      const sub = new Redis(this.options);
      sub.on("error", () => undefined);
      const prefixLen = this.keys.resultKey("").length;
      sub.on("message", (channel: string, message: string) => {
        const set = this.waiters.get(channel.slice(prefixLen));
        if (!set) return;
        const meta = parseResultMeta(message);
        if (!meta || !READY_STATES.has(meta.status)) return;
        for (const w of [...set]) w(parseResultMeta(message));
      });
      this.sub = sub;
    }
    return this.sub;
  }

  private unwait(taskId: string, waiter: Waiter): void {
    const set = this.waiters.get(taskId);
    if (!set) return;
    set.delete(waiter);
    if (set.size === 0) {
      this.waiters.delete(taskId);
      if (!this.closed) void this.sub?.unsubscribe(this.keys.resultKey(taskId)).catch(() => undefined);
    }
  }
}
