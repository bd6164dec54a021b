/**
 * Columnar storage for the task store: one slot per retained task, each field in its own array
 * indexed by slot. Times are Float64Array columns (NaN is null) instead of boxed numbers in a
 * 35-field object, low-cardinality strings are 4-byte ids into a StringPool, and fields most
 * tasks never have (eta, exception, traceback, links, revoke flags) live in one small `Extra`
 * object per slot, allocated only when one of them is set. Scans for queries read the columns
 * directly (a million-slot Float64Array scan is a few ms); TaskRecord objects are materialized
 * only for rows that leave the store.
 *
 * cursor.ts gives a TaskRecord view of one slot, so the reducer runs on the columns directly.
 */
import type { TaskRecord } from "../protocol/api";
import { TASK_STATES } from "../protocol/types";
import type { TaskState } from "../protocol/types";
import { NULL_ID, StringPool, UNDEFINED_ID } from "./pool";

/** state column value of a slot that holds no task */
export const FREE = 255;
export const STATE_OF: readonly TaskState[] = TASK_STATES;
export const STATE_CODE = Object.fromEntries(TASK_STATES.map((s, i) => [s, i])) as Record<TaskState, number>;

/** flags: the field has A-Z (an ASCII case-insensitive test can still match it) */
export const F_UUID_UP = 1;
export const F_ARGS_UP = 2;
export const F_KWARGS_UP = 4;
export const F_RESULT_UP = 8;
/** root_id is the task's own uuid (Celery's usual case), stored as a bit, not a second string */
export const F_ROOT_SELF = 16;
/** the uuid is only 0-9, a-f and '-' (a term with other characters cannot be in it) */
export const F_UUID_HEX = 32;
/** mlo/mhi are stale (args, kwargs or result changed since they were computed) */
export const F_MASK_DIRTY = 64;
/** flags: the field has non-ASCII characters (only full lower-casing is exact); `F_*_UP << 8` */
export const WIDE_SHIFT = 8;

const HAS_UP_OR_WIDE = /[A-Z\u0080-\uffff]/;
const HAS_UP = /[A-Z]/;
const HAS_WIDE = /[\u0080-\uffff]/;
const HEX_ID = /^[0-9a-f-]*$/;

/** The UP and WIDE bits of `s` for a field whose UP bit is `bit`. */
export function foldBits(s: string, bit: number): number {
  if (!HAS_UP_OR_WIDE.test(s)) return 0;
  return (HAS_UP.test(s) ? bit : 0) | (HAS_WIDE.test(s) ? bit << WIDE_SHIFT : 0);
}

const nn = (v: number): number | null => (v !== v ? null : v);

/** The fields few tasks have; one per slot that has any. */
export class Extra {
  eta: string | null = null;
  expires: string | null = null;
  exception: string | null = null;
  traceback: string | null = null;
  parent_id: string | null = null;
  root_id: string | null = null;
  children: string[] | null = null;
  retry_of: string | null | undefined = undefined;
  retried_as: string[] | undefined = undefined;
  terminated: boolean | undefined = undefined;
  expired: boolean | undefined = undefined;
  signum: number | null | undefined = undefined;
}

// New capacity is left zeroed, not filled: slots past `hw` are never read (init() writes a slot
// when it is handed out), and untouched zero pages of a large buffer cost no RSS.
function growF64(a: Float64Array, cap: number): Float64Array {
  const b = new Float64Array(cap);
  b.set(a);
  return b;
}
function growI32(a: Int32Array, cap: number): Int32Array {
  const b = new Int32Array(cap);
  b.set(a);
  return b;
}
function growU8(a: Uint8Array, cap: number): Uint8Array {
  const b = new Uint8Array(cap);
  b.set(a);
  return b;
}
/** A packed (never holey, never dictionary-mode) array of exactly `cap` elements. */
function growArr<T>(a: (T | null)[], cap: number): (T | null)[] {
  const b = a.slice();
  while (b.length < cap) b.push(null);
  return b.slice();
}

export class Columns {
  /** slots allocated in every column */
  cap = 0;
  /** slots ever handed out (scan bound) */
  hw = 0;
  readonly pool = new StringPool();

  uuid: (string | null)[] = [];
  args: (string | null)[] = [];
  kwargs: (string | null)[] = [];
  result: (string | null)[] = [];
  extra: (Extra | null)[] = [];
  state: Uint8Array = new Uint8Array(0);
  flags: Uint16Array = new Uint16Array(0);
  sent: Float64Array = new Float64Array(0);
  received: Float64Array = new Float64Array(0);
  started: Float64Array = new Float64Array(0);
  succeeded: Float64Array = new Float64Array(0);
  failed: Float64Array = new Float64Array(0);
  retried: Float64Array = new Float64Array(0);
  revoked: Float64Array = new Float64Array(0);
  rejected: Float64Array = new Float64Array(0);
  timestamp: Float64Array = new Float64Array(0);
  runtime: Float64Array = new Float64Array(0);
  clock: Float64Array = new Float64Array(0);
  /** ClusterState.version at which the task last changed */
  version: Float64Array = new Float64Array(0);
  retries: Int32Array = new Int32Array(0);
  name: Int32Array = new Int32Array(0);
  worker: Int32Array = new Int32Array(0);
  client: Int32Array = new Int32Array(0);
  exchange: Int32Array = new Int32Array(0);
  routing_key: Int32Array = new Int32Array(0);
  queue: Int32Array = new Int32Array(0);
  /**
   * Which characters occur in args, kwargs and result (charMask), computed lazily by the first
   * search that needs them: a term with a character the row lacks is rejected without reading
   * the strings.
   */
  mlo: Int32Array = new Int32Array(0);
  mhi: Int32Array = new Int32Array(0);
  /** the same for pairs of adjacent characters (textBigrams), refreshed with mlo/mhi */
  blo: Int32Array = new Int32Array(0);
  bhi: Int32Array = new Int32Array(0);
  /** hexBigrams of a hex uuid (F_UUID_HEX): a uuid fragment search skips most rows on them */
  ulo: Int32Array = new Int32Array(0);
  uhi: Int32Array = new Int32Array(0);
  /** move block of the slot's last move to the tail of the update order (TaskStore.keyBound) */
  blk: Int32Array = new Int32Array(0);
  /** update-order list (all tasks) and finished-order list: slot links, -1 at the ends */
  prev: Int32Array = new Int32Array(0);
  next: Int32Array = new Int32Array(0);
  fprev: Int32Array = new Int32Array(0);
  fnext: Int32Array = new Int32Array(0);

  /**
   * Set by the first search that uses character masks: from then on changed rows are queued and
   * refreshQueued() keeps masks current between searches. Before it, ingest pays nothing.
   */
  masksWanted = false;
  private dirty: number[] = [];
  private dirtyHead = 0;
  /** repeated exception/traceback texts, kept once (bounded: cleared when full) */
  private readonly canonical = new Map<string, string>();

  constructor(readonly maxSlots: number) {}

  /**
   * The same failure repeats across many tasks with identical exception and traceback text:
   * keep one copy. Bounded to 1024 strings of at most 8 KB, so it cannot grow on its own.
   */
  canon(v: string | null): string | null {
    if (v === null || v.length > 8192) return v;
    const hit = this.canonical.get(v);
    if (hit !== undefined) return hit;
    if (this.canonical.size >= 1024) this.canonical.clear();
    this.canonical.set(v, v);
    return v;
  }

  /** A slot never used before (grows the columns: doubling, capped at maxSlots). */
  newSlot(): number {
    if (this.hw === this.cap) this.grow(Math.min(this.maxSlots, Math.max(1024, this.cap * 2)));
    return this.hw++;
  }

  private grow(cap: number): void {
    this.uuid = growArr(this.uuid, cap);
    this.args = growArr(this.args, cap);
    this.kwargs = growArr(this.kwargs, cap);
    this.result = growArr(this.result, cap);
    this.extra = growArr(this.extra, cap);
    this.state = growU8(this.state, cap);
    const flags = new Uint16Array(cap);
    flags.set(this.flags);
    this.flags = flags;
    for (const k of ["sent", "received", "started", "succeeded", "failed", "retried", "revoked", "rejected", "timestamp", "runtime"] as const) {
      this[k] = growF64(this[k], cap);
    }
    this.clock = growF64(this.clock, cap);
    this.version = growF64(this.version, cap);
    for (const k of ["retries", "name", "worker", "client", "exchange", "routing_key", "queue", "mlo", "mhi", "blo", "bhi", "ulo", "uhi", "blk", "prev", "next", "fprev", "fnext"] as const) {
      this[k] = growI32(this[k], cap);
    }
    this.cap = cap;
  }

  /** Make `slot` an empty task record (emptyTaskRecord's values) for `uuid`. */
  init(slot: number, uuid: string): void {
    this.uuid[slot] = uuid;
    this.args[slot] = null;
    this.kwargs[slot] = null;
    this.result[slot] = null;
    this.extra[slot] = null;
    this.state[slot] = STATE_CODE.PENDING;
    const hex = HEX_ID.test(uuid);
    this.flags[slot] = foldBits(uuid, F_UUID_UP) | (hex ? F_UUID_HEX : 0) | F_MASK_DIRTY;
    if (this.masksWanted) this.queueDirty(slot);
    const m = hex ? hexBigrams(uuid) : NO_BIGRAMS;
    this.ulo[slot] = m[0];
    this.uhi[slot] = m[1];
    this.sent[slot] = NaN;
    this.received[slot] = NaN;
    this.started[slot] = NaN;
    this.succeeded[slot] = NaN;
    this.failed[slot] = NaN;
    this.retried[slot] = NaN;
    this.revoked[slot] = NaN;
    this.rejected[slot] = NaN;
    this.timestamp[slot] = NaN;
    this.runtime[slot] = NaN;
    this.clock[slot] = 0;
    this.version[slot] = 0;
    this.retries[slot] = 0;
    this.name[slot] = NULL_ID;
    this.worker[slot] = NULL_ID;
    this.client[slot] = NULL_ID;
    this.exchange[slot] = NULL_ID;
    this.routing_key[slot] = NULL_ID;
    this.queue[slot] = UNDEFINED_ID;
  }

  /** Forget the task in `slot` (its strings become garbage, pooled ids are released). */
  clear(slot: number): void {
    const pool = this.pool;
    pool.release(this.name[slot]);
    pool.release(this.worker[slot]);
    pool.release(this.client[slot]);
    pool.release(this.exchange[slot]);
    pool.release(this.routing_key[slot]);
    pool.release(this.queue[slot]);
    this.name[slot] = this.worker[slot] = this.client[slot] = this.exchange[slot] = this.routing_key[slot] = NULL_ID;
    this.queue[slot] = UNDEFINED_ID;
    this.uuid[slot] = null;
    this.args[slot] = null;
    this.kwargs[slot] = null;
    this.result[slot] = null;
    this.extra[slot] = null;
    this.state[slot] = FREE;
  }

  /** The slot's Extra, created on first use. */
  ex(slot: number): Extra {
    let e = this.extra[slot];
    if (e === null) this.extra[slot] = e = new Extra();
    return e;
  }

  setId(col: Int32Array, slot: number, v: string | null | undefined): void {
    const old = col[slot];
    if (this.pool.str(old) === v) return;
    col[slot] = this.pool.acquire(v);
    this.pool.release(old);
  }

  setText(col: (string | null)[], bit: number, slot: number, v: string | null): void {
    col[slot] = v;
    const mask = bit | (bit << WIDE_SHIFT);
    const was = this.flags[slot];
    this.flags[slot] = (was & ~mask) | (v === null ? 0 : foldBits(v, bit)) | F_MASK_DIRTY;
    if (this.masksWanted && (was & F_MASK_DIRTY) === 0) this.queueDirty(slot);
  }

  private queueDirty(slot: number): void {
    // Bounded: past maxSlots entries the queue is dropped and rows refresh lazily at query time.
    if (this.dirty.length - this.dirtyHead >= this.maxSlots) {
      this.dirty = [];
      this.dirtyHead = 0;
    }
    this.dirty.push(slot);
  }

  /**
   * Refresh queued character masks for up to `budgetMs` (ClusterState.tick), so searches after
   * the first one find them ready. Returns how many rows were refreshed.
   */
  refreshQueued(budgetMs: number): number {
    const until = performance.now() + budgetMs;
    let n = 0;
    while (this.dirtyHead < this.dirty.length) {
      const slot = this.dirty[this.dirtyHead++];
      if ((this.flags[slot] & F_MASK_DIRTY) !== 0 && this.state[slot] !== FREE) {
        this.refreshMask(slot);
        n++;
      }
      if ((n & 255) === 255 && performance.now() > until) break;
    }
    if (this.dirtyHead >= this.dirty.length) {
      this.dirty = [];
      this.dirtyHead = 0;
    } else if (this.dirtyHead > 65536) {
      this.dirty = this.dirty.slice(this.dirtyHead);
      this.dirtyHead = 0;
    }
    return n;
  }

  /** Bring the slot's character mask up to date. */
  refreshMask(slot: number): void {
    const m = charMask(this.args[slot], charMask(this.kwargs[slot], charMask(this.result[slot], [0, 0])));
    this.mlo[slot] = m[0];
    this.mhi[slot] = m[1];
    const b = textBigrams(this.args[slot], textBigrams(this.kwargs[slot], textBigrams(this.result[slot], [0, 0])));
    this.blo[slot] = b[0];
    this.bhi[slot] = b[1];
    this.flags[slot] &= ~F_MASK_DIRTY;
  }

  rootId(slot: number): string | null {
    if ((this.flags[slot] & F_ROOT_SELF) !== 0) return this.uuid[slot];
    return this.extra[slot]?.root_id ?? null;
  }

  /** A detached TaskRecord copy of the slot (same key order as emptyTaskRecord). */
  materialize(slot: number): TaskRecord {
    const p = this.pool;
    const e = this.extra[slot];
    return {
      uuid: this.uuid[slot] as string,
      name: p.str(this.name[slot]) ?? null,
      state: STATE_OF[this.state[slot]],
      received: nn(this.received[slot]),
      sent: nn(this.sent[slot]),
      started: nn(this.started[slot]),
      rejected: nn(this.rejected[slot]),
      succeeded: nn(this.succeeded[slot]),
      failed: nn(this.failed[slot]),
      retried: nn(this.retried[slot]),
      revoked: nn(this.revoked[slot]),
      args: this.args[slot],
      kwargs: this.kwargs[slot],
      eta: e?.eta ?? null,
      expires: e?.expires ?? null,
      retries: this.retries[slot],
      worker: p.str(this.worker[slot]) ?? null,
      result: this.result[slot],
      exception: e?.exception ?? null,
      timestamp: nn(this.timestamp[slot]),
      runtime: nn(this.runtime[slot]),
      traceback: e?.traceback ?? null,
      exchange: p.str(this.exchange[slot]) ?? null,
      routing_key: p.str(this.routing_key[slot]) ?? null,
      clock: this.clock[slot],
      client: p.str(this.client[slot]) ?? null,
      root_id: this.rootId(slot),
      parent_id: e?.parent_id ?? null,
      children: e?.children ? e.children.slice() : [],
      queue: p.str(this.queue[slot]),
      retry_of: e?.retry_of,
      retried_as: e?.retried_as?.slice(),
      terminated: e?.terminated,
      expired: e?.expired,
      signum: e?.signum,
    };
  }
}

/**
 * Character classes for charMask: a-z (either case) bits 0-25, digits 26-35, other ASCII folded
 * into 36-62; bit 63 marks non-ASCII, where lower-casing can create ASCII letters (the Kelvin
 * sign becomes "k"), so a row with it is never rejected by mask.
 */
const CHAR_BIT = new Uint8Array(128);
for (let ch = 0; ch < 128; ch++) {
  if (ch >= 97 && ch <= 122) CHAR_BIT[ch] = ch - 97;
  else if (ch >= 65 && ch <= 90) CHAR_BIT[ch] = ch - 65;
  else if (ch >= 48 && ch <= 57) CHAR_BIT[ch] = 26 + ch - 48;
  else CHAR_BIT[ch] = 36 + (ch % 27);
}
export const WIDE_MASK_HI = 1 << 31;

/** OR the character classes of `s` into `m` ([low 32 bits, high 32 bits]); returns `m`. */
export function charMask(s: string | null, m: [number, number]): [number, number] {
  if (s === null) return m;
  let lo = m[0];
  let hi = m[1];
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch >= 128) {
      hi |= WIDE_MASK_HI;
      continue;
    }
    const b = CHAR_BIT[ch];
    if (b < 32) lo |= 1 << b;
    else hi |= 1 << (b - 32);
  }
  m[0] = lo;
  m[1] = hi;
  return m;
}

const NO_BIGRAMS: [number, number] = [0, 0];
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let d = 0; d < 16; d++) HEX_VALUE["0123456789abcdef".charCodeAt(d)] = d;

/**
 * 64-bit set of the hex digit pairs in `s` (pairs across '-' or any other character are left
 * out), hashed to 6 bits: the pairs of a search fragment must all be in its uuid's set.
 */
export function hexBigrams(s: string): [number, number] {
  let lo = 0;
  let hi = 0;
  let prev = -1;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    const v = ch < 128 ? HEX_VALUE[ch] : -1;
    if (v >= 0 && prev >= 0) {
      const b = (Math.imul(prev * 16 + v, 0x9e3779b1) >>> 26) & 63;
      if (b < 32) lo |= 1 << b;
      else hi |= 1 << (b - 32);
    }
    prev = v;
  }
  return [lo, hi];
}

/**
 * OR into `m` the 64-bit hashed set of adjacent ASCII character pairs of `s`, letters folded to
 * lower case (pairs touching non-ASCII are left out: such rows carry the WIDE bit of charMask and
 * are never rejected by mask). A term's pairs must all be in its row's set.
 */
export function textBigrams(s: string | null, m: [number, number]): [number, number] {
  if (s === null) return m;
  let lo = m[0];
  let hi = m[1];
  let prev = -1;
  for (let i = 0; i < s.length; i++) {
    let ch = s.charCodeAt(i);
    if (ch >= 128) {
      prev = -1;
      continue;
    }
    if (ch >= 65 && ch <= 90) ch += 32;
    if (prev >= 0) {
      const b = Math.imul(prev * 128 + ch, 0x9e3779b1) >>> 26;
      if (b < 32) lo |= 1 << b;
      else hi |= 1 << (b - 32);
    }
    prev = ch;
  }
  m[0] = lo;
  m[1] = hi;
  return m;
}
