/**
 * Celery's Redis result backend (PROTOCOL.md §4): `celery-task-meta-<id>` holds plain JSON
 * (no envelope) for 86400 s, and the same JSON is PUBLISHed on a channel of the same name.
 * store() never overwrites a stored SUCCESS; wait() subscribes before it reads, as Celery's
 * client does, so a result stored in between is not missed.
 */
import { Redis, type RedisOptions } from "ioredis";
import { READY_STATES, TASK_STATES, type ResultMeta, type TaskState } from "../../protocol/types";
import type { ResultBackend } from "../types";
import { endConnection, quitConnection } from "./connection";
import { KeyMap } from "./keys";
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
}

const STATES = new Set<string>(TASK_STATES);

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
  if (typeof m.status !== "string" || !STATES.has(m.status)) return null;
  return {
    ...m,
    status: m.status as TaskState,
    result: m.result ?? null,
    traceback: typeof m.traceback === "string" ? m.traceback : null,
    children: Array.isArray(m.children) ? m.children : [],
    date_done: typeof m.date_done === "string" ? m.date_done : null,
    task_id: typeof m.task_id === "string" ? m.task_id : "",
  } as ResultMeta;
}

const retryStrategy = (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000);

type Waiter = (meta: ResultMeta | null) => void;

/**
 * GET-check + SETEX + PUBLISH as Celery's backend does it (never over a stored SUCCESS), in one
 * script. cjson parses what Python or we wrote; an unreadable value is overwritten, as before.
 */
const STORE_RESULT_LUA = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, v = pcall(cjson.decode, cur)
  if ok and type(v) == 'table' and v['status'] == 'SUCCESS' then return 0 end
end
redis.call('SETEX', KEYS[1], ARGV[1], ARGV[2])
redis.call('PUBLISH', KEYS[1], ARGV[2])
return 1
`;

type StoreCommand = Redis & { petalStoreResult(key: string, ttl: number, json: string): Promise<number> };

export class RedisResultBackend implements ResultBackend {
  readonly ttlSeconds: number;
  private readonly keys: KeyMap;
  private readonly cmd: Redis;
  private readonly options: RedisOptions;
  private sub: Redis | null = null;
  private readonly waiters = new Map<string, Set<Waiter>>();
  private closed = false;

  constructor(url: string, opts: RedisResultBackendOptions = {}) {
    const parsed = parseRedisUrl(url);
    this.ttlSeconds = opts.ttlSeconds ?? DEFAULT_RESULT_TTL_S;
    if (!(this.ttlSeconds > 0)) throw new RangeError("ttlSeconds must be > 0");
    this.keys = new KeyMap(opts.globalKeyprefix ?? "", parsed.db);
    this.options = { retryStrategy, ...parsed.options, ...opts.redis };
    // Stores of one tick leave in one socket write (see RedisBroker's command connection).
    this.cmd = new Redis({ ...this.options, enableAutoPipelining: true });
    this.cmd.on("error", () => undefined);
    this.cmd.defineCommand("petalStoreResult", { numberOfKeys: 1, lua: STORE_RESULT_LUA });
  }

  async store(meta: ResultMeta, opts: { ttlSeconds?: number } = {}): Promise<void> {
    if (this.closed) throw new Error("result backend is closed");
    if (!meta || typeof meta.task_id !== "string" || meta.task_id === "") throw new TypeError("result meta needs a task_id");
    const key = this.keys.resultKey(meta.task_id);
    const json = JSON.stringify(meta);
    const ttl = Math.max(1, Math.round(opts.ttlSeconds ?? this.ttlSeconds));
    // One round trip instead of GET + MULTI: the SUCCESS check runs inside Redis, atomically.
    await (this.cmd as StoreCommand).petalStoreResult(key, ttl, json);
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
    const all = [...this.waiters.values()];
    this.waiters.clear();
    for (const set of all) for (const w of set) w(null);
    await quitConnection(this.cmd);
    await Promise.all([this.cmd, ...(this.sub ? [this.sub] : [])].map(endConnection));
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
