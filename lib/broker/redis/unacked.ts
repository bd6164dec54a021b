/**
 * kombu's ack emulation on Redis (PROTOCOL.md §3.4): every delivered message sits in the
 * `unacked` hash (tag → JSON [message, exchange, routing_key]) and the `unacked_index` zset
 * (tag → delivery time) until acked. Requeue and the restore of stale entries push the stored
 * message back, marked redelivered, so a Celery worker and ours can recover each other's work.
 */
import type { Redis } from "ioredis";
import { uuid4 } from "../../protocol/envelope";
import { type KeyMap, parseBindingMember, priorityStep } from "./keys";

/** How long a delivery may stay unacked before restoreUnacked hands it out again, s (default: 3600, kombu's visibility_timeout). */
export const DEFAULT_VISIBILITY_TIMEOUT_S = 3600;
/** kombu's lock TTL while restoring, ms (default: 300000). */
export const UNACKED_MUTEX_TTL_MS = 300_000;
/** Entries restored per ZREVRANGEBYSCORE round (kombu: 10). */
const RESTORE_BATCH = 10;

/**
 * Atomic "still the value I read? then move it back": stands in for kombu's WATCH/MULTI, which
 * cannot share one connection with other concurrent commands.
 * KEYS: unacked, unacked_index, target lists…  ARGV: tag, expected value, payload, push command
 */
const RESTORE_LUA = `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
for i = 3, #KEYS do redis.call(ARGV[4], KEYS[i], ARGV[3]) end
return 1`;

/** kombu's compare-and-delete release of unacked_mutex */
const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export interface UnackedEntry {
  message: Record<string, unknown>;
  exchange: string;
  routingKey: string;
}

/**
 * The unacked_index score of a delivery made now: whole seconds, rounded up. kombu writes
 * time() as a float, but a sorted set small enough to be a listpack (up to 128 entries, a
 * busy worker's usual size) keeps its scores as text and parses every one with strtod on
 * each insert: with float scores a ZADD into 64 entries cost ~19 µs of Redis CPU, with whole
 * ones ~1 µs. A second is nothing next to the visibility timeout, and rounding up never lets
 * an entry look older than it is, so it is never restored early. kombu reads either.
 */
export function unackedScore(nowMs = Date.now()): number {
  return Math.ceil(nowMs / 1000);
}

/** the hash value kombu writes: the raw envelope embedded as a JSON object, not a string */
export function unackedValue(rawEnvelope: string, exchange: string, routingKey: string): string {
  return `[${rawEnvelope}, ${JSON.stringify(exchange)}, ${JSON.stringify(routingKey)}]`;
}

export function parseUnackedValue(v: string): UnackedEntry | null {
  try {
    const arr: unknown = JSON.parse(v);
    if (!Array.isArray(arr) || arr.length < 3) return null;
    const [message, exchange, routingKey] = arr as unknown[];
    if (!message || typeof message !== "object" || Array.isArray(message)) return null;
    if (typeof exchange !== "string" || typeof routingKey !== "string") return null;
    return { message: message as Record<string, unknown>, exchange, routingKey };
  } catch {
    return null;
  }
}

const TAIL_STRING = /"((?:[^"\\]|\\.)*)"\s*\]\s*$/;

/** The routing key of an unacked value without parsing the whole message (queueLengths). */
export function routingKeyOfUnacked(v: string): string | null {
  const m = TAIL_STRING.exec(v);
  if (!m) return null;
  try {
    return JSON.parse(`"${m[1]}"`) as string;
  } catch {
    return null;
  }
}

function markRedelivered(message: Record<string, unknown>): string {
  const headers = message.headers;
  if (headers && typeof headers === "object") (headers as Record<string, unknown>).redelivered = true;
  const props = message.properties as Record<string, unknown> | undefined;
  const di = props?.delivery_info;
  if (di && typeof di === "object") (di as Record<string, unknown>).redelivered = true;
  return JSON.stringify(message);
}

/** kombu's _lookup: the anonymous exchange routes by queue name; others go through the binding set. */
async function lookupQueues(cmd: Redis, keys: KeyMap, exchange: string, routingKey: string): Promise<string[]> {
  if (!exchange) return [routingKey];
  const members = await cmd.smembers(keys.binding(exchange));
  const queues = new Set<string>();
  for (const m of members) {
    const b = parseBindingMember(m);
    if (b && (b.routingKey === routingKey || b.routingKey === "#" || b.routingKey === "")) queues.add(b.queue);
  }
  // An unknown binding would lose the message in kombu (dead-letter); the routing key is the better guess.
  return queues.size > 0 ? [...queues] : [routingKey];
}

/**
 * Move one unacked entry back to its queue(s) if it still holds `expected`. `leftmost` pushes
 * with LPUSH (served last), otherwise RPUSH (served next). Returns whether it moved.
 */
export async function restoreEntry(cmd: Redis, keys: KeyMap, tag: string, expected: string, leftmost = false): Promise<boolean> {
  const entry = parseUnackedValue(expected);
  if (!entry) {
    // Nothing sensible to push back: drop the broken entry instead of retrying it forever.
    await cmd.multi().zrem(keys.unackedIndex, tag).hdel(keys.unacked, tag).exec();
    return false;
  }
  const step = priorityStep((entry.message.properties as { priority?: unknown } | undefined)?.priority);
  const queues = await lookupQueues(cmd, keys, entry.exchange, entry.routingKey);
  const payload = markRedelivered(entry.message);
  const lists = queues.map((q) => keys.list(q, step));
  const moved = await cmd.eval(RESTORE_LUA, 2 + lists.length, keys.unacked, keys.unackedIndex, ...lists, tag, expected, payload, leftmost ? "LPUSH" : "RPUSH");
  return moved === 1;
}

export interface RestoreOptions {
  /** restore entries delivered longer ago than this, s (default: the broker's visibility timeout) */
  olderThanSeconds?: number;
  /** stop after this many entries (default: 1000) */
  max?: number;
}

/**
 * kombu's restore_visible: under `unacked_mutex` (SET NX PX), take the stale tags from
 * `unacked_index` and RPUSH their messages back. Returns how many were restored; 0 when
 * another process holds the lock.
 */
export async function restoreStale(cmd: Redis, keys: KeyMap, olderThanSeconds: number, max = 1000): Promise<number> {
  const token = uuid4().replace(/-/g, "");
  const locked = await cmd.set(keys.unackedMutex, token, "PX", UNACKED_MUTEX_TTL_MS, "NX");
  if (locked !== "OK") return 0;
  let restored = 0;
  try {
    const ceiling = Date.now() / 1000 - olderThanSeconds;
    const rounds = Math.ceil(max / RESTORE_BATCH);
    for (let round = 0; round < rounds && restored < max; round++) {
      const tags = await cmd.zrevrangebyscore(keys.unackedIndex, ceiling, 0, "LIMIT", 0, RESTORE_BATCH);
      if (tags.length === 0) break;
      for (const tag of tags) {
        const v = await cmd.hget(keys.unacked, tag);
        if (v === null) {
          await cmd.zrem(keys.unackedIndex, tag); // an index entry without a message: just forget it
          continue;
        }
        if (await restoreEntry(cmd, keys, tag, v)) restored++;
      }
    }
  } finally {
    await cmd.eval(RELEASE_LUA, 1, keys.unackedMutex, token).catch(() => undefined);
  }
  return restored;
}
