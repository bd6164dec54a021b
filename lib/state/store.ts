/**
 * The bounded task store: every task Petal knows, keyed by uuid, in columns (columns.ts) so a
 * million retained tasks fit in well under 1 KB each, and the links between tasks (children via
 * parent_id, Petal retries via retry_of/retried_as).
 *
 * Ordering: two doubly linked lists over slots, one of every task in last-update order and one of
 * finished tasks only; a touched task moves to the tail. Eviction takes the head of the finished
 * list (else of the whole list) in O(1), without sorting.
 *
 * Records handed out (get, materialize, tasksBy*) are detached copies; `at(slot)` gives the live
 * Cursor for code inside lib/state.
 */
import type { TaskRecord } from "../protocol/api";
import { READY_STATES, TASK_STATES } from "../protocol/types";
import type { TaskEvent, TaskState } from "../protocol/types";
import { Columns, FREE, STATE_CODE, STATE_OF } from "./columns";
import { Cursor } from "./cursor";
import { applyTaskEventTo } from "./transitions";

export const DEFAULT_MAX_TASKS = 100_000;
/** Distinct task names remembered for taskTypes() (default bound, like Celery's task_types). */
const MAX_TASK_NAMES = 10_000;
/** Above this many children, a parent's list is not scanned for duplicates (linking is once per child). */
const CHILD_DEDUPE_LIMIT = 1_000;
/** Retry links waiting for the new task's first event (default bound). */
const MAX_PENDING_RETRY_OF = 10_000;

/** Moves per block of the default-order bound (see TaskStore.keyBound). */
const MOVE_BLOCK = 256;

const READY_CODE = new Uint8Array(TASK_STATES.length + 1);
for (const s of READY_STATES) READY_CODE[STATE_CODE[s as TaskState]] = 1;

export interface TaskStoreOptions {
  /** tasks retained; over it, finished tasks go first, oldest update first (default: 100000) */
  maxTasks?: number;
  /** moves per block of the default-order bound (default: 256; tests use tiny blocks) */
  moveBlock?: number;
}

export class TaskStore {
  readonly maxTasks: number;
  /** tasks dropped to stay under maxTasks */
  evicted = 0;
  /** of those, tasks that were not finished (the store was full of unfinished work) */
  evictedUnfinished = 0;

  /** the columns, for queries (read-only outside this file) */
  readonly cols: Columns;
  private readonly cursor: Cursor;
  private readonly slots = new Map<string, number>();
  private readonly freeSlots: number[] = [];
  private head = -1;
  private tail = -1;
  private fhead = -1;
  private ftail = -1;
  private readonly counts = new Float64Array(TASK_STATES.length);
  /** children / retries whose parent / original is not (yet) in the store */
  private readonly pendingChildren = new Map<string, string[]>();
  private readonly pendingRetries = new Map<string, string[]>();
  /** retry links announced (linkRetry) before the new task's first event: new → old */
  private readonly pendingRetryOf = new Map<string, string>();
  private readonly names = new Set<string>();
  private sortedNames: string[] | null = [];
  // Default-order bound (newestFirst): every link to the tail counts one move; moves are grouped
  // in blocks of MOVE_BLOCK, and blockMax[b - blockBase] is the largest default sort key
  // (timestamp ?? 0) given to any task up to the end of block b. A task's key only changes when
  // it moves, so every task behind one of block b has a key <= that bound.
  private readonly moveBlock: number;
  private moves = 0;
  private curBlock = 0;
  private keyMax = -Infinity;
  private readonly blockMax: number[] = [];
  private blockBase = 0;

  constructor(opts: TaskStoreOptions = {}) {
    this.maxTasks = Math.max(1, Math.floor(opts.maxTasks ?? DEFAULT_MAX_TASKS));
    this.cols = new Columns(this.maxTasks);
    this.moveBlock = Math.max(1, Math.floor(opts.moveBlock ?? MOVE_BLOCK));
    this.cursor = new Cursor(this.cols);
  }

  get size(): number {
    return this.slots.size;
  }

  /** Slot of a retained task, or -1. */
  slotOf(uuid: string): number {
    return this.slots.get(uuid) ?? -1;
  }

  /** A detached copy of the task's record. */
  get(uuid: string): TaskRecord | undefined {
    const slot = this.slots.get(uuid);
    return slot === undefined ? undefined : this.cols.materialize(slot);
  }

  /** The live view of a slot (one shared Cursor: valid until the next call into the store). */
  at(slot: number): Cursor {
    this.cursor.slot = slot;
    return this.cursor;
  }

  /** Every record (copies), least recently updated first. */
  *values(): IterableIterator<TaskRecord> {
    for (let s = this.head; s !== -1; s = this.cols.next[s]) yield this.cols.materialize(s);
  }

  /** Version (ClusterState.version) at which this task last changed; 0 if unknown. */
  taskVersion(uuid: string): number {
    const slot = this.slots.get(uuid);
    return slot === undefined ? 0 : this.cols.version[slot];
  }

  countByState(state: TaskState): number {
    return this.counts[STATE_CODE[state]] ?? 0;
  }

  /** Tasks in this state (copies; a full scan, for tests and tools). */
  tasksByState(state: TaskState): ReadonlySet<TaskRecord> | undefined {
    const code = STATE_CODE[state];
    return this.collect((s) => this.cols.state[s] === code);
  }

  /** Tasks with this name, compared case-insensitively (copies; a full scan). */
  tasksByName(name: string): ReadonlySet<TaskRecord> | undefined {
    const l = name.toLowerCase();
    return this.collect((s) => this.cols.name[s] > 0 && this.cols.pool.lower(this.cols.name[s]) === l);
  }

  /** Tasks last handled by this worker, compared case-insensitively (copies; a full scan). */
  tasksByWorker(hostname: string): ReadonlySet<TaskRecord> | undefined {
    const l = hostname.toLowerCase();
    return this.collect((s) => this.cols.worker[s] > 0 && this.cols.pool.lower(this.cols.worker[s]) === l);
  }

  private collect(test: (slot: number) => boolean): ReadonlySet<TaskRecord> | undefined {
    const out = new Set<TaskRecord>();
    for (let s = this.head; s !== -1; s = this.cols.next[s]) if (test(s)) out.add(this.cols.materialize(s));
    return out.size === 0 ? undefined : out;
  }

  /** Sorted names of every task type seen (kept after their tasks are evicted, as Flower does). */
  taskTypes(): string[] {
    if (this.sortedNames === null) this.sortedNames = [...this.names].sort();
    return this.sortedNames;
  }

  /**
   * Apply one validated task event; returns the task's slot. A new task first evicts the oldest
   * entry when the store is full; `onEvict` hears each dropped uuid, while it is still readable.
   */
  apply(ev: TaskEvent, version: number, onEvict?: (uuid: string) => void): number {
    const c = this.cols;
    let slot = this.slots.get(ev.uuid);
    if (slot === undefined) {
      slot = this.insert(ev.uuid, onEvict);
      applyTaskEventTo(this.at(slot), ev, true);
      this.counts[c.state[slot]]++;
      this.indexNew(slot, version);
    } else {
      const cur = this.at(slot);
      const state = c.state[slot];
      const name = c.name[slot];
      const hadParent = cur.parent_id !== null;
      const hadRetryOf = cur.retry_of != null;
      applyTaskEventTo(cur, ev, false);
      this.unlink(slot);
      this.link(slot);
      if (c.state[slot] !== state) {
        this.counts[state]--;
        this.counts[c.state[slot]]++;
      }
      if (c.name[slot] !== name) this.noteName(slot);
      if (!hadParent && cur.parent_id !== null) this.linkChild(slot);
      const retryOf = cur.retry_of;
      if (!hadRetryOf && retryOf != null) this.linkRetry(retryOf, ev.uuid, version);
    }
    if (READY_CODE[c.state[slot]] === 1) {
      this.funlink(slot);
      this.flink(slot);
    }
    c.version[slot] = version;
    this.noteKey(slot);
    return slot;
  }

  /**
   * Put records loaded from history back (after a restart): copied, oldest first, and skipped
   * when the store already knows the uuid (live events win). Returns how many were added.
   */
  restore(records: Iterable<TaskRecord>, version: number): number {
    let n = 0;
    for (const rec of records) {
      if (this.slots.has(rec.uuid)) continue;
      const slot = this.insert(rec.uuid);
      const cur = this.at(slot);
      cur.state = rec.state;
      for (const k of COPIED_FIELDS) (cur as unknown as Record<string, unknown>)[k] = rec[k] ?? null;
      cur.queue = rec.queue;
      cur.retry_of = rec.retry_of;
      cur.retried_as = rec.retried_as;
      cur.terminated = rec.terminated;
      cur.expired = rec.expired;
      cur.signum = rec.signum;
      cur.children = Array.isArray(rec.children) ? rec.children : [];
      this.counts[this.cols.state[slot]]++;
      if (READY_CODE[this.cols.state[slot]] === 1) this.flink(slot);
      this.cols.version[slot] = version;
      this.noteKey(slot);
      this.indexNew(slot, version);
      n++;
    }
    return n;
  }

  /**
   * Record that `newId` re-runs `oldId` (Petal's retry button, or an event's retry_of): sets
   * new.retry_of and appends to old.retried_as. Either side may be unknown yet; the link is kept
   * until it arrives.
   */
  linkRetry(oldId: string, newId: string, version: number): void {
    if (oldId === newId) return;
    const c = this.cols;
    const newer = this.slots.get(newId);
    if (newer === undefined) {
      if (this.pendingRetryOf.size >= MAX_PENDING_RETRY_OF) {
        this.pendingRetryOf.delete(this.pendingRetryOf.keys().next().value as string);
      }
      this.pendingRetryOf.set(newId, oldId);
    } else if (c.extra[newer]?.retry_of == null) {
      c.ex(newer).retry_of = oldId;
      c.version[newer] = version;
    }
    const old = this.slots.get(oldId);
    if (old === undefined) {
      appendPending(this.pendingRetries, oldId, newId);
      return;
    }
    const e = c.ex(old);
    const list = (e.retried_as ??= []);
    if (!list.includes(newId)) {
      list.push(newId);
      c.version[old] = version;
    }
  }

  /** A slot for a new uuid, at the tail of the update order (evicting first when full). */
  private insert(uuid: string, onEvict?: (uuid: string) => void): number {
    while (this.slots.size >= this.maxTasks) this.evictOne(onEvict);
    const slot = this.freeSlots.length > 0 ? (this.freeSlots.pop() as number) : this.cols.newSlot();
    this.cols.init(slot, uuid);
    this.slots.set(uuid, slot);
    this.link(slot);
    this.cols.fprev[slot] = this.cols.fnext[slot] = -2; // not in the finished list
    return slot;
  }

  private indexNew(slot: number, version: number): void {
    const c = this.cols;
    const uuid = c.uuid[slot] as string;
    this.noteName(slot);
    const kids = this.pendingChildren.get(uuid);
    if (kids !== undefined) {
      this.pendingChildren.delete(uuid);
      const e = c.ex(slot);
      const children = (e.children ??= []);
      for (const k of kids) if (!children.includes(k)) children.push(k);
    }
    const retries = this.pendingRetries.get(uuid);
    if (retries !== undefined) {
      this.pendingRetries.delete(uuid);
      c.ex(slot).retried_as = retries.slice();
    }
    if (c.extra[slot]?.parent_id != null) this.linkChild(slot);
    const announced = this.pendingRetryOf.get(uuid);
    if (announced !== undefined) {
      this.pendingRetryOf.delete(uuid);
      if (c.extra[slot]?.retry_of == null) c.ex(slot).retry_of = announced;
    }
    // A record born with retry_of links now; one learning it later links in apply().
    const retryOf = c.extra[slot]?.retry_of;
    if (retryOf != null) this.linkRetry(retryOf, uuid, version);
  }

  private noteName(slot: number): void {
    const name = this.cols.pool.str(this.cols.name[slot]);
    if (name != null && !this.names.has(name) && this.names.size < MAX_TASK_NAMES) {
      this.names.add(name);
      this.sortedNames = null;
    }
  }

  private linkChild(slot: number): void {
    const c = this.cols;
    const parentId = c.extra[slot]?.parent_id ?? null;
    const uuid = c.uuid[slot] as string;
    if (parentId === null || parentId === uuid) return;
    const parent = this.slots.get(parentId);
    if (parent === undefined) {
      appendPending(this.pendingChildren, parentId, uuid);
      return;
    }
    const children = (c.ex(parent).children ??= []);
    if (children.length > CHILD_DEDUPE_LIMIT || !children.includes(uuid)) children.push(uuid);
  }

  private evictOne(onEvict?: (uuid: string) => void): void {
    let victim = this.fhead;
    if (victim === -1) {
      victim = this.head;
      this.evictedUnfinished++;
    }
    const uuid = this.cols.uuid[victim] as string;
    // Heard before removal, so the listener can still read the record.
    onEvict?.(uuid);
    this.remove(victim);
    this.evicted++;
  }

  private remove(slot: number): void {
    const c = this.cols;
    const uuid = c.uuid[slot] as string;
    this.slots.delete(uuid);
    this.unlink(slot);
    this.funlink(slot);
    this.counts[c.state[slot]]--;
    // Keep pending link tables bounded by what is retained.
    const e = c.extra[slot];
    if (e !== null) {
      if (e.parent_id !== null) dropPending(this.pendingChildren, e.parent_id, uuid);
      if (e.retry_of != null) dropPending(this.pendingRetries, e.retry_of, uuid);
    }
    c.clear(slot);
    this.freeSlots.push(slot);
  }

  /** Tail of the update order (the task changed last), -1 when empty; walk back with cols.prev. */
  get newest(): number {
    return this.tail;
  }

  /** Largest default sort key of any task at or behind a task whose `cols.blk` is `block`. */
  keyBound(block: number): number {
    return block === this.curBlock ? this.keyMax : this.blockMax[block - this.blockBase];
  }

  private noteKey(slot: number): void {
    const t = this.cols.timestamp[slot];
    const k = t !== t ? 0 : t;
    if (k > this.keyMax) this.keyMax = k;
  }

  private link(slot: number): void {
    const c = this.cols;
    const block = Math.floor(this.moves++ / this.moveBlock);
    if (block !== this.curBlock) {
      this.blockMax.push(this.keyMax);
      this.curBlock = block;
      // Bounds older than the oldest task's block are never asked for again.
      const oldest = this.head === -1 ? block : c.blk[this.head];
      while (this.blockBase < oldest && this.blockMax.length > 0) {
        this.blockMax.shift();
        this.blockBase++;
      }
    }
    c.blk[slot] = block;
    c.prev[slot] = this.tail;
    c.next[slot] = -1;
    if (this.tail === -1) this.head = slot;
    else c.next[this.tail] = slot;
    this.tail = slot;
  }

  private unlink(slot: number): void {
    const c = this.cols;
    const p = c.prev[slot];
    const n = c.next[slot];
    if (p === -1) this.head = n;
    else c.next[p] = n;
    if (n === -1) this.tail = p;
    else c.prev[n] = p;
  }

  private flink(slot: number): void {
    const c = this.cols;
    c.fprev[slot] = this.ftail;
    c.fnext[slot] = -1;
    if (this.ftail === -1) this.fhead = slot;
    else c.fnext[this.ftail] = slot;
    this.ftail = slot;
  }

  private funlink(slot: number): void {
    const c = this.cols;
    const p = c.fprev[slot];
    const n = c.fnext[slot];
    if (p === -2) return; // not linked
    if (p === -1) this.fhead = n;
    else c.fnext[p] = n;
    if (n === -1) this.ftail = p;
    else c.fprev[n] = p;
    c.fprev[slot] = c.fnext[slot] = -2;
  }
}

/** Fields restore() copies as they are (null when absent). */
const COPIED_FIELDS = [
  "name", "received", "sent", "started", "rejected", "succeeded", "failed", "retried", "revoked", "args", "kwargs",
  "eta", "expires", "retries", "worker", "result", "exception", "timestamp", "runtime", "traceback", "exchange",
  "routing_key", "clock", "client", "root_id", "parent_id",
] as const satisfies readonly (keyof TaskRecord)[];

export { FREE, STATE_OF };

function appendPending(table: Map<string, string[]>, key: string, id: string): void {
  const list = table.get(key);
  if (list === undefined) table.set(key, [id]);
  else if (!list.includes(id)) list.push(id);
}

function dropPending(table: Map<string, string[]>, key: string, id: string): void {
  const list = table.get(key);
  if (list === undefined) return;
  const i = list.indexOf(id);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0) table.delete(key);
}
